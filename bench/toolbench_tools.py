"""The caller's tool rule on ToolBench's gold caller steps: the model's name scores stored once, rules fitted offline.

Issue 21. `score` stores, per gold caller step of toolbench_ood.json (the caller's prompt after the
thought "Next: caller."), every tool name's score, its content-free score, the names the dialogue
already called, and the gold tool — one JSON line per step, resumable:

    python bench/toolbench_tools.py score OUT.jsonl (--first A --last B | --run RUN_DIR)
        [--model llamacpp:qwen2.5-coder-0.5b-instruct] [--data-dir ../shared/data]

`fit` fits the called penalty and the request-overlap weight together (decide.fit_tool_rule) on one
file of held-in steps and prints the accuracy of each rule on every file (JSON with --out):

    python bench/toolbench_tools.py fit HELD.jsonl EVAL.jsonl [EVAL2.jsonl ...] [--out FILE]

Rules: the model's scores less the content-free ones with the fitted penalty alone (the benchmark's rule
before session 20), with the overlap as well, and the overlap alone (no model).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ratiocinator.agents.tool_agent import prompts as umi
from ratiocinator.agents.tool_agent import tool_context
from ratiocinator.agents.tool_agent.decide import (
    called,
    fit_called_penalty,
    fit_tool_rule,
    request_overlap,
    tool_rule_right,
    tool_scores,
)
from ratiocinator.evals.benchmarks import toolbench_static as tbs


def _bench(data_dir: Path) -> tbs.ToolBenchStatic:
    return tbs.ToolBenchStatic(tbs.ToolBenchStaticOptions(), data_dir)


def _step(bench: tbs.ToolBenchStatic, item) -> tuple[dict, list[umi.HistoryTurn], dict]:
    d = bench.dialogues[item.inputs["dialogue"]]
    j, conv = item.inputs["turn"], d["conversations"]
    history = tbs.step_history(conv, j)
    return d, history, {"gold": umi.split_action(conv[j + 1]["value"] if j + 1 < len(conv) else "")[0],
                        "role": umi.parse_decision(conv[j]["value"])[1]}


def score(out: Path, items: list, bench: tbs.ToolBenchStatic, model: str) -> None:
    from ratiocinator.models import load_backend

    done = {json.loads(line)["id"] for line in out.open()} if out.exists() else set()
    backend, config, free_cache = load_backend(model, threads=1), bench.options.config, {}
    with out.open("a") as f:
        for item in items:
            d, history, gold = _step(bench, item)
            if gold["role"] != "caller" or item.id in done:
                continue
            apis = tbs.step_apis(d, required=True)
            docs = umi.tool_doc(d["tools"])
            ctx = tool_context(backend, config, apis, docs=docs)
            text = umi.render_history([*history, umi.HistoryTurn(role="assistant", content="Next: caller.")],
                                      max_chars=config.history_chars)
            names = ", ".join(ctx.tools)
            single = {n: 0.0 for n in ctx.tools} if len(ctx.tools) == 1 else None
            raw = single or tool_scores(ctx, umi.CALLER.format(doc=docs, history=text, thought="Next: caller.",
                                                               tool_names=names))
            key = item.inputs["dialogue"]
            if key not in free_cache:
                free_cache[key] = single or tool_scores(ctx, umi.CALLER.format(doc=docs, history="", thought="",
                                                                               tool_names=names))
            f.write(json.dumps({"id": item.id, "gold": gold["gold"], "raw": raw, "base": free_cache[key],
                                "called": sorted(called(list(ctx.tools), text)), "order": list(ctx.tools)}) + "\n")
            f.flush()


def _features(rows: list[dict], bench: tbs.ToolBenchStatic) -> tuple[list, list, list, list]:
    by_id = {it.id: it for it in bench.items()}
    scores, called_sets, overlaps, golds = [], [], [], []
    for r in rows:
        d, history, _ = _step(bench, by_id[r["id"]])
        request = next((t.content for t in reversed(history) if t.role == "user"), "")
        desc = {t["Name"]: str(t.get("function", "")) for t in d["tools"]}
        scores.append({n: r["raw"][n] - r["base"][n] for n in r["order"]})
        called_sets.append(set(r["called"]))
        overlaps.append({n: request_overlap(request, n, desc.get(n, "")) for n in r["order"]})
        golds.append(r["gold"])
    return scores, called_sets, overlaps, golds


def _accuracy(features: tuple, penalty: float, weight: float, model: bool = True) -> float:
    scores, called_sets, overlaps, golds = features
    if not model:  # the words and the penalty alone
        scores = [dict.fromkeys(s, 0.0) for s in scores]
    return tool_rule_right(scores, called_sets, overlaps, golds, penalty, weight) / len(golds)


def fit(held: Path, evals: list[Path], bench: tbs.ToolBenchStatic, out: Path | None) -> None:
    sets = {p.name: _features([json.loads(line) for line in p.open()], bench) for p in [held, *evals]}
    h = sets[held.name]
    pen_alone = fit_called_penalty(h[0], h[1], h[3])
    pen, weight = fit_tool_rule(*h)
    rules = {f"model, penalty {pen_alone}": (pen_alone, 0.0, True),
             f"model, penalty {pen} + overlap x{weight}": (pen, weight, True),
             f"overlap x1 alone, penalty {pen}": (pen, 1.0, False)}
    table = {rule: {name: _accuracy(f, *args) for name, f in sets.items()} for rule, args in rules.items()}
    print("| rule (fitted on " + held.name + ") | " + " | ".join(f"{n} ({len(f[0])})" for n, f in sets.items()) + " |")
    print("|---|" + "---:|" * len(sets))
    for rule, accs in table.items():
        print(f"| {rule} | " + " | ".join(f"{a:.3f}" for a in accs.values()) + " |")
    if out is not None:
        out.write_text(json.dumps({"held": held.name, "penalty": pen, "weight": weight, "table": table}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["score", "fit"])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--last", type=int, default=200)
    parser.add_argument("--run", type=Path, help="score: the steps of this toolbench-static run directory")
    parser.add_argument("--model", default="llamacpp:qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    bench = _bench(args.data_dir)
    if args.mode == "fit":
        fit(args.files[0], args.files[1:], bench, args.out)
        return
    items = bench.items()
    if args.run is not None:
        ids = {json.loads(line)["item_id"] for line in (args.run / "results.jsonl").open()}
        items = [it for it in items if it.id in ids]
    else:
        items = items[args.first:args.last]
    score(args.files[0], items, bench, args.model)


if __name__ == "__main__":
    main()
