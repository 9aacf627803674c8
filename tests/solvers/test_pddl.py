"""Tests of solvers/pddl.py with real planners: solving, statuses, enforced timeouts, validation, errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ratiocinator import datadirs
from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.generators import blocksworld_problem
from ratiocinator.solvers.pddl import (
    PDDLError,
    PlanResult,
    explain,
    parse,
    plan_steps,
    solve,
    validate,
)
from tests.shared_data import root

DATA = root("planning/grippers/p01.pddl")

DOMAIN = """(define (domain blocks)
  (:requirements :strips)
  (:predicates (clear ?x) (on-table ?x) (arm-empty) (holding ?x) (on ?x ?y))
  (:action pickup :parameters (?ob)
    :precondition (and (clear ?ob) (on-table ?ob) (arm-empty))
    :effect (and (holding ?ob) (not (clear ?ob)) (not (on-table ?ob)) (not (arm-empty))))
  (:action putdown :parameters (?ob)
    :precondition (holding ?ob)
    :effect (and (clear ?ob) (arm-empty) (on-table ?ob) (not (holding ?ob))))
  (:action stack :parameters (?ob ?under)
    :precondition (and (clear ?under) (holding ?ob))
    :effect (and (arm-empty) (clear ?ob) (on ?ob ?under) (not (clear ?under)) (not (holding ?ob))))
  (:action unstack :parameters (?ob ?under)
    :precondition (and (on ?ob ?under) (clear ?ob) (arm-empty))
    :effect (and (holding ?ob) (clear ?under) (not (on ?ob ?under)) (not (clear ?ob)) (not (arm-empty)))))
"""

# a on b on c; goal: c on b on a. The optimal plan has 6 steps.
REVERSE3 = """(define (problem reverse3) (:domain blocks)
  (:objects a b c)
  (:init (arm-empty) (on-table c) (on b c) (on a b) (clear a))
  (:goal (and (on c b) (on b a))))
"""
OPTIMAL_REVERSE3 = ["(unstack a b)", "(putdown a)", "(unstack b c)", "(stack b a)", "(pickup c)", "(stack c b)"]


def blocks_problem(n: int, seed: int = 0) -> str:
    return blocksworld_problem(n, seed, domain="blocks")


def test_solve_returns_a_validated_plan() -> None:
    result = solve(DOMAIN, REVERSE3)
    assert result.status in ("solved", "solved_optimally")
    assert result.validated and result.planner == "fast-downward"
    assert result.cost == len(result.plan) >= 6
    assert validate(DOMAIN, REVERSE3, result.plan).valid
    assert set(result.to_dict()) == {"status", "plan", "cost", "planner", "seconds", "validated", "message"}


def test_optimal_planner_finds_the_shortest_plan() -> None:
    result = solve(DOMAIN, REVERSE3, optimal=True)
    assert result.status == "solved_optimally"
    assert result.planner == "fast-downward-opt"
    assert list(result.plan) == OPTIMAL_REVERSE3
    assert result.cost == 6


@pytest.mark.parametrize("planner", ["lpg", "pyperplan", "symk-opt"])
def test_other_planners_through_unified_planning(planner: str) -> None:
    result = solve(DOMAIN, REVERSE3, planner=planner, timeout=30)
    assert result.solved and result.validated, result.message
    assert result.planner == planner
    if planner == "symk-opt":
        assert result.status == "solved_optimally" and result.cost == 6


def test_unsolvable_problem_is_proved_unsolvable() -> None:
    impossible = REVERSE3.replace("(:goal (and (on c b) (on b a)))", "(:goal (and (holding a) (holding b)))")
    result = solve(DOMAIN, impossible)
    assert result.status == "unsolvable"
    assert result.plan is None and not result.validated


def test_goal_already_true_gives_the_empty_plan() -> None:
    trivial = REVERSE3.replace("(:goal (and (on c b) (on b a)))", "(:goal (on a b))")
    result = solve(DOMAIN, trivial)
    assert result.solved and result.plan == () and result.cost == 0
    assert "empty" in explain(result)


def test_solve_reads_files(tmp_path: Path) -> None:
    (tmp_path / "d.pddl").write_text(DOMAIN)
    (tmp_path / "p.pddl").write_text(REVERSE3)
    assert solve(tmp_path / "d.pddl", str(tmp_path / "p.pddl")).validated
    with pytest.raises(PDDLError, match="cannot read"):
        solve(tmp_path / "missing.pddl", REVERSE3)


@pytest.mark.parametrize("planner", ["pyperplan", "fast-downward-opt"])
def test_timeout_is_enforced_and_the_planner_killed(planner: str, no_leftover_planners) -> None:
    # pyperplan ignores UP's timeout (runs in a forked child); Fast Downward runs in its own session.
    hard = blocks_problem(40 if planner == "pyperplan" else 22, seed=3)
    start = time.monotonic()
    result = solve(DOMAIN, hard, planner=planner, timeout=2.0)
    elapsed = time.monotonic() - start
    assert result.status == "timeout", result
    assert elapsed < 4.0
    assert no_leftover_planners()


def test_malformed_pddl_names_file_line_and_expectation() -> None:
    with pytest.raises(PDDLError) as err:
        parse(DOMAIN.replace(":precondition (holding ?ob)", ":precondtion (holding ?ob)"), REVERSE3)
    assert err.value.source == "domain" and err.value.line == 8
    assert "precondtion" in str(err.value) and "expected" in str(err.value).lower()

    with pytest.raises(PDDLError) as err:
        parse(DOMAIN, REVERSE3.replace("(on-table c)", "(on-tabel c)"))
    assert err.value.source == "problem" and err.value.line == 3
    assert "on-tabel" in str(err.value)

    with pytest.raises(PDDLError) as err:
        parse(DOMAIN, REVERSE3.replace("(on a b) (clear a)", "(on a b c) (clear a)"))
    assert err.value.source == "problem" and "arity" in str(err.value)

    with pytest.raises(PDDLError, match="domain 'other'"):
        parse(DOMAIN, REVERSE3.replace("(:domain blocks)", "(:domain other)"))

    with pytest.raises(PDDLError) as err:
        solve(DOMAIN[:-3], REVERSE3)
    assert err.value.source == "domain"
    assert isinstance(err.value, InvalidInput)


def test_validator_rejects_corrupted_plans() -> None:
    good = OPTIMAL_REVERSE3
    report = validate(DOMAIN, REVERSE3, "\n".join(good))
    assert report.valid and report.cost == 6 and report.steps == 6

    swapped = [good[0], good[2], good[1], *good[3:]]
    report = validate(DOMAIN, REVERSE3, swapped)
    assert not report.valid and report.failed_step == 2 and "arm-empty" in report.reason

    report = validate(DOMAIN, REVERSE3, good[:-1])
    assert not report.valid and report.failed_step is None and "on(c, b)" in report.reason

    report = validate(DOMAIN, REVERSE3, [*good[:3], "(stak b a)", *good[4:]])
    assert not report.valid and report.failed_step == 4 and "unknown action 'stak'" in report.reason

    report = validate(DOMAIN, REVERSE3, [*good[:3], "(stack b)", *good[4:]])
    assert not report.valid and report.failed_step == 4 and "takes 2 arguments" in report.reason

    report = validate(DOMAIN, REVERSE3, [*good[:3], "(stack b z)", *good[4:]])
    assert not report.valid and "unknown object" in report.reason


def test_plan_formats_are_all_read() -> None:
    text = "; a plan\n0: (UNSTACK a b) [1]\nputdown(a)\nunstack b c\n(stack b a)\n(pickup c)\n(stack c b)\n; cost = 6"
    assert plan_steps(text)[0] == "(UNSTACK a b)"
    assert validate(DOMAIN, REVERSE3, text).valid


def test_explain_numbers_the_steps_in_words() -> None:
    text = explain(OPTIMAL_REVERSE3, parse(DOMAIN, REVERSE3))
    lines = text.splitlines()
    assert len(lines) == 6
    assert lines[0] == "1. Unstack with ob = a and under = b."
    assert explain(PlanResult(status="solved", plan=("(pick-up a)",), cost=1.0, planner="x", seconds=0.0,
                              validated=True)) == "1. Pick up a."


def test_bad_planner_arguments_are_rejected() -> None:
    with pytest.raises(PDDLError, match="unknown planner"):
        solve(DOMAIN, REVERSE3, planner="nope")
    with pytest.raises(PDDLError, match="does not guarantee optimal"):
        solve(DOMAIN, REVERSE3, planner="lpg", optimal=True)
    with pytest.raises(InvalidInput, match="timeout"):
        solve(DOMAIN, REVERSE3, timeout=0)


def test_fast_downward_style_pddl_is_read_soundly() -> None:
    # a problem object used by the domain (tyreworld's wrench), an `either` predicate type and a type
    # declared twice (storage): Fast Downward takes these, so the parser must too.
    domain = """(define (domain tools) (:requirements :typing)
      (:types tool place - object place - loc loc - object)
      (:predicates (have ?t - tool) (at ?x - (either tool loc)) (done))
      (:action grab :parameters (?t - tool) :precondition (not (have ?t)) :effect (have ?t))
      (:action work :parameters () :precondition (have wrench) :effect (done)))"""
    problem = """(define (problem p) (:domain tools) (:objects wrench hammer - tool home - place)
      (:init) (:goal (done)))"""
    result = solve(domain, problem)
    assert result.validated and list(result.plan) == ["(grab wrench)", "(work)"]


@pytest.mark.slow
def test_every_data_domain_first_problem_is_solved_and_validated() -> None:
    planning = DATA / "planning"
    if not planning.is_dir():
        pytest.skip(f"no planning data at {planning}: " + datadirs.missing("planning/<domain>/p01.pddl"))
    for domain_dir in sorted(p for p in planning.iterdir() if (p / "p01.pddl").exists()):
        result = solve(domain_dir / "domain.pddl", domain_dir / "p01.pddl", timeout=60)
        assert result.solved and result.validated, (domain_dir.name, result.message)


def test_a_cached_domain_gives_independent_problems_and_the_same_answers() -> None:
    from ratiocinator.solvers.pddl_reader import clear_domain_cache

    clear_domain_cache()
    fresh = parse(DOMAIN, REVERSE3)
    first, second = parse(DOMAIN, REVERSE3), parse(DOMAIN, blocks_problem(4))  # domain from the cache
    assert first is not fresh and first == fresh and first.actions[0] is not fresh.actions[0]
    assert {o.name for o in second.all_objects} == {"b0", "b1", "b2", "b3"}
    first.add_goal(first.fluent("holding")(first.object("a")))  # changing one parse leaves the others alone
    assert len(fresh.goals) == 1 and len(parse(DOMAIN, REVERSE3).goals) == 1
    # errors are still located after a cached parse of the domain
    with pytest.raises(PDDLError) as err:
        parse(DOMAIN, REVERSE3.replace("(on c b)", "(on c b d)"))
    assert err.value.source == "problem"
    assert validate(DOMAIN, REVERSE3, OPTIMAL_REVERSE3).valid
    assert not validate(DOMAIN, REVERSE3, OPTIMAL_REVERSE3[1:]).valid
    assert parse(DOMAIN, REVERSE3).kind == fresh.kind  # kind is computed afresh outside solve / validate


def test_a_wrong_typed_argument_is_an_invalid_step_not_a_crash() -> None:
    gold = datadirs.holding("planning/grippers/p01.pddl")  # llm-pddl's, else the package's own example
    data = (gold or datadirs.PACKAGED) / "planning" / "grippers"
    domain, problem = (data / "domain.pddl").read_text(), (data / ("p01.pddl" if gold else "p_example.pddl")).read_text()
    report = validate(domain, problem, ["(move room1 robot1 room2)"])
    assert not report.valid and report.failed_step == 1
    assert "robot1 is a room" not in report.reason and "takes a robot" in report.reason
