"""LLM+P's nodes: translate (k translations, then feedback rounds, each checked) and select (the majority plan); the state.

Each node is a function of the graph's state and the LangGraph runtime, whose context carries the
backend and the LLMPConfig (see kit/context.py). `initial_state` prepares what every round shares:
the domain's grammar (objects from the text, bounded), the token budget and the prompt.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, TypedDict

from langgraph.runtime import Runtime

from ratiocinator.agents.llmp.check import check
from ratiocinator.agents.llmp.config import LLMPConfig
from ratiocinator.agents.llmp.domain import PlanningDomain, domain_vocabulary
from ratiocinator.agents.llmp.grammar import (
    bounds,
    candidate_objects,
    problem_grammar,
    token_budget,
)
from ratiocinator.agents.llmp.prompts import feedback, translation_prompt
from ratiocinator.agents.llmp.result import Translation
from ratiocinator.kit import MethodContext
from ratiocinator.models.sampling import sample_each
from ratiocinator.models.types import Completion, Message, SamplingParams

Ctx = Runtime[MethodContext[LLMPConfig]]


class LLMPState(TypedDict, total=False):
    """The graph's state: the request, the k conversations, every translation so far, the selection."""

    text: str
    domain: PlanningDomain
    grammar: str | None
    max_tokens: int
    round: int
    conversations: list[list[Message]]  # one per chain
    pending: list[int]  # chains to (re)translate this round
    translations: list[Translation]
    selected: Translation | None  # the translation whose plan is returned (None: none planned)
    agreeing: int  # planned translations with the selected init and goal facts
    planned: int  # translations that planned (the chains' last ones)
    agreement: float  # agreeing / planned
    explanation: str  # the selected plan in English
    message: str  # what was selected, or why nothing was


def initial_state(text: str, domain: PlanningDomain, config: LLMPConfig) -> LLMPState:
    """The state before the first round: grammar (text's objects, bounds), token budget, the prompt."""
    objects = candidate_objects(text, domain) if config.objects_from_text else None
    limit = bounds(text, domain, config.length_factor)
    grammar = problem_grammar(domain_vocabulary(domain), objects, limit) if config.grammar else None
    return {
        "text": text,
        "domain": domain,
        "grammar": grammar,
        "max_tokens": token_budget(text, domain, config.length_factor, config.max_tokens),
        "round": 0,
        "conversations": [translation_prompt(text, domain, config)],
        "translations": [],
    }


def _sample(state: LLMPState, runtime: Ctx) -> tuple[list[int], list[Completion]]:
    """Round 0: one prompt, k samples (greedy when k = 1); later: each pending chain's feedback, sampled."""
    config, backend = runtime.context.config, runtime.context.backend
    greedy = config.k == 1
    base = {
        "temperature": 0.0 if greedy else config.temperature,
        "max_tokens": state["max_tokens"],
        "grammar": state.get("grammar"),
    }
    rnd, convs = state.get("round", 0), state["conversations"]
    if rnd == 0:  # one prompt, k samples
        params = SamplingParams(**base, n=config.k, seed=None if greedy else config.seed)
        return list(range(config.k)), backend.generate([convs[0]], params)
    chains = state["pending"]  # each conversation has its own feedback; one batched request
    retry = {**base, "temperature": config.temperature, "seed": config.seed + 1000 * rnd}
    # chains that reached the same conversation get different draws, not one repeated
    return chains, sample_each(backend, [convs[c] for c in chains], SamplingParams(**retry))


def _feedback(state: LLMPState, new: list[Translation], config: LLMPConfig) -> dict[str, Any]:
    """Each chain whose translation failed gets the error as a new user turn, unless it repeated itself."""
    rnd, convs = state.get("round", 0), state["conversations"]
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
    return {"conversations": conversations, "pending": pending}


def translate(state: LLMPState, runtime: Ctx) -> dict[str, Any]:
    """One round: sample the translations, check each, and feed the errors back to the chains that failed."""
    config = runtime.context.config
    rnd = state.get("round", 0)
    chains, completions = _sample(state, runtime)
    new = [
        check(
            state["text"],
            state["domain"],
            c.text.strip(),
            config,
            chain=chain,
            round=rnd,
            truncated=c.finish_reason == "length",
            max_tokens=state["max_tokens"],
        )
        for chain, c in zip(chains, completions, strict=True)
    ]
    return {
        "translations": [*state.get("translations", []), *new],
        **_feedback(state, new, config),
        "round": rnd + 1,
    }


def route(state: LLMPState) -> str:
    """Another round while some chain has feedback to answer, else select."""
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


def select_plan(state: LLMPState, runtime: Ctx) -> dict[str, Any]:
    """The select node: the majority translation's plan, explained in English, or why none planned."""
    from ratiocinator.solvers.pddl import explain, parse

    domain, translations = state["domain"], state["translations"]
    best, agree, n_solved = select(translations)
    if best is None or best.plan is None:
        errors = "; ".join(
            f"translation {t.chain + 1}: {t.status} ({t.message})" for t in finals(translations)
        )
        return {
            "selected": None,
            "agreeing": 0,
            "planned": 0,
            "agreement": 0.0,
            "explanation": "",
            "message": f"no translation could be planned: {errors}",
        }
    return {
        "selected": best,
        "agreeing": agree,
        "planned": n_solved,
        "agreement": agree / n_solved,
        "explanation": explain(best.plan, parse(domain.pddl, best.pddl)),
        "message": f"plan validated for translation {best.chain + 1}; "
        f"{agree} of {n_solved} planned translations state the same facts",
    }
