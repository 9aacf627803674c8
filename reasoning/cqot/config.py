"""CQoT's config: the paper's acceptance thresholds, redraft limits and sampling, in one place.

Paper: "Critical-Questions-of-Thought: Steering LLM reasoning with Argumentative Querying" (Castagna
et al., 2024; reference code FCast07/CQoT, `activate`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from ratiocinator.errors import InvalidInput
from ratiocinator.kit import MethodConfig
from ratiocinator.reasoning.cqot.prompts import CRITICAL_QUESTIONS

#: how a plan was accepted: enough "Yes" (strict), enough once relaxed, or the last draft taken as it is
Acceptance = Literal["strict", "relaxed", "last_draft"]


class CQoTConfig(MethodConfig):
    """Critical-Questions-of-Thought (Castagna et al., 2024): thresholds, redraft limits and sampling."""

    paper: ClassVar[str] = (
        "Castagna et al. 2024, Critical-Questions-of-Thought: Steering LLM reasoning with "
        "Argumentative Querying"
    )

    strict_yes: int = Field(7, ge=0, description="accept a plan with at least this many 'Yes'")
    relaxed_yes: int = Field(
        5, ge=0, description="... or with at least this many ('more than 4') once relaxed"
    )
    relax_after_redrafts: int = Field(4, ge=0, description="relaxed from the 5th redraft on")
    max_redrafts: int = Field(
        10, ge=0, description="after this many redrafts the last plan is taken as it is"
    )
    plan_temperature: float = Field(
        0.8, ge=0.0, le=2.0, description="plans are sampled, so redrafts differ"
    )
    temperature: float = Field(
        0.2, ge=0.0, le=2.0, description="of the critical questions and the final answer"
    )
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    plan_max_tokens: int = Field(512, ge=1)
    answer_max_tokens: int = Field(512, ge=1)
    assess_max_tokens: int = Field(
        96, ge=1, description="the JSON of eight answers takes about 50 tokens"
    )
    seed: int = Field(
        0, description="draft k is sampled with seed + k, so a run is reproducible (and cached)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> CQoTConfig:
        if not self.relaxed_yes <= self.strict_yes <= len(CRITICAL_QUESTIONS):
            raise InvalidInput(
                f"CQoTConfig: expected 0 <= relaxed_yes ({self.relaxed_yes}) <= strict_yes "
                f"({self.strict_yes}) <= {len(CRITICAL_QUESTIONS)}"
            )
        return self

    def accepts(self, yes: int, redrafts: int) -> Acceptance | None:
        """Whether a plan with `yes` "Yes" answers, drafted after `redrafts` redrafts, is accepted, and how."""
        if yes >= self.strict_yes:
            return "strict"
        if redrafts > self.relax_after_redrafts and yes >= self.relaxed_yes:
            return "relaxed"
        if redrafts >= self.max_redrafts:
            return "last_draft"
        return None
