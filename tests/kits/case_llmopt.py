"""The registry walk's case for `llmopt`: a small LP, written in two steps (declarations, then relations) and verified."""

from __future__ import annotations

import json

from ratiocinator.models.scripted import ScriptedBackend

DECLARED = {
    "sets": [],
    "parameters": [],
    "variables": [{"name": v, "domain": "nonnegative_integer"} for v in ("x", "y")],
}
RELATED = {
    "objective": {"sense": "maximize", "expression": "3*x + 2*y"},
    "constraints": [
        {"name": "total", "expression": "x + y <= 4"},
        {"name": "most_x", "expression": "x <= 3"},
    ],
}


def make_input() -> str:
    return "Make x and y to maximize 3 per x and 2 per y; together at most 4, and at most 3 of x."


def make_backend() -> ScriptedBackend:
    # the default config declares first: one request for the declarations, one for the relations
    return ScriptedBackend(
        [json.dumps(DECLARED), json.dumps(RELATED, separators=(", ", ": "))]
    )


def check(result) -> None:
    assert result.verdict.status == "verified" and abs(result.objective - 11) < 1e-6
    assert result.values == {"x": 3.0, "y": 1.0} and "not checked against your text" in result.verdict.reason
    assert result.usage.calls == 2
