"""Hostile input to the `optimize` and `plan` commands (issue 22): expressions that explode, files that are not
text or are read silently wrong, output contracts of --json, and time limits that hold."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ratiocinator.cli import app
from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.formulation import FormulationError, check
from ratiocinator.solvers.optimization import solve


def _formulation(objective: str, **extra: Any) -> dict[str, Any]:
    return {"variables": [{"name": "x", "upper": 5}], "objective": {"sense": "maximize", "expression": objective},
            **extra}


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh process (what a user runs), bounded so that a hang fails the test."""
    return subprocess.run([sys.executable, "-m", "ratiocinator.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def _one_line_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in stderr, stderr
    return lines[0]


# ---------------------------------------------------------------- expressions that explode


@pytest.mark.parametrize(("expression", "says"), [
    ("9**9**9 * x", "overflows"),
    ("x ** 10 ** 10 ** 10", "overflows"),
    ("10.0 ** 400 * x", "overflows"),
    ("log(0) * x", "'log(0)' is undefined"),
    ("log(-1) + x", "'log(-1)' is undefined"),
    ("sqrt(-1) + x", "'sqrt(-1)' is undefined"),
    ("(-8) ** (1/3) * x", "fractional power"),
    ("exp(1000) * x", "overflows"),
    ("x ** 1e10", "exponent"),
    ("0 ** -1 + x", "division by zero"),
])
def test_exploding_expressions_are_refused_at_once(tmp_path: Path, expression: str, says: str) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(_formulation(expression)))
    started = time.monotonic()
    done = _cli("optimize", str(path), "--timeout", "5", timeout=60)
    assert done.returncode == 2, done.stderr
    line = _one_line_error(done.stderr)
    assert says in line and line.startswith("error: objective:"), line
    assert time.monotonic() - started < 30  # a hang at full CPU before the fix; a refusal in ~1 s now


def test_constant_folding_is_bounded_when_checked_not_only_when_built() -> None:
    with pytest.raises(FormulationError, match="overflows"):
        check(_formulation("x", constraints=[{"name": "c", "expression": "x <= 2 ** 2 ** 2 ** 2 ** 2"}]))
    with pytest.raises(FormulationError, match=r"objective: 'sqrt\(-2\)' is undefined"):
        check(_formulation("sum(sqrt(-2) * x for i in I)", sets=[{"name": "I", "elements": 2}]))
    with pytest.raises(FormulationError, match=r"constraints\['c'\]: 'log\(0\)' is undefined"):
        check(_formulation("x", constraints=[{"name": "c", "expression": "x <= 1 + log(0)"}]))


def test_parameters_that_make_an_expression_undefined_are_named() -> None:
    bad = _formulation("log(c) * x", parameters=[{"name": "c", "value": 0}])
    with pytest.raises(InvalidInput, match=r"objective: 'log\(c\)' is undefined"):
        solve(bad)
    huge = _formulation("c ** 400 * x", parameters=[{"name": "c", "value": 10}])
    with pytest.raises(InvalidInput, match="overflows"):
        solve(huge)


def test_values_outside_an_expressions_domain_are_not_verified_and_say_why() -> None:
    from ratiocinator.solvers.formulation import Formulation

    checked = check(Formulation.model_validate(_formulation("log(x)")))
    with pytest.raises(InvalidInput, match=r"'log\(x\)' is undefined"):
        checked.violations({"x": {(): 0.0}})


def test_a_long_flat_sum_and_mixed_comparisons() -> None:
    long_sum = "+".join(["x"] * 1999)  # 2000 levels deep: a RecursionError before
    assert solve(_formulation(long_sum), timeout=20).objective == pytest.approx(5 * 1999)
    mixed = _formulation("sum(x for i in I if i < 'a')", sets=[{"name": "I", "elements": 3}])
    with pytest.raises(InvalidInput, match="compares values of different kinds"):
        solve(mixed)


def test_sets_too_large_to_build_are_refused() -> None:
    with pytest.raises(FormulationError, match="at most"):
        check(_formulation("x", sets=[{"name": "I", "elements": 10**12}]))
    square = _formulation("x", sets=[{"name": "I", "elements": 10**5}],
                          variables=[{"name": "x", "index": ["I", "I"]}])
    with pytest.raises(FormulationError, match="index combinations"):
        check(square)


def test_the_time_limit_holds_while_the_model_is_built() -> None:
    """10^5 rows of a 10^4-term sum (10^9 terms): no machine builds it in 1 s; the answer is a timeout."""
    slow = {"sets": [{"name": "I", "elements": 100_000}, {"name": "J", "elements": 10_000}],
            "variables": [{"name": "x", "index": ["J"], "upper": 1}],
            "objective": {"sense": "maximize", "expression": "sum(x[j] for j in J)"},
            "constraints": [{"name": "c", "expression": "sum(x[j] for j in J) <= 10", "forall": {"i": "I"}}]}
    started = time.monotonic()
    result = solve(slow, timeout=1.0)
    assert result.status == "timeout" and "time limit of 1 s" in result.message
    assert time.monotonic() - started < 1.0 + 5.0  # killed at 1 s + GRACE; the rest is the fork's start


# ---------------------------------------------------------------- files that are not text

DOMAIN = """(define (domain d) (:requirements :strips) (:predicates (on) (off))
  (:action flip :parameters () :precondition (off) :effect (and (on) (not (off)))))"""
PROBLEM = "(define (problem p) (:domain d) (:init (off)) (:goal (on)))"
LP = "Maximize\n obj: 30 chair + 50 table\nSubject To\n wood: chair + 2 table <= 40\n" \
     " labour: 2 chair + table <= 50\nEnd\n"
NOT_TEXT = {"binary": (bytes(range(256)) * 4, "a binary file"),
            "utf16": (None, "a UTF-16 file; save it as UTF-8")}


def _not_text(kind: str, text: str) -> bytes:
    data, _ = NOT_TEXT[kind]
    return text.encode("utf-16") if data is None else data


@pytest.mark.parametrize("kind", sorted(NOT_TEXT))
@pytest.mark.parametrize(("suffix", "text"), [(".json", json.dumps(_formulation("x"))), (".lp", LP), (".mps", LP)])
def test_optimize_refuses_a_file_that_is_not_text(tmp_path: Path, kind: str, suffix: str, text: str) -> None:
    path = tmp_path / f"model{suffix}"
    path.write_bytes(_not_text(kind, text))
    for as_json in ([], ["--json"]):
        done = CliRunner().invoke(app, ["optimize", str(path), *as_json])
        assert done.exit_code == 2, done.output
        line = _one_line_error(done.stderr)
        assert str(path) in line and NOT_TEXT[kind][1] in line, line
        if as_json:
            assert json.loads(done.stdout) == {"status": "invalid_input", "message": line[len("error: "):]}


@pytest.mark.parametrize("kind", sorted(NOT_TEXT))
@pytest.mark.parametrize("which", ["domain", "problem"])
def test_plan_refuses_a_file_that_is_not_text(tmp_path: Path, kind: str, which: str) -> None:
    (tmp_path / "domain.pddl").write_text(DOMAIN)
    (tmp_path / "problem.pddl").write_text(PROBLEM)
    (tmp_path / f"{which}.pddl").write_bytes(_not_text(kind, DOMAIN if which == "domain" else PROBLEM))
    args = ["plan", "-d", str(tmp_path / "domain.pddl"), "-p", str(tmp_path / "problem.pddl")]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2, done.output
    line = _one_line_error(done.stderr)
    assert line.startswith(f"error: {which}: ") and NOT_TEXT[kind][1] in line, line


# ---------------------------------------------------------------- files read silently wrong

MPS = """NAME          TEST
ROWS
 N  obj
 L  c1
 L  c2
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    x         obj       -3             c1        1
    x         c2        2
    MARKER                 'MARKER'                 'INTEND'
    y         obj       -5             c1        2
    y         c2        1
RHS
    rhs       c1        14             c2        14
RANGES
    rng       c2        20
BOUNDS
 UP bnd       x         4
 FR bnd       y
ENDATA
"""


@pytest.mark.parametrize(("old", "new", "line"), [
    ("obj       -5 ", "obj       -5a", 11),  # HiGHS read -5a as -5
    ("c2        1\n", "c2        abc\n", 12),  # ... abc as 0
    ("c1        14 ", "c1        1x4", 14),  # ... 1x4 as 1
    ("c2        20", "c2        2O", 16),
    ("x         4", "x         four", 18),  # ... an upper bound `four` as 0
])
def test_mps_numbers_that_are_not_numbers_are_refused(tmp_path: Path, old: str, new: str, line: int) -> None:
    good = tmp_path / "good.mps"
    good.write_text(MPS)
    assert solve(good).verified
    path = tmp_path / "bad.mps"
    path.write_text(MPS.replace(old, new))
    for solver in ("auto", "scip"):
        with pytest.raises(InvalidInput, match=rf"bad\.mps, line {line}: '{new.split()[-1]}' .* is not a number"):
            solve(path, solver=solver)


def test_an_mps_file_written_by_highs_passes_the_check(tmp_path: Path) -> None:
    import highspy

    lp = tmp_path / "m.lp"
    lp.write_text(LP.replace("End", "General\n chair\nEnd"))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(lp))
    h.writeModel(str(tmp_path / "m.mps"))
    assert solve(tmp_path / "m.mps").objective == pytest.approx(1100.0)


# ---------------------------------------------------------------- output contracts


def test_optimize_json_of_an_lp_file_is_one_json_document(tmp_path: Path) -> None:
    """HiGHS prints its banner on the C stdout when the process makes its first instance: a fresh process."""
    path = tmp_path / "m.lp"
    path.write_text(LP)
    done = _cli("optimize", str(path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["objective"] == pytest.approx(1100.0)
    bad = tmp_path / "bad.lp"
    bad.write_text("Maximize\n obj: 3 x +\nSubject To\n c: x <=\nEnd\n")
    done = _cli("optimize", str(bad), "--json")
    assert done.returncode == 2 and json.loads(done.stdout)["status"] == "invalid_input"
    assert "bad.lp" in _one_line_error(done.stderr)


@pytest.mark.parametrize("args", [
    ["--problem", "{dir}/missing.pddl"],
    ["--problem", "{dir}/bad.pddl"],
    ["--problem", "{dir}/problem.pddl", "--planner", "nonesuch"],
    ["--problem", "{dir}/problem.pddl", "--timeout", "-1"],
])
def test_plan_json_prints_one_json_document_on_bad_input(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "domain.pddl").write_text(DOMAIN)
    (tmp_path / "problem.pddl").write_text(PROBLEM)
    (tmp_path / "bad.pddl").write_text(PROBLEM.replace("(on))", "(onn))"))
    argv = ["plan", "--domain", str(tmp_path / "domain.pddl"), *(a.format(dir=tmp_path) for a in args), "--json"]
    done = CliRunner().invoke(app, argv)
    assert done.exit_code == 2, done.output
    data = json.loads(done.stdout)
    assert data["status"] == "invalid_input" and data["message"] == _one_line_error(done.stderr)[len("error: "):]


def test_optimize_json_prints_one_json_document_on_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_formulation("log(0) * x")))
    for path in (bad, tmp_path / "missing.json"):
        done = CliRunner().invoke(app, ["optimize", str(path), "--json"])
        assert done.exit_code == 2 and json.loads(done.stdout)["status"] == "invalid_input", done.output


def test_usage_errors_are_one_line_and_one_json_document(tmp_path: Path) -> None:
    """Typer's own errors (a bad --timeout) came as a framed panel on stderr and nothing on stdout."""
    path = tmp_path / "f.json"
    path.write_text(json.dumps(_formulation("x")))
    done = _cli("optimize", str(path), "--timeout", "abc", "--json")
    assert done.returncode == 2
    line = _one_line_error(done.stderr)
    assert "--timeout" in line and json.loads(done.stdout) == {"status": "invalid_input",
                                                               "message": line[len("error: "):]}


# ---------------------------------------------------------------- limits that hold

PIGEONS = 12  # unsolvable, and no planner proves it soon: the search must exhaust a huge space
PIGEON_DOMAIN = """(define (domain pigeons) (:requirements :strips :typing) (:types pigeon hole)
 (:predicates (free ?h - hole) (placed ?p - pigeon) (in ?p - pigeon ?h - hole))
 (:action put :parameters (?p - pigeon ?h - hole) :precondition (free ?h)
  :effect (and (in ?p ?h) (placed ?p) (not (free ?h)))))"""
PIGEON_PROBLEM = (
    f"(define (problem ph) (:domain pigeons) (:objects {' '.join(f'p{i}' for i in range(PIGEONS))} - pigeon "
    f"{' '.join(f'h{i}' for i in range(PIGEONS - 1))} - hole) "
    f"(:init {' '.join(f'(free h{i})' for i in range(PIGEONS - 1))}) "
    f"(:goal (and {' '.join(f'(placed p{i})' for i in range(PIGEONS))})))"
)


@pytest.mark.parametrize("optimal", [["--optimal"], []])
def test_plan_keeps_a_one_second_limit_and_says_so_honestly(tmp_path: Path, optimal: list[str]) -> None:
    """`plan --timeout 1 --optimal` took 4.6-6.3 s (reading the PDDL, cold imports included, was not bounded)
    and said "killed after the -3.8 s left of the time limit"."""
    (tmp_path / "d.pddl").write_text(PIGEON_DOMAIN)
    (tmp_path / "p.pddl").write_text(PIGEON_PROBLEM)
    done = _cli("plan", "-d", str(tmp_path / "d.pddl"), "-p", str(tmp_path / "p.pddl"), *optimal, "--timeout", "1",
                "--json")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "timeout" and "no plan within the 1 s limit" in data["message"], data
    assert "-" not in data["message"].replace("fast-downward", "")  # no negative time left
    assert data["seconds"] < 1.0 + 0.5 + 1.0  # killed at the limit + GRACE; a second of slack for the fork
