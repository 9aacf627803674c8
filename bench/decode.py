"""Decode benchmark of the transformers backend: tokens/s at batch 1 and 8, prefill tokens/s, peak RSS.

Each (model, dtype) runs in its own subprocess so that peak RSS is that configuration's alone. In one
process it times, on the same prompt and greedy (so every variant emits the same tokens):
transformers' own eager `model.generate` (hf_generate), our loop over the model's forward with a
DynamicCache (dynamic), our static-cache slot decoder (slots), and with --compile the slot decoder's
torch.compile'd step. Ratios, not absolute figures, are what to compare across machines.
Prints a table and writes JSON.

    python bench/decode.py [--models smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct] [--compile]
                           [--dtypes float32,bfloat16] [--tokens 64] [--threads N] [--out bench/results/decode.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

PROMPT = "Write a long, detailed story about a dragon who learns to program computers."


def _measure(model: str, dtype: str, tokens: int, threads: int | None, compile_: bool) -> dict:
    import torch

    from ratiocinator.models import SamplingParams, load_backend
    from ratiocinator.models.hf import HFBackend, HFConfig

    t0 = time.perf_counter()
    slots = load_backend(f"embedded:{model}", dtype=dtype, threads=threads)
    load_s = time.perf_counter() - t0
    dynamic = HFBackend(slots.path, name=slots.name, config=HFConfig(dtype=dtype, threads=threads, fast_decode=False))
    conv = [{"role": "user", "content": PROMPT}]
    params = SamplingParams(max_tokens=tokens)  # greedy: every variant produces the same tokens

    def rate(backend, n: int) -> float:
        backend.generate([conv], params.model_copy(update={"max_tokens": 4}))  # warm-up
        start = time.perf_counter()
        outs = backend.generate([conv] * n, params)
        return sum(c.completion_tokens for c in outs) / (time.perf_counter() - start)

    row = {"model": model, "dtype": dtype, "threads": slots.info.threads, "load_s": round(load_s, 2)}
    row["slots_b1"] = rate(slots, 1)
    row["dynamic_b1"] = rate(dynamic, 1)
    row["slots_b8"] = rate(slots, 8)
    row["dynamic_b8"] = rate(dynamic, 8)
    long_prompt = " ".join(["The history of computing is long and varied."] * 60)
    start = time.perf_counter()
    (out,) = slots.generate([long_prompt], SamplingParams(max_tokens=1))
    row["prefill"] = out.prompt_tokens / (time.perf_counter() - start)

    # Reference: transformers' own generate, eager, greedy, forced to the same number of new tokens.
    ids = torch.tensor([slots.encode(tuple(backend_messages(conv)))])
    with torch.inference_mode():
        slots.model.generate(ids, max_new_tokens=4, min_new_tokens=4, do_sample=False)
        start = time.perf_counter()
        slots.model.generate(ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
        row["hf_generate_b1"] = tokens / (time.perf_counter() - start)
    if compile_:
        compiled = HFBackend(slots.path, name=slots.name, config=HFConfig(dtype=dtype, threads=threads, compile=True))
        start = time.perf_counter()
        compiled.generate([conv], params.model_copy(update={"max_tokens": 4}))
        row["compile_s"] = round(time.perf_counter() - start, 1)
        row["compiled_b1"] = rate(compiled, 1)
    row["slots_over_hf_b1"] = row["slots_b1"] / row["hf_generate_b1"]
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}


def backend_messages(conv):
    from ratiocinator.models import Message

    return [Message.model_validate(m) for m in conv]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default="bench/results/decode.json")
    ap.add_argument("--compile", action="store_true", help="also time the torch.compile'd decode step")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        model, dtype = args.one.split("|")
        print(json.dumps(_measure(model, dtype, args.tokens, args.threads, args.compile)))
        return
    rows = []
    for model in args.models.split(","):
        for dtype in args.dtypes.split(","):
            cmd = [sys.executable, __file__, "--one", f"{model}|{dtype}", "--tokens", str(args.tokens)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            if args.compile:
                cmd.append("--compile")
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"done {model} {dtype}", file=sys.stderr)
    cols = ["model", "dtype", "threads", "hf_generate_b1", "dynamic_b1", "slots_b1", "slots_over_hf_b1",
            "dynamic_b8", "slots_b8", "prefill", "peak_rss_mb", "load_s"]
    if args.compile:
        cols += ["compile_s", "compiled_b1"]
    print("tokens/s (decode) and prompt tokens/s (prefill)")
    print(" | ".join(cols))
    print(" | ".join("---" for _ in cols))
    for r in rows:
        print(" | ".join(str(r[c]) for c in cols))
    result = {"machine": f"{platform.machine()} {platform.processor() or ''} cpus={_cpus()}",
              "python": platform.python_version(), "tokens": args.tokens, "rows": rows}
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}", file=sys.stderr)


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
