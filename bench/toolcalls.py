"""Tool-call reliability of a small model, layer by layer: strict parse, tolerant parse, retry, constrained.

    nice -n 10 python bench/toolcalls.py [--model embedded:qwen2.5-coder-0.5b-instruct] [--threads 1]
        [--limit 60] [--tools NAME,...] [--max-tokens 96] [--retries 2] [--cache FILE] [--out FILE]

For each task of bench/toolcall_tasks.py (a request and three offered tools, greedy decoding, the
tools in the model's chat template) a call *executes* when it names the right tool, its arguments
are valid under the tool's JSON schema and the Python tool runs them without an error. Columns:
  strict       the backend's hermes parse (`<tool_call>{json}</tool_call>` or one bare JSON object), no coercion
  tolerant     models/toolcalls.parse_tool_call on the same text
  +retry       models/toolcalling.call_tool, free text, the parse error fed back up to --retries times
  constrained  decoding under tool_call_schema (xgrammar), no retry
  +retry       constrained, with the retry
Prints a table and writes the full report (per-task texts and outcomes, seconds, tokens) as JSON.
Generation goes through a ResponseCache, so a re-run decodes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ratiocinator"
LAYERS = ("strict", "tolerant", "retry", "constrained", "constrained_retry")


def _execute(tools: dict[str, Any], expected: str, name: str, arguments: dict[str, Any]) -> str:
    """'ok', or why the call does not execute."""
    if name != expected:
        return f"wrong tool {name}"
    try:
        tools[name].run(arguments)
    except Exception as exc:  # the tool refusing its arguments is the outcome being measured
        return f"tool raised {type(exc).__name__}: {str(exc).splitlines()[0][:100]}"
    return "ok"


def run_task(backend: Any, task: Any, args: argparse.Namespace) -> dict[str, Any]:
    import jsonschema
    from toolcall_tasks import TOOLS

    from ratiocinator.models.toolcalling import ToolCallingConfig, call_tool, raw_text
    from ratiocinator.models.toolcalls import ToolCallParseError, parse_tool_call
    from ratiocinator.models.types import Message, SamplingParams

    specs = [TOOLS[n].spec for n in task.offered]
    messages = [Message(role="user", content=task.prompt)]
    params = SamplingParams(max_tokens=args.max_tokens)
    row: dict[str, Any] = {"prompt": task.prompt, "tool": task.tool, "offered": list(task.offered)}

    def layer(mode: str, retries: int) -> tuple[dict[str, Any], Any]:
        t0 = time.perf_counter()
        try:
            result = call_tool(
                backend,
                messages,
                specs,
                params,
                config=ToolCallingConfig(mode=mode, retries=retries),
            )
        except ToolCallParseError as exc:
            return {
                "outcome": f"parse error: {str(exc).splitlines()[0][:160]}",
                "attempts": retries + 1,
                "seconds": time.perf_counter() - t0,
                "text": exc.text,
            }, None
        call = result.call
        return {
            "outcome": _execute(TOOLS, task.tool, call.name, call.arguments),
            "attempts": result.attempts,
            "call": {"name": call.name, "arguments": call.arguments},
            "seconds": time.perf_counter() - t0,
            "tokens": sum(c.completion_tokens for c in result.completions),
            "texts": [raw_text(c) for c in result.completions],
        }, result

    # free text, one attempt: the strict and tolerant readings of the same completion
    first, _ = layer("free", 0)
    (completion,) = backend.generate(
        messages, params.model_copy(update={"tools": tuple(specs)})
    )  # cached
    text = raw_text(completion)
    if completion.tool_calls:
        call = completion.tool_calls[0]
        try:
            jsonschema.validate(call.arguments, TOOLS[call.name].spec.parameters)
            strict = _execute(TOOLS, task.tool, call.name, call.arguments)
        except jsonschema.ValidationError as exc:
            strict = f"schema: {exc.message[:100]}"
    else:
        strict = "no hermes call"
    try:
        call = parse_tool_call(text, specs)
        tolerant = _execute(TOOLS, task.tool, call.name, call.arguments)
    except ToolCallParseError as exc:
        tolerant = f"parse error: {str(exc).splitlines()[0][:160]}"
    row["text"] = text
    row["seconds_first"] = first["seconds"]
    row["strict"] = {"outcome": strict}
    row["tolerant"] = {"outcome": tolerant}
    row["retry"], _ = layer("free", args.retries)
    row["constrained"], _ = layer("constrained", 0)
    row["constrained_retry"], _ = layer("constrained", args.retries)
    return row


def prefill_batches(
    backend: Any, todo: list[Any], args: argparse.Namespace, started: float
) -> None:
    """Decode every attempt the layers will ask for, batched per tool (same tools, same params), into
    the response cache; `call_tool` per task then reads them all from there.

    Round r holds the tasks whose attempt r-1 did not parse, their conversations extended exactly
    as `call_tool` extends them (the attempt as the assistant turn, the feedback as the user turn).
    """
    from toolcall_tasks import TOOLS

    from ratiocinator.models.toolcalling import ToolCallingConfig, raw_text, tool_params
    from ratiocinator.models.toolcalls import ToolCallParseError, parse_tool_call
    from ratiocinator.models.types import Message, SamplingParams

    groups: dict[tuple[str, ...], list[Any]] = {}
    for task in todo:
        groups.setdefault(task.offered, []).append(task)
    for i, (offered, group) in enumerate(groups.items()):
        specs = [TOOLS[n].spec for n in offered]
        for constrained in (False, True):
            params = tool_params(
                SamplingParams(max_tokens=args.max_tokens), specs, ToolCallingConfig(), constrained
            )
            pending = [[Message(role="user", content=t.prompt)] for t in group]
            for attempt in range(args.retries + 1):
                if not pending:
                    break
                completions = backend.generate(pending, params)
                failed = []
                for conversation, completion in zip(pending, completions, strict=True):
                    text = raw_text(completion)
                    try:
                        parse_tool_call(text, specs)
                    except ToolCallParseError as exc:
                        failed.append(
                            [
                                *conversation,
                                Message(role="assistant", content=text),
                                Message(role="user", content=exc.feedback),
                            ]
                        )
                print(
                    f"[{time.time() - started:6.0f}s] {'constrained' if constrained else 'free'} batch "
                    f"{i + 1}/{len(groups)}, attempt {attempt + 1}: {len(pending)} decoded, {len(failed)} failed",
                    file=sys.stderr,
                    flush=True,
                )
                pending = failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded:qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, default=60, help="the first N of the 60 tasks")
    parser.add_argument(
        "--tools", default=None, help="only the tasks of these comma-separated tools"
    )
    parser.add_argument(
        "--reverse",
        action="store_true",
        help="decode the last tools first (a second process on the same cache)",
    )
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=CACHE_HOME / "cache" / "toolcalls.sqlite")
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON report (default bench/results/...)"
    )
    args = parser.parse_args(argv)

    from toolcall_tasks import tasks

    from ratiocinator.models import load_backend
    from ratiocinator.models.cache import ResponseCache

    load_start, started = os.getloadavg(), time.time()
    backend = load_backend(args.model, threads=args.threads, cache=ResponseCache(args.cache))
    todo = [t for t in tasks() if not args.tools or t.tool in args.tools.split(",")][: args.limit]
    prefill_batches(backend, todo[::-1] if args.reverse else todo, args, started)
    rows = []
    for i, task in enumerate(todo):
        rows.append(run_task(backend, task, args))
        marks = " ".join(f"{k}={'ok' if rows[-1][k]['outcome'] == 'ok' else 'x'}" for k in LAYERS)
        print(
            f"[{time.time() - started:6.0f}s] {i + 1}/{len(todo)} {task.tool}: {marks}",
            file=sys.stderr,
            flush=True,
        )
    n = len(rows)
    summary = {k: sum(r[k]["outcome"] == "ok" for r in rows) for k in LAYERS}
    doc = {
        "config": {
            "model": args.model,
            "threads": args.threads,
            "limit": args.limit,
            "tasks": n,
            "max_tokens": args.max_tokens,
            "retries": args.retries,
            "decoding": "greedy",
        },
        "executes": summary,
        "share": {k: v / n for k, v in summary.items()},
        "rows": rows,
        "seconds": {"total": time.time() - started},
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_start": load_start,
            "loadavg_end": os.getloadavg(),
            "nice": os.nice(0),
        },
    }
    out = args.out or HERE / "results" / f"toolcalls-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    labels = {
        "strict": "(a) strict hermes parse",
        "tolerant": "(b) + tolerant parser",
        "retry": f"(c) + retry with feedback (<= {args.retries})",
        "constrained": "(d) constrained decoding",
        "constrained_retry": "(d) + retry with feedback",
    }
    print(f"{'layer':<36} {'executes':>9} {'share':>6}")
    for k in LAYERS:
        print(f"{labels[k]:<36} {summary[k]:>4}/{n:<4} {summary[k] / n:>6.2f}")
    print(
        f"model={args.model}, tasks={n}, max_tokens={args.max_tokens}, greedy, threads={args.threads}, "
        f"{doc['seconds']['total']:.0f} s; report: {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
