"""The LLM-as-planner baseline's result: the plan the model wrote, step by step and as written; the shared Verdict and Usage."""

from __future__ import annotations

from dataclasses import dataclass

from ratiocinator.kit import MethodResult


@dataclass(frozen=True, kw_only=True)
class LLMAsPlannerResult(MethodResult):
    """The model's own plan (`steps`, and `raw` as it wrote it).

    The verdict is `unverified` unless a problem PDDL was given to validate the plan against: then
    `verified` when unified-planning's validator accepts the plan for that problem (which nothing
    checked against the text), `failed` when it rejects it. `failed` too when the model wrote no step.
    """

    domain: str
    steps: tuple[str, ...]
    raw: str
    validation: str = ""  # the validator's words, when a problem was given ("valid" or why not)

    def report(self) -> str:
        return "\n".join(self.steps) + f"\n({self.verdict})"
