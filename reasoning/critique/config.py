"""DeepCritic's config: the second look, sympy evidence, refinement rounds, token limits and sampling, in one place.

Paper: "DeepCritic: Deliberate Critique with Large Language Models" (Yang et al., 2025; reference
prompts RUCBM/DeepCritic `Critique_Generation/`). Refinement (critique, then correct the first
error and critique again) is `max_refinements > 0`; the registry lists it as `deepcritic-refine`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ratiocinator.kit import MethodConfig


class DeepCriticConfig(MethodConfig):
    """DeepCritic (Yang et al., 2025): deliberate step-wise critique, with sympy evidence and optional refinement."""

    paper: ClassVar[str] = "Yang et al. 2025, DeepCritic: Deliberate Critique with Large Language Models"

    second_look: bool = Field(True, description="DeepCritic's in-depth critique of each initial critique")
    symbolic: bool = Field(True, description="give sympy's verdict on symbolic steps to the critic")
    symbolic_decides: bool = Field(
        False, description="let a definite sympy verdict override the critic's judgement"
    )
    max_refinements: int = Field(
        0, ge=0, description='rounds of "fix the first error, critique again" (0: critique only)'
    )
    critique_max_tokens: int = Field(512, ge=1, description="each step's initial critique")
    second_look_max_tokens: int = Field(512, ge=1, description="each step's second look")
    solve_max_tokens: int = Field(512, ge=1, description="the solution written (or rewritten) by the model")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0: greedy, as in the benchmarks")
    seed: int = Field(0, description="the sampling seed, used when temperature > 0")
