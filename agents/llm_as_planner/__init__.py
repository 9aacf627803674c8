"""The LLM-as-planner baseline of LLM+P (Liu et al. 2023): the model writes the plan itself, from the text and an example.

    from ratiocinator.agents.llm_as_planner import run
    result = run("You have 3 blocks. ...", backend=backend, domain="blocksworld")
    result.steps, result.verdict
"""

from ratiocinator.agents.llm_as_planner.config import LLMAsPlannerConfig
from ratiocinator.agents.llm_as_planner.graph import build_graph, run
from ratiocinator.agents.llm_as_planner.nodes import LLMAsPlannerState
from ratiocinator.agents.llm_as_planner.prompts import direct_prompt
from ratiocinator.agents.llm_as_planner.result import LLMAsPlannerResult

__all__ = [
    "LLMAsPlannerConfig",
    "LLMAsPlannerResult",
    "LLMAsPlannerState",
    "build_graph",
    "direct_prompt",
    "run",
]
