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
