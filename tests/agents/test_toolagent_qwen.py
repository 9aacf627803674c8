"""The alpha-UMi graph on the embedded Qwen2.5-Coder-0.5B: a math task end to end (slow).

With the REPL test (tests/agents/test_chat_terminal.py: a blocksworld plan and an arithmetic question)
this makes three real-model tasks; the ReAct baseline's real-model figures come from toolbench-static.
"""

from __future__ import annotations

import pytest

from ratiocinator.agents.builtin_tools import builtin_tools
from ratiocinator.agents.chat import CHAT_CONFIG
from ratiocinator.agents.tool_agent import ToolAgent

CONFIG = CHAT_CONFIG.model_copy(
    update={
        "planner_max_tokens": 48,
        "summarizer_max_tokens": 48,
        "caller_max_tokens": 64,
        "stream_tokens": False,
        "total_timeout": 1e6,  # far beyond any real run: the machine's speed must not decide
    }
)


@pytest.mark.slow
def test_alpha_umi_solves_an_equation_with_the_solver(qwen):
    agent = ToolAgent(qwen, builtin_tools(names=("solve_equation",)), config=CONFIG)
    result = agent.invoke("Solve the equation 3*x + 5 = 20 for x.")
    assert result.status == "answered", result
    solved = [
        t.content for t in result.turns if t.role == "observation" and t.tool == "solve_equation"
    ]
    assert solved and '"x": "5"' in solved[0], result.turns
    assert result.checks and all(
        v.startswith("solve_equation: solved by sympy") for v in result.checks
    )
    assert result.verdict.verified
    assert result.answer.strip()
