"""Where batch 8 goes on the llama.cpp engine: raw `llama_decode` of 1 vs 8 tokens, and our b8 request split.

Two measurements on the same model and thread count, in one process:
- raw: one `llama_decode` call of 1 token (one sequence) against one of 8 tokens (one step of 8
  sequences), alternating, medians of `--reps`: what llama.cpp's kernels give at batch 8 by themselves;
- ours: bench/engines.py's 8 chat prompts through our backend, first with 1 new token (the prefill of
  the 8 prompts) then with `--tokens` (the whole b8 request); b8 = generated tokens / wall, and the
  decode rate once the prefill is taken out.
Prints a table, writes JSON.

    python bench/batch8.py [--model qwen2.5-coder-0.5b-instruct] [--threads 1] [--tokens 48] [--reps 30]
        [--out bench/results/batch8.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def raw_decode(model: str, threads: int, reps: int) -> dict:
    """Medians of one 1-token and one 8-token `llama_decode` after a 40-token prompt in each of 9 sequences."""
    from ratiocinator.models import catalog
    from ratiocinator.models.llamacpp_native import ContextSpec, NativeModel

    native = NativeModel(catalog.gguf_file(catalog.get(model)), ContextSpec(n_ctx=4096, n_seq=12, threads=threads))
    prompt = list(range(1000, 1040))
    for seq in range(9):
        for start in (0, 20):
            native.decode([(prompt[k], k, seq, k == 39) for k in range(start, start + 20)])
    one, eight = [], []
    for pos in range(40, 40 + reps):
        t = time.perf_counter()
        native.decode([(5, pos, 8, True)])
        one.append(time.perf_counter() - t)
        t = time.perf_counter()
        native.decode([(5, pos, seq, True) for seq in range(8)])
        eight.append(time.perf_counter() - t)
    native.close()
    m1, m8 = statistics.median(one), statistics.median(eight)
    return {"ms_1": m1 * 1e3, "ms_8": m8 * 1e3, "cost_ratio": m8 / m1, "b1": 1 / m1, "b8": 8 / m8}


def ours(model: str, threads: int, tokens: int) -> dict:
    """Our backend on bench/engines.py's 8 prompts: the prefill alone, then the whole request."""
    from engines import CONVS

    from ratiocinator.models import SamplingParams, load_backend

    backend = load_backend(f"llamacpp:{model}", threads=threads)
    backend.generate(CONVS[1], SamplingParams(max_tokens=2), cache=False)  # warm-up
    backend.engine.clear()
    t = time.perf_counter()
    outs = backend.generate(CONVS, SamplingParams(max_tokens=1), cache=False)
    prefill = time.perf_counter() - t
    backend.engine.clear()
    t = time.perf_counter()
    full = backend.generate(CONVS, SamplingParams(max_tokens=tokens), cache=False)
    wall = time.perf_counter() - t
    backend.close()
    gen = sum(o.completion_tokens for o in full)
    return {"prompt_tokens": sum(o.prompt_tokens for o in outs), "prefill_s": prefill, "wall_s": wall,
            "generated": gen, "b8": gen / wall, "decode_only": (gen - len(CONVS)) / (wall - prefill)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--out", default="bench/results/batch8.json")
    args = ap.parse_args()
    raw = raw_decode(args.model, args.threads, args.reps)
    mine = ours(args.model, args.threads, args.tokens)
    print(f"{args.model}, {args.threads} thread(s); {platform.processor() or platform.machine()}")
    print("| measure | value |\n|---|---:|")
    print(f"| raw llama_decode, 1 token / 8 tokens (ms) | {raw['ms_1']:.1f} / {raw['ms_8']:.1f} |")
    print(f"| raw: 8 tokens cost × one | {raw['cost_ratio']:.2f} |")
    print(f"| raw tok/s at batch 1 / 8 | {raw['b1']:.1f} / {raw['b8']:.1f} |")
    print(f"| ours: the 8 prompts' prefill ({mine['prompt_tokens']} tokens, s) | {mine['prefill_s']:.2f} |")
    print(f"| ours: b8 request wall (s), generated | {mine['wall_s']:.2f}, {mine['generated']} |")
    print(f"| ours: b8 tok/s / decode only | {mine['b8']:.1f} / {mine['decode_only']:.1f} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": args.model, "threads": args.threads, "raw": raw, "ours": mine}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
