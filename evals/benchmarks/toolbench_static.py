"""`toolbench-static`: the alpha-UMi step-level ToolBench evaluation (Plan ACC, Act.EM, Hallu., Arg.F1, ROUGE-L).

Reads `tools/toolbench_ood.json` (X-PLUG/Multi-LLM-Agent's out-of-domain test set: `tools`,
`instruction`, `conversations` with planner / caller / observation / conclusion turns). One item is
one planner step of a dialogue: the role gets the gold history up to that step and predicts the
next move, as in the reference (GLPFT/inference_utils/toolbench/infer_pipeline.py and
evaluate-multi_agent.py / evaluate-backbone.py):

- `system=alpha-umi`: the planner writes its thought; the next role is decided by the model's yes/no
  answer to whether the dialogue already holds what the user asked for, with the calls so far, and
  two statements' scores for give up against conclusion, fitted once on held-in steps
  (`decision=scored`: the `Next: ROLE` the model scores highest after its thought; `decision=text`:
  the marker it wrote, none meaning the caller); on caller the caller, given the thought, makes the
  call: the tool whose name scores highest less its score after a content-free caller prompt
  (`tool_prior`) and less `called_penalty` for a tool already called
  (`tool_choice=grammar`: decoded under a grammar over the names), the arguments under the API's
  parameters (all of them unless `require_arguments=false`), values not in the dialogue competing by
  score with values that are (`grounding=false`: not); on conclusion the summarizer writes the
  answer (`summarize=false`: not).
  The free-text system is `decision=text tool_choice=grammar grounding=false require_arguments=false`.
- `system=react`: the single-model "backbone" prompt predicts thought + action, or `conclusion:`
  (in one output of the planner's and the caller's tokens together).

The tool agent's config is the option `config` (`--set planner_max_tokens=...`, `constrained=false`);
the prompts are the config's (the paper's by default). Calibration runs: `planner_only=true` with
`ids=` held-in steps (`calibration_ids`), then `role_bias` on their rows; `always_call=true` records
the call a caller decision would make on every step, so that other decision rules can be scored
offline on the same steps. A scored run also reports `plan_acc_written`: the written marker's Plan ACC.

Metrics, per the reference scripts (the report averages each over the items that have it):
`plan_acc` (decision caller/conclusion/give up equals the gold one; all steps), `hallu` (a predicted
action that is not one of the dialogue's APIs; all steps), `act_em` (action name exact match; gold
call steps), `arg_f1` (argument F1 with half credit for a right key with a wrong value; gold call
steps whose gold input is JSON), `rouge_l` (ROUGE-L F of the answer, `rouge` package; gold conclusion
steps). Paper anchors (7B, out of domain): alpha-UMi Plan ACC 89.7, Act.EM 60.5; GPT-4 77.8 / 55.3.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.agents.tool_agent import ToolAgentConfig
from ratiocinator.agents.tool_agent import prompts as umi
from ratiocinator.agents.tool_agent.config import (
    TOOLBENCH_ASKED_WEIGHTS,
    TOOLBENCH_CALLED_PENALTY,
    TOOLBENCH_GIVE_UP_THRESHOLD,
    TOOLBENCH_TOOL_PRIOR,
)
from ratiocinator.errors import InvalidInput
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome, sha256_text

_ROLES = {"user", "assistant", "caller", "observation", "conclusion"}


class ToolBenchStaticOptions(BaseModel):
    """Which system, which file, and the tool agent's config (token budgets and history for this evaluation)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: Literal["alpha-umi", "react"] = "alpha-umi"
    file: str = "toolbench_ood.json"
    # the caller under the name grammar and the API's schema unless constrained=false; the
    # reference keeps the last 1750 tokens of history; react writes planner + caller tokens at once
    # the decisions by scores (the planner's role, the caller's tool, grounded argument values);
    # decision=text tool_choice=grammar grounding=false require_arguments=false is the free-text system
    config: ToolAgentConfig = ToolAgentConfig(
        planner_max_tokens=128,
        caller_max_tokens=96,
        summarizer_max_tokens=160,
        history_chars=5000,
        stream_tokens=False,
        # the model asked whether the dialogue answers the request, with the calls so far, fitted on
        # held-in steps 201-360 (agents/tool_agent/config.py); `--set decision=scored` compares the markers
        # (raw scores: TOOLBENCH_ROLE_BIAS measured worse, Plan ACC 0.516 against 0.710 on 62 steps)
        decision="asked",
        asked_weights=TOOLBENCH_ASKED_WEIGHTS,
        give_up_threshold=TOOLBENCH_GIVE_UP_THRESHOLD,
        decision_bias=(0.0, 0.0, 0.0),
        tool_choice="scored",
        called_penalty=TOOLBENCH_CALLED_PENALTY,
        tool_prior=TOOLBENCH_TOOL_PRIOR,
        grounding=True,
    )
    # the data do not mark required parameters; the gold calls of steps 201-1152 fill all of an
    # API's parameters in most calls, so the caller is asked for all of them (false: all optional)
    require_arguments: bool = True
    # the first item (0-based) of the run: calibration runs take held-in steps after the evaluated ones
    start: int = Field(0, ge=0)
    # only the planner's decision (calibration runs of decision_bias): no caller, no summarizer
    planner_only: bool = False
    # the summarizer writes the answer on conclusion steps (ROUGE-L); false: skipped, no rouge_l
    summarize: bool = True
    # the caller's call is also made on steps where the planner chose another role, as if it had chosen
    # the caller, and recorded as `would_call` (the metrics still count a call only where the decision is
    # caller): other decision rules can then be scored offline on the same steps
    always_call: bool = False
    # only these items (ids "dialogue/turn"; empty: all from `start`): a calibration run's held-in steps
    ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ApiDoc:
    """A ToolBench API as the roles see it: its name, description and a parameter schema from `input`."""

    name: str
    description: str
    parameters: dict[str, Any]

    def spec(self) -> Any:
        from ratiocinator.models.types import ToolSpec

        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)


def argument_f1(pred_input: str, ref_input: str) -> float | None:
    """The reference's argument F1 (None where it skips the step: a gold input that is not JSON)."""
    try:
        ref = json.loads(ref_input)
    except ValueError:
        return None
    try:
        cand = json.loads(pred_input)
        if ref == {}:
            return 1.0 if cand == {} else 0.0
        full = sum(1 for k, v in ref.items() if k in cand.keys() and cand[k] == v)
        half = sum(1 for k, v in ref.items() if k in cand.keys() and cand[k] != v)
        recall = (0.5 * half + full) / (len(ref) + 1e-30)
        precision = (0.5 * half + full) / (len(cand) + 1e-30)
        return 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    except (ValueError, AttributeError, TypeError):
        return 0.0


def rouge_l(prediction: str, reference: str) -> float:
    from rouge import Rouge

    pred = prediction if prediction.strip() not in ("", ".", ",") else "none"
    try:
        return float(Rouge().get_scores(hyps=[pred], refs=[reference])[0]["rouge-l"]["f"])
    except (ValueError, RecursionError):  # a reference with no words
        return 0.0


class ToolBenchStatic(Benchmark):
    name = "toolbench-static"
    description = (
        "alpha-UMi step-level ToolBench (out of domain): Plan ACC, Act.EM, Hallu., Arg.F1, ROUGE-L"
    )
    needs_model = True
    method = "tool-agent"
    Options = ToolBenchStaticOptions
    data_subdir = "tools"

    @cached_property
    def dialogues(self) -> list[dict[str, Any]]:
        opts: ToolBenchStaticOptions = self.options  # type: ignore[assignment]
        assert self.data_dir is not None
        path = self.data_dir / "tools" / opts.file
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"toolbench-static: cannot read {path}: {exc}") from None
        if not isinstance(data, list) or not all(
            isinstance(d, dict) and "conversations" in d for d in data
        ):
            raise InvalidInput(
                f"toolbench-static: {path} must be a list of {{tools, conversations}} objects"
            )
        return data

    def items(self) -> list[Item]:
        items = []
        for i, d in enumerate(self.dialogues):
            digest = sha256_text(json.dumps(d, sort_keys=True))[:16]
            for j, turn in enumerate(d["conversations"]):
                if turn["from"] == "assistant" and umi.parse_decision(turn["value"])[1] is not None:
                    items.append(
                        Item(id=f"{i}/{j}", inputs={"dialogue": i, "turn": j, "sha256": digest})
                    )
        opts: ToolBenchStaticOptions = self.options  # type: ignore[assignment]
        if opts.ids:
            chosen = set(opts.ids)
            return [i for i in items if i.id in chosen]
        return items[opts.start :]

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.agents.tool_agent import tool_context

        opts: ToolBenchStaticOptions = self.options  # type: ignore[assignment]
        d = self.dialogues[item.inputs["dialogue"]]
        j = item.inputs["turn"]
        conv = d["conversations"]
        history = step_history(conv, j)
        gold = umi.parse_decision(conv[j]["value"])[1]
        follow = conv[j + 1]["value"] if j + 1 < len(conv) else ""
        apis = step_apis(d, required=opts.require_arguments)
        config = opts.config
        if opts.system == "react":
            from ratiocinator.agents.react import ReActConfig

            config = ReActConfig.from_tool_agent(config)
        roles_ctx = tool_context(ctx.backend, config, apis, docs=umi.tool_doc(d["tools"]))
        if opts.system == "react":
            output = _react_step(roles_ctx, history)
        else:
            output = _alpha_umi_step(
                roles_ctx, history, planner_only=opts.planner_only, summarize=opts.summarize,
                always_call=opts.always_call,
            )
        metrics = _metrics(output, gold, follow, apis)
        output.update(gold=gold)
        usage = roles_ctx.usage.usage()
        return Outcome(
            output=output,
            score=metrics["plan_acc"],
            metrics=metrics,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )


def step_history(conv: list[dict[str, Any]], turn: int) -> list[umi.HistoryTurn]:
    """The dialogue before step `turn`, in the roles' vocabulary (system turns left out)."""
    return [umi.HistoryTurn(role=u["from"], content=u["value"]) for u in conv[:turn] if u["from"] in _ROLES]


def step_apis(dialogue: dict[str, Any], *, required: bool) -> dict[str, ApiDoc]:
    """The dialogue's APIs as the roles see them, by name (`required`: every parameter is required)."""
    return {
        t["Name"]: ApiDoc(name=t["Name"], description=str(t.get("function", "")),
                          parameters=umi.toolbench_arguments_schema(t.get("input"), required=required))
        for t in dialogue["tools"]
    }


def _react_step(ctx: Any, history: list[umi.HistoryTurn]) -> dict[str, Any]:
    """The single model's output for the step: decision, action and input, or the answer."""
    from ratiocinator.agents.react import BACKBONE, parse_backbone
    from ratiocinator.agents.tool_agent import roles

    text = umi.render_history(history, max_chars=ctx.config.history_chars)
    prompt = BACKBONE.format(doc=ctx.docs, history=text, tool_names=", ".join(ctx.tools))
    raw = roles.text(ctx, "agent", prompt, ctx.config.max_tokens)
    decision, payload = parse_backbone(raw)
    action = action_input = answer = None
    if decision == "caller":
        action, action_input = umi.split_action(raw)
    elif decision == "conclusion":
        answer = payload
    return {"raw": raw, "decision": decision, "action": action, "action_input": action_input,
            "answer": answer}


def _alpha_umi_step(
    ctx: Any,
    history: list[umi.HistoryTurn],
    *,
    planner_only: bool = False,
    summarize: bool = True,
    always_call: bool = False,
) -> dict[str, Any]:
    """The planner's decision for the step, then the caller's call or the summarizer's answer."""
    from ratiocinator.agents.tool_agent import roles
    from ratiocinator.agents.tool_agent.decide import plan

    cfg = ctx.config
    text = umi.render_history(history, max_chars=cfg.history_chars)
    prompt = cfg.planner_prompt.format(doc=ctx.docs, history=text)
    raw = roles.text(ctx, "planner", prompt, cfg.planner_max_tokens)
    thought, marker, record = plan(ctx, prompt, raw, history=text)
    decision = marker or "caller"
    output: dict[str, Any] = {"planner": raw, **record}
    action = action_input = answer = None
    if not summarize:
        output["unsummarized"] = True
    if planner_only:
        output["planner_only"] = True
    elif decision == "caller":
        call_text, problem = _call(ctx, history, thought)
        action, action_input = umi.split_action(call_text)
        output.update(caller=call_text, problem=problem)
    else:
        if always_call:
            output["would_call"] = _call(ctx, history, thought)[0]
        if decision == "conclusion" and summarize:
            with_plan = umi.render_history(
                [*history, umi.HistoryTurn(role="assistant", content=f"{thought} Next: {decision}.")],
                max_chars=cfg.history_chars,
            )
            answer = roles.text(ctx, "summarizer", cfg.summarizer_prompt.format(history=with_plan),
                                cfg.summarizer_max_tokens).strip()
            output["summarizer"] = answer
    output.update(decision=decision, action=action, action_input=action_input, answer=answer)
    return output


def _call(ctx: Any, history: list[umi.HistoryTurn], thought: str) -> tuple[str, str]:
    """(the caller's turn text, the problem when there is no call) after the planner's `thought` and `Next: caller`."""
    from ratiocinator.agents.tool_agent import roles

    step = f"{thought} Next: caller."
    with_plan = umi.render_history(
        [*history, umi.HistoryTurn(role="assistant", content=step)], max_chars=ctx.config.history_chars
    )
    prompt = umi.caller_prompt(ctx.docs, ctx.tools, history=with_plan, thought=step)
    request = next((t.content for t in reversed(history) if t.role == "user"), "")  # the latest request
    _, call_text, problem = roles.call(ctx, prompt, dialogue=with_plan, request=request)
    return call_text, problem


def _metrics(output: dict[str, Any], gold: Any, follow: str, apis: dict[str, ApiDoc]) -> dict[str, float]:
    """The reference's per-step metrics of a predicted step against the gold one."""
    decision, action = output["decision"], output["action"]
    metrics = {
        "plan_acc": float(decision == gold),
        "hallu": float(action is not None and action != "none" and action not in apis),
    }
    if "written" in output:  # a scored decision: the marker the model wrote, read as the text rule reads it
        metrics["plan_acc_written"] = float((output["written"] or "caller") == gold)
    if output.get("planner_only"):
        return metrics  # a calibration step: the planner's decision alone
    if gold == "caller":
        ref_action, ref_input = umi.split_action(follow)
        metrics["act_em"] = float(action == ref_action)
        # a wrong action scores 0; a right one with a gold input that is not JSON is skipped (as there)
        f1 = argument_f1(output["action_input"] or "{}", ref_input) if action == ref_action else 0.0
        if f1 is not None:
            metrics["arg_f1"] = f1
    elif gold == "conclusion" and not output.get("unsummarized"):
        metrics["rouge_l"] = rouge_l(output["answer"] or "none", follow)
    return metrics


def calibration_ids(bench: ToolBenchStatic, *, start: int, per_role: dict[str, int], seed: int = 0) -> list[str]:
    """Held-in steps for the role calibration: `per_role` steps of each gold decision from item `start` on, drawn by `seed`."""
    import random

    by_role: dict[str, list[str]] = {}
    for item, gold in zip(bench.items()[start:], _golds(bench, start), strict=True):
        by_role.setdefault(gold, []).append(item.id)
    rng = random.Random(seed)
    return sorted(i for role, n in per_role.items() for i in rng.sample(by_role.get(role, []), n))


def _golds(bench: ToolBenchStatic, start: int) -> list[str]:
    out = []
    for item in bench.items()[start:]:
        conv = bench.dialogues[item.inputs["dialogue"]]["conversations"]
        out.append(str(umi.parse_decision(conv[item.inputs["turn"]]["value"])[1]))
    return out


def role_bias(results: list[dict[str, Any]], priors: dict[str, float]) -> tuple[float, ...]:
    """decision_bias from a planner-only run's rows (scores, gold), shifted from the run's role shares to `priors`.

    The bias-only softmax fitted on a sample with chosen role shares gives p(role | step) under those
    shares; adding log(prior / share) per role moves it to the priors (the caller's bias stays 0).
    """
    from collections import Counter

    from ratiocinator.agents.tool_agent.decide import fit_role_bias
    from ratiocinator.agents.tool_agent.prompts import DECISIONS

    rows = [r["output"] for r in results if not r.get("error")]
    golds = [r["gold"] for r in rows]
    fitted = fit_role_bias([r["scores"] for r in rows], golds)
    share = Counter(golds)
    shifted = [b + math.log(priors[d] / (share[d] / len(golds))) for d, b in zip(DECISIONS, fitted, strict=True)]
    return tuple(round(b - shifted[0], 3) for b in shifted)
