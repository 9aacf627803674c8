"""Mamo ODE's result: the value asked for, how it was computed, every attempt, and the shared Verdict and Usage."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from ratiocinator.agents.ode.spec import ODEMethod, ODESpec
from ratiocinator.kit import MethodResult


class ODEAttempt(BaseModel):
    """One ODE the model wrote (its JSON) and the value computed from it, or the error that stopped it."""

    model_config = ConfigDict(frozen=True)

    round: int
    spec: str
    value: float | None = None
    method: ODEMethod | None = None
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class ODEResult(MethodResult):
    """The value asked for, how it was computed, and every attempt.

    The verdict is `verified` when sympy's dsolve computed the value exactly from the ODE the model
    wrote, `unverified` when its constants were fitted to conditions numerically (`fitted`, stepwise) or
    only the numeric fallback (scipy solve_ivp) computed it, `failed` when no ODE
    could be solved; in every case the ODE itself was not checked against the problem's text.
    """

    problem: str
    value: float | None
    method: ODEMethod | None = None
    spec: ODESpec | None = None
    answer: str
    rounds: int = 0
    initial_value: float | None = None
    attempts: tuple[ODEAttempt, ...] = ()

    def report(self) -> str:
        """The answer, the verdict, then the ODE the verdict speaks of."""
        text = f"{self.answer}\n({self.verdict})"
        if self.spec is not None:
            text += f"\nODE: {self.spec.model_dump_json()}"
        return text
