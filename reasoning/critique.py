"""DeepCritic-style deliberate step-wise critique as a LangGraph graph, with sympy evidence and refinement.

Paper: "DeepCritic: Deliberate Critique with Large Language Models" (Yang et al., 2025; reference
prompts RUCBM/DeepCritic `Critique_Generation/`). Each step of a step-wise solution gets an initial
critique ending in "#### The correctness of Step i is: \\boxed{1|-1}"; then a second, independent
look at that judgement (re-verify the step another way, or critique the critique) gives the final
judgement of the step; the two are merged into one deliberate critique. The first step judged -1 is
the first error (0-based, -1 if none: the labels of ProcessBench). Where a step is symbolic (an
equation that should follow from the previous one, or arithmetic claims like "18 - 6 = 12"),
sympy's verdict (reasoning/symbolic_steps.py) goes into both prompts as evidence. Refinement feeds
the first error and its critique back to the generator, which rewrites the solution from there, and
the new solution is critiqued again (up to `max_refinements` times).

The reference merges the two critiques with a third LLM call to make smooth training text; the
verdict is the second look's, so here the merge joins the texts and takes that verdict without a
model call. A judgement that does not parse (cut off before the box) is asked for once more under a
grammar that only allows 1 or -1.

    result = run_critique(backend, problem, steps)        # CritiqueResult(first_error=2, ...)
    result = run_critique(backend, problem, [], config=DeepCriticConfig(max_refinements=1))  # solve, critique, fix
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from ratiocinator.errors import InvalidInput
from ratiocinator.models.types import Message, SamplingParams
from ratiocinator.reasoning.critique_prompts import (
    INITIAL_PROMPT,
    REFINE_PROMPT,
    SECOND_LOOK_PROMPT,
    SOLVE_PROMPT,
)
from ratiocinator.reasoning.symbolic_steps import check_arithmetic, judge_step

JUDGEMENT_GRAMMAR = 'root ::= "1" | "-1"'
# the boxed form of the format, or its words without the box (small models drop \boxed)
_BOXED = re.compile(r"\\boxed\{\s*(-?1)\s*\}|correctness of Step \d+ is:?\s*\**\s*(-?1)(?![\d.])")
_STEP_PREFIX = re.compile(r"^\s*\**\s*Step\s*\d+\s*\**\s*[:.]\s*\**\s*", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class DeepCriticConfig:
    """The method's settings: the second look, sympy evidence, refinement rounds and token limits."""

    second_look: bool = True  # DeepCritic's in-depth critique of each initial critique
    symbolic: bool = True  # give sympy's verdict on symbolic steps to the critic
    symbolic_decides: bool = False  # let a definite sympy verdict override the critic's judgement
    max_refinements: int = 0  # rounds of "fix the first error, critique again"
    critique_max_tokens: int = 512
    second_look_max_tokens: int = 512
    solve_max_tokens: int = 512
    temperature: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_refinements < 0:
            raise InvalidInput(
                f"DeepCriticConfig.max_refinements: expected >= 0, got {self.max_refinements}"
            )


@dataclass(frozen=True, kw_only=True)
class StepCritique:
    """One step's critiques and judgements (1 correct, -1 wrong, 0 unparsed) and sympy's evidence."""

    step: str
    critique: str
    initial: int
    second_look: str | None
    second: int | None
    final: int
    symbolic: str | None = None  # sympy's finding, in words, as the critic was told
    symbolic_valid: bool | None = None  # sympy's verdict, when it reached one

    @property
    def merged(self) -> str:
        """The deliberate critique: the first look, then the second (the reference merges these with a model)."""
        if self.second_look is None:
            return self.critique
        return f"{self.critique}\n\nLet me verify this step once more.\n{self.second_look}"


@dataclass(frozen=True, kw_only=True)
class CritiqueRound:
    """One critique of one solution: the steps, each step's critique, the first wrong step (0-based, -1 none)."""

    steps: tuple[str, ...]
    critiques: tuple[StepCritique, ...]
    first_error: int


@dataclass(frozen=True, kw_only=True)
class CritiqueResult:
    """The last solution, its first error, and every round (the first critiques the given solution)."""

    steps: tuple[str, ...]
    first_error: int
    rounds: tuple[CritiqueRound, ...]
    completion_tokens: int = 0

    @property
    def refined(self) -> bool:
        return len(self.rounds) > 1


class CritiqueState(TypedDict, total=False):
    """The graph's state: the problem, the current steps, sympy's context, the rounds so far."""

    problem: str
    steps: list[str]
    given: list[
        str
    ]  # for equation steps: the premise the first step follows from, then definitions
    evidence: list[tuple[str | None, bool | None]]
    critiques: list[tuple[str, int]]
    second: list[tuple[str, int] | None]
    rounds: list[CritiqueRound]
    completion_tokens: int


def strip_step(text: str) -> str:
    """A step without its "Step i:" prefix."""
    return _STEP_PREFIX.sub("", text, count=1).strip()


def format_solution(steps: Sequence[str]) -> str:
    return "\n".join(f"Step {i}: {strip_step(s)}" for i, s in enumerate(steps, 1))


def parse_steps(text: str) -> list[str]:
    """Steps of a generated solution: the "Step i:" paragraphs, else the non-empty lines."""
    parts = re.split(r"(?im)^\s*\**\s*Step\s*\d+\s*\**\s*[:.]", text)
    steps = [p.strip() for p in parts[1:] if p.strip()]
    return steps or [line.strip() for line in text.splitlines() if line.strip()]


def parse_judgement(text: str) -> int:
    """1 or -1 from the last judgement of a critique (boxed, or in the format's words); 0 when there is none."""
    found = _BOXED.findall(text)
    return int(found[-1][0] or found[-1][1]) if found else 0


def symbolic_evidence(
    steps: Sequence[str], index: int, given: Sequence[str] = ()
) -> tuple[str | None, bool | None]:
    """sympy's finding on step `index` (0-based) in words, and its verdict; (None, None) if not symbolic."""
    step = strip_step(steps[index])
    before = strip_step(steps[index - 1]) if index > 0 else (given[0] if given else None)
    if before is not None and "=" in step and "=" in before:
        try:
            judgement = judge_step(before, step, given[1:])
        except InvalidInput:  # a definition that is not `name = expression`
            judgement = None
        if judgement is not None and judgement.verdict in ("valid", "invalid", "irrelevant"):
            if judgement.verdict == "invalid":
                return (
                    f"sympy: Step {index + 1} does NOT follow from the previous equation "
                    f"({judgement.detail}).",
                    False,
                )
            return (
                f"sympy: Step {index + 1} follows from the previous equation ({judgement.detail}).",
                True,
            )
    claims = check_arithmetic(step)
    if not claims:
        return None, None
    words = "; ".join(f"{c} is {'correct' if ok else 'WRONG'}" for c, ok in claims)
    return f"sympy checked the arithmetic of Step {index + 1}: {words}.", all(
        ok for _, ok in claims
    )


def _evidence_block(note: str | None) -> str:
    return f"\n<Computer Algebra Check>\n{note}\n</Computer Algebra Check>\n" if note else ""


def build_critique_graph(backend: Any, config: DeepCriticConfig | None = None) -> Any:
    """The compiled graph: [solve] -> symbolic -> critique -> second_look -> merge -> (refine -> symbolic | end)."""
    from langgraph.graph import END, START, StateGraph

    cfg = config or DeepCriticConfig()

    def params(max_tokens: int, **extra: Any) -> SamplingParams:
        return SamplingParams(
            temperature=cfg.temperature,
            max_tokens=max_tokens,
            seed=cfg.seed if cfg.temperature > 0 else None,
            **extra,
        )

    def judge(prompts: list[str], texts: list[str], index: list[int]) -> tuple[list[int], int]:
        """Parse each box; ask once more, under a grammar, for those that do not parse."""
        marks = [parse_judgement(t) for t in texts]
        missing = [k for k, m in enumerate(marks) if m == 0]
        if not missing:
            return marks, 0
        convs = [
            [
                Message(role="user", content=prompts[k]),
                Message(role="assistant", content=texts[k]),
                Message(
                    role="user",
                    content=f"Give your final judgement on Step {index[k] + 1}: 1 if it "
                    "is correct, -1 if it is incorrect.",
                ),
            ]
            for k in missing
        ]
        replies = backend.generate(convs, params(4, grammar=JUDGEMENT_GRAMMAR))
        for k, c in zip(missing, replies, strict=True):
            marks[k] = parse_judgement(f"\\boxed{{{c.text.strip()}}}")
        return marks, sum(c.completion_tokens for c in replies)

    def ask(prompts: list[str], max_tokens: int) -> tuple[list[tuple[str, int]], int]:
        """One critique per step (prompt i is about step i): (text, judgement) each, and tokens used."""
        replies = backend.generate([[Message(role="user", content=p)] for p in prompts], params(max_tokens))
        texts = [c.text.strip() for c in replies]
        marks, extra = judge(prompts, texts, list(range(len(prompts))))
        return list(zip(texts, marks, strict=True)), sum(c.completion_tokens for c in replies) + extra

    def solve(state: CritiqueState) -> CritiqueState:
        (c,) = backend.generate(
            [[Message(role="user", content=SOLVE_PROMPT.format(problem=state["problem"]))]],
            params(cfg.solve_max_tokens),
        )
        return {
            "steps": parse_steps(c.text) or [c.text.strip() or "(no solution)"],
            "completion_tokens": state.get("completion_tokens", 0) + c.completion_tokens,
        }

    def symbolic(state: CritiqueState) -> CritiqueState:
        steps, given = state["steps"], state.get("given", [])
        if not cfg.symbolic:
            return {"evidence": [(None, None)] * len(steps)}
        return {"evidence": [symbolic_evidence(steps, i, given) for i in range(len(steps))]}

    def critique(state: CritiqueState) -> CritiqueState:
        steps = state["steps"]
        solution = format_solution(steps)
        prompts = [
            INITIAL_PROMPT.format(
                problem=state["problem"],
                solution=solution,
                index=i + 1,
                evidence=_evidence_block(state["evidence"][i][0]),
            )
            for i in range(len(steps))
        ]
        judged, used = ask(prompts, cfg.critique_max_tokens)
        return {"critiques": judged, "completion_tokens": state.get("completion_tokens", 0) + used}

    def second_look(state: CritiqueState) -> CritiqueState:
        steps = state["steps"]
        if not cfg.second_look:
            return {"second": [None] * len(steps)}
        solution = format_solution(steps)
        prompts = [
            SECOND_LOOK_PROMPT.format(
                problem=state["problem"],
                solution=solution,
                index=i + 1,
                critique=state["critiques"][i][0],
                evidence=_evidence_block(state["evidence"][i][0]),
            )
            for i in range(len(steps))
        ]
        judged, used = ask(prompts, cfg.second_look_max_tokens)
        return {"second": judged, "completion_tokens": state.get("completion_tokens", 0) + used}

    def merge(state: CritiqueState) -> CritiqueState:
        out = []
        for i, step in enumerate(state["steps"]):
            text, initial = state["critiques"][i]
            second = state["second"][i]
            note, sym = state["evidence"][i]
            final = second[1] if second is not None and second[1] != 0 else initial
            if cfg.symbolic_decides and sym is not None:
                final = 1 if sym else -1
            out.append(
                StepCritique(
                    step=step,
                    critique=text,
                    initial=initial,
                    second_look=second[0] if second else None,
                    second=second[1] if second else None,
                    final=final,
                    symbolic=note,
                    symbolic_valid=sym,
                )
            )
        first = next((i for i, c in enumerate(out) if c.final == -1), -1)
        rounds = [
            *state.get("rounds", []),
            CritiqueRound(steps=tuple(state["steps"]), critiques=tuple(out), first_error=first),
        ]
        return {"rounds": rounds}

    def refine(state: CritiqueState) -> CritiqueState:
        last = state["rounds"][-1]
        k = last.first_error
        prompt = REFINE_PROMPT.format(
            problem=state["problem"],
            solution=format_solution(last.steps),
            index=k + 1,
            kept=k,
            critique=last.critiques[k].merged,
        )
        (c,) = backend.generate(
            [[Message(role="user", content=prompt)]], params(cfg.solve_max_tokens)
        )
        steps = parse_steps(c.text) or list(last.steps)
        return {
            "steps": steps,
            "completion_tokens": state.get("completion_tokens", 0) + c.completion_tokens,
        }

    def start(state: CritiqueState) -> str:
        return "symbolic" if state.get("steps") else "solve"

    def after_merge(state: CritiqueState) -> str:
        rounds = state["rounds"]
        return (
            "refine" if rounds[-1].first_error >= 0 and len(rounds) <= cfg.max_refinements else END
        )

    graph = StateGraph(CritiqueState)
    for name, node in (
        ("solve", solve),
        ("symbolic", symbolic),
        ("critique", critique),
        ("second_look", second_look),
        ("merge", merge),
        ("refine", refine),
    ):
        graph.add_node(name, node)
    graph.add_conditional_edges(START, start, {"solve": "solve", "symbolic": "symbolic"})
    graph.add_edge("solve", "symbolic")
    graph.add_edge("symbolic", "critique")
    graph.add_edge("critique", "second_look")
    graph.add_edge("second_look", "merge")
    graph.add_conditional_edges("merge", after_merge, {"refine": "refine", END: END})
    graph.add_edge("refine", "symbolic")
    return graph.compile()


def run_critique(
    backend: Any,
    problem: str,
    steps: Sequence[str] = (),
    *,
    given: Sequence[str] = (),
    config: DeepCriticConfig | None = None,
) -> CritiqueResult:
    """Critique a step-wise solution (or, with no steps, have the backend write one first)."""
    if not isinstance(problem, str) or not problem.strip():
        raise InvalidInput(f"problem: expected a non-empty string, got {problem!r}")
    if isinstance(steps, str) or any(not isinstance(s, str) or not s.strip() for s in steps):
        raise InvalidInput("steps: expected a list of non-empty strings (one per step)")
    cfg = config or DeepCriticConfig()
    state = build_critique_graph(backend, cfg).invoke(
        {"problem": problem, "steps": list(steps), "given": list(given), "rounds": []},
        {"recursion_limit": 6 * (cfg.max_refinements + 1) + 4},
    )
    last = state["rounds"][-1]
    return CritiqueResult(
        steps=last.steps,
        first_error=last.first_error,
        rounds=tuple(state["rounds"]),
        completion_tokens=state.get("completion_tokens", 0),
    )
