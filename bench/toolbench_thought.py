"""The caller's tool choice with and without the planner's generated thought, on the same recorded ToolBench steps.

Issue 21. For every gold caller step of a toolbench-static run directory (default: the `core` suite's,
records/suite-core-0.5b/toolbench-static), the tool the caller's rule picks (toolbench-static's
defaults: content-free scores less the called penalty) after the planner thought that run generated,
and after no thought ("Next: caller."), in one process; one JSON line per step (gold, both choices,
the run's own action and decision), resumable. Prints the summary (also with --summary alone).

    python bench/toolbench_thought.py OUT.jsonl [--run records/suite-core-0.5b/toolbench-static]
        [--model llamacpp:qwen2.5-coder-0.5b-instruct] [--data-dir ../shared/data] [--summary]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from ratiocinator.agents.tool_agent import prompts as umi
from ratiocinator.agents.tool_agent import tool_context
from ratiocinator.agents.tool_agent.decide import choose_tool
from ratiocinator.evals.benchmarks import toolbench_static as tbs
from ratiocinator.models import load_backend


def _choice(ctx, history: list[umi.HistoryTurn], thought: str, chars: int) -> str:
    step = f"{thought} Next: caller.".strip()
    text = umi.render_history([*history, umi.HistoryTurn(role="assistant", content=step)], max_chars=chars)
    if len(ctx.tools) == 1:
        return next(iter(ctx.tools))
    return choose_tool(ctx, umi.caller_prompt(ctx.docs, ctx.tools, history=text, thought=step), text)


def measure(bench: tbs.ToolBenchStatic, backend, record: dict, contexts: dict) -> dict:
    """Both choices for one recorded gold caller step."""
    item = bench.by_id[record["item_id"]]
    d = bench.dialogues[item.inputs["dialogue"]]
    j, conv = item.inputs["turn"], d["conversations"]
    history = tbs.step_history(conv, j)
    key = item.inputs["dialogue"]
    if key not in contexts:
        apis = tbs.step_apis(d, required=True)
        contexts[key] = tool_context(backend, bench.options.config, apis, docs=umi.tool_doc(d["tools"]))
    ctx, chars = contexts[key], bench.options.config.history_chars
    thought = umi.parse_decision(record["output"].get("planner") or "")[0]
    return {"id": record["item_id"], "gold": umi.split_action(conv[j + 1]["value"])[0],
            "pipeline": record["output"].get("action"), "pipeline_decision": record["output"].get("decision"),
            "generated": _choice(ctx, history, thought, chars), "none": _choice(ctx, history, "", chars),
            "thought": thought[:200]}


def summary(path: Path) -> None:
    rows = [json.loads(line) for line in path.open()]
    n = len(rows)
    for key in ("generated", "none", "pipeline"):
        k = sum(r[key] == r["gold"] for r in rows)
        p, z = k / n, 1.96
        c, h = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        print(f"{key:10} {k}/{n} = {p:.3f}  Wilson [{(c - h) / (1 + z * z / n):.2f}, {(c + h) / (1 + z * z / n):.2f}]")
    called = [r for r in rows if r["pipeline_decision"] == "caller"]
    print(f"same choice with and without the thought: {sum(r['generated'] == r['none'] for r in rows)}/{n}; "
          f"the run decided caller on {len(called)}, its tool = the 'generated' choice on "
          f"{sum(r['pipeline'] == r['generated'] for r in called)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--run", type=Path, default=Path("records/suite-core-0.5b/toolbench-static"))
    parser.add_argument("--model", default="llamacpp:qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--summary", action="store_true", help="only summarise OUT")
    args = parser.parse_args()
    if not args.summary:
        done = {json.loads(line)["id"] for line in args.out.open()} if args.out.exists() else set()
        backend = load_backend(args.model, threads=1)
        bench = tbs.ToolBenchStatic(tbs.ToolBenchStaticOptions(), args.data_dir)
        bench.by_id = {it.id: it for it in bench.items()}
        records = [json.loads(line) for line in (args.run / "results.jsonl").open()]
        contexts: dict = {}
        with args.out.open("a") as f:
            for record in records:
                if record["output"].get("gold") == "caller" and record["item_id"] not in done:
                    f.write(json.dumps(measure(bench, backend, record, contexts)) + "\n")
                    f.flush()
    summary(args.out)


if __name__ == "__main__":
    main()
