"""The registry walk's case for `cqot`: a question and a scripted backend that accepts the first plan."""

from __future__ import annotations

import json

from ratiocinator.models.scripted import ScriptedBackend


def make_input() -> str:
    return "Tom has 3 apples and buys 2 more. How many apples does he have?"


def make_backend() -> ScriptedBackend:
    def reply(prompt, params):
        if params.schema is not None:
            return json.dumps({f"q{i}": "Yes" for i in range(1, 9)})
        return "1. start from 3 2. add 2" if "Remember" in prompt[-1].content else "Final answer: 5"

    return ScriptedBackend(reply)


def check(result) -> None:
    assert result.answer == "Final answer: 5" and result.acceptance == "strict"
