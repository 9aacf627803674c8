"""LLM+P (Liu et al. 2023): English -> the domain's problem PDDL (grammar, feedback, k samples) -> planner -> validator.

    from ratiocinator.agents.llmp import LLMPConfig, run      # run is also `plan_from_text`
    result = run("You have 3 blocks. ...", backend=backend, domain="blocksworld", config=LLMPConfig(k=3))
    result.plan, result.explanation, result.verdict
"""

from ratiocinator.agents.llmp.check import check
from ratiocinator.agents.llmp.config import LLMPConfig
from ratiocinator.agents.llmp.domain import (
    PlanningDomain,
    Vocabulary,
    available_domains,
    guess_domain,
    load_domain,
    planning_data_dirs,
    resolve_domain,
    vocabulary,
)
from ratiocinator.agents.llmp.graph import build_graph, plan_from_text, run
from ratiocinator.agents.llmp.nodes import LLMPState, select
from ratiocinator.agents.llmp.prompts import feedback, translation_prompt
from ratiocinator.agents.llmp.result import LLMPResult, Translation, TranslationStatus

__all__ = [
    "LLMPConfig",
    "LLMPResult",
    "LLMPState",
    "PlanningDomain",
    "Translation",
    "TranslationStatus",
    "Vocabulary",
    "available_domains",
    "build_graph",
    "check",
    "feedback",
    "guess_domain",
    "load_domain",
    "plan_from_text",
    "planning_data_dirs",
    "resolve_domain",
    "run",
    "select",
    "translation_prompt",
    "vocabulary",
]
