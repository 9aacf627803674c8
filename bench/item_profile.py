"""Where one eval item's model time goes: every engine call with its prompt, the share a prefix cache could reuse, what was computed.

Runs one item of a benchmark on the llama.cpp backend without the response cache, wrapping the
engine's `run` (generation), `score` and `token_scores`. Per call: kind, prompt tokens, the tokens no earlier call's
prompt shares (what an ideal cache computes), the tokens computed, seconds, cached entries. Prints the
calls and a total line and writes JSON.

    python bench/item_profile.py optimization optmath/16 [--set set=optmath] [--model qwen2.5-coder-0.5b-instruct]
        [--data-dir ../shared/data] [--out bench/results/item_profile.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ratiocinator.evals import benchmark as B
from ratiocinator.evals.benchmark import Context, SharedBackend
from ratiocinator.models.loading import load_backend
from ratiocinator.models.prefix import common_prefix


class Recorder:
    """Wraps an engine's run and score, logging one row per call (a generation's rows, then its totals)."""

    def __init__(self, engine) -> None:
        self.engine, self.seen, self.calls = engine, [], []
        run, score, tokens = engine.run, engine.score, engine.token_scores
        engine.run = lambda rows, params: self._run(run, rows, params)
        engine.score = lambda prompt, conts: self._timed("score", [prompt], lambda: score(prompt, conts))
        engine.token_scores = lambda prompt, cont: self._timed("tokens", [prompt], lambda: tokens(prompt, cont))

    def _ideal(self, ids) -> int:
        arr = np.asarray(ids, dtype=np.int64)
        best = max((common_prefix(a, arr) for a in self.seen), default=0)
        self.seen.append(arr)
        return len(arr) - best

    def _timed(self, kind, prompts, call):
        ideal = sum(self._ideal(p) for p in prompts)
        c0, t0 = self.engine.computed_tokens, time.perf_counter()
        out = call()
        self.calls.append({"kind": kind, "rows": len(prompts), "prompt": sum(len(p) for p in prompts),
                           "ideal_new": ideal, "computed": self.engine.computed_tokens - c0,
                           "s": round(time.perf_counter() - t0, 2), "entries": len(self.engine.prefix)})
        return out

    def _run(self, run, rows, params):
        ideal = sum(self._ideal(r.prompt_ids) for r in rows)
        c0, t0 = self.engine.computed_tokens, time.perf_counter()
        yield from run(rows, params)
        self.calls.append({"kind": "generate", "rows": len(rows), "prompt": sum(len(r.prompt_ids) for r in rows),
                           "ideal_new": ideal, "computed": self.engine.computed_tokens - c0,
                           "s": round(time.perf_counter() - t0, 2), "entries": len(self.engine.prefix)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark")
    parser.add_argument("item")
    parser.add_argument("--set", action="append", default=[], help="k=v benchmark options")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", default="bench/results/item_profile.json")
    args = parser.parse_args()
    backend = load_backend(f"llamacpp:{args.model}", threads=1, cache=False)
    recorder = Recorder(backend.engine)
    cls = B.get(args.benchmark)
    bench = cls(cls.parse_options(dict(kv.split("=", 1) for kv in args.set)), data_dir=Path(args.data_dir))
    item = next(i for i in bench.items() if i.id == args.item)
    ctx = Context(backend=SharedBackend(backend), seed=0)
    bench.setup(ctx)
    t0 = time.perf_counter()
    outcome = bench.run(item, ctx)
    total = {"item": args.item, "seconds": round(time.perf_counter() - t0, 1), "score": outcome.score,
             "computed": backend.engine.computed_tokens, "prompt": sum(c["prompt"] for c in recorder.calls)}
    for call in recorder.calls:
        print(call)
    print(total)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"total": total, "calls": recorder.calls}, indent=2) + "\n")


if __name__ == "__main__":
    main()
