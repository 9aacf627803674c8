"""The LLM-as-planner baseline's config: token limit, grammar and the planner that solves the example, in one place.

Paper: the baseline of "LLM+P: Empowering Large Language Models with Optimal Planning Proficiency"
(Liu et al., 2023; reference code Cranial-XIX/llm-pddl, "LLM-as-P with context"): the model writes
the plan itself, greedily. The defaults are LLM+P's (agents/llmp/config.py) for the fields the two
share, so that a benchmark that runs both compares them under the same limits.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ratiocinator.kit import MethodConfig


class LLMAsPlannerConfig(MethodConfig):
    """LLM-as-planner, the baseline of LLM+P (Liu et al. 2023): the model writes the plan (greedy)."""

    paper: ClassVar[str] = (
        "Liu et al. 2023, LLM+P: Empowering Large Language Models with Optimal Planning Proficiency "
        "(the LLM-as-planner baseline)"
    )

    max_tokens: int = Field(
        1024, ge=16, description="longest plan the model may write (less when the plan is bounded)"
    )
    length_factor: float = Field(
        2.0,
        gt=0,
        description="a plan may have this many times the steps the example's plan length predicts "
        "for the text (see grammar.plan_bound)",
    )
    objects_from_text: bool = Field(
        True, description="plan arguments limited to the text's words and the example's names"
    )
    grammar: bool = Field(
        True, description="constrain the plan by the domain's actions with their arities"
    )
    planner: str = Field(
        "auto", description="solvers.pddl planner that solves the example problem for the prompt"
    )
    timeout: float = Field(30.0, gt=0, description="seconds the planner may take on the example")
