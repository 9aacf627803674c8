"""LLM+P (Liu et al. 2023, "LLM+P: Empowering Large Language Models with Optimal Planning Proficiency") as a LangGraph graph.

    result = plan_from_text("You have 3 blocks. ...", backend=backend, domain="blocksworld")
    result.status        # verified (the plan passed UP's validator for the translated problem) | failed
    result.plan          # ("(unstack b2 b3)", "(putdown b2)", ...)
    result.explanation   # "1. Unstack with ob = b2 and underob = b3. ..."

The graph: translate -> check -> (translate again with the error | select) -> END. `translate`
asks the model for the problem PDDL with the paper's prompt (the one-shot example `p_example.nl` /
`p_example.pddl` of the domain) under an EBNF grammar built from the domain (planning_grammar), so
every output parses as PDDL. `check` parses it with the solvers layer, compares its objects with
those the English names, plans and validates (after the sound rewrites of planning_repair: repeated
facts and objects, undeclared objects the text names, a :goal cut off at the token limit); a
translation that fails is shown the precise error and retried (at most `retries` rounds, sampled;
a chain that repeats a translation already shown wrong stops). k translations are sampled (temperature > 0 when k > 1)
and `select` takes the majority over their goal states (translations with the same init and goal
facts plan alike); the paper used one greedy translation, which is k=1 here.

The paper's LLM-as-planner baseline (the model writes the plan itself) is in planning_baseline.py.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.agents.planning_grammar import (
    PlanningDomain,
    available_domains,
    bounds,
    candidate_objects,
    guess_domain,
    load_domain,
    object_errors,
    problem_grammar,
    token_budget,
    vocabulary,
)
from ratiocinator.agents.planning_repair import Repaired, repair
from ratiocinator.models.sampling import sample_each
from ratiocinator.models.types import Message, SamplingParams

TranslationStatus = Literal[
    "solved",
    "truncated",
    "parse-error",
    "wrong-objects",
    "incomplete",
    "unsolvable",
    "not-found",
    "timeout",
    "planner-error",
]


class LLMPConfig(BaseModel):
    """Every default of the LLM+P graph in one place (paper: Liu et al. 2023; the rest are our additions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(1, ge=1, le=32, description="translations sampled; the paper made one")
    temperature: float = Field(
        0.7,
        ge=0.0,
        le=2.0,
        description="sampling temperature when k > 1, and of every feedback round (k = 1 is greedy "
        "at first, as the paper's temperature 0; a greedy retry of a weak model repeated its "
        "translation word for word whatever the feedback)",
    )
    retries: int = Field(
        2, ge=0, le=10, description="rounds of error feedback per translation (the paper: none)"
    )
    max_tokens: int = Field(
        1024, ge=16, description="longest problem PDDL (or plan) the model may write"
    )
    length_factor: float = Field(
        2.0,
        gt=0,
        description="a translation may be this many times longer than the example's "
        "PDDL-to-English ratio predicts (bounds a model that repeats facts); see token_budget",
    )
    objects_from_text: bool = Field(
        True,
        description="object names limited to the text's words and the example's names (issue: "
        "'objects named in the English text should be the only objects')",
    )
    max_unused_objects: int | None = Field(
        1,
        ge=0,
        description="a translation that declares more objects than this which appear in no :init "
        "or :goal fact is sent back as incomplete (it dropped part of the text: the 0.5B described 2 "
        "of tyreworld's 9 hubs and planned that); the gold problems leave at most one (an empty "
        "room in grippers); None turns the check off",
    )
    grammar: bool = Field(
        True, description="constrain the PDDL (and the baseline's plan) by the domain's grammar"
    )
    show_domain: bool = Field(
        False, description="put the domain PDDL in the prompt (llm-pddl's prompt omits it)"
    )
    planner: str = Field("auto", description="solvers.pddl planner name")
    optimal: bool = Field(
        False, description="plan optimally (the paper's claim; its code ran the lama alias)"
    )
    timeout: float = Field(30.0, gt=0, description="seconds per planner call")
    seed: int = 0


@dataclass(frozen=True, kw_only=True)
class Translation:
    """One model translation of the problem and what the checks made of it."""

    chain: int  # which of the k translations
    round: int  # 0 = first attempt, r = after r rounds of feedback
    pddl: str
    status: TranslationStatus
    message: str = ""  # the error shown to the model (empty when solved)
    plan: tuple[str, ...] | None = None
    cost: float | None = None
    planner: str = ""
    optimal: bool = False
    key: str | None = None  # the parsed init and goal facts, for agreement between translations
    repairs: tuple[str, ...] = ()  # sound rewrites made before parsing (agents/planning_repair.py)


@dataclass(frozen=True, kw_only=True)
class PlanResult:
    """What `plan_from_text` returns: the plan, its English, and how it was checked."""

    status: Literal["verified", "failed"]
    domain: str
    plan: tuple[str, ...] | None
    explanation: str
    problem_pddl: str | None  # the selected translation
    cost: float | None
    optimal: bool
    planner: str
    agreement: float  # share of solved translations with the selected goal state
    translations: tuple[Translation, ...]
    message: str
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def verified(self) -> bool:
        """The plan passed UP's validator for the translated problem (not a proof the translation is right)."""
        return self.status == "verified"


# ---------------------------------------------------------------- prompts (llm-pddl's wording)


def translation_prompt(text: str, domain: PlanningDomain, config: LLMPConfig) -> list[Message]:
    """LLM+P's prompt: the one-shot example, its problem PDDL, then the new problem."""
    parts = ["I want you to solve planning problems. "]
    if config.show_domain:
        parts.append(f"The domain PDDL file is: \n {domain.pddl} \n")
    if domain.example_nl and domain.example_pddl:
        parts.append(
            f"An example planning problem is: \n {domain.example_nl} \n"
            f"The problem PDDL file to this problem is: \n {domain.example_pddl} \n"
        )
    parts.append(
        f"Now I have a new planning problem and its description is: \n {text.strip()} \n"
        "Provide me with the problem PDDL file that describes the new planning problem directly "
        "without further explanations?"
    )
    return [Message(role="user", content="".join(parts))]


def feedback(message: str) -> str:
    return (
        f"That problem PDDL is wrong: {message}. Write the corrected problem PDDL file, complete, "
        "without further explanations."
    )


# ---------------------------------------------------------------- checking one translation


def _facts(parsed: Any) -> str:
    """The translation's init and goal facts as a set (order and an outer `and` do not matter)."""
    init = sorted(str(f) for f, v in parsed.explicit_initial_values.items() if str(v) != "false")
    goal = [a for g in parsed.goals for a in (g.args if g.is_and() else (g,))]
    return json.dumps({"init": init, "goal": sorted({str(g) for g in goal})})


def unused_objects(pddl: str, facts: str) -> list[str]:
    """The objects the problem declares that no :init or :goal fact names (`facts`: `_facts`' JSON)."""
    from ratiocinator.solvers.pddl_compat import problem_objects

    named = json.loads(facts)
    used = {w.lower() for f in (*named["init"], *named["goal"]) for w in re.findall(r"[\w-]+", f)}
    return [name for name, _ in problem_objects(pddl) if name.lower() not in used]


_vocabulary = functools.lru_cache(maxsize=64)(vocabulary)  # UP parses the domain: once per domain


def check(
    text: str,
    domain: PlanningDomain,
    pddl: str,
    config: LLMPConfig,
    *,
    chain: int = 0,
    round: int = 0,
    truncated: bool = False,
    max_tokens: int = 0,
) -> Translation:
    """Parse, compare objects with the text, plan and validate one translation."""
    from ratiocinator.solvers.pddl import solve
    from ratiocinator.solvers.pddl_reader import PDDLError, parse_texts

    done: dict[str, Any] = {"chain": chain, "round": round, "pddl": pddl}
    try:
        vocab = _vocabulary(domain)
    except PDDLError:  # a domain UP cannot read: the parse below says so
        fixed = None if truncated else Repaired(pddl)
    else:
        fixed = repair(pddl, text, vocab, domain, truncated=truncated)
    if fixed is None:
        return Translation(
            **done,
            status="truncated",
            message=f"it was cut off after {max_tokens} tokens "
            "before it ended; state only the facts the text gives, one per line",
        )
    done.update(pddl=fixed.pddl, repairs=fixed.repairs)
    pddl = fixed.pddl
    try:
        parsed = parse_texts(domain.pddl, pddl)[0]
    except PDDLError as exc:
        return Translation(**done, status="parse-error", message=str(exc))
    key = _facts(parsed)
    wrong = object_errors(text, [o.name for o in parsed.all_objects])
    if wrong:
        return Translation(**done, status="wrong-objects", message=wrong, key=key)
    unused = unused_objects(pddl, key)
    if config.max_unused_objects is not None and len(unused) > config.max_unused_objects:
        shown = ", ".join(unused[:8]) + (f" and {len(unused) - 8} more" if len(unused) > 8 else "")
        return Translation(
            **done,
            status="incomplete",
            message=f"{shown} are declared but appear in no :init or :goal fact; state every fact "
            "the text gives about each of them",
            key=key,
        )
    result = solve(
        domain.pddl, pddl, planner=config.planner, optimal=config.optimal, timeout=config.timeout
    )
    if result.solved:
        return Translation(
            **done,
            status="solved",
            plan=result.plan,
            cost=result.cost,
            planner=result.planner,
            optimal=result.status == "solved-optimally",
            key=key,
        )
    why = {
        "unsolvable": "the planner proved that no plan reaches its :goal from its :init, so some fact "
        "contradicts the text",
        "not-found": "the planner found no plan for it",
        "timeout": f"the planner found no plan within {config.timeout:g} s; check that every fact is in the text",
    }
    status: TranslationStatus = result.status if result.status in why else "planner-error"  # type: ignore[assignment]
    return Translation(
        **done,
        status=status,
        message=why.get(result.status, result.message),
        key=key,
        planner=result.planner,
    )


# ---------------------------------------------------------------- the graph


class PlanningState(TypedDict, total=False):
    """The graph's state: the request, the k conversations, every translation so far, the result."""

    text: str
    domain: PlanningDomain
    config: LLMPConfig
    grammar: str | None
    max_tokens: int
    round: int
    conversations: list[list[Message]]  # one per chain
    pending: list[int]  # chains to (re)translate this round
    translations: list[Translation]
    tokens: tuple[int, int]
    result: PlanResult


@dataclass(frozen=True)
class PlanningContext:
    """The graph's runtime context: the shared backend."""

    backend: Any


def _translate(state: PlanningState, runtime: Runtime[PlanningContext]) -> dict[str, Any]:
    config, backend = state["config"], runtime.context.backend
    greedy = config.k == 1
    base = {
        "temperature": 0.0 if greedy else config.temperature,
        "max_tokens": state["max_tokens"],
        "grammar": state.get("grammar"),
    }
    rnd, convs = state.get("round", 0), state["conversations"]
    if rnd == 0:  # one prompt, k samples
        params = SamplingParams(**base, n=config.k, seed=None if greedy else config.seed)
        completions = backend.generate([convs[0]], params)
        chains = list(range(config.k))
    else:
        chains = state["pending"]  # each conversation has its own feedback; one batched request
        retry = {**base, "temperature": config.temperature, "seed": config.seed + 1000 * rnd}
        # chains that reached the same conversation get different draws, not one repeated
        completions = sample_each(backend, [convs[c] for c in chains], SamplingParams(**retry))
    new = []
    for chain, c in zip(chains, completions, strict=True):
        t = check(
            state["text"],
            state["domain"],
            c.text.strip(),
            config,
            chain=chain,
            round=rnd,
            truncated=c.finish_reason == "length",
            max_tokens=state["max_tokens"],
        )
        new.append(t)
    conversations = [list(c) for c in convs] if rnd else [list(convs[0]) for _ in range(config.k)]
    pending = []
    seen = {(t.chain, t.key or t.pddl) for t in state.get("translations", [])}
    for t in new:
        # a chain that repeats a translation already shown wrong has stopped listening: the next
        # round would cost as much and say the same (Qwen2.5-0.5B on blocksworld, even sampled)
        if t.status != "solved" and rnd < config.retries and (t.chain, t.key or t.pddl) not in seen:
            conversations[t.chain] += [
                Message(role="assistant", content=t.pddl),
                Message(role="user", content=feedback(t.message)),
            ]
            pending.append(t.chain)
    p, q = state.get("tokens", (0, 0))
    tokens = (
        p + sum(c.prompt_tokens for c in completions),
        q + sum(c.completion_tokens for c in completions),
    )
    return {
        "translations": [*state.get("translations", []), *new],
        "conversations": conversations,
        "pending": pending,
        "round": rnd + 1,
        "tokens": tokens,
    }


def _route(state: PlanningState) -> str:
    return "translate" if state["pending"] else "select"


def finals(translations: list[Translation]) -> list[Translation]:
    """The last translation of each chain, by chain."""
    last: dict[int, Translation] = {}
    for t in translations:
        last[t.chain] = t
    return [last[c] for c in sorted(last)]


def select(translations: list[Translation]) -> tuple[Translation | None, int, int]:
    """Among the chains' last translations that planned, the majority goal state (ties: cheaper, earlier).

    Returns the chosen translation, how many planned translations share its init and goal facts, and
    how many planned.
    """
    solved = [t for t in finals(translations) if t.status == "solved"]
    if not solved:
        return None, 0, 0
    votes = Counter(t.key for t in solved)
    best = min(
        solved,
        key=lambda t: (-votes[t.key], t.cost if t.cost is not None else float("inf"), t.chain),
    )
    return best, votes[best.key], len(solved)


def _select(state: PlanningState) -> dict[str, Any]:
    from ratiocinator.solvers.pddl import explain, parse

    domain, translations = state["domain"], state["translations"]
    best, agree, n_solved = select(translations)
    p, q = state.get("tokens", (0, 0))
    common = {
        "domain": domain.name,
        "translations": tuple(translations),
        "prompt_tokens": p,
        "completion_tokens": q,
    }
    if best is None or best.plan is None:
        errors = "; ".join(
            f"translation {t.chain + 1}: {t.status} ({t.message})" for t in finals(translations)
        )
        result = PlanResult(
            status="failed",
            plan=None,
            explanation="",
            problem_pddl=None,
            cost=None,
            optimal=False,
            planner="",
            agreement=0.0,
            message=f"no translation could be planned: {errors}",
            **common,
        )
    else:
        result = PlanResult(
            status="verified",
            plan=best.plan,
            explanation=explain(best.plan, parse(domain.pddl, best.pddl)),
            problem_pddl=best.pddl,
            cost=best.cost,
            optimal=best.optimal,
            planner=best.planner,
            agreement=agree / n_solved,
            message=f"plan validated for translation {best.chain + 1}; "
            f"{agree} of {n_solved} planned translations state the same facts",
            **common,
        )
    return {"result": result}


def build_planning_graph() -> Any:
    """The compiled LLM+P graph; invoke with a PlanningState and `context=PlanningContext(backend)`."""
    graph = StateGraph(PlanningState, context_schema=PlanningContext)
    graph.add_node("translate", _translate)
    graph.add_node("select", _select)
    graph.add_edge(START, "translate")
    graph.add_conditional_edges("translate", _route, {"translate": "translate", "select": "select"})
    graph.add_edge("select", END)
    return graph.compile()


_GRAPH: Any = None


def resolve_domain(text: str, domain: str | Path | PlanningDomain | None) -> PlanningDomain:
    if isinstance(domain, PlanningDomain):
        return domain
    return load_domain(domain) if domain is not None else guess_domain(text, available_domains())


def plan_from_text(
    text: str,
    *,
    backend: Any,
    domain: str | Path | PlanningDomain | None = None,
    config: LLMPConfig | None = None,
) -> PlanResult:
    """LLM+P: translate `text` into the domain's problem PDDL, plan, validate, select, explain.

    `domain`: a name under the planning data folder (`blocksworld`), a folder, a domain.pddl path,
    PDDL text, or None to pick the planning domain whose descriptions best match the text.
    """
    global _GRAPH
    from ratiocinator.errors import InvalidInput

    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("text: expected the planning problem in English, got an empty string")
    config = config or LLMPConfig()
    dom = resolve_domain(text, domain)
    objects = candidate_objects(text, dom) if config.objects_from_text else None
    limit = bounds(text, dom, config.length_factor)
    grammar = problem_grammar(_vocabulary(dom), objects, limit) if config.grammar else None
    budget = token_budget(text, dom, config.length_factor, config.max_tokens)
    if _GRAPH is None:
        _GRAPH = build_planning_graph()
    state: PlanningState = {
        "text": text,
        "domain": dom,
        "config": config,
        "grammar": grammar,
        "max_tokens": budget,
        "round": 0,
        "conversations": [translation_prompt(text, dom, config)],
        "translations": [],
    }
    out = _GRAPH.invoke(
        state,
        context=PlanningContext(backend),
        config={"recursion_limit": 4 * (config.retries + 2)},
    )
    return out["result"]


__all__ = [
    "LLMPConfig",
    "PlanResult",
    "PlanningContext",
    "PlanningState",
    "Translation",
    "build_planning_graph",
    "check",
    "plan_from_text",
    "select",
    "translation_prompt",
]
