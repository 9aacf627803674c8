"""The tool agent's result: the answer, how the request ended, the request's turns, the checks, and the Verdict and Usage.

The verdict is `verified` only when the request was answered and a checking tool (one that says how
it checked its result, e.g. the calculator through sympy, the planner through the plan validator)
succeeded with its check holding: the checked result is reported beside the answer (`report()`),
and the model's wording of it was not checked. `unverified` when the model answered without such a
tool (or the tool said its result is not verified), or while a question to the user is pending;
`gave_up` when a limit or the planner's `give up` ended the request.
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
        """The last observation whose check holds (what a verified answer reports), if any."""
        held = [t for t in self.turns if t.role == "observation" and t.verified and t.checked]
        return held[-1] if held else None

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
    if held:
        return verified(
            "; ".join(held) + " (the checked result is reported with the answer; the model's "
            "wording of it was not checked)"
        )
    if checking:
        return unverified(
            "; ".join(f"{t.tool}: {t.verified}" for t in checking) + " (the tool could not confirm "
            "its result)"
        )
    return unverified("the model answered without a checking tool")
