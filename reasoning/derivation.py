"""Checked derivations as a LangGraph graph: the model writes equations from premises to a goal, sympy checks each.

Paper: "Generating Mathematical Derivations with Large Language Models" (Meadows, Valentino, Teney,
Freitas, 2023). Items come from a symbolic engine with a known derivation
(reasoning/symbolic_steps.py). The model writes one equation per line, under a grammar that only
admits lines of the form `expression = expression` in plain math characters, so every line parses.
Each line is checked against the line before it given the definitions (the first against the
premise); the first line that does not follow is fed back with sympy's reason, the lines before it
are kept, and the model rewrites the rest (up to `max_feedback` times); an irrelevant line is sent
back the same way. A derivation whose lines all follow but stop short of the goal is sent back to be
continued; one without an equation, to be written.

Error kinds (counted per line, as the paper names them):
- wrong equation: the line is not shown to follow from the one before (sympy: invalid, unreadable or
  undecided);
- irrelevant equation: an identity once the definitions are substituted (it restates a definition),
  or a repeat of the premise or of an earlier line (it follows, trivially, and moves nowhere);
- skipped step: the model wrote fewer lines than the known derivation has operations, so some line
  applied several at once (counted once per missing step).
A derivation is fully valid when every line follows and the last one states the goal (its two sides
equal the goal's up to algebra).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from ratiocinator.errors import InvalidInput
from ratiocinator.models.types import Message, SamplingParams
from ratiocinator.reasoning.symbolic_steps import (
    DerivationItem,
    StepJudgement,
    generate_item,
    judge_step,
    same_equation,
)

#: One equation per line, plain math characters only (what solvers.symbolic reads as plain text).
EQUATIONS_GRAMMAR = r"""root ::= line+
line ::= side "=" side "\n"
side ::= [-+*/^() .0-9a-z]+
"""

WRITE_PROMPT = """Write a derivation: a sequence of equations, one per line, from the premise to the goal.
Each equation must follow from the one before it by one algebraic operation (substitute a definition,
expand, move a term to the other side, divide both sides, factor). Use * for multiplication and ^ for powers.
The last line must be the goal equation.

Example.
Premises: {example_premises}
Goal: {example_goal}
Derivation:
{example_steps}

Premises: {premises}
Goal: {goal}
Derivation:
"""

FEEDBACK_PROMPT = """The line {index} of your derivation, "{line}", {problem}
Keep the lines before it and write the derivation again from line {index} on, one equation per line."""
UNFINISHED_PROMPT = """Every line follows, but the last line is not the goal {goal}.
Continue the derivation from the last line until the goal, one equation per line."""
EMPTY_PROMPT = """Your reply held no equation. Write the derivation, one equation per line."""


@dataclass(frozen=True, kw_only=True)
class DerivationConfig:
    """The loop's settings: feedback rounds, token limit, sampling, the one-shot example's seed."""

    max_feedback: int = 2
    max_tokens: int = 160
    temperature: float = 0.0
    example_seed: int = (
        1001  # the worked example shown in the prompt (a generated item not among tests)
    )

    def __post_init__(self) -> None:
        if self.max_feedback < 0:
            raise InvalidInput(
                f"DerivationConfig.max_feedback: expected >= 0, got {self.max_feedback}"
            )


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """One written derivation, sympy's verdict per line, and the error counts."""

    lines: tuple[str, ...]
    judgements: tuple[StepJudgement, ...]
    reaches_goal: bool
    skipped: int

    @property
    def first_invalid(self) -> int:
        """0-based index of the first line that does not follow (wrong or unreadable), -1 if none."""
        return next(
            (
                i
                for i, j in enumerate(self.judgements)
                if j.verdict in ("invalid", "unparsed", "unknown")
            ),
            -1,
        )

    @property
    def first_problem(self) -> int:
        """0-based index of the first line that is not a valid step (wrong or irrelevant), -1 if none."""
        return next((i for i, j in enumerate(self.judgements) if j.verdict != "valid"), -1)

    @property
    def wrong(self) -> int:
        return sum(j.verdict in ("invalid", "unparsed", "unknown") for j in self.judgements)

    @property
    def irrelevant(self) -> int:
        return sum(j.verdict == "irrelevant" for j in self.judgements)

    @property
    def fully_valid(self) -> bool:
        return (
            bool(self.lines)
            and all(j.verdict == "valid" for j in self.judgements)
            and self.reaches_goal
        )


@dataclass(frozen=True, kw_only=True)
class DerivationResult:
    """Every attempt (the first before any feedback), and whether the last is fully valid."""

    attempts: tuple[Attempt, ...]
    completion_tokens: int = 0

    @property
    def fully_valid(self) -> bool:
        return self.attempts[-1].fully_valid


class DerivationState(TypedDict, total=False):
    """The graph's state: the item, the conversation with the model, the attempts so far."""

    item: DerivationItem
    messages: list[Message]
    attempts: list[Attempt]
    completion_tokens: int


def parse_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and "=" in line]


def _canonical(line: str) -> str:
    return "".join(line.split())


def check_lines(item: DerivationItem, lines: Sequence[str]) -> Attempt:
    """sympy's verdict on each line (against the previous relevant line, the first against the premise)."""
    judgements = []
    before = item.premise
    seen = {_canonical(item.premise): "the premise"}
    for i, line in enumerate(lines):
        earlier = seen.get(_canonical(line))
        if earlier is not None:  # a repeat follows from itself, trivially: not a step
            judgements.append(StepJudgement(verdict="irrelevant", detail=f"repeats {earlier}"))
            continue
        seen[_canonical(line)] = f"line {i + 1}"
        judgements.append(judge_step(before, line, item.definitions))
        # the chain goes on from the last line that says something
        if judgements[-1].verdict != "irrelevant":
            before = line
    reaches = bool(lines) and same_equation(lines[-1], item.goal)
    skipped = max(0, len(item.operations) - len(lines)) if lines else len(item.operations)
    return Attempt(
        lines=tuple(lines), judgements=tuple(judgements), reaches_goal=reaches, skipped=skipped
    )


def _prompt(item: DerivationItem, example: DerivationItem) -> str:
    return WRITE_PROMPT.format(
        example_premises="; ".join(example.premises),
        example_goal=example.goal,
        example_steps="\n".join(example.steps[1:]),
        premises="; ".join(item.premises),
        goal=item.goal,
    )


def build_derivation_graph(backend: Any, config: DerivationConfig | None = None) -> Any:
    """The compiled graph: write -> check -> (feedback -> write | end)."""
    from langgraph.graph import END, START, StateGraph

    cfg = config or DerivationConfig()
    example = generate_item(cfg.example_seed)
    params = SamplingParams(
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        grammar=EQUATIONS_GRAMMAR,
        seed=0 if cfg.temperature > 0 else None,
    )

    def write(state: DerivationState) -> DerivationState:
        messages = state.get("messages") or [
            Message(role="user", content=_prompt(state["item"], example))
        ]
        (c,) = backend.generate([messages], params)
        attempts = state.get("attempts", [])
        lines = parse_lines(c.text)
        if c.finish_reason == "length" and lines and not c.text.endswith("\n"):
            lines = lines[:-1]  # cut off by the token limit mid-line: unfinished, not a wrong step
        if (
            attempts
        ):  # after feedback: keep the lines before the first invalid one (all, if none is)
            last = attempts[-1]
            keep = last.first_problem if last.first_problem >= 0 else len(last.lines)
            lines = [*last.lines[:keep], *lines]
        messages = [*messages, Message(role="assistant", content=c.text)]
        return {
            "messages": messages,
            "attempts": [*attempts, check_lines(state["item"], lines)],
            "completion_tokens": state.get("completion_tokens", 0) + c.completion_tokens,
        }

    def feedback(state: DerivationState) -> DerivationState:
        last = state["attempts"][-1]
        k = last.first_problem
        if not last.lines:
            text = EMPTY_PROMPT
        elif k < 0:
            text = UNFINISHED_PROMPT.format(goal=state["item"].goal)
        else:
            judgement = last.judgements[k]
            if judgement.verdict == "irrelevant" and judgement.detail.startswith("repeats"):
                problem = f"{judgement.detail}: it does not move towards the goal."
            elif judgement.verdict == "irrelevant":
                problem = "is an identity once the definitions are substituted: it does not move towards the goal."
            else:
                before = next(
                    (
                        last.lines[i]
                        for i in range(k - 1, -1, -1)
                        if last.judgements[i].verdict != "irrelevant"
                    ),
                    state["item"].premise,
                )
                problem = (
                    f'does not follow from "{before}": {judgement.detail or judgement.verdict}'
                )
            text = FEEDBACK_PROMPT.format(index=k + 1, line=last.lines[k], problem=problem)
        return {"messages": [*state["messages"], Message(role="user", content=text)]}

    def route(state: DerivationState) -> str:
        attempts = state["attempts"]
        return (
            "feedback"
            if not attempts[-1].fully_valid and len(attempts) <= cfg.max_feedback
            else END
        )

    graph = StateGraph(DerivationState)
    graph.add_node("write", write)
    graph.add_node("feedback", feedback)
    graph.add_edge(START, "write")
    graph.add_conditional_edges("write", route, {"feedback": "feedback", END: END})
    graph.add_edge("feedback", "write")
    return graph.compile()


def run_derivation(
    backend: Any, item: DerivationItem, config: DerivationConfig | None = None
) -> DerivationResult:
    """Have the backend derive `item.goal` from its premises, with sympy feedback on the first invalid line."""
    if not isinstance(item, DerivationItem):
        raise InvalidInput(
            f"item: expected a DerivationItem (see symbolic_steps.generate_item), got {type(item)}"
        )
    cfg = config or DerivationConfig()
    state = build_derivation_graph(backend, cfg).invoke(
        {"item": item, "attempts": []}, {"recursion_limit": 2 * (cfg.max_feedback + 1) + 4}
    )
    return DerivationResult(
        attempts=tuple(state["attempts"]), completion_tokens=state.get("completion_tokens", 0)
    )
