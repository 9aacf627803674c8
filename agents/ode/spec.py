"""What the model writes for a Mamo ODE problem (`ODESpec`), the error an unusable one raises, and which solver answered."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.errors import InvalidInput

#: which solver gave the value: sympy's dsolve (exact), dsolve with constants fitted to the conditions
#: numerically (fitted, agents/ode/fit.py) or scipy's solve_ivp (numeric)
ODEMethod = Literal["dsolve", "fitted", "numeric"]


class ODESpec(BaseModel):
    """What the model writes: the ODE system, its initial conditions, and the quantity asked at a point."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    functions: list[str] = Field(min_length=1, max_length=4)
    variable: str = Field(max_length=8)
    equations: list[str] = Field(min_length=1, max_length=4)
    initial_conditions: list[str] = Field(max_length=8)
    quantity: str = Field(max_length=200)
    at: float


class FittedSpec(ODESpec):
    """An ODE assembled by stepwise translation: it may name unknown constants (`parameters`, like k in
    T' = -k*(T - 7)) that its conditions, given at any points, determine; `at` may be infinite (the limit)."""

    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")

    parameters: list[str] = Field(default_factory=list, max_length=2)


class ODEError(InvalidInput):
    """An ODE the model wrote that does not parse or cannot be solved; the message says where."""
