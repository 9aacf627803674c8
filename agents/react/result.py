"""The ReAct baseline's result: the tool agent's (answer, status, turns, checks) with the same Verdict rules."""

from __future__ import annotations

from dataclasses import dataclass

from ratiocinator.agents.tool_agent.result import ToolAgentResult


@dataclass(frozen=True, kw_only=True)
class ReActResult(ToolAgentResult):
    """The outcome of one request of the baseline; `verified` only as for the tool agent (a checking tool's result)."""
