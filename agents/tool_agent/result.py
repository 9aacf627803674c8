"""The tool agent's result: the answer, how the request ended, the request's turns, the checks, and the Verdict and Usage.

The verdict is `verified` only when the request was answered and the last checking tool of the
request (one that says how it checked its result, e.g. the calculator through sympy, the planner
through the plan validator) succeeded with its check holding: the checked result is reported beside
the answer (`report()`), and the model's wording of it was not checked. What was verified is exactly
what the tool's sentence says: "valid for the problem as translated" is not "valid for your problem",
"the optimum of this formulation" is not the optimum of your text unless it says "checked against
every constraint of your text". `unverified` when the model answered without such a tool, when the
last one said its result is not verified (an answer that breaks a constraint of the user's text, a
formulation that does not match it), or while a question to the user is pending; `gave_up` when a
limit or the planner's `give up` ended the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ratiocinator.agents.tool_agent.turns import Turn, checking_turns, request_turns, verification
from ratiocinator.kit import MethodResult, Usage, Verdict, gave_up, unverified, verified

ResultStatus = Literal["answered", "gave_up", "interrupted"]


@dataclass(frozen=True, kw_only=True)
class ToolAgentResult(MethodResult):
    """The outcome of one request: answered, gave up (with the reason) or interrupted (with the question)."""

    status: ResultStatus
    answer: str
    reason: str = ""
    question: str | None = None
    checks: tuple[str, ...] = ()  # "tool: how it checked", for each checking tool's observation
    steps: int = 0
    turns: tuple[Turn, ...] = field(default_factory=tuple)  # the latest request's turns

    @property
    def checked(self) -> Turn | None:
        """The last checking observation, if its check holds (what a verified answer reports)."""
        checking = checking_turns(self.turns)
        return checking[-1] if checking and checking[-1].checked else None

    @property
    def held(self) -> tuple[str, ...]:
        """"tool: how it checked" for each checking observation whose check holds."""
        return tuple(f"{t.tool}: {t.verified}" for t in checking_turns(self.turns) if t.checked)

    @classmethod
    def from_state(
        cls, values: Mapping[str, Any], *, question: str | None = None, usage: Usage | None = None
    ) -> ToolAgentResult:
        """The result of the latest request in a graph state (`question`: a pending ask_user question)."""
        turns = tuple(values.get("turns", []))
        if question is not None:
            status: ResultStatus = "interrupted"
        else:
            status = "answered" if values.get("status", "answered") == "answered" else "gave_up"
        return cls(
            status=status,
            answer=values.get("answer", ""),
            reason=values.get("reason", ""),
            question=question,
            checks=tuple(verification(turns)),
            steps=values.get("steps", 0),
            turns=tuple(request_turns(turns)),
            verdict=_verdict(status, turns, values.get("reason", ""), question),
            usage=usage or Usage(),
        )

    def report(self) -> str:
        """The answer, the checked result itself (when there is one), then the verdict."""
        if self.status == "interrupted":
            return f"question: {self.question}\n({self.verdict})"
        lines = [self.answer]
        if self.status == "answered" and self.checked is not None:
            lines.append(f"result ({self.checked.tool}): {self.checked.content}")
        return "\n".join([*lines, f"({self.verdict})"])


def _verdict(status: ResultStatus, turns: tuple[Turn, ...], reason: str, question: str | None) -> Verdict:
    if status == "interrupted":
        return unverified(f"no answer yet: the agent asked {question!r} and waits for the answer")
    if status == "gave_up":
        return gave_up(reason or "the planner gave up")
    checking = checking_turns(turns)
    held = [f"{t.tool}: {t.verified}" for t in checking if t.checked]
    failed_checks = [f"{t.tool}: {t.verified}" for t in checking if not t.checked]
    if checking and checking[-1].checked:  # the answer rests on the last check, and it holds
        earlier = f"; an earlier check did not hold: {'; '.join(failed_checks)}" if failed_checks else ""
        return verified(
            "; ".join(held) + " (the checked result is reported with the answer; the model's "
            f"wording of it was not checked){earlier}"
        )
    if checking:
        return unverified(
            "; ".join(f"{t.tool}: {t.verified}" for t in checking) + " (the last checking tool's "
            "check did not hold)"
        )
    return unverified("the model answered without a checking tool")
