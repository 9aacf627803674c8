"""The registry walk's case for `mamo-ode`: a spring (y'' + 4y = 0) whose value at t = 1 a solver computes."""

from __future__ import annotations

import json
import math

from ratiocinator.models.scripted import ScriptedBackend

SPEC = {
    "functions": ["y"],
    "variable": "t",
    "equations": ["y'' + 4*y = 0"],
    "initial_conditions": ["y(0) = 1", "y'(0) = 0"],
    "quantity": "y",
    "at": 1.0,
}


def make_input() -> str:
    return "A spring starts at 1 m, at rest; y'' = -4y. Where is it at t = 1 s?"


def make_backend() -> ScriptedBackend:
    return ScriptedBackend([json.dumps(SPEC)])


def check(result) -> None:
    assert abs(result.value - math.cos(2)) < 1e-6 and result.rounds == 0
    # dsolve gives it exactly; on a machine too slow for dsolve's deadline the numeric fallback does
    assert result.verdict.status == ("verified" if result.method == "dsolve" else "unverified")
