"""Critical-Questions-of-Thought (Castagna et al., 2024): plan, eight critical questions, redraft, answer from the plan.

    from ratiocinator.reasoning.cqot import CQoTConfig, run
    result = run("How many ...?", backend=backend, config=CQoTConfig(max_redrafts=3))
"""

from ratiocinator.reasoning.cqot.config import Acceptance, CQoTConfig
from ratiocinator.reasoning.cqot.graph import build_graph, run
from ratiocinator.reasoning.cqot.prompts import CRITICAL_QUESTIONS, CriticalAnswers
from ratiocinator.reasoning.cqot.result import CQoTResult, Draft

__all__ = [
    "CRITICAL_QUESTIONS",
    "Acceptance",
    "CQoTConfig",
    "CQoTResult",
    "CriticalAnswers",
    "Draft",
    "build_graph",
    "run",
]
