"""Decisions of the roles by comparing the model's scores of the alternatives, not by parsing free text.

A 0.5B model asked to write `Next: caller | conclusion | give up` copies the prompt's format line and
writes `Next: caller` on every step. So the planner's rationale is still generated, and the next role
is then the alternative whose continuation of that rationale (` Next: caller`, ` Next: conclusion`,
` Next: give up`, the paper's planner format) the model scores highest, plus a per-role bias
calibrated once on held-in dialogues (`fit_role_bias`; the values and their source are the config's).
Every continuation starts with the same rationale, so the comparison is that of the markers' summed
token log-probabilities. The markers' scores carry no signal about the role with the 0.5B (it favours
caller by ~4.5 nats on every step); a plain question does: "asked" puts the dialogue to the model as a
yes/no question (does it already hold what the user asked for?) and reads its Yes-minus-No log-odds
(AUC 0.77 for gold conclusion / give up against caller on ToolBench's first 200 steps), then tells
give up from conclusion by two statements' scores; both thresholds are fitted once on held-in steps
(`fit_asked_thresholds`). The caller's tool is the name whose `Action: NAME` line scores highest
(the newline ends the name, so a name that is a prefix of another is not favoured).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

from ratiocinator.agents.tool_agent.context import ToolAgentContext
from ratiocinator.agents.tool_agent.prompts import DECISIONS, Decision, parse_decision
from ratiocinator.models.types import Message


def marker(thought: str, decision: str) -> str:
    """The planner's turn in the paper's format: the rationale, then `Next: <role>`."""
    return f"{thought} Next: {decision}" if thought else f"Next: {decision}"


def conversation(prompt: str) -> list[Message]:
    return [Message(role="user", content=prompt)]


def role_scores(ctx: ToolAgentContext[Any], prompt: str, thought: str) -> dict[str, float]:
    """Log-probability of each role's marker after the rationale, as the planner's answer to `prompt`."""
    raw = ctx.backend.score(conversation(prompt), [marker(thought, d) for d in DECISIONS])
    return {d: float(s) for d, s in zip(DECISIONS, raw, strict=True)}


def choose_role(scores: dict[str, float], bias: Sequence[float]) -> Decision:
    """The role with the highest score plus its bias (bias in DECISIONS order); ties go to the first."""
    best = max(range(len(DECISIONS)), key=lambda i: scores[DECISIONS[i]] + bias[i])
    return DECISIONS[best]


def asked_margins(ctx: ToolAgentContext[Any], prompt: str, history: str) -> dict[str, float]:
    """The model's yes-minus-no log-odds that the dialogue answers the request, and give-up-minus-conclusion."""
    cfg = ctx.config
    yes, no = ctx.backend.score(conversation(cfg.ask_prompt.format(doc=ctx.docs, history=history)), ["yes", "no"])
    done, failed = ctx.backend.score(conversation(prompt), list(cfg.role_statements))
    return {"answered": float(yes - no), "give_up": float(failed - done)}


def choose_asked(margins: dict[str, float], thresholds: Sequence[float]) -> Decision:
    """caller unless the answered log-odds exceed thresholds[0]; then give up above thresholds[1], else conclusion."""
    if margins["answered"] <= thresholds[0]:
        return "caller"
    return "give up" if margins["give_up"] > thresholds[1] else "conclusion"


def plan(
    ctx: ToolAgentContext[Any], prompt: str, raw: str, *, history: str = ""
) -> tuple[str, Decision | None, dict[str, Any]]:
    """(rationale, decision, what to record) from the planner's generated text `raw` on `prompt`.

    `decision="text"`: the marker the model wrote (None when it wrote none); `"scored"`: the
    alternatives' scores after the rationale decide; `"asked"`: the model's answer to the yes/no
    question about `history` (the dialogue as the planner sees it) and the role statements' scores
    decide. The written marker is then only recorded.
    """
    thought, written = parse_decision(raw)
    if ctx.config.decision == "text":
        return thought, written, {}
    if ctx.config.decision == "asked":
        margins = asked_margins(ctx, prompt, history)
        return thought, choose_asked(margins, ctx.config.asked_thresholds), {"margins": margins, "written": written}
    scores = role_scores(ctx, prompt, thought)
    decision = choose_role(scores, ctx.config.decision_bias)
    return thought, decision, {"scores": scores, "written": written}


def tool_scores(ctx: ToolAgentContext[Any], prompt: str) -> dict[str, float]:
    """Log-probability of `Action: NAME` + newline for each tool, as the caller's answer to `prompt`."""
    names = list(ctx.tools)
    raw = ctx.backend.score(conversation(prompt), [f"Action: {n}\n" for n in names])
    return {n: float(s) for n, s in zip(names, raw, strict=True)}


def called(names: Sequence[str], dialogue: str) -> set[str]:
    """The names the dialogue already shows a call of (an `Action: NAME` line)."""
    return {n for n in names if re.search(rf"Action:\s*{re.escape(n)}\s*$", dialogue, re.M)}


def choose_tool(ctx: ToolAgentContext[Any], prompt: str, dialogue: str = "") -> str:
    """The tool whose name the model scores highest after the caller's prompt (the only one, unscored).

    A name the `dialogue` already called loses `config.called_penalty` nats: a small model scores the
    name it has just read in the history highest (contextual calibration, fitted on held-in steps).
    """
    if len(ctx.tools) == 1:
        return next(iter(ctx.tools))
    scores = tool_scores(ctx, prompt)
    penalty = ctx.config.called_penalty
    if penalty and dialogue:
        for name in called(list(scores), dialogue):
            scores[name] -= penalty
    return max(scores, key=lambda n: scores[n])


def fit_called_penalty(
    scores: Sequence[dict[str, float]], called_names: Sequence[set[str]], golds: Sequence[str],
    *, grid: Sequence[float] = tuple(x / 4 for x in range(41)),
) -> float:
    """The penalty from `grid` with the most held-in gold tools scored highest (ties: the smallest)."""
    if not scores or not len(scores) == len(called_names) == len(golds):
        raise ValueError("fit_called_penalty: expected as many score dicts, called sets and golds, and some")

    def right(penalty: float) -> int:
        n = 0
        for s, c, gold in zip(scores, called_names, golds, strict=True):
            adjusted = {k: v - (penalty if k in c else 0.0) for k, v in s.items()}
            n += max(adjusted, key=lambda k: adjusted[k]) == gold
        return n

    return max(grid, key=lambda p: (right(p), -p))


def fit_role_bias(
    scores: Sequence[dict[str, float]], golds: Sequence[str], *, steps: int = 2000, rate: float = 0.5
) -> tuple[float, ...]:
    """Per-role biases (DECISIONS order, the caller's fixed at 0) maximising the likelihood of `golds`.

    A softmax over (score + bias) with the biases its only parameters (a bias-only multinomial
    logistic regression, as in contextual calibration), fitted by gradient ascent on held-in steps.
    """
    if not scores or len(scores) != len(golds):
        raise ValueError("fit_role_bias: expected as many score dicts as gold decisions, and some")
    bias = [0.0] * len(DECISIONS)
    for _ in range(steps):
        grad = [0.0] * len(DECISIONS)
        for s, gold in zip(scores, golds, strict=True):
            logits = [s[d] + b for d, b in zip(DECISIONS, bias, strict=True)]
            top = max(logits)
            weights = [math.exp(x - top) for x in logits]
            total = sum(weights)
            for i, d in enumerate(DECISIONS):
                grad[i] += float(d == gold) - weights[i] / total
        bias = [0.0] + [b + rate * g / len(scores) for b, g in zip(bias[1:], grad[1:], strict=True)]
    return tuple(round(b, 3) for b in bias)


def fit_asked_thresholds(margins: Sequence[dict[str, float]], golds: Sequence[str]) -> tuple[float, float]:
    """The (answered, give-up) thresholds with the most held-in steps right (`choose_asked`), found by search.

    Candidates are the midpoints between the observed margins; ties go to the highest answered
    threshold (the fewest calls stopped), then the highest give-up threshold.
    """
    if not margins or len(margins) != len(golds):
        raise ValueError("fit_asked_thresholds: expected as many margin dicts as gold decisions, and some")

    def cuts(key: str) -> list[float]:
        v = sorted({m[key] for m in margins})
        return [v[0] - 1.0, *((a + b) / 2 for a, b in itertools.pairwise(v)), v[-1] + 1.0]

    best: tuple[int, float, float] | None = None
    for a in cuts("answered"):
        for g in cuts("give_up"):
            right = sum(choose_asked(m, (a, g)) == gold for m, gold in zip(margins, golds, strict=True))
            if best is None or (right, a, g) > best:
                best = (right, a, g)
    assert best is not None
    return round(best[1], 4), round(best[2], 4)
