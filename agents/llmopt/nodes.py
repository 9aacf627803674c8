"""LLMOPT's nodes: formulate (k formulations, each evaluated by the engine), correct (rewrite the failing ones), and the route.

Each node is a function of the graph's state and the LangGraph runtime, whose context carries the
backend and the LLMOPTConfig (see kit/context.py). A formulation is written in one constrained step
or, with `declare_first`, in two (declarations under a schema, then the objective and constraints
under a grammar of the declared names; grammar.py).
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypedDict

from langgraph.graph import END
from langgraph.runtime import Runtime

import ratiocinator.agents.llmopt.grammar as grammar
from ratiocinator.agents.llmopt.config import LLMOPTConfig
from ratiocinator.agents.llmopt.engine import evaluate
from ratiocinator.agents.llmopt.prompts import correction_messages, formulation_messages
from ratiocinator.agents.llmopt.result import Attempt
from ratiocinator.kit import MethodContext
from ratiocinator.models.sampling import sample_each
from ratiocinator.models.types import Completion, SamplingParams

Ctx = Runtime[MethodContext[LLMOPTConfig]]


class LLMOPTState(TypedDict, total=False):
    """The graph's state: the problem, every attempt of each sample (its track), and the correction round."""

    problem: str
    tracks: list[list[Attempt]]
    round: int


def formulate(state: LLMOPTState, runtime: Ctx) -> dict[str, Any]:
    """`samples` formulations of the problem (greedy for one), each built, solved and checked."""
    cfg = runtime.context.config
    outs = write(runtime, [formulation_messages(state["problem"])], cfg.samples, 0)
    tracks = [
        [evaluate(c, sample=i, round_=0, config=cfg, problem=state["problem"])]
        for i, c in enumerate(outs)
    ]
    return {"tracks": tracks, "round": 0}


def correct(state: LLMOPTState, runtime: Ctx) -> dict[str, Any]:
    """One correction round: each failing sample sees its formulation and the engine's feedback, and rewrites it."""
    cfg = runtime.context.config
    round_ = state["round"] + 1
    todo = [i for i, t in enumerate(state["tracks"]) if t[-1].status != "ok"]
    prompts = [
        correction_messages(
            state["problem"], state["tracks"][i][-1].formulation, state["tracks"][i][-1].feedback
        )
        for i in todo
    ]
    outs = write(runtime, prompts, 1, round_)
    tracks = [list(t) for t in state["tracks"]]
    for i, c in zip(todo, outs, strict=True):
        tracks[i].append(evaluate(c, sample=i, round_=round_, config=cfg, problem=state["problem"]))
    return {"tracks": tracks, "round": round_}


def needs_correction(state: LLMOPTState, runtime: Ctx) -> Literal["correct", "__end__"]:
    """Correct while a sample has not ended ok and rounds are left."""
    pending = any(t[-1].status != "ok" for t in state["tracks"])
    return "correct" if pending and state["round"] < runtime.context.config.correction_rounds else END


def params(config: LLMOPTConfig, n: int, round_: int) -> SamplingParams:
    """Round 0: greedy for one sample, `temperature` for several; corrections: `correction_temperature`."""
    temperature = (
        config.correction_temperature
        if round_
        else (config.temperature if config.samples > 1 else 0.0)
    )
    return SamplingParams(
        schema=grammar.formulation_schema(config),
        max_tokens=config.max_tokens,
        n=n,
        temperature=temperature,
        seed=config.seed + round_ if temperature > 0 else None,
    )


def write(runtime: Ctx, conversations: list[Any], n: int, round_: int) -> list[Completion]:
    """`n` formulations per conversation: in one constrained step, or declarations first (`declare_first`).

    Identical requests are drawn as samples of one request (models.sampling): two corrections of the
    same formulation, or two samples that declared the same elements, would otherwise come back the same.
    """
    backend, cfg = runtime.context.backend, runtime.context.config
    full = params(cfg, n, round_)
    first = (
        full.model_copy(update={"schema_": grammar.declarations_schema(full.schema)})
        if cfg.declare_first
        else full
    )
    declared = (
        sample_each(backend, conversations, first) if n == 1 else backend.generate(conversations, first)
    )
    if not cfg.declare_first:
        return declared
    relations = _relate(backend, conversations, declared, n, full, cfg.max_items)
    return [_joined(c, relations.get(j)) for j, c in enumerate(declared)]


def _relate(backend: Any, conversations: list[Any], declared: list[Completion], n: int,
            full: SamplingParams, max_items: int) -> dict[int, Completion]:
    """The second step: objective and constraints for each declaration that was not cut off, by its index.

    Samples of one conversation that declared the same elements are `n` draws of one request.
    """
    groups: dict[tuple[int, str], list[int]] = {}  # (conversation, declarations) -> samples
    for j, c in enumerate(declared):
        if c.finish_reason != "length":
            groups.setdefault((j // n, c.text), []).append(j)
    relations: dict[int, Completion] = {}
    for (conv, text), members in groups.items():
        rules = grammar.relations_grammar(json.loads(text), max_items)
        second = (
            {"n": len(members), "schema_": None, "grammar": rules}
            if rules
            else {"n": len(members), "schema_": grammar.relations_schema(full.schema)}
        )
        drawn = backend.generate(
            [grammar.relation_messages(list(conversations[conv]), text)],
            full.model_copy(update=second),
        )
        relations.update(zip(members, drawn, strict=True))
    return relations


def _joined(declared: Completion, related: Completion | None) -> Completion:
    """One formulation from its two steps (the declarations alone when they were cut off)."""
    if related is None:  # the declarations were cut off: nothing to relate
        return declared
    text = (
        grammar.merge(declared.text, related.text)
        if related.finish_reason != "length"
        else declared.text + related.text
    )
    return Completion(
        text=text,
        finish_reason=related.finish_reason,
        prompt_tokens=declared.prompt_tokens + related.prompt_tokens,
        completion_tokens=declared.completion_tokens + related.completion_tokens,
    )
