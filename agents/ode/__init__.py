"""Mamo ODE (Huang et al., 2024): the model writes the ODE of a word problem, sympy dsolve (or scipy) computes the value.

    from ratiocinator.agents.ode import ODEConfig, run
    result = run("A tank holds ...", backend=backend, config=ODEConfig(correction_rounds=1))
    result.value, result.method, result.verdict

`ODEConfig(translation="stepwise")` (agents/ode/stepwise.py) builds the ODE from small grammar-constrained
decisions instead (the unknown, its rate of change over the problem's own numbers, what is asked), reads the
conditions the words state in code (times.py), fits an unknown rate constant to them (fit.py) and votes
over sampled drafts.
"""

from ratiocinator.agents.ode.config import ODEConfig
from ratiocinator.agents.ode.graph import build_graph, run
from ratiocinator.agents.ode.result import ODEAttempt, ODEResult
from ratiocinator.agents.ode.solve import solve_ode
from ratiocinator.agents.ode.spec import ODEError, ODEMethod, ODESpec

__all__ = [
    "ODEAttempt",
    "ODEConfig",
    "ODEError",
    "ODEMethod",
    "ODEResult",
    "ODESpec",
    "build_graph",
    "run",
    "solve_ode",
]
