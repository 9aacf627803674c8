"""Decisions of the roles by comparing the model's scores of the alternatives, not by parsing free text.

A 0.5B model asked to write `Next: caller | conclusion | give up` copies the prompt's format line and
writes `Next: caller` on every step. So the planner's rationale is still generated, and the next role
is then the alternative whose continuation of that rationale (` Next: caller`, ` Next: conclusion`,
` Next: give up`, the paper's planner format) the model scores highest, plus a per-role bias
calibrated once on held-in dialogues (`fit_role_bias`; the values and their source are the config's).
Every continuation starts with the same rationale, so the comparison is that of the markers' summed
token log-probabilities. The markers' scores carry no signal about the role with the 0.5B (it favours
caller by ~4.5 nats on every step); a plain question carries some: "asked" puts the dialogue to the
model as a yes/no question (does it already hold what the user asked for?) and reads its yes-minus-no
log-odds (AUC 0.77 for gold stops against caller steps on ToolBench's first 200 steps, 0.67 on the
held-in 201-360); a logistic regression on them and the calls made so far, fitted once on held-in
steps (`fit_asked_rule`), decides whether to stop, and two statements' scores tell give up from
conclusion. The caller's tool is the name whose `Action: NAME` line scores highest, less a penalty
for a name the dialogue already called (the newline ends the name, so a name that is a prefix of
another is not favoured), optionally less the name's score after a content-free caller prompt
(`tool_prior`), optionally plus the user's request's overlap with the tool (`request_overlap`: the
request's content words found in the tool's name and description, a decision grounded in the text).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

from ratiocinator.agents.tool_agent.context import ToolAgentContext
from ratiocinator.agents.tool_agent.prompts import (
    DECISIONS,
    Decision,
    caller_prompt,
    parse_decision,
)
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


#: the calls counted in the "asked" rule's feature are capped here (few dialogues make more)
MAX_CALLS = 5


def asked_margins(ctx: ToolAgentContext[Any], prompt: str, history: str) -> dict[str, float]:
    """The model's yes-minus-no log-odds that the dialogue answers the request, give-up-minus-conclusion, calls so far."""
    cfg = ctx.config
    yes, no = ctx.backend.score(conversation(cfg.ask_prompt.format(doc=ctx.docs, history=history)), ["yes", "no"])
    done, failed = ctx.backend.score(conversation(prompt), list(cfg.role_statements))
    calls = len(re.findall(r"^caller:", history, re.M))
    return {"answered": float(yes - no), "give_up": float(failed - done), "calls": float(calls)}


def asked_features(margins: dict[str, float]) -> tuple[float, float, float]:
    """(1, the answered log-odds, the calls so far capped at MAX_CALLS): what asked_weights weigh."""
    return 1.0, margins["answered"], min(margins["calls"], MAX_CALLS)


def stop_logit(margins: dict[str, float], weights: Sequence[float]) -> float:
    """w0 + w1 * answered log-odds + w2 * calls so far (capped at MAX_CALLS): the log-odds of a stop."""
    return sum(w * x for w, x in zip(weights, asked_features(margins), strict=True))


def choose_asked(margins: dict[str, float], weights: Sequence[float], give_up: float) -> Decision:
    """caller unless the stop log-odds are positive; then give up above the `give_up` threshold, else conclusion."""
    if stop_logit(margins, weights) <= 0:
        return "caller"
    return "give up" if margins["give_up"] > give_up else "conclusion"


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
        decision = choose_asked(margins, ctx.config.asked_weights, ctx.config.give_up_threshold)
        return thought, decision, {"margins": margins, "written": written}
    scores = role_scores(ctx, prompt, thought)
    decision = choose_role(scores, ctx.config.decision_bias)
    return thought, decision, {"scores": scores, "written": written}


def tool_scores(ctx: ToolAgentContext[Any], prompt: str) -> dict[str, float]:
    """Log-probability of `Action: NAME` + newline for each tool, as the caller's answer to `prompt`."""
    names = list(ctx.tools)
    raw = ctx.backend.score(conversation(prompt), [f"Action: {n}\n" for n in names])
    return {n: float(s) for n, s in zip(names, raw, strict=True)}


def content_free_scores(ctx: ToolAgentContext[Any]) -> dict[str, float]:
    """Each name's score after the caller prompt with no dialogue and no thought (the same tool documents
    and name list): the part of a name's score that comes from the name itself, whatever the step.
    Computed once per context (a run's steps share it)."""
    if "content_free" not in ctx.memo:
        ctx.memo["content_free"] = tool_scores(ctx, caller_prompt(ctx.docs, ctx.tools, history="", thought=""))
    return ctx.memo["content_free"]


def called(names: Sequence[str], dialogue: str) -> set[str]:
    """The names the dialogue already shows a call of (an `Action: NAME` line)."""
    return {n for n in names if re.search(rf"Action:\s*{re.escape(n)}\s*$", dialogue, re.M)}


#: English function words, left out of the request's overlap with a tool (no library among the
#: dependencies ships a stop list; these are the words that say nothing about which tool is meant)
STOP_WORDS = frozenset(
    "a an the of to for and or in on at by with from is are be this that it its me my you your we our "
    "please can could would like want get give find also some any all about as into what which how do does "
    "i".split()
)


def content_words(text: str) -> set[str]:
    """The lower-cased words of three or more letters that are not STOP_WORDS (`get_user_id` -> {"user"})."""
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in STOP_WORDS}


def request_overlap(request: str, name: str, description: str) -> float:
    """How much the request names the tool: its content words found in the tool's name and description,
    over the square root of the tool's content-word count (a long description does not win by length)."""
    tool = content_words(f"{name} {description}")
    return len(content_words(request) & tool) / math.sqrt(len(tool)) if tool else 0.0


def choose_tool(ctx: ToolAgentContext[Any], prompt: str, dialogue: str = "", request: str = "") -> str:
    """The tool whose name the model scores highest after the caller's prompt (the only one, unscored).

    With `config.tool_prior` "content-free" each score is less the name's `content_free_scores` (a name's
    length and place in the list stop deciding). A name the `dialogue` already called loses
    `config.called_penalty` nats: a small model scores the name it has just read in the history highest
    (fitted on held-in steps). With `config.request_overlap` w, each name gains w × its
    `request_overlap` with the user's `request` (fitted with the penalty on held-in steps).
    """
    if len(ctx.tools) == 1:
        return next(iter(ctx.tools))
    scores = tool_scores(ctx, prompt)
    if ctx.config.tool_prior == "content-free":
        free = content_free_scores(ctx)
        scores = {n: s - free[n] for n, s in scores.items()}
    penalty = ctx.config.called_penalty
    if penalty and dialogue:
        for name in called(list(scores), dialogue):
            scores[name] -= penalty
    weight = ctx.config.request_overlap
    if weight and request:
        for name in scores:
            scores[name] += weight * request_overlap(request, name, getattr(ctx.tools[name], "description", ""))
    return max(scores, key=lambda n: scores[n])


def fit_called_penalty(
    scores: Sequence[dict[str, float]], called_names: Sequence[set[str]], golds: Sequence[str],
    *, grid: Sequence[float] = tuple(x / 4 for x in range(41)),
) -> float:
    """The penalty from `grid` with the most held-in gold tools scored highest (ties: the smallest)."""
    no_overlap = [dict.fromkeys(s, 0.0) for s in scores]
    return fit_tool_rule(scores, called_names, no_overlap, golds, penalties=grid, weights=(0.0,))[0]


def fit_tool_rule(
    scores: Sequence[dict[str, float]], called_names: Sequence[set[str]], overlaps: Sequence[dict[str, float]],
    golds: Sequence[str], *, penalties: Sequence[float] = tuple(x / 2 for x in range(21)),
    weights: Sequence[float] = tuple(x / 2 for x in range(21)),
) -> tuple[float, float]:
    """(called penalty, request-overlap weight) with the most held-in gold tools scored highest (ties: the
    smaller weight, then the smaller penalty); `overlaps` holds each step's `request_overlap` per name."""
    if not scores or not len(scores) == len(called_names) == len(overlaps) == len(golds):
        raise ValueError("fit_tool_rule: expected as many score dicts, called sets, overlaps and golds, and some")
    steps = (scores, called_names, overlaps, golds)
    return max(itertools.product(penalties, weights),
               key=lambda pw: (tool_rule_right(*steps, *pw), -pw[1], -pw[0]))


def tool_rule_right(scores: Sequence[dict[str, float]], called_names: Sequence[set[str]],
                    overlaps: Sequence[dict[str, float]], golds: Sequence[str], penalty: float, weight: float) -> int:
    """How many steps' gold tool scores highest: each name's score, less `penalty` if called, plus `weight` × overlap."""
    n = 0
    for s, c, o, gold in zip(scores, called_names, overlaps, golds, strict=True):
        adjusted = {k: v - (penalty if k in c else 0.0) + weight * o.get(k, 0.0) for k, v in s.items()}
        n += max(adjusted, key=lambda k: adjusted[k]) == gold
    return n


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


def fit_asked_rule(
    margins: Sequence[dict[str, float]], golds: Sequence[str], *, calls: bool = True, steps: int = 5000,
    rate: float = 0.1,
) -> tuple[tuple[float, float, float], float]:
    """(asked_weights, give_up_threshold) fitted on held-in steps.

    The weights are a logistic regression of "not the caller" on the answered log-odds (and the calls
    so far, unless `calls=False`), fitted by gradient ascent; the give-up threshold is the cut between
    the held-in non-caller steps' give-up margins with the most of them right (ties: the highest).
    """
    if not margins or len(margins) != len(golds):
        raise ValueError("fit_asked_rule: expected as many margin dicts as gold decisions, and some")
    rows = [asked_features(m) if calls else (*asked_features(m)[:2], 0.0) for m in margins]
    w = [0.0, 0.0, 0.0]
    for _ in range(steps):
        grad = [0.0, 0.0, 0.0]
        for x, gold in zip(rows, golds, strict=True):
            z = sum(wi * xi for wi, xi in zip(w, x, strict=True))
            err = float(gold != "caller") - 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
            grad = [g + err * xi for g, xi in zip(grad, x, strict=True)]
        w = [wi + rate * g / len(rows) for wi, g in zip(w, grad, strict=True)]
    stops = [(m["give_up"], gold) for m, gold in zip(margins, golds, strict=True) if gold != "caller"]
    cuts = sorted({g for g, _ in stops}) or [0.0]
    cuts = [cuts[0] - 1.0, *((a + b) / 2 for a, b in itertools.pairwise(cuts)), cuts[-1] + 1.0]
    give_up = max(cuts, key=lambda c: (sum((g > c) == (gold == "give up") for g, gold in stops), c))
    return (round(w[0], 4), round(w[1], 4), round(w[2], 4)), round(give_up, 4)
