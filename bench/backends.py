"""Backend benchmark: transformers vs in-process vLLM vs a vLLM OpenAI server, same model, same prompts.

For each backend, one after the other (never two engines at once): greedy tokens/s at batch 1 and
batch 8 (8 different chat prompts, total generated tokens over wall time), and time to first token
(first streamed chunk, median of 3). Also records each backend's greedy text for prompt 0, so that
where the three disagree is visible. All run with one thread (OMP_NUM_THREADS=1) unless --threads.
Prints a table and writes JSON.

    python bench/backends.py [--model smollm2-135m-instruct] [--dtype float32] [--tokens 64]
                             [--backends transformers,vllm,openai] [--out bench/results/backends.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

PROMPTS = [
    "Write a short story about a dragon who learns to program.",
    "Explain how a hash table works.",
    "List five uses of a paper clip.",
    "What causes the seasons on Earth?",
    "Describe the water cycle in simple terms.",
    "Give three tips for writing clear code.",
    "Why is the sky blue?",
    "Summarise the plot of a detective novel you invent.",
]
CONVS = [[{"role": "user", "content": p}] for p in PROMPTS]


def _measure(backend, tokens: int) -> dict:
    from ratiocinator.models import SamplingParams

    params = SamplingParams(max_tokens=tokens)
    backend.generate(CONVS[0], params.model_copy(update={"max_tokens": 4}), cache=False)  # warm-up
    row: dict = {}
    for batch in (1, 8):
        start = time.perf_counter()
        outs = backend.generate(CONVS[:batch], params, cache=False)
        wall = time.perf_counter() - start
        row[f"tok_s_b{batch}"] = sum(c.completion_tokens for c in outs) / wall
        row[f"tokens_b{batch}"] = sum(c.completion_tokens for c in outs)
        if batch == 1:
            row["greedy_text_p0"] = outs[0].text
    ttfts = []
    for _ in range(3):
        start = time.perf_counter()
        stream = backend.stream(CONVS[1], params.model_copy(update={"max_tokens": 8}))
        next(iter(stream))
        ttfts.append(time.perf_counter() - start)
        for _ in stream:  # drain, so the next request starts on an idle engine
            pass
    row["ttft_s"] = statistics.median(ttfts)
    return row


def run_backend(kind: str, model: str, dtype: str, tokens: int, log_dir: Path) -> dict:
    from ratiocinator.models import catalog, load_backend

    start = time.perf_counter()
    if kind == "transformers":
        backend = load_backend(f"embedded:{model}", dtype=dtype, threads=1)
        row = {"load_s": time.perf_counter() - start, **_measure(backend, tokens)}
        backend.close()
        return row
    if kind == "vllm":
        backend = load_backend(f"vllm:{model}", dtype=dtype)
        row = {"load_s": time.perf_counter() - start, **_measure(backend, tokens)}
        backend.close()
        return row
    from ratiocinator.models.openai import OpenAIBackend, OpenAIConfig
    from ratiocinator.models.vllm_server import SERVED_NAME, vllm_server

    with vllm_server(catalog.prepare(model), dtype=dtype, log=log_dir / "vllm-server.log") as url:
        backend = OpenAIBackend(OpenAIConfig(model=SERVED_NAME, base_url=url))
        row = {"load_s": time.perf_counter() - start, **_measure(backend, tokens)}
        backend.close()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--backends", default="transformers,vllm,openai")
    ap.add_argument("--out", default="bench/results/backends.json")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in args.backends.split(","):
        row = {
            "backend": kind,
            **run_backend(kind, args.model, args.dtype, args.tokens, out.parent),
        }
        rows.append(row)
        print(
            f"{kind}: {json.dumps({k: v for k, v in row.items() if k != 'greedy_text_p0'})}",
            flush=True,
        )
    print(f"\n{args.model} {args.dtype}, greedy, max {args.tokens} new tokens, {platform.node()}")
    print(f"{'backend':<14}{'load s':>8}{'tok/s b1':>10}{'tok/s b8':>10}{'TTFT s':>8}")
    for r in rows:
        print(
            f"{r['backend']:<14}{r['load_s']:>8.1f}{r['tok_s_b1']:>10.1f}{r['tok_s_b8']:>10.1f}{r['ttft_s']:>8.2f}"
        )
    print("\ngreedy text, prompt 0:")
    for r in rows:
        print(f"  {r['backend']:<13} {r['greedy_text_p0'][:90]!r}")
    meta = {
        "model": args.model,
        "dtype": args.dtype,
        "max_tokens": args.tokens,
        "host": platform.node(),
        "threads": os.environ.get("OMP_NUM_THREADS"),
    }
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
