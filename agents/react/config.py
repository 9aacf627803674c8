"""The ReAct baseline's config: the limits of the tool agent and one token budget for the single output per step.

Paper: Shen et al. 2024, "Small LLMs Are Weak Tool Learners: A Multi-LLM Agent" (alpha-UMi), whose
single-LLM baseline ("backbone", the `toolbench_backbone` prompt) this is.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from ratiocinator.agents.tool_agent.config import PAPER
from ratiocinator.kit import MethodConfig


class ReActConfig(MethodConfig):
    """The single-model baseline of alpha-UMi (Shen et al. 2024): one output thinks, then calls a tool or concludes."""

    paper: ClassVar[str] = PAPER

    max_steps: int = Field(8, ge=1, description="model outputs per request before giving up")
    tool_timeout: float = Field(60.0, gt=0, description="seconds one tool call may take")
    total_timeout: float = Field(
        600.0,
        gt=0,
        description="seconds one request may take in all (a pending ask_user question does not "
        "count); reaching it ends the request with an answer that says so",
    )
    max_tokens: int = Field(
        416, ge=16, description="of each output (the alpha-UMi planner's 160 and caller's 256 together)"
    )
    temperature: float = Field(0.0, ge=0.0)
    history_chars: int = Field(
        6000, ge=200, description="the history in a prompt is trimmed to this"
    )
    stream_tokens: bool = Field(
        True, description="the output is streamed (TokenEvents on the graph's custom stream)"
    )

    @classmethod
    def from_tool_agent(cls, config: Any) -> ReActConfig:
        """The baseline with an alpha-UMi config's limits; one output gets the planner's and the caller's tokens."""
        return cls(
            max_steps=config.max_steps,
            tool_timeout=config.tool_timeout,
            total_timeout=config.total_timeout,
            max_tokens=config.planner_max_tokens + config.caller_max_tokens,
            temperature=config.temperature,
            history_chars=config.history_chars,
            stream_tokens=config.stream_tokens,
        )
