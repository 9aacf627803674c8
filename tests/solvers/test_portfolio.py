"""Satisficing `auto` is a portfolio: Fast Downward, joined by LPG, first validated plan wins (real planners)."""

from __future__ import annotations

import time

import pytest

from ratiocinator import datadirs
from ratiocinator.solvers import pddl
from ratiocinator.solvers.pddl import solve, validate
from ratiocinator.solvers.planners import LpgRun, lpg_binary
from tests.shared_data import root

DATA = root("planning/floortile/p04.pddl")
FLOORTILE = DATA / "planning" / "floortile"

needs_lpg = pytest.mark.skipif(lpg_binary() is None, reason="up-lpg (the LPG binary) is not installed")

BLOCKS = """(define (domain blocks) (:requirements :strips)
  (:predicates (clear ?x) (on-table ?x) (arm-empty) (holding ?x) (on ?x ?y))
  (:action pickup :parameters (?ob) :precondition (and (clear ?ob) (on-table ?ob) (arm-empty))
    :effect (and (holding ?ob) (not (clear ?ob)) (not (on-table ?ob)) (not (arm-empty))))
  (:action putdown :parameters (?ob) :precondition (holding ?ob)
    :effect (and (clear ?ob) (arm-empty) (on-table ?ob) (not (holding ?ob))))
  (:action stack :parameters (?ob ?under) :precondition (and (clear ?under) (holding ?ob))
    :effect (and (arm-empty) (clear ?ob) (on ?ob ?under) (not (clear ?under)) (not (holding ?ob))))
  (:action unstack :parameters (?ob ?under) :precondition (and (on ?ob ?under) (clear ?ob) (arm-empty))
    :effect (and (holding ?ob) (clear ?under) (not (on ?ob ?under)) (not (clear ?ob)) (not (arm-empty)))))
"""
REVERSE3 = """(define (problem reverse3) (:domain blocks) (:objects a b c)
  (:init (arm-empty) (on-table c) (on b c) (on a b) (clear a)) (:goal (and (on c b) (on b a))))
"""
UNSOLVABLE = """(define (problem cycle) (:domain blocks) (:objects a b)
  (:init (arm-empty) (on-table a) (on-table b) (clear a) (clear b)) (:goal (and (on a b) (on b a))))
"""

# Five-parameter actions over 40 objects: ~10^8 ground actions, which neither planner grounds in seconds.
BLOWUP_DOMAIN = """(define (domain blowup) (:requirements :strips)
  (:predicates (q ?x) (r ?a ?b ?c ?d ?e) (done))
  (:action link :parameters (?a ?b ?c ?d ?e) :precondition (and (q ?a) (q ?b) (q ?c) (q ?d) (q ?e))
    :effect (r ?a ?b ?c ?d ?e))
  (:action finish :parameters (?a ?b ?c ?d ?e)
    :precondition (and (r ?a ?b ?c ?d ?e) (r ?e ?d ?c ?b ?a) (q ?a)) :effect (done)))
"""
BLOWUP_PROBLEM = (f"(define (problem b) (:domain blowup) (:objects {' '.join(f'o{i}' for i in range(40))})"
                  f" (:init {' '.join(f'(q o{i})' for i in range(40))}) (:goal (done)))")


def test_easy_problems_are_still_fast_downwards(no_leftover_planners) -> None:
    # answered well before LPG would join: the same plan as Fast Downward alone
    result = solve(BLOCKS, REVERSE3)
    assert result.solved and result.validated and result.planner == "fast-downward"
    assert solve(BLOCKS, REVERSE3, planner="fast-downward").plan == result.plan
    proved = solve(BLOCKS, UNSOLVABLE)
    assert proved.status == "unsolvable" and proved.planner == "fast-downward"
    assert no_leftover_planners()


@needs_lpg
def test_floortile_that_fast_downward_misses_is_solved_by_the_portfolio(no_leftover_planners) -> None:
    if not (FLOORTILE / "p04.pddl").exists():
        pytest.skip(f"no floortile data at {FLOORTILE}: " + datadirs.missing("planning/floortile/p04.pddl"))
    domain, problem = FLOORTILE / "domain.pddl", FLOORTILE / "p04.pddl"
    alone = solve(domain, problem, planner="fast-downward", timeout=3)  # lama-first needs > 60 s here
    assert alone.status == "timeout"
    start = time.monotonic()
    result = solve(domain, problem, timeout=15)
    assert time.monotonic() - start < 15.5
    assert result.status == "solved" and result.validated and result.planner == "lpg", result
    assert result.plan and all(step == step.lower() for step in result.plan)
    assert validate(domain, problem, result.plan).valid
    assert no_leftover_planners()


@needs_lpg
def test_the_timeout_is_enforced_with_both_planners_running(monkeypatch: pytest.MonkeyPatch, no_leftover_planners) -> None:
    monkeypatch.setattr(pddl, "PORTFOLIO_DELAY", 0.5)
    start = time.monotonic()
    result = solve(BLOWUP_DOMAIN, BLOWUP_PROBLEM, timeout=2.0)
    elapsed = time.monotonic() - start
    assert result.status == "timeout", result
    assert result.planner == "fast-downward+lpg" and "killed fast-downward, lpg" in result.message
    assert result.message.startswith("no plan within the 2 s limit"), result.message  # as every other timeout
    assert elapsed < 4.0
    assert no_leftover_planners()


@needs_lpg
def test_lpg_run_reads_plans_and_gives_up_without_claiming_a_proof(no_leftover_planners) -> None:
    plan = LpgRun.start(BLOCKS, REVERSE3, timeout=10).wait(10)
    assert plan.status == "solved" and plan.actions and validate(BLOCKS, REVERSE3, list(plan.actions)).valid
    # LPG's planning graph shows the goals mutex; it is reported as not_found (no proof is claimed)
    assert LpgRun.start(BLOCKS, UNSOLVABLE, timeout=10).wait(10).status == "not_found"
    slow = LpgRun.start(BLOWUP_DOMAIN, BLOWUP_PROBLEM, timeout=10)
    assert slow.wait(0.5).status == "timeout"
    assert no_leftover_planners()
