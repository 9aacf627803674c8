"""The chat's tool-agent settings: the planner and summarizer prompts with the endings spelled out, and CHAT_CONFIG."""

from __future__ import annotations

from ratiocinator.agents.tool_agent import ToolAgentConfig

#: The paper's planner prompt with the three endings spelled out: an untuned small model copies the
#: paper's one-line format literally ("…followed by Next: caller") and so never concludes.
CHAT_PLANNER = """You have access to the following apis:
{doc}
The conversation history is:
{history}
You are the assistant to plan what to do next and whether is caller's or conclusion's turn to answer.
Write one short thought about the user's last request, then end with exactly one of:
Next: caller. (an api must be called now)
Next: conclusion. (an observation above already answers the user's last request)
Next: give up. (no api can help)"""
CHAT_SUMMARIZER = """Make a conclusion based on the conversation history:
{history}
Now answer the user's last request in one or two sentences with the result the observations show."""
#: The chat's agent: few steps, short thoughts, a checking tool before any conclusion. The request's
#: time limit is user-facing (`ratiocinator chat --time-limit`); when it ends a request, the answer says so.
CHAT_CONFIG = ToolAgentConfig(
    max_steps=4,
    total_timeout=600.0,
    planner_max_tokens=96,
    summarizer_max_tokens=160,
    planner_prompt=CHAT_PLANNER,
    summarizer_prompt=CHAT_SUMMARIZER,
    require_tool=True,
)
