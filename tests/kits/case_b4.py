"""The registry walk's case for `b4`: a tiny function, a scripted model that samples solutions and tests, real sandboxed runs."""

from __future__ import annotations

from ratiocinator.agents.code_selection import CodeSelectionTask
from ratiocinator.models.scripted import ScriptedBackend

PROMPT = 'def add(a, b):\n    """Return a + b."""\n'
SOLUTIONS = ["    return a + b\n", "    return a - b\n", "    return a + b\n", "    return b + a\n"]
TEST_SAMPLES = ["add(1, 2) == 3\nassert add(2, 2) == 4\n", "add(0, 5) == 5\n"]


def make_input() -> CodeSelectionTask:
    return CodeSelectionTask(prompt=PROMPT, entry_point="add")


def make_backend() -> ScriptedBackend:
    served = {"solutions": 0, "tests": 0}

    def reply(prompt, params):
        kind = "tests" if prompt.endswith("assert ") else "solutions"
        pool = TEST_SAMPLES if kind == "tests" else SOLUTIONS
        served[kind] += 1
        return pool[(served[kind] - 1) % len(pool)]

    return ScriptedBackend(reply)


def check(result) -> None:
    assert result.solution in ("    return a + b\n", "    return b + a\n")
    assert result.group == (0, 2) and result.passed == 3 and result.strategy == "b4_1e4"
    assert result.verdict.status == "unverified"
    assert result.verdict.reason == (
        "passes 3 of 3 generated tests; the tests themselves were generated and not checked"
    )
