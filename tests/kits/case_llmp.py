"""The registry walk's case for `llmp`: blocksworld from the shared data, a scripted model that first writes a
broken translation, then the right one (so the feedback edge runs), planned and validated."""

from __future__ import annotations

from ratiocinator.models.scripted import ScriptedBackend

TEXT = (
    "You have 3 blocks. \nb1 is on the table. \nb2 is on the table. \nb3 is on top of b1. \nb2 is clear. \n"
    "b3 is clear. \nYour arm is empty. \nYour goal is to move the blocks. \nb1 should be on top of b2. \n"
)
GOOD = (
    "(define (problem bw)\n(:domain blocksworld-4ops)\n(:objects\nb1 b2 b3\n)\n(:init\n(arm-empty)\n"
    "(on-table b1)\n(on-table b2)\n(on b3 b1)\n(clear b2)\n(clear b3)\n)\n(:goal\n(and\n(on b1 b2)\n))\n)"
)


def make_input() -> str:
    return TEXT


def make_backend() -> ScriptedBackend:
    return ScriptedBackend(["(define (problem", GOOD])


def run_kwargs() -> dict:
    return {"domain": "blocksworld"}


def check(result) -> None:
    assert result.verdict.status == "verified" and "as translated" in result.verdict.reason
    assert result.plan == ("(unstack b3 b1)", "(putdown b3)", "(pickup b1)", "(stack b1 b2)")
    assert [t.status for t in result.translations] == ["parse_error", "solved"]
    assert result.usage.calls == 2
