"""Chat latency per engine: the tool agent's answers to the issue-18 requests, from a warm and from a cold process.

For each engine (a model spec), in a subprocess of its own, one after the other:
- warm: a `ChatSession` whose backend is already loaded answers "What is 17*23?" and then the
  blocksworld request of tests/agents/test_chat_terminal.py; seconds per request, and whether the
  answer was verified (the arithmetic by sympy, the plan by the plan validator) with the expected content;
- cold: `ratiocinator chat -c "What is 17*23?"` as a new process (model load included), wall seconds.
Prints a table and writes JSON (machine, load before and after, per-engine rows).

    python bench/chat_latency.py [--engines llamacpp:qwen2.5-coder-0.5b-instruct,embedded:qwen2.5-coder-0.5b-instruct]
        [--threads 1] [--out bench/results/chat_latency.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ARITHMETIC = "What is 17*23?"
BLOCKS = "Blocksworld: now block b is on block a. Goal: block a is on block b. Give me a short plan."
ENGINES = "llamacpp:qwen2.5-coder-0.5b-instruct,embedded:qwen2.5-coder-0.5b-instruct"


def _request(session, text: str) -> dict:
    """One request through the tool agent, as the REPL runs it (repl.agent_turn): what stdout shows, and its time."""
    import io

    from ratiocinator.repl import agent_turn

    out = io.StringIO()
    start = time.monotonic()
    status = agent_turn(session, text, out)
    seconds = time.monotonic() - start
    return {"seconds": round(seconds, 2), "status": status, "answer": out.getvalue()[-400:]}


def _warm(spec: str, threads: int) -> dict:
    """Runs in the engine's subprocess: load, then time each request on the loaded backend."""
    import tempfile

    from ratiocinator.repl import ChatSession

    with tempfile.TemporaryDirectory() as tmp:
        session = ChatSession(model=spec, threads=threads, max_tokens=64, plain=False,
                              checkpoint=Path(tmp) / "chat.sqlite", time_limit=1e6)
        start = time.monotonic()
        _ = session.backend
        load = time.monotonic() - start
        arithmetic = _request(session, ARITHMETIC)
        arithmetic["ok"] = "391" in arithmetic["answer"] and "computed exactly by sympy" in arithmetic["answer"]
        blocks = _request(session, BLOCKS)
        blocks["ok"] = "(stack a b)" in blocks["answer"] and "plan validator" in blocks["answer"]
        session.chat.close()
        session.backend.close()
    return {"load_s": round(load, 2), "arithmetic": arithmetic, "blocksworld": blocks}


def _cold(spec: str, threads: int) -> dict:
    exe = Path(sys.executable).with_name("ratiocinator")
    start = time.monotonic()
    done = subprocess.run([str(exe), "chat", "--model", spec, "--threads", str(threads), "--time-limit", "1000000",
                           "-c", ARITHMETIC], capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - start
    return {"seconds": round(seconds, 2), "rc": done.returncode, "ok": "391" in done.stdout,
            "answer": done.stdout[-300:], "stderr": done.stderr[-300:] if done.returncode else ""}


def _child(spec: str, threads: int) -> None:
    print(json.dumps({"engine": spec, **_warm(spec, threads)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default=ENGINES)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "chat_latency.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child, args.threads)
    meta = {"host": platform.node(), "cpus": os.cpu_count(), "threads": args.threads,
            "load_before": list(os.getloadavg()), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    rows = []
    for spec in args.engines.split(","):
        done = subprocess.run([sys.executable, __file__, "--child", spec, "--threads", str(args.threads)],
                              capture_output=True, text=True, timeout=7200)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        row = json.loads(lines[-1]) if lines else {"engine": spec, "error": done.stderr[-500:]}
        row["cold"] = _cold(spec, args.threads)
        rows.append(row)
        print(json.dumps(row), flush=True)
    meta["load_after"] = list(os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"\n{args.threads} thread(s); load {meta['load_before'][0]:.1f} -> {meta['load_after'][0]:.1f}")
    print("| engine | load_s | 17*23 warm s | blocksworld warm s | 17*23 cold s |")
    print("|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['engine']} | error: {r['error'][-80:]!r} | | | |")
            continue
        a, b, c = r["arithmetic"], r["blocksworld"], r["cold"]
        mark = {True: "", False: " (wrong)"}
        print(f"| {r['engine']} | {r['load_s']} | {a['seconds']}{mark[a['ok']]} | {b['seconds']}{mark[b['ok']]} "
              f"| {c['seconds']}{mark[c['ok']]} |")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
