"""sympy-checked derivations (after Meadows et al., 2023): the model writes equations from premises to a goal, sympy checks each.

    from ratiocinator.reasoning.derivation import DerivationConfig, generate_item, run
    result = run(generate_item(0), backend=backend, config=DerivationConfig(max_feedback=1))
"""

from ratiocinator.reasoning.derivation.check import check_lines, parse_lines
from ratiocinator.reasoning.derivation.config import DerivationConfig
from ratiocinator.reasoning.derivation.graph import build_graph, derivation_verdict, run
from ratiocinator.reasoning.derivation.prompts import EQUATIONS_GRAMMAR
from ratiocinator.reasoning.derivation.result import Attempt, DerivationResult
from ratiocinator.reasoning.symbolic_steps import DerivationItem, generate_item

__all__ = [
    "EQUATIONS_GRAMMAR",
    "Attempt",
    "DerivationConfig",
    "DerivationItem",
    "DerivationResult",
    "build_graph",
    "check_lines",
    "derivation_verdict",
    "generate_item",
    "parse_lines",
    "run",
]
