"""LLMOPT as a LangGraph agent: English -> five-element formulation -> exact solver -> self-correction -> answer.

"LLMOPT: Learning to Define and Solve General Optimization Problems from Scratch" (Jiang et al., ICLR
2025). The paper fine-tunes a 14B model to write the five-element formulation (sets, parameters,
variables, objective, constraints) and solver code, and lets the model correct itself on errors. Here a
small model writes only the formulation, under the JSON schema of `solvers.formulation` (constrained
decoding: the output always parses unless cut at `max_tokens`); the solvers layer builds and solves it
and checks the result independently. Self-correction is driven by the engine: on a build error,
infeasibility, unboundedness, a solver timeout or an implausible result the model sees its formulation
and the solver's message and rewrites it (at most `correction_rounds` times). `samples` independent
formulations are made and the optimal value most of them agree on is chosen (sample-and-select).

    result = optimize_from_text("A bakery ...", backend=load_backend())
    result.objective, result.values, result.status, result.answer
"""

from __future__ import annotations

import copy
import json
import math
import time
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ratiocinator.agents import optimization_grammar as grammar
from ratiocinator.agents.optimization_answer import english, select
from ratiocinator.agents.optimization_numbers import formulation_numbers, share_from_text
from ratiocinator.agents.optimization_prompts import (
    compact,
    correction_messages,
    formulation_messages,
)
from ratiocinator.errors import InvalidInput
from ratiocinator.models.sampling import sample_each
from ratiocinator.models.types import Completion, SamplingParams
from ratiocinator.solvers.formulation import Formulation, FormulationError, check
from ratiocinator.solvers.optimization import solve

AttemptStatus = Literal[
    "ok", "truncated", "build_error", "infeasible", "unbounded", "timeout", "implausible", "error"
]
Verification = Literal["verified", "unverified", "failed"]


class LLMOPTConfig(BaseModel):
    """Defaults of the LLMOPT agent (Jiang et al., ICLR 2025, with engine-driven self-correction)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    samples: int = Field(
        1, ge=1, le=16, description="independent formulations (k); the value most agree on wins"
    )
    temperature: float = Field(
        0.7, ge=0.0, description="sampling temperature when samples > 1 (k = 1 is greedy)"
    )
    seed: int = 0
    correction_rounds: int = Field(
        2, ge=0, le=8, description="self-correction rounds per formulation"
    )
    correction_temperature: float = Field(
        0.7, ge=0.0, description="a greedy fix would often repeat the error"
    )
    max_tokens: int = Field(512, ge=32, description="tokens per formulation")
    solver: str = "auto"
    solver_timeout: float = Field(20.0, gt=0, description="seconds per solve")
    agreement: float = Field(
        1e-4, gt=0, description="relative tolerance under which two optimal values agree"
    )
    max_abs_objective: float = Field(1e12, gt=0, description="a larger |objective| is implausible")
    reject_all_zero: bool = Field(
        True, description="an optimum where every variable is 0 is implausible"
    )
    min_numbers_from_text: float = Field(
        0.5, ge=0.0, le=1.0,
        description="fewer of the formulation's constants (3+) stated in the problem is implausible "
        "(a copied example); 0 turns the check off",
    )
    max_string: int = Field(400, ge=16, description="longest expression or name the schema admits")
    max_items: int = Field(60, ge=1, description="longest list the schema admits")
    declare_first: bool = Field(
        True,
        description="write declarations, then objective and constraints under a grammar of the declared "
        "names (NL4Opt, Qwen2.5-0.5B on vLLM, 8 items: 7/8 formulations built and solved, against 0/8 "
        "in one step, where it used names it never declared)",
    )


class Attempt(BaseModel):
    """One formulation written by the model and what the engine made of it."""

    model_config = ConfigDict(frozen=True)

    sample: int
    round: int
    formulation: str
    status: AttemptStatus
    objective: float | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    verified: bool = False
    feedback: str = ""

    @property
    def executed(self) -> bool:
        """A model was built and solved to a value (LLMOPT's execution rate counts these)."""
        return self.objective is not None


class OptimizationResult(BaseModel):
    """The chosen answer, how it was verified, and every attempt behind it."""

    model_config = ConfigDict(frozen=True)

    problem: str
    status: Verification
    objective: float | None
    sense: Literal["minimize", "maximize"] | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    formulation: Formulation | None = None
    answer: str
    agreement: int = 0
    samples: int
    rounds: int = 0
    executed: bool = False
    initial_objective: float | None = None
    initial_executed: bool = False
    attempts: list[list[Attempt]] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


def formulation_schema(config: LLMOPTConfig | None = None) -> dict[str, Any]:
    """The JSON schema of `solvers.formulation.Formulation`, narrowed for decoding by a small model.

    Every element is required (an empty list is allowed), parameter values are numbers or lists of
    them, variables state their domain, and strings and lists are bounded so that a degenerate output
    ends instead of running to max_tokens. Everything it admits is a valid Formulation.
    """
    config = config or LLMOPTConfig()
    schema = copy.deepcopy(Formulation.model_json_schema())
    defs = schema["$defs"]
    number = {"type": "number"}
    row = {"type": "array", "items": number, "maxItems": config.max_items}
    defs["ParameterSpec"]["properties"]["value"] = {
        "anyOf": [number, row, {"type": "array", "items": row, "maxItems": config.max_items}]
    }
    defs["VariableSpec"]["required"] = ["name", "domain"]
    for spec in defs.values():
        for prop in spec["properties"].values():
            if prop.get("type") == "string" and "enum" not in prop:
                prop["maxLength"] = config.max_string
            if prop.get("type") == "array" and "maxItems" not in prop:
                prop["maxItems"] = config.max_items
    schema["properties"].pop("name", None)
    for key in ("sets", "parameters", "variables", "constraints"):
        schema["properties"][key]["maxItems"] = config.max_items
    schema["required"] = ["sets", "parameters", "variables", "objective", "constraints"]
    return schema


def _all_zero(values: dict[str, Any]) -> bool:
    numbers = [x for v in values.values() for x in (v.values() if isinstance(v, dict) else [v])]
    return bool(numbers) and all(abs(x) < 1e-9 for x in numbers)


def evaluate(completion: Completion, *, sample: int, round_: int, config: LLMOPTConfig,
             problem: str | None = None) -> Attempt:
    """Parse, check, build and solve one formulation; say what is wrong in words the model can act on.

    With `problem`, a verified optimum of a formulation whose constants mostly do not occur in the
    problem is implausible (it models another problem, typically the prompt's example).
    """
    text = completion.text.strip()

    def attempt(status: AttemptStatus, feedback: str = "", **kw: Any) -> Attempt:
        return Attempt(
            sample=sample, round=round_, formulation=text, status=status, feedback=feedback, **kw
        )

    if completion.finish_reason == "length":
        return attempt(
            "truncated",
            f"The formulation was cut off after {completion.completion_tokens} tokens. "
            "Write a shorter one: use sets and list-valued parameters.",
        )
    try:
        formulation = Formulation.model_validate_json(text)
        check(formulation)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:4]
        )
        return attempt("build_error", f"The formulation is not valid: {problems}")
    except FormulationError as exc:
        return attempt("build_error", f"The formulation cannot be built: {exc}")
    try:
        result = solve(formulation, solver=config.solver, timeout=config.solver_timeout)
    except InvalidInput as exc:
        return attempt("build_error", f"The formulation cannot be built: {exc}")
    if result.status == "infeasible":
        return attempt(
            "infeasible",
            "The model is infeasible: no values satisfy all constraints at once. A "
            "constraint has a wrong direction, a wrong number or does not belong.",
        )
    if result.status == "unbounded":
        return attempt(
            "unbounded",
            "The model is unbounded: the objective improves without limit. A constraint "
            "or bound from the text is missing, or the sense (minimize/maximize) is wrong.",
        )
    if result.status == "timeout":
        return attempt(
            "timeout",
            f"The solver found no solution within {config.solver_timeout:g} s. Simplify the "
            "formulation.",
        )
    if result.status == "error" or result.objective is None:
        return attempt(
            "error", f"The solver failed: {result.message or 'no solution was returned'}"
        )
    found = {"objective": result.objective, "values": result.values, "verified": result.verified}
    shown = f"(optimal value {result.objective:.6g}, values {compact(result.values)[:300]})"
    if result.status == "feasible":
        return attempt(
            "timeout",
            f"The solver stopped at its {config.solver_timeout:g} s limit before proving "
            f"optimality {shown}. Simplify the formulation.",
            **found,
        )
    if not result.verified:
        return attempt(
            "implausible",
            f"The solver's answer fails an independent check {shown}: "
            f"{result.message or 'the objective does not match the values'}.",
            **found,
        )
    if not math.isfinite(result.objective) or abs(result.objective) > config.max_abs_objective:
        return attempt(
            "implausible",
            f"The optimal value {result.objective:.6g} is implausibly large: a bound or "
            "a number is wrong.",
            **found,
        )
    if config.reject_all_zero and _all_zero(result.values):
        return attempt(
            "implausible",
            f"Every variable is 0 at the optimum {shown}: a requirement from the text "
            "is missing, or the objective's sense is wrong.",
            **found,
        )
    if problem is not None and config.min_numbers_from_text > 0:
        share, foreign = share_from_text(text, problem)
        if share < config.min_numbers_from_text and len(formulation_numbers(text)) >= 3:
            listed = ", ".join(f"{x:g}" for x in foreign[:8])
            return attempt(
                "implausible",
                f"Most numbers of this formulation ({listed}) do not occur in the problem: it "
                "describes another problem. Use the numbers the problem states.",
                **found,
            )
    return attempt("ok", **found)


class _State(TypedDict, total=False):
    problem: str
    tracks: list[list[Attempt]]
    round: int
    prompt_tokens: int
    completion_tokens: int


def _params(config: LLMOPTConfig, n: int, round_: int) -> SamplingParams:
    temperature = (
        config.correction_temperature
        if round_
        else (config.temperature if config.samples > 1 else 0.0)
    )
    return SamplingParams(
        schema=formulation_schema(config),
        max_tokens=config.max_tokens,
        n=n,
        temperature=temperature,
        seed=config.seed + round_ if temperature > 0 else None,
    )


def _write(
    backend: Any, conversations: list[Any], n: int, round_: int, config: LLMOPTConfig
) -> list[Completion]:
    """`n` formulations per conversation: in one constrained step, or declarations first (`declare_first`).

    Identical requests are drawn as samples of one request (models.sampling): two corrections of the
    same formulation, or two samples that declared the same elements, would otherwise come back the same.
    """
    params = _params(config, n, round_)
    first = (
        params.model_copy(update={"schema_": grammar.declarations_schema(params.schema)})
        if config.declare_first
        else params
    )
    declared = (
        sample_each(backend, conversations, first)
        if n == 1
        else backend.generate(conversations, first)
    )
    if not config.declare_first:
        return declared
    groups: dict[tuple[int, str], list[int]] = {}  # (conversation, declarations) -> samples
    for j, c in enumerate(declared):
        if c.finish_reason != "length":
            groups.setdefault((j // n, c.text), []).append(j)
    relations: dict[int, Completion] = {}
    for (conv, text), members in groups.items():
        rules = grammar.relations_grammar(json.loads(text), config.max_items)
        second = (
            {"n": len(members), "schema_": None, "grammar": rules}
            if rules
            else {"n": len(members), "schema_": grammar.relations_schema(params.schema)}
        )
        drawn = backend.generate(
            [grammar.relation_messages(list(conversations[conv]), text)],
            params.model_copy(update=second),
        )
        relations.update(zip(members, drawn, strict=True))
    outs = []
    for j, c in enumerate(declared):
        d = relations.get(j)
        if d is None:  # the declarations were cut off: nothing to relate
            outs.append(c)
            continue
        text = grammar.merge(c.text, d.text) if d.finish_reason != "length" else c.text + d.text
        outs.append(
            Completion(
                text=text,
                finish_reason=d.finish_reason,
                prompt_tokens=c.prompt_tokens + d.prompt_tokens,
                completion_tokens=c.completion_tokens + d.completion_tokens,
            )
        )
    return outs


def build_optimization_graph(backend: Any, config: LLMOPTConfig | None = None) -> Any:
    """The compiled LangGraph: formulate -> (correct)* -> END; state holds every attempt per sample."""
    from langgraph.graph import END, START, StateGraph

    config = config or LLMOPTConfig()

    def formulate(state: _State) -> _State:
        outs = _write(backend, [formulation_messages(state["problem"])], config.samples, 0, config)
        tracks = [
            [evaluate(c, sample=i, round_=0, config=config, problem=state["problem"])]
            for i, c in enumerate(outs)
        ]
        return {
            "tracks": tracks,
            "round": 0,
            "prompt_tokens": sum(c.prompt_tokens for c in outs),
            "completion_tokens": sum(c.completion_tokens for c in outs),
        }

    def needs_correction(state: _State) -> str:
        pending = any(t[-1].status != "ok" for t in state["tracks"])
        return "correct" if pending and state["round"] < config.correction_rounds else END

    def correct(state: _State) -> _State:
        round_ = state["round"] + 1
        todo = [i for i, t in enumerate(state["tracks"]) if t[-1].status != "ok"]
        prompts = [
            correction_messages(
                state["problem"],
                state["tracks"][i][-1].formulation,
                state["tracks"][i][-1].feedback,
            )
            for i in todo
        ]
        outs = _write(backend, prompts, 1, round_, config)
        tracks = [list(t) for t in state["tracks"]]
        for i, c in zip(todo, outs, strict=True):
            tracks[i].append(
                evaluate(c, sample=i, round_=round_, config=config, problem=state["problem"])
            )
        return {
            "tracks": tracks,
            "round": round_,
            "prompt_tokens": state["prompt_tokens"] + sum(c.prompt_tokens for c in outs),
            "completion_tokens": state["completion_tokens"]
            + sum(c.completion_tokens for c in outs),
        }

    graph = StateGraph(_State)
    graph.add_node("formulate", formulate)
    graph.add_node("correct", correct)
    graph.add_edge(START, "formulate")
    graph.add_conditional_edges("formulate", needs_correction, ["correct", END])
    graph.add_conditional_edges("correct", needs_correction, ["correct", END])
    return graph.compile()


def _final(track: list[Attempt]) -> Attempt:
    """What a sample ends with: its last verified attempt, else its last one that built and solved
    (a correction that no longer builds does not undo an earlier optimum: seen on Mamo complex), else
    its last attempt."""
    for ok in (lambda a: a.status == "ok", lambda a: a.executed):
        kept = [a for a in track if ok(a)]
        if kept:
            return kept[-1]
    return track[-1]


def _result(
    problem: str, state: _State, config: LLMOPTConfig, seconds: float
) -> OptimizationResult:
    tracks = state["tracks"]
    chosen, votes = select([_final(t) for t in tracks], config.agreement)
    first, _ = select([t[0] for t in tracks], config.agreement)
    formulation = (
        Formulation.model_validate_json(chosen.formulation) if chosen is not None else None
    )
    sense = formulation.objective.sense if formulation is not None else None
    status: Verification = (
        "failed" if chosen is None else ("verified" if chosen.status == "ok" else "unverified")
    )
    return OptimizationResult(
        problem=problem,
        status=status,
        objective=chosen.objective if chosen else None,
        sense=sense,
        values=chosen.values if chosen else {},
        formulation=formulation,
        answer=english(chosen, sense, votes, config.samples),
        agreement=votes,
        samples=config.samples,
        rounds=state["round"],
        executed=chosen is not None,
        initial_objective=first.objective if first else None,
        initial_executed=first is not None,
        attempts=tracks,
        prompt_tokens=state["prompt_tokens"],
        completion_tokens=state["completion_tokens"],
        seconds=seconds,
    )


def optimize_from_text(
    text: str, *, backend: Any, config: LLMOPTConfig | None = None
) -> OptimizationResult:
    """Define and solve the optimization problem described in `text` (LLMOPT with engine-driven correction)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"text: expected the optimization problem in English, got {text!r}")
    if backend is None or not hasattr(backend, "generate"):
        raise InvalidInput(
            f"backend: expected a models.Backend (e.g. load_backend()), got {backend!r}"
        )
    if config is not None and not isinstance(config, LLMOPTConfig):
        raise InvalidInput(f"config: expected an LLMOPTConfig, got {type(config).__name__}")
    config = config or LLMOPTConfig()
    start = time.monotonic()
    state = build_optimization_graph(backend, config).invoke({"problem": text})
    return _result(text, state, config, time.monotonic() - start)
