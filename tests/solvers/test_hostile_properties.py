"""Property: whatever a mutated PDDL, formulation, LP or MPS file holds, `plan` and `optimize` answer in kind.

Hypothesis mutates valid files (cuts, duplicates, swaps, insertions of hostile tokens such as `9**9**9`,
`log(0)`, `1e999`, unbalanced parentheses, NUL bytes, another encoding; for formulations also values
replaced inside the JSON tree) and runs the real commands (the Typer app, in this process) on them.
Every run must end with exit status 0, 1 or 2; a failure says so in one line on stderr (never a
traceback); with --json stdout is one JSON document; and the command ends within its --timeout plus
the grace of the forked child and a margin for starting it. Examples are derandomized (the same in
every CI run) and few: each costs a fork and a solve.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ratiocinator.cli import app

HERE = Path(__file__).parent
TIMEOUT = 3.0
#: the forked child is killed at TIMEOUT + 0.5 s; the rest is forking and reading back a result
SLACK = 6.0
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

DOMAIN = """(define (domain blocks) (:requirements :strips :typing) (:types block)
 (:predicates (on ?x - block ?y - block) (ontable ?x - block) (clear ?x - block) (handempty) (holding ?x - block))
 (:action pick-up :parameters (?x - block)
  :precondition (and (clear ?x) (ontable ?x) (handempty))
  :effect (and (not (ontable ?x)) (not (clear ?x)) (not (handempty)) (holding ?x)))
 (:action stack :parameters (?x - block ?y - block)
  :precondition (and (holding ?x) (clear ?y))
  :effect (and (not (holding ?x)) (not (clear ?y)) (clear ?x) (handempty) (on ?x ?y))))"""
PROBLEM = """(define (problem two) (:domain blocks) (:objects a b - block)
 (:init (ontable a) (ontable b) (clear a) (clear b) (handempty))
 (:goal (on a b)))"""
LP = """Maximize
 obj: 30 chair + 50 table
Subject To
 wood: chair + 2 table <= 40
 labour: 2 chair + table <= 50
Bounds
 chair >= 0
 table <= 30
General
 chair
End
"""
MPS = """NAME          TEST
ROWS
 N  obj
 L  c1
 L  c2
COLUMNS
    x         obj       -3             c1        1
    x         c2        2
    y         obj       -5             c1        2
    y         c2        1
RHS
    rhs       c1        14             c2        14
BOUNDS
 UP bnd       x         4
ENDATA
"""
FORMULATIONS = [json.loads(p.read_text()) for p in sorted((HERE / "formulations").glob("*.json"))[:4]]

HOSTILE = ["9**9**9", "x ** 10 ** 10 ** 10", "10.0 ** 400", "log(0)", "sqrt(-1)", "1e999", "-", "(", ")", "((",
           "))", "\x00", "\u00e9", "NaN", "inf", "abc", "1x4", ":goal", "(and", "- widget", "?x", "__import__('os')",
           "sum(", "for i in", "<=", ">=", "==", "9" * 400, "\n", "  ", ";", "*", "/ 0", "MARKER", "RHS", "End"]


@st.composite
def mutated_text(draw: st.DrawFn, seed: str) -> bytes:
    """`seed` after 1-4 mutations: a span cut, duplicated or replaced, two lines swapped, a hostile token
    inserted; and now and then the whole file in UTF-16, or cut short."""
    text = seed
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 40)))
        kind = draw(st.sampled_from(["cut", "dup", "insert", "replace", "swap"]))
        token = draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=6)))
        if kind == "cut":
            text = text[:i] + text[j:]
        elif kind == "dup":
            text = text[:j] + text[i:j] + text[j:]
        elif kind == "insert":
            text = text[:i] + token + text[i:]
        elif kind == "replace":
            text = text[:i] + token + text[j:]
        else:
            lines = text.splitlines(keepends=True)
            if len(lines) > 1:
                a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
                lines[a], lines[b] = lines[b], lines[a]
                text = "".join(lines)
    encoding = draw(st.sampled_from(["utf-8"] * 8 + ["utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False)
    | st.sampled_from(HOSTILE) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_formulation(draw: st.DrawFn) -> bytes:
    """A formulation with 1-3 values of its JSON tree replaced (by hostile expressions, huge numbers, wrong
    types), or, one time in four, its text mutated."""
    data = json.loads(json.dumps(draw(st.sampled_from(FORMULATIONS))))
    if draw(st.integers(0, 3)) == 0:
        return draw(mutated_text(json.dumps(data, indent=1)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)[1:]))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        value = draw(st.one_of(JSON_VALUES, st.builds(lambda a, b: f"{a} * {b}", st.sampled_from(HOSTILE),
                                                     st.sampled_from(["x", "1", "log(x)"]))))
        parent[path[-1]] = value
    return json.dumps(data).encode()


def _check(args: list[str]) -> None:
    started = time.monotonic()
    done = CliRunner().invoke(app, [*args, "--timeout", str(TIMEOUT), "--json"])
    elapsed = time.monotonic() - started
    assert done.exception is None or isinstance(done.exception, SystemExit), repr(done.exception)
    assert done.exit_code in (0, 1, 2), (done.exit_code, done.output)
    assert "Traceback" not in done.output
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    if done.exit_code == 2:
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    else:
        assert len(lines) <= 1, done.stderr
    data = json.loads(done.stdout)  # one JSON document, errors included
    assert isinstance(data, dict) and "status" in data
    assert elapsed < TIMEOUT + SLACK, elapsed


@pytest.fixture(scope="module", autouse=True)
def _planning_library_loaded() -> None:
    """Import unified-planning once here, so that each forked `plan` child does not import it again (2-3 s)."""
    from ratiocinator.solvers.pddl import parse

    parse(DOMAIN, PROBLEM)


@SETTINGS
@given(data=st.data())
def test_plan_on_mutated_pddl(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    folder = tmp_path_factory.mktemp("pddl")
    which = data.draw(st.sampled_from(["domain", "problem"]))
    domain = data.draw(mutated_text(DOMAIN)) if which == "domain" else DOMAIN.encode()
    problem = data.draw(mutated_text(PROBLEM)) if which == "problem" else PROBLEM.encode()
    (folder / "d.pddl").write_bytes(domain)
    (folder / "p.pddl").write_bytes(problem)
    _check(["plan", "-d", str(folder / "d.pddl"), "-p", str(folder / "p.pddl")])


@SETTINGS
@given(content=mutated_formulation())
def test_optimize_on_mutated_formulations(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    path = tmp_path_factory.mktemp("json") / "f.json"
    path.write_bytes(content)
    _check(["optimize", str(path)])


@SETTINGS
@given(data=st.data())
def test_optimize_on_mutated_lp_and_mps_files(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    suffix, seed = data.draw(st.sampled_from([(".lp", LP), (".mps", MPS)]))
    path = tmp_path_factory.mktemp("lp") / f"m{suffix}"
    path.write_bytes(data.draw(mutated_text(seed)))
    solver = data.draw(st.sampled_from(["auto", "auto", "scip"]))
    _check(["optimize", str(path), "--solver", solver])
