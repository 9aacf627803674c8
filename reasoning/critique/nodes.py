"""DeepCritic's nodes: solve, symbolic (sympy evidence), critique, second_look, verdict, merge, refine, and the two routers.

Each node is a function of the graph's state and the LangGraph runtime, whose context carries the
backend and the DeepCriticConfig (see kit/context.py). Every step of the solution gets its critique in
one batched call; with the text verdict a judgement that does not parse is asked for once more under
a grammar. With the scored verdict (reasoning/critique/scoring.py) the critique is a short check (or
none), there is no second look, and `verdict` scores "correct" / "incorrect" for every step; with the
surprise verdict (reasoning/critique/surprise.py) there is neither, and `verdict` reads every step's
surprise from one pass over the solution.
"""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.graph import END
from langgraph.runtime import Runtime

from ratiocinator.kit import MethodContext
from ratiocinator.models.types import Message, SamplingParams
from ratiocinator.reasoning.critique.config import DeepCriticConfig
from ratiocinator.reasoning.critique.evidence import (
    NO_EVIDENCE,
    Evidence,
    evidence_block,
    symbolic_evidence,
)
from ratiocinator.reasoning.critique.prompts import (
    INITIAL_PROMPT,
    JUDGEMENT_AGAIN_PROMPT,
    JUDGEMENT_GRAMMAR,
    REFINE_PROMPT,
    SECOND_LOOK_PROMPT,
    SOLVE_PROMPT,
)
from ratiocinator.reasoning.critique.refine import refine_from_error
from ratiocinator.reasoning.critique.result import CritiqueRound, StepCritique
from ratiocinator.reasoning.critique.scoring import (
    check_conversation,
    decide,
    log_odds,
    verdict_conversation,
)
from ratiocinator.reasoning.critique.steps import format_solution, parse_judgement, parse_steps
from ratiocinator.reasoning.critique.surprise import surprises

Ctx = Runtime[MethodContext[DeepCriticConfig]]


class CritiqueState(TypedDict, total=False):
    """The graph's state: the problem, the current steps, sympy's context and evidence, the rounds so far."""

    problem: str
    steps: list[str]
    given: list[str]  # for equation steps: the premise the first step follows from, then definitions
    evidence: list[Evidence]
    critiques: list[tuple[str, int]]
    second: list[tuple[str, int] | None]
    odds: list[float | None]  # per step: the log-odds of "incorrect" ("scored"), the surprise ("surprise"), None ("text")
    rounds: list[CritiqueRound]


def _params(cfg: DeepCriticConfig, max_tokens: int, **extra: Any) -> SamplingParams:
    return SamplingParams(
        temperature=cfg.temperature,
        max_tokens=max_tokens,
        seed=cfg.seed if cfg.temperature > 0 else None,
        **extra,
    )


def _judge(runtime: Ctx, prompts: list[str], texts: list[str]) -> list[int]:
    """Parse each box (text k is about step k); ask once more, under a grammar, for those that do not parse."""
    marks = [parse_judgement(t) for t in texts]
    missing = [k for k, m in enumerate(marks) if m == 0]
    if not missing:
        return marks
    convs = [
        [
            Message(role="user", content=prompts[k]),
            Message(role="assistant", content=texts[k]),
            Message(role="user", content=JUDGEMENT_AGAIN_PROMPT.format(index=k + 1)),
        ]
        for k in missing
    ]
    cfg = runtime.context.config
    replies = runtime.context.backend.generate(convs, _params(cfg, 4, grammar=JUDGEMENT_GRAMMAR))
    for k, c in zip(missing, replies, strict=True):
        marks[k] = parse_judgement(f"\\boxed{{{c.text.strip()}}}")
    return marks


def _ask(runtime: Ctx, prompts: list[str], max_tokens: int) -> list[tuple[str, int]]:
    """One critique per step (prompt i is about step i): (text, judgement) each."""
    cfg = runtime.context.config
    replies = runtime.context.backend.generate(
        [[Message(role="user", content=p)] for p in prompts], _params(cfg, max_tokens)
    )
    texts = [c.text.strip() for c in replies]
    return list(zip(texts, _judge(runtime, prompts, texts), strict=True))


def solve(state: CritiqueState, runtime: Ctx) -> dict[str, Any]:
    """With no steps given, the model writes a step-wise solution first."""
    cfg = runtime.context.config
    (c,) = runtime.context.backend.generate(
        [[Message(role="user", content=SOLVE_PROMPT.format(problem=state["problem"]))]],
        _params(cfg, cfg.solve_max_tokens),
    )
    return {"steps": parse_steps(c.text) or [c.text.strip() or "(no solution)"]}


def symbolic(state: CritiqueState, runtime: Ctx) -> dict[str, Any]:
    """sympy's evidence on each step (none when the config turns it off)."""
    steps, given = state["steps"], state.get("given", [])
    if not runtime.context.config.symbolic:
        return {"evidence": [NO_EVIDENCE] * len(steps)}
    return {"evidence": [symbolic_evidence(steps, i, given) for i in range(len(steps))]}


def critique(state: CritiqueState, runtime: Ctx) -> dict[str, Any]:
    """The initial critique of every step, each ending in its judgement (scored verdict: a short check, or none)."""
    cfg = runtime.context.config
    if cfg.verdict != "text":
        return {"critiques": _checks(state, runtime)}
    solution = format_solution(state["steps"])
    prompts = [
        INITIAL_PROMPT.format(
            problem=state["problem"],
            solution=solution,
            index=i + 1,
            evidence=evidence_block(state["evidence"][i].note),
        )
        for i in range(len(state["steps"]))
    ]
    return {"critiques": _ask(runtime, prompts, cfg.critique_max_tokens)}


def _checks(state: CritiqueState, runtime: Ctx) -> list[tuple[str, int]]:
    """The scored verdict's short check of every step (its judgement read if it wrote one, never asked again);
    none for the surprise verdict, which reads the solution only."""
    cfg, steps = runtime.context.config, state["steps"]
    if not cfg.critique or cfg.verdict == "surprise":
        return [("", 0)] * len(steps)
    solution = format_solution(steps)
    convs = [
        check_conversation(
            state["problem"], solution, i + 1, evidence_block(state["evidence"][i].note)
        )
        for i in range(len(steps))
    ]
    replies = runtime.context.backend.generate(convs, _params(cfg, cfg.critique_max_tokens))
    return [(c.text.strip(), parse_judgement(c.text)) for c in replies]


def second_look(state: CritiqueState, runtime: Ctx) -> dict[str, Any]:
    """DeepCritic's second look at each initial critique (re-verify the step, or critique the critique)."""
    steps, cfg = state["steps"], runtime.context.config
    if not cfg.second_look or cfg.verdict != "text":
        return {"second": [None] * len(steps)}
    solution = format_solution(steps)
    prompts = [
        SECOND_LOOK_PROMPT.format(
            problem=state["problem"],
            solution=solution,
            index=i + 1,
            critique=state["critiques"][i][0],
            evidence=evidence_block(state["evidence"][i].note),
        )
        for i in range(len(steps))
    ]
    return {"second": _ask(runtime, prompts, cfg.second_look_max_tokens)}


def verdict(state: CritiqueState, runtime: Ctx) -> dict[str, Any]:
    """The scored verdicts: each step's log-odds of "incorrect" after its check, or its surprise (none with the text verdict)."""
    steps, cfg = state["steps"], runtime.context.config
    if cfg.verdict == "surprise":  # the note stands in for the critique that was not written
        found = surprises(runtime.context.backend, state["problem"], steps)
        return {"odds": [s for s, _ in found], "critiques": [(note, 0) for _, note in found]}
    if cfg.verdict != "scored":
        return {"odds": [None] * len(steps)}
    solution = format_solution(steps)
    odds: list[float | None] = []
    for i in range(len(steps)):
        check = state["critiques"][i][0] if cfg.critique else None
        prompt = verdict_conversation(
            state["problem"], solution, i + 1, evidence_block(state["evidence"][i].note), check
        )
        odds.append(log_odds(runtime.context.backend, prompt, i + 1))
    return {"odds": odds}


def _step_critique(state: CritiqueState, i: int, cfg: DeepCriticConfig) -> StepCritique:
    text, initial = state["critiques"][i]
    second = state["second"][i]
    evidence = state["evidence"][i]
    odds = state.get("odds", [None] * len(state["steps"]))[i]
    final = second[1] if second is not None and second[1] != 0 else initial
    if odds is not None:
        final = decide(odds, cfg.surprise_threshold if cfg.verdict == "surprise" else cfg.threshold)
    critic = final
    if cfg.symbolic_decides and evidence.valid is not None:
        final = 1 if evidence.valid else -1
    return StepCritique(
        step=state["steps"][i],
        critique=text,
        initial=initial,
        second_look=second[0] if second else None,
        second=second[1] if second else None,
        final=final,
        symbolic=evidence.note,
        symbolic_valid=evidence.valid,
        symbolic_check=evidence.check if evidence.valid is not None else None,
        critic=critic,
        log_odds=odds,
    )


def merge(state: CritiqueState, runtime: Ctx) -> dict[str, Any]:
    """Join each step's two critiques, take the second look's judgement (or sympy's), record the round."""
    cfg = runtime.context.config
    out = tuple(_step_critique(state, i, cfg) for i in range(len(state["steps"])))
    first = next((i for i, c in enumerate(out) if c.final == -1), -1)
    rnd = CritiqueRound(steps=tuple(state["steps"]), critiques=out, first_error=first)
    return {"rounds": [*state.get("rounds", []), rnd]}


def refine(state: CritiqueState, runtime: Ctx) -> dict[str, Any]:
    """Feed the first error and its critique back; the model rewrites the solution from there."""
    cfg = runtime.context.config
    last = state["rounds"][-1]
    k = last.first_error
    if cfg.refine_from == "error":
        return {"steps": refine_from_error(runtime.context.backend, cfg, state["problem"], last.steps, k,
                                           last.critiques[k].merged, cfg.solve_max_tokens)}
    prompt = REFINE_PROMPT.format(
        problem=state["problem"],
        solution=format_solution(last.steps),
        index=k + 1,
        kept=k,
        critique=last.critiques[k].merged,
    )
    (c,) = runtime.context.backend.generate(
        [[Message(role="user", content=prompt)]], _params(cfg, cfg.solve_max_tokens)
    )
    return {"steps": parse_steps(c.text) or list(last.steps)}


def start(state: CritiqueState) -> str:
    """Critique the given steps, or have the model write them first."""
    return "symbolic" if state.get("steps") else "solve"


def after_merge(state: CritiqueState, runtime: Ctx) -> str:
    """Refine while a step is wrong and rounds are left; else end."""
    rounds = state["rounds"]
    more = rounds[-1].first_error >= 0 and len(rounds) <= runtime.context.config.max_refinements
    return "refine" if more else END
