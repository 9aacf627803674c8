"""DeepCritic (Yang et al., 2025): deliberate step-wise critique with sympy evidence, and refinement (critique, then correct).

    from ratiocinator.reasoning.critique import DeepCriticConfig, run
    result = run(problem, backend=backend, steps=["Step 1: ...", "Step 2: ..."])   # first_error, verdict
    result = run(problem, backend=backend, config=DeepCriticConfig(max_refinements=1))  # solve, critique, fix
"""

from ratiocinator.reasoning.critique.config import DeepCriticConfig
from ratiocinator.reasoning.critique.evidence import Evidence, evidence_block, symbolic_evidence
from ratiocinator.reasoning.critique.graph import build_graph, run
from ratiocinator.reasoning.critique.prompts import JUDGEMENT_GRAMMAR
from ratiocinator.reasoning.critique.result import CritiqueResult, CritiqueRound, StepCritique
from ratiocinator.reasoning.critique.steps import (
    format_solution,
    parse_judgement,
    parse_steps,
    strip_step,
)

__all__ = [
    "JUDGEMENT_GRAMMAR",
    "CritiqueResult",
    "CritiqueRound",
    "DeepCriticConfig",
    "Evidence",
    "StepCritique",
    "build_graph",
    "evidence_block",
    "format_solution",
    "parse_judgement",
    "parse_steps",
    "run",
    "strip_step",
    "symbolic_evidence",
]
