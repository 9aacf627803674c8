"""Mamo ODE's nodes: write (the model's ODE, solved), fix (the error goes back to the model), and the route.

Each node is a function of the graph's state and the LangGraph runtime, whose context carries the
backend and the ODEConfig (see kit/context.py).
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from langgraph.graph import END
from langgraph.runtime import Runtime
from pydantic import ValidationError

from ratiocinator.agents.ode.config import ODEConfig
from ratiocinator.agents.ode.numbers import copied_from_example
from ratiocinator.agents.ode.prompts import fix_messages, messages
from ratiocinator.agents.ode.result import ODEAttempt
from ratiocinator.agents.ode.solve import solve_ode
from ratiocinator.agents.ode.spec import ODEError, ODESpec
from ratiocinator.agents.ode.stepwise import translate
from ratiocinator.kit import MethodContext
from ratiocinator.models.types import Completion, SamplingParams
from ratiocinator.solvers.deadline import DeadlineExceeded

Ctx = Runtime[MethodContext[ODEConfig]]


class ODEState(TypedDict, total=False):
    """The graph's state: the problem, every attempt so far, and the correction round."""

    problem: str
    attempts: list[ODEAttempt]
    round: int
    chosen: int  # stepwise: the attempt the vote chose (else the last)
    agreeing: int  # stepwise: how many attempts reach its value


def attempt(c: Completion, round_: int, config: ODEConfig, problem: str | None = None) -> ODEAttempt:
    """Solve the ODE the model wrote; a cut-off, invalid, copied (config.example_check, given the problem) or
    unsolvable one becomes an error the model can act on."""
    if c.finish_reason == "length":
        return ODEAttempt(
            round=round_,
            spec=c.text,
            error=f"cut off after {c.completion_tokens} tokens; be shorter",
        )
    try:
        spec = ODESpec.model_validate_json(c.text)
        copied = copied_from_example(spec, problem) if config.example_check and problem else []
        if copied:
            listed = ", ".join(f"{x:g}" for x in copied)
            return ODEAttempt(round=round_, spec=c.text, error=f"{listed} {'is' if len(copied) == 1 else 'are'} "
                              "the worked example's numbers, not this problem's: model this problem with the "
                              "numbers it states")
        value, method = solve_ode(spec, config)
    except ValidationError as exc:
        return ODEAttempt(
            round=round_, spec=c.text, error=f"invalid JSON: {exc.errors()[0]['msg']}"
        )
    except (ODEError, DeadlineExceeded) as exc:
        return ODEAttempt(round=round_, spec=c.text, error=str(exc))
    return ODEAttempt(round=round_, spec=c.text, value=value, method=method)


def _params(config: ODEConfig) -> SamplingParams:
    return SamplingParams(schema=ODESpec, max_tokens=config.max_tokens)


def write(state: ODEState, runtime: Ctx) -> dict[str, Any]:
    """The model writes the ODE (greedy, under ODESpec's schema; or stepwise, voted); the solvers compute the value."""
    cfg = runtime.context.config
    if cfg.translation == "stepwise":
        attempts, chosen, agreeing = translate(state["problem"], runtime.context.backend.generate, cfg)
        return {"attempts": attempts, "round": 0, "chosen": chosen, "agreeing": agreeing}
    (c,) = runtime.context.backend.generate([messages(state["problem"])], _params(cfg))
    return {"attempts": [attempt(c, 0, cfg, state["problem"])], "round": 0}


def fix(state: ODEState, runtime: Ctx) -> dict[str, Any]:
    """The model sees its last ODE and the error, and writes it again (sampled, seed = the round)."""
    cfg = runtime.context.config
    last, round_ = state["attempts"][-1], state["round"] + 1
    temperature = cfg.correction_temperature
    params = _params(cfg).model_copy(
        update={"temperature": temperature, "seed": round_ if temperature else None}
    )
    prompt = fix_messages(state["problem"], last.spec, last.error)
    (c,) = runtime.context.backend.generate([prompt], params)
    return {"attempts": [*state["attempts"], attempt(c, round_, cfg, state["problem"])], "round": round_}


def route(state: ODEState, runtime: Ctx) -> Literal["fix", "__end__"]:
    """Fix while the last attempt has no value and rounds are left (stepwise: its draws instead of fixes)."""
    if runtime.context.config.translation == "stepwise":
        return END
    limit = runtime.context.config.correction_rounds
    return "fix" if state["attempts"][-1].value is None and state["round"] < limit else END
