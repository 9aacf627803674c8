"""Mamo's ODE problems as a LangGraph agent: the model writes the ODE, sympy dsolve (or scipy) solves it.

"Mamo: a Mathematical Modeling Benchmark with Solvers" (Huang et al., 2024) asks a model to model a
word problem as an ordinary differential equation and lets a solver compute the asked value. Here
the model writes, under a JSON schema, the unknown functions, the equations and initial conditions
as sympy-parsable text (`y' = 2 - 3*y/(100 + 2*t)`, `y(0) = 0`), the quantity asked and the point;
sympy's `dsolve` solves it symbolically, and where it fails or runs past its deadline scipy's
`solve_ivp` integrates it numerically. A parse or solve error goes back to the model (bounded rounds).
"""

from __future__ import annotations

import time
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ratiocinator.agents.ode_solve import ODEConfig, ODEError, ODESpec, solve_ode
from ratiocinator.agents.optimization_prompts import compact
from ratiocinator.errors import InvalidInput
from ratiocinator.models.types import Completion, Message, SamplingParams
from ratiocinator.solvers.deadline import DeadlineExceeded

__all__ = [
    "ODEConfig",
    "ODEError",
    "ODEResult",
    "ODESpec",
    "build_ode_graph",
    "solve_ode",
    "solve_ode_from_text",
]


class ODEAttempt(BaseModel):
    model_config = ConfigDict(frozen=True)

    round: int
    spec: str
    value: float | None = None
    method: Literal["dsolve", "numeric"] | None = None
    error: str = ""


class ODEResult(BaseModel):
    """The value asked for, how it was computed, and every attempt."""

    model_config = ConfigDict(frozen=True)

    problem: str
    status: Literal["solved", "failed"]
    value: float | None
    method: Literal["dsolve", "numeric"] | None = None
    spec: ODESpec | None = None
    answer: str
    rounds: int = 0
    initial_value: float | None = None
    attempts: list[ODEAttempt] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


SYSTEM = """Model the word problem as an ordinary differential equation. Write JSON with: functions (the \
unknown functions), variable (the independent variable), equations (use y' and y'' for derivatives, * for \
products), initial_conditions (like y(0) = 5 or y'(0) = 0), quantity (an expression of the functions and the \
variable whose value is asked, e.g. y or y/(100 + 2*t)) and at (the value of the variable where it is asked). \
Use numbers for every constant and consistent units."""
EXAMPLE = (
    "A tank holds 200 L of water with 10 kg of salt dissolved. Brine with 0.5 kg/L of salt flows in at 4 "
    "L/min and the mixed solution flows out at 4 L/min. How much salt is in the tank after 30 minutes?"
)
EXAMPLE_SPEC = {
    "functions": ["S"],
    "variable": "t",
    "equations": ["S' = 0.5*4 - 4*S/200"],
    "initial_conditions": ["S(0) = 10"],
    "quantity": "S",
    "at": 30,
}


def _messages(problem: str) -> list[Message]:
    return [
        Message(role="system", content=SYSTEM),
        Message(role="user", content=EXAMPLE),
        Message(role="assistant", content=compact(EXAMPLE_SPEC)),
        Message(role="user", content=problem.strip()),
    ]


class _State(TypedDict, total=False):
    problem: str
    attempts: list[ODEAttempt]
    round: int
    tokens: tuple[int, int]


def _attempt(c: Completion, round_: int, config: ODEConfig) -> ODEAttempt:
    if c.finish_reason == "length":
        return ODEAttempt(
            round=round_,
            spec=c.text,
            error=f"cut off after {c.completion_tokens} tokens; be shorter",
        )
    try:
        value, method = solve_ode(ODESpec.model_validate_json(c.text), config)
    except ValidationError as exc:
        return ODEAttempt(
            round=round_, spec=c.text, error=f"invalid JSON: {exc.errors()[0]['msg']}"
        )
    except (ODEError, DeadlineExceeded) as exc:
        return ODEAttempt(round=round_, spec=c.text, error=str(exc))
    return ODEAttempt(round=round_, spec=c.text, value=value, method=method)


def build_ode_graph(backend: Any, config: ODEConfig | None = None) -> Any:
    """The compiled LangGraph: write -> (fix)* -> END."""
    from langgraph.graph import END, START, StateGraph

    config = config or ODEConfig()
    params = SamplingParams(schema=ODESpec, max_tokens=config.max_tokens)

    def write(state: _State) -> _State:
        (c,) = backend.generate([_messages(state["problem"])], params)
        return {
            "attempts": [_attempt(c, 0, config)],
            "round": 0,
            "tokens": (c.prompt_tokens, c.completion_tokens),
        }

    def fix(state: _State) -> _State:
        last, round_ = state["attempts"][-1], state["round"] + 1
        prompt = [
            *_messages(state["problem"]),
            Message(role="assistant", content=last.spec),
            Message(role="user", content=f"This fails: {last.error}\nWrite the corrected JSON."),
        ]
        temperature = config.correction_temperature
        fix_params = params.model_copy(
            update={"temperature": temperature, "seed": round_ if temperature else None}
        )
        (c,) = backend.generate([prompt], fix_params)
        p, n = state["tokens"]
        return {
            "attempts": [*state["attempts"], _attempt(c, round_, config)],
            "round": round_,
            "tokens": (p + c.prompt_tokens, n + c.completion_tokens),
        }

    def route(state: _State) -> str:
        return (
            "fix"
            if state["attempts"][-1].value is None and state["round"] < config.correction_rounds
            else END
        )

    graph = StateGraph(_State)
    graph.add_node("write", write)
    graph.add_node("fix", fix)
    graph.add_edge(START, "write")
    graph.add_conditional_edges("write", route, ["fix", END])
    graph.add_conditional_edges("fix", route, ["fix", END])
    return graph.compile()


def solve_ode_from_text(text: str, *, backend: Any, config: ODEConfig | None = None) -> ODEResult:
    """Model the ODE word problem in `text` and compute the value it asks for."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"text: expected an ODE word problem in English, got {text!r}")
    if backend is None or not hasattr(backend, "generate"):
        raise InvalidInput(
            f"backend: expected a models.Backend (e.g. load_backend()), got {backend!r}"
        )
    config = config or ODEConfig()
    start = time.monotonic()
    state = build_ode_graph(backend, config).invoke({"problem": text})
    last = state["attempts"][-1]
    spec = ODESpec.model_validate_json(last.spec) if last.value is not None else None
    answer = (
        f"{spec.quantity} at {spec.variable} = {spec.at:g} is {last.value:.6g} ({last.method})"
        if spec is not None and last.value is not None
        else f"No value: {last.error}"
    )
    return ODEResult(
        problem=text,
        status="solved" if last.value is not None else "failed",
        value=last.value,
        method=last.method,
        spec=spec,
        answer=answer,
        rounds=state["round"],
        initial_value=state["attempts"][0].value,
        attempts=state["attempts"],
        prompt_tokens=state["tokens"][0],
        completion_tokens=state["tokens"][1],
        seconds=time.monotonic() - start,
    )
