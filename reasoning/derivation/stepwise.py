"""The derivation written one line per reply (mode="stepwise"): candidates drawn per line, sympy keeps a valid new one.

In the whole-derivation mode (nodes.write) a small model writes every line in one reply; on the core suite
the 0.5B broke the chain within three lines on all 40 items and padded the rest with copies
(BENCHMARKS-suite.md, "derivation"), and its rewrites after feedback repeated themselves. Here each line is
its own small decision. The conversation is the whole mode's prompt (the worked example, the premises, the
goal), then each accepted line as the model's turn and "Next line." as the user's; a reply is one equation under LINE_GRAMMAR, drawn greedily and `candidates - 1`
times at `step_temperature` (one seeded request, seed + line number). sympy judges each distinct candidate
against the last accepted line given the definitions (reasoning/symbolic_steps.judge_step, as
check.check_lines does). The line taken is the valid new line drawn most often (the greedy draw first
among equals: agreement between draws is the model's confidence); a draw that states the goal has no
preference, since a jump to the goal skips steps (the benchmark counts that as an error). The
derivation ends at the goal, after `max_steps` lines, or when no candidate is a valid new line: the greedy
draw is then kept (unless it is empty), so the record shows the line that broke the chain. The attempt is checked once more as a
whole by check_lines, so both modes are scored by the same checker.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, TypedDict

from langgraph.graph import END

from ratiocinator.models.types import Completion, Message, SamplingParams
from ratiocinator.reasoning.derivation.check import canonical, check_lines, parse_lines
from ratiocinator.reasoning.derivation.config import DerivationConfig
from ratiocinator.reasoning.derivation.nodes import Ctx, write_prompt
from ratiocinator.reasoning.derivation.prompts import LINE_GRAMMAR, NEXT_LINE_PROMPT
from ratiocinator.reasoning.derivation.result import Attempt
from ratiocinator.reasoning.symbolic_steps import (
    DerivationItem,
    generate_item,
    judge_step,
    same_equation,
)

#: tokens of one line (the generated items' longest known line is under 30)
LINE_TOKENS = 64


class StepwiseState(TypedDict, total=False):
    """The stepwise graph's state: the item, the lines accepted so far, whether it has ended, the attempt."""

    item: DerivationItem
    lines: list[str]
    done: bool
    attempts: list[Attempt]


def next_line_messages(item: DerivationItem, lines: list[str], example: DerivationItem) -> list[Message]:
    """The whole mode's prompt, then each accepted line as the model's turn followed by NEXT_LINE_PROMPT: the
    model sees the derivation as its own, and each line's conversation extends the one before (a cached prefix)."""
    messages = [Message(role="user", content=write_prompt(item, example))]
    for line in lines:
        messages += [Message(role="assistant", content=line), Message(role="user", content=NEXT_LINE_PROMPT)]
    return messages


def _draws(cfg: DerivationConfig, messages: list[Message], backend: Any, step: int) -> list[str]:
    """The greedy line, then `candidates - 1` sampled ones (one seeded request), as lines (possibly empty)."""
    greedy = SamplingParams(temperature=0.0, max_tokens=LINE_TOKENS, grammar=LINE_GRAMMAR)
    completions: list[Completion] = list(backend.generate([messages], greedy))
    if cfg.candidates > 1:
        sampled = greedy.model_copy(update={"temperature": cfg.step_temperature, "n": cfg.candidates - 1,
                                            "seed": cfg.seed + step})
        completions += backend.generate([messages], sampled)
    return [next(iter(parse_lines(c.text)), "") for c in completions]


def choose_line(item: DerivationItem, lines: list[str], draws: list[str]) -> tuple[str, bool]:
    """(the line to take, whether it is a valid new step): the valid new draw made most often (earliest first
    among equals), else the first draw (the chain breaks there). A draw that states the goal gets no
    preference: taken because it follows, a jump to the goal skips the steps between (an error kind)."""
    before = lines[-1] if lines else item.premise
    seen = {canonical(item.premise), *map(canonical, lines)}
    counts = Counter(canonical(d) for d in draws if d)
    valid: dict[str, str] = {}  # canonical -> the draw as written, in the order first drawn
    for d in draws:
        key = canonical(d)
        if d and key not in seen and key not in valid and \
                judge_step(before, d, item.definitions).verdict == "valid":
            valid[key] = d
    if not valid:
        return draws[0], False
    order = list(valid)
    best = max(order, key=lambda k: (counts[k], -order.index(k)))
    return valid[best], True


def extend(state: StepwiseState, runtime: Ctx) -> dict[str, Any]:
    """Draw the next line's candidates, take one; end at the goal, at max_steps, or where no draw follows."""
    cfg = runtime.context.config
    item, lines = state["item"], list(state.get("lines") or [])
    messages = next_line_messages(item, lines, generate_item(cfg.example_seed))
    draws = _draws(cfg, messages, runtime.context.backend, len(lines))
    line, ok = choose_line(item, lines, draws)
    if line:
        lines.append(line)
    done = not ok or same_equation(line, item.goal) or len(lines) >= cfg.max_steps
    update: dict[str, Any] = {"lines": lines, "done": done}
    if done:
        update["attempts"] = [check_lines(item, lines)]
    return update


def route(state: StepwiseState, runtime: Ctx) -> str:
    """Another line until the derivation has ended."""
    return END if state.get("done") else "extend"
