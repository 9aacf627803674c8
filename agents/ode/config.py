"""Mamo ODE's config: correction rounds, token limit and the solvers' deadlines, in one place.

Paper: "Mamo: a Mathematical Modeling Benchmark with Solvers" (Huang et al., 2024; data
FreedomIntelligence/Mamo).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ratiocinator.kit import IDENTITY_WHEN_SET, MethodConfig


class ODEConfig(MethodConfig):
    """Mamo's ODE problems (Huang et al., 2024): the model writes the ODE, a solver computes the value asked."""

    paper: ClassVar[str] = (
        "Huang et al. 2024, Mamo: a Mathematical Modeling Benchmark with Solvers"
    )

    correction_rounds: int = Field(
        2, ge=0, le=8, description="rounds in which a parse or solve error goes back to the model"
    )
    max_tokens: int = Field(320, ge=32, description="tokens of the ODE's JSON")
    correction_temperature: float = Field(
        0.7, ge=0.0, description="a greedy fix would often repeat the error (round r: seed r)"
    )
    dsolve_timeout: float = Field(
        10.0, gt=0, description="seconds for sympy dsolve before the numeric fallback"
    )
    numeric_timeout: float = Field(10.0, gt=0, description="seconds for scipy solve_ivp")
    translation: Literal["whole", "stepwise"] = Field(
        "whole",
        json_schema_extra=IDENTITY_WHEN_SET,
        description="whole: the ODE as one JSON generation, errors sent back (correction_rounds). stepwise: "
        "small grammar-constrained decisions (the unknown, each sentence's terms of the rate, each number's "
        "condition, what is asked), drawn greedily and `samples` more times, every candidate ODE solved with its "
        "unknown constant fitted to the conditions, the value voted (agents/ode/stepwise.py)",
    )
    rate: Literal["whole", "forms", "sentences"] = Field(
        "whole", json_schema_extra=IDENTITY_WHEN_SET,
        description="stepwise: the rate of change as one decision over the problem's numbers (whole), as one of a "
        "few general forms and each of its parameters (forms: agents/ode/stepprompts.py FORMS), or one term per "
        "sentence (sentences)",
    )
    samples: int = Field(4, ge=0, le=16, json_schema_extra=IDENTITY_WHEN_SET,
                         description="stepwise: sampled draws of every decision beside the greedy one")
    sample_temperature: float = Field(0.7, gt=0.0, json_schema_extra=IDENTITY_WHEN_SET,
                                      description="stepwise: temperature of the sampled draws")
    step_tokens: int = Field(48, ge=8, json_schema_extra=IDENTITY_WHEN_SET,
                             description="stepwise: tokens of one decision")
    example_check: bool = Field(
        False,
        json_schema_extra=IDENTITY_WHEN_SET,
        description="an ODE with the worked example's numbers that the problem does not state goes back to "
        "the model as an error (agents/ode/numbers.py)",
    )
