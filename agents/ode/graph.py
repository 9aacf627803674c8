"""Mamo's ODE problems as a LangGraph graph: write -> (fix)* -> end; and `run`, its entry point.

"Mamo: a Mathematical Modeling Benchmark with Solvers" (Huang et al., 2024) asks a model to model a
word problem as an ordinary differential equation and lets a solver compute the asked value. Here
the model writes, under a JSON schema, the unknown functions, the equations and initial conditions
as sympy-parsable text (`y' = 2 - 3*y/(100 + 2*t)`, `y(0) = 0`), the quantity asked and the point;
sympy's `dsolve` solves it symbolically, and where it fails or runs past its deadline scipy's
`solve_ivp` integrates it numerically. A parse or solve error goes back to the model (bounded rounds).
With `translation="stepwise"` the write node builds the ODE from small decisions instead (stepwise.py) and
the vote over its drafts replaces the correction rounds.

    result = run("A tank ...", backend=load_backend())   # ODEResult(value=..., method=..., verdict=..., usage=...)
"""

from __future__ import annotations

import functools
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.agents.ode.nodes as nodes
from ratiocinator.agents.ode.config import ODEConfig
from ratiocinator.agents.ode.result import ODEAttempt, ODEResult
from ratiocinator.agents.ode.spec import FittedSpec, ODESpec
from ratiocinator.kit import (
    MethodContext,
    Verdict,
    failed,
    invoke,
    require_backend,
    require_text,
    resolve_config,
    unverified,
    verified,
)


@functools.cache
def build_graph() -> Any:
    """The compiled graph (once per process); invoke it with `context=MethodContext(backend, config, usage)`."""
    graph = StateGraph(nodes.ODEState, context_schema=MethodContext)
    graph.add_node("write", nodes.write)
    graph.add_node("fix", nodes.fix)
    graph.add_edge(START, "write")
    graph.add_conditional_edges("write", nodes.route, ["fix", END])
    graph.add_conditional_edges("fix", nodes.route, ["fix", END])
    return graph.compile()


def run(text: str, *, backend: Any, config: ODEConfig | None = None) -> ODEResult:
    """Model the ODE word problem in `text` and compute the value it asks for."""
    require_text(text, name="text", expected="an ODE word problem in English")
    require_backend(backend)
    cfg = resolve_config(config, ODEConfig)
    state, usage = invoke(build_graph(), {"problem": text}, backend=backend, config=cfg)
    attempts = tuple(state["attempts"])
    last = attempts[state.get("chosen", -1)]
    kind = FittedSpec if cfg.translation == "stepwise" else ODESpec
    spec = kind.model_validate_json(last.spec) if last.value is not None else None
    answer = (
        f"{spec.quantity} at {spec.variable} = {spec.at:g} is {last.value:.6g} ({last.method})"
        if spec is not None and last.value is not None
        else f"No value: {last.error}"
    )
    return ODEResult(
        problem=text,
        value=last.value,
        method=last.method,
        spec=spec,
        answer=answer,
        rounds=state["round"],
        initial_value=attempts[0].value,
        attempts=attempts,
        verdict=_verdict(last, len(attempts), state.get("agreeing", 0)),
        usage=usage,
    )


def _verdict(last: ODEAttempt, tries: int, agreeing: int = 0) -> Verdict:
    unchecked = "the ODE itself was not checked against your text"
    if agreeing:
        unchecked += f" ({agreeing} of {tries} stepwise drafts reach this value)"
    if last.value is None:
        return failed(f"no ODE the model wrote could be solved in {tries} attempts (the last: {last.error})")
    if last.method == "dsolve":
        return verified(f"the value of the ODE below, computed exactly by sympy's dsolve; {unchecked}")
    if last.method == "fitted":
        return unverified("the value of the ODE below, solved by sympy's dsolve with its constants fitted to the "
                          f"stated conditions numerically (Newton's method, checked against the equation); {unchecked}")
    return unverified(
        "the value of the ODE below, integrated numerically by scipy's solve_ivp (relative tolerance "
        f"1e-10) after dsolve failed; not exact, and {unchecked}"
    )
