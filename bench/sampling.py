"""Sampled decoding with top-p: the nucleus from a partial sort against sorting the whole vocabulary, side by side.

models/decoding.filter_probs finds the top-p nucleus with `topk` of growing size (NUCLEUS_TRIES) and sorts
the whole vocabulary only when the nucleus is larger; before session 21 it always sorted (152k entries for
Qwen). Both variants run in one process on the same model, alternating, with the same seeded requests
(CQoT's sampling: temperature 0.7, top-p 0.95); `NUCLEUS_TRIES = ()` is the old whole sort. The texts are
not compared: on the llama.cpp engine a sample depends on what its prefix cache held (README, bench/kv_order.py),
so even the same variant twice differs; that the filter keeps the same tokens with the same probabilities is
tests/models/test_decoding.py. Also times filter_probs alone on (1, 151936) logits. Prints a table, writes JSON.

    python bench/sampling.py [--model llamacpp:qwen2.5-coder-0.5b-instruct] [--threads 1] [--tokens 96]
        [--rounds 3] [--out bench/results/sampling.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

PROMPTS = (
    "Explain in a few sentences why the sky is blue.",
    "Write a short Python function that checks whether a number is prime, and explain it.",
    "List three critical questions to ask about an argument that a new law will reduce crime.",
    "A farmer has 17 sheep and all but 9 run away. How many are left? Think step by step.",
)


def run_requests(backend, nucleus_tries, tokens: int, round_: int) -> tuple[float, int]:
    """(seconds, generated tokens) of the prompts sampled with `nucleus_tries` in force."""
    from ratiocinator.models import decoding
    from ratiocinator.models.types import Message, SamplingParams

    saved, decoding.NUCLEUS_TRIES = decoding.NUCLEUS_TRIES, nucleus_tries
    try:
        params = SamplingParams(temperature=0.7, top_p=0.95, max_tokens=tokens, seed=100 + round_)
        start = time.perf_counter()
        out = backend.generate([[Message(role="user", content=p)] for p in PROMPTS], params)
        seconds = time.perf_counter() - start
    finally:
        decoding.NUCLEUS_TRIES = saved
    return seconds, sum(c.completion_tokens for c in out)


def filter_alone(vocab: int, reps: int = 40) -> dict:
    """Milliseconds of one filter_probs call on (1, vocab) logits shaped like a model's, both variants."""
    import torch

    from ratiocinator.models import decoding
    from ratiocinator.models.types import SamplingParams

    params = SamplingParams(temperature=0.7, top_p=0.95)
    logits = torch.randn(1, vocab, generator=torch.Generator().manual_seed(0)) * 4.0
    out = {}
    for name, tries in (("whole sort", ()), ("partial sort", decoding.NUCLEUS_TRIES)):
        saved, decoding.NUCLEUS_TRIES = decoding.NUCLEUS_TRIES, tries
        try:
            start = time.perf_counter()
            for _ in range(reps):
                decoding.filter_probs(logits, params)
            out[name] = (time.perf_counter() - start) / reps * 1000
        finally:
            decoding.NUCLEUS_TRIES = saved
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="llamacpp:qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default="bench/results/sampling.json")
    args = ap.parse_args()

    from ratiocinator.models import decoding
    from ratiocinator.models.loading import load_backend

    backend = load_backend(args.model, threads=args.threads, cache=False)
    variants = {"whole sort": (), "partial sort": decoding.NUCLEUS_TRIES}
    times: dict[str, list[float]] = {name: [] for name in variants}
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(args.rounds):
        for name in (variants if r % 2 == 0 else reversed(list(variants))):  # alternate which goes first
            seconds, n = run_requests(backend, variants[name], args.tokens, r)
            times[name].append(seconds)
            rates[name].append(n / seconds)
    alone = filter_alone(151936)  # the Qwen2.5 vocabulary (the logits the engines sample from)
    rows = [(name, statistics.median(times[name]), statistics.median(rates[name]), alone[name]) for name in variants]
    base = rows[0][1]
    print(f"{'variant':<14}{'s (median)':>12}{'tok/s':>9}{'ratio':>8}{'filter ms':>11}")
    for name, s, rate, ms in rows:
        print(f"{name:<14}{s:>12.2f}{rate:>9.1f}{base / s:>8.2f}{ms:>11.2f}")
    result = {"model": args.model, "threads": args.threads, "tokens": args.tokens, "rounds": args.rounds,
              "machine": platform.platform(),
              "rows": [{"variant": n, "seconds": s, "tok_per_s": r, "filter_ms": ms} for n, s, r, ms in rows]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
