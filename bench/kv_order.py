"""How much a reused prefix's numbers move when llama.cpp puts the new cells in front of the copied ones.

For each model: a cached engine scores a 60-word text and a prompt P1 (both kept by its prefix cache);
then the text is evicted (its cells, the lowest, are free) or kept, and a prompt P0 that shares P1's
first tokens is scored with a fixed continuation — P0's own cells land in front of the copied ones when
the text was evicted. The same score from an engine without a prefix cache is the reference. Prints a
table and writes JSON (machine, rows: model, case, score, reference, difference).

    python bench/kv_order.py [--models smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct]
        [--out bench/results/kv_order.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

from ratiocinator.models import catalog
from ratiocinator.models.llamacpp import LlamaCppBackend, LlamaCppConfig

TEXT = " ".join(f"word{i}" for i in range(60))
P1, P0 = "Fact 1: the number 1 is", "Fact 0: the number 0 is"
CONT = " the only non-negative integer that can be multiplied by itself to yield 1"


def _load(model: str, entries: int) -> LlamaCppBackend:
    return LlamaCppBackend.from_embedded(catalog.get(model), config=LlamaCppConfig(
        n_ctx=512, threads=1, prefix_cache_entries=entries, prefix_cache_tokens=500))


def measure(model: str) -> list[dict]:
    reference = _load(model, 0)
    want = reference.score(P0, [CONT])[0]
    reference.close()
    rows = []
    for case in ("kept", "evicted"):
        backend = _load(model, 8)
        backend.score(TEXT, [" a"])
        backend.score(P1, [" a"])
        if case == "evicted":
            backend.engine.prefix.evict_one()  # the text is the least recently used entry
        got = backend.score(P0, [CONT])[0]
        backend.close()
        rows.append({"model": model, "case": case, "score": got, "reference": want, "difference": got - want})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--out", default="bench/results/kv_order.json")
    args = parser.parse_args()
    rows = [row for model in args.models.split(",") for row in measure(model)]
    print(f"{'model':32} {'text':8} {'score':>10} {'fresh':>10} {'difference':>11}")
    for r in rows:
        print(f"{r['model']:32} {r['case']:8} {r['score']:10.4f} {r['reference']:10.4f} {r['difference']:+11.4f}")
    out = {"machine": platform.node(), "cpus": os.cpu_count(), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
