"""Decode benchmark of the transformers backend: tokens/s at batch 1 and 8, prefill tokens/s, peak RSS.

Each (model, dtype) runs in its own subprocess so that peak RSS is that configuration's alone. Beside
our decode loop it times transformers' own `model.generate` on the same prompt (greedy, same token
count) so the ratio is measured in one run on the same machine. Prints a table and writes JSON.

    python bench/decode.py [--models smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct]
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


def _measure(model: str, dtype: str, tokens: int, threads: int | None) -> dict:
    import torch

    from ratiocinator.models import SamplingParams, load_backend

    t0 = time.perf_counter()
    backend = load_backend(f"embedded:{model}", dtype=dtype, threads=threads)
    load_s = time.perf_counter() - t0
    conv = [{"role": "user", "content": PROMPT}]
    backend.generate([conv], SamplingParams(max_tokens=4))  # warm-up

    def timed(prompts, params):
        start = time.perf_counter()
        outs = backend.generate(prompts, params)
        return outs, time.perf_counter() - start

    # Sampling at temperature 1 with a seed keeps every row going for `tokens` steps more often than greedy.
    params = SamplingParams(max_tokens=tokens, temperature=0.7, seed=0)
    outs, secs = timed([conv], params)
    b1 = sum(c.completion_tokens for c in outs) / secs
    outs, secs = timed([conv], params.model_copy(update={"n": 8}))
    b8 = sum(c.completion_tokens for c in outs) / secs
    long_prompt = " ".join(["The history of computing is long and varied."] * 60)
    outs, secs = timed([long_prompt], SamplingParams(max_tokens=1))
    prefill = outs[0].prompt_tokens / secs

    # Reference: transformers' generate, greedy, forced to the same number of new tokens.
    ids = backend.encode(tuple(backend_messages(conv)))
    input_ids = torch.tensor([ids])
    with torch.inference_mode():
        backend.model.generate(input_ids, max_new_tokens=4, min_new_tokens=4, do_sample=False)
        start = time.perf_counter()
        backend.model.generate(input_ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
        hf_b1 = tokens / (time.perf_counter() - start)
    return {
        "model": model, "dtype": dtype, "threads": backend.info.threads, "load_s": round(load_s, 2),
        "batch1_tok_s": round(b1, 2), "batch8_tok_s": round(b8, 2), "prefill_tok_s": round(prefill, 1),
        "hf_generate_batch1_tok_s": round(hf_b1, 2), "ours_over_hf": round(b1 / hf_b1, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


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
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        model, dtype = args.one.split("|")
        print(json.dumps(_measure(model, dtype, args.tokens, args.threads)))
        return
    rows = []
    for model in args.models.split(","):
        for dtype in args.dtypes.split(","):
            cmd = [sys.executable, __file__, "--one", f"{model}|{dtype}", "--tokens", str(args.tokens)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"done {model} {dtype}", file=sys.stderr)
    cols = ["model", "dtype", "threads", "batch1_tok_s", "batch8_tok_s", "prefill_tok_s",
            "hf_generate_batch1_tok_s", "ours_over_hf", "peak_rss_mb", "load_s"]
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
