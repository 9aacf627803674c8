"""The registry walk's case for `llmopt` (the stepwise translation, its default): the scripted model declares the
variables and writes the objective; the limits are read from the words in code; solved and verified."""

from __future__ import annotations

from ratiocinator.models.scripted import ScriptedBackend

TEXT = (
    "A shop makes tables and chairs. Each table earns $3 of profit and each chair $2. At most 4 items can be made "
    "in total, and at most 3 tables. How many of each should the shop make to maximize its profit?"
)
#: the model's answer to each question, by the first words of the question's last user turn
RIGHT = {"Problem:": "tables: integer\nchairs: integer", "Objective:": "maximize 3*tables + 2*chairs"}


def _answer(prompt) -> str:
    last = prompt[-1].content
    return next((a for start, a in RIGHT.items() if last.startswith(start)), "none")


class _Consistent(ScriptedBackend):
    """A scripted model that scores its own answer to a prompt above every other continuation."""

    def score(self, prompt, continuations):
        own = _answer(prompt)
        return [0.0 if c == own else -1.0 - len(c) for c in continuations]


def make_input() -> str:
    return TEXT


def make_backend() -> ScriptedBackend:
    return _Consistent(lambda prompt, params: _answer(prompt))


def check(result) -> None:
    assert result.verdict.status == "verified" and abs(result.objective - 11) < 1e-6
    assert result.values == {"tables": 3.0, "chairs": 1.0} and "not checked against your text" in result.verdict.reason
    # both limits come from reading the words ("in total" bounds all, "3 tables" the tables); no sentence asked
    assert sorted(c.expression for c in result.formulation.constraints) == ["tables + chairs <= 4", "tables <= 3"]
    assert result.usage.calls == 4
