"""EoRA on the llama.cpp engine: the shipped GGUF, a smaller requantized type, and that type with SVD / EoRA adapters.

    python bench/gguf_eora.py [--model qwen2.5-coder-0.5b-instruct] [--types q4_0] [--ranks 64]
                              [--eval 8x256] [--calib 16x256] [--tokens 48] [--threads 1]

Every row runs on llama.cpp (models/llamacpp.py) in this one process, one after the other: perplexity
on the same held-out windows (the evaluation split of models/compress/data.py, tokenized by the
checkpoint's tokenizer; each window scored on its own, first token as the prompt), greedy batch-1
decode speed from one prompt, and the files' sizes. The smaller types are made by llama.cpp's own
quantizer from the shipped file; the adapters (models/compress/gguf_lora.py) compensate that
requantization's error against the shipped weights, calibrated sequentially on `--calib` windows.
"Gap closed" is (ppl(type) − ppl(type+adapter)) / (ppl(type) − ppl(shipped)). Prints a markdown table
and writes bench/results/gguf-eora.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

PROMPT = "Write a long, detailed story about a dragon who learns to program computers."


def _perplexity(backend, windows) -> float:
    import math

    nll, count = 0.0, 0
    with backend._lock:
        for w in windows.tolist():
            nll -= backend.engine.score(w[:1], [w[1:]])[0]
            count += len(w) - 1
        backend.engine.clear()
    return math.exp(nll / count)


def _decode_speed(backend, tokens: int) -> float:
    from ratiocinator.models import SamplingParams

    params = SamplingParams(max_tokens=tokens, temperature=0.0)
    t0 = time.perf_counter()
    (out,) = backend.generate([{"role": "user", "content": PROMPT}], params, cache=False)
    return out.completion_tokens / (time.perf_counter() - t0)


def _row(label: str, gguf: Path, adapter: Path | None, windows, args) -> dict:
    from ratiocinator.models.llamacpp import LlamaCppBackend, LlamaCppConfig

    config = LlamaCppConfig(threads=args.threads, n_ctx=4096, lora=None if adapter is None else str(adapter))
    backend = LlamaCppBackend(gguf, name=label, config=config, cache=False)
    try:
        ppl = _perplexity(backend, windows)
        speed = _decode_speed(backend, args.tokens)
    finally:
        backend.close()
    size = gguf.stat().st_size + (adapter.stat().st_size if adapter else 0)
    row = {"config": label, "ppl": round(ppl, 4), "decode_tok_s": round(speed, 2), "mb": round(size / 1e6, 1)}
    print(f"| {label} | {ppl:.3f} | {speed:.1f} | {row['mb']} |", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--types", default="q4_0")
    parser.add_argument("--ranks", default="64")
    parser.add_argument("--eval", default="8x256")
    parser.add_argument("--calib", default="16x256")
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch
    from transformers import AutoTokenizer

    import ratiocinator.models.catalog as catalog
    from ratiocinator.models.compress.config import EoRAConfig
    from ratiocinator.models.compress.data import token_windows
    from ratiocinator.models.compress.gguf_lora import GGUFCompression, embedded_compressed

    torch.set_num_threads(args.threads)
    model = catalog.get(args.model)
    tok = AutoTokenizer.from_pretrained(catalog.prepare(model))
    n_eval, len_eval = (int(x) for x in args.eval.split("x"))
    n_cal, len_cal = (int(x) for x in args.calib.split("x"))
    windows = token_windows(tok, split="evaluation", n=n_eval, seq_len=len_eval)
    print("| config | ppl | decode tok/s | MB (file + adapter) |\n|---|---:|---:|---:|", flush=True)
    rows = [_row("shipped " + model.name, catalog.gguf_file(model), None, windows, args)]
    for ftype in args.types.split(","):
        small, _ = embedded_compressed(model, GGUFCompression.parse(ftype), threads=args.threads)
        plain = _row(ftype, small, None, windows, args)
        rows.append(plain)
        for rank in (int(r) for r in args.ranks.split(",")):
            for method in ("svd", "eigen"):
                eora = EoRAConfig(rank=rank, method=method, calibration_samples=n_cal, calibration_len=len_cal)
                t0 = time.perf_counter()
                _, adapter = embedded_compressed(model, GGUFCompression(ftype=ftype.upper(), eora=eora),
                                                 threads=args.threads)
                row = _row(f"{ftype}+{eora.label}", small, adapter, windows, args)
                row["adapter_s"] = round(time.perf_counter() - t0, 1)
                gap = plain["ppl"] - rows[0]["ppl"]
                row["gap_closed"] = round((plain["ppl"] - row["ppl"]) / gap, 3) if gap > 0 else None
                rows.append(row)
    out = Path(__file__).parent / "results" / "gguf-eora.json"
    out.parent.mkdir(exist_ok=True)
    machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "load_avg": os.getloadavg()}
    out.write_text(json.dumps({"model": args.model, "eval": args.eval, "calibration": args.calib, "machine": machine,
                               "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
