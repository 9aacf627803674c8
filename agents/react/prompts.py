"""The single-LLM baseline's prompt ("backbone", X-PLUG/Multi-LLM-Agent `toolbench_backbone`) and how its output is read."""

from __future__ import annotations

from ratiocinator.agents.tool_agent.prompts import Decision

BACKBONE = """You have access to the following apis:
{doc}
The conversation history is:
{history}
You should answer the action of next step in the following format:
The thought to solve the question,
Action: the name of api that should be called in this step, should be exactly in [{tool_names}],
Action Input: the api call request.
Once you think the question is finished, output conclusion: the final answer of the question or give up if you think you cannot answer this question.
"""


def parse_backbone(text: str) -> tuple[Decision, str]:
    """The single-LLM output's decision and its payload (the answer, or the call text), by the reference rules."""
    if "conclusion: give up" in text or "Next: give up" in text:
        return "give up", text
    if "conclusion:" in text:
        return "conclusion", text[text.rindex("conclusion:") + len("conclusion:") :].strip()
    return "caller", text
