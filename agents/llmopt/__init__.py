"""LLMOPT (Jiang et al., ICLR 2025): English -> five-element formulation -> exact solver -> self-correction -> optimum.

    from ratiocinator.agents.llmopt import LLMOPTConfig, run
    result = run("A bakery ...", backend=backend, config=LLMOPTConfig(samples=3))
    result = run("A bakery ...", backend=backend, config=LLMOPTConfig(translation="stepwise"))
    result.objective, result.values, result.verdict
"""

from ratiocinator.agents.llmopt.answer import agree, english, select
from ratiocinator.agents.llmopt.config import LLMOPTConfig
from ratiocinator.agents.llmopt.engine import evaluate
from ratiocinator.agents.llmopt.grammar import formulation_schema
from ratiocinator.agents.llmopt.graph import build_graph, run
from ratiocinator.agents.llmopt.result import Attempt, AttemptStatus, LLMOPTResult

__all__ = [
    "Attempt",
    "AttemptStatus",
    "LLMOPTConfig",
    "LLMOPTResult",
    "agree",
    "build_graph",
    "english",
    "evaluate",
    "formulation_schema",
    "run",
    "select",
]
