"""GPU compression benchmark for the device machine: decode throughput vs batch, peak memory; GEAR vs dynamic
KV cache, int4 weights vs bf16, on a randomly initialised Llama-style model (real shapes, no weights needed).

    python bench/gpu_compress.py [--config 8b|1b] [--batches 1,8,32,64] [--context 1024] [--steps 64]
                                 [--out $OUT/gpu_compress.json]

Prints one line per (weights, cache, batch): tokens/s, ms/step, peak GiB, KV GiB held. Runs from a copy of
the working tree: the repository root is importable as `ratiocinator` through a temporary symlink.
Budget: ~3 min for --config 1b, ~6 min for 8b on an H100 (eager decode, no CUDA graphs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {
    "1b": {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
           "num_key_value_heads": 8, "vocab_size": 128256},
    "8b": {"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
           "num_key_value_heads": 8, "vocab_size": 128256},
}


WARMUP = 4


def _int4_error() -> dict:
    """The CUDA int4 kernel against the dequantized weights it packs: relative error of one layer's output."""
    import torch

    from ratiocinator.models.compress import WeightConfig
    from ratiocinator.models.compress.quantize import scheme_for

    torch.manual_seed(0)
    linear = torch.nn.Linear(4096, 4096, bias=False, device="cuda", dtype=torch.bfloat16)
    q = scheme_for(WeightConfig(scheme="int4", group_size=128)).compress(linear)
    x = torch.randn(8, 4096, device="cuda", dtype=torch.bfloat16)
    with torch.inference_mode():
        got = q(x).float()
        want = x.float() @ q.dequantized().float().T
        exact = x.float() @ linear.weight.float().T
    return {
        "int4_kernel_vs_dequantized_rel": float((got - want).norm() / want.norm()),
        "int4_vs_bf16_rel": float((got - exact).norm() / exact.norm()),
    }


def _import_package() -> None:
    root = Path(__file__).resolve().parents[1]
    try:
        import ratiocinator  # noqa: F401

        return
    except ImportError:
        pass
    tmp = Path(tempfile.mkdtemp())
    (tmp / "ratiocinator").symlink_to(root)
    sys.path.insert(0, str(tmp))


def _model(size: str):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(**CONFIGS[size], max_position_embeddings=8192, tie_word_embeddings=False)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = LlamaForCausalLM(cfg).to(torch.bfloat16).eval()
    return model


def _int4(model) -> None:
    from ratiocinator.models.compress import CompressionConfig, WeightConfig
    from ratiocinator.models.compress.pipeline import compress_model

    compress_model(model, None, CompressionConfig(weights=WeightConfig(scheme="int4", group_size=128, head="same")))


def _decode(model, batch: int, context: int, steps: int, cache_kind: str) -> dict:
    import torch
    from transformers import DynamicCache

    from ratiocinator.models.compress import GEARConfig
    from ratiocinator.models.compress.gear import GEARCache, dense_cache_bytes

    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    ids = torch.randint(0, model.config.vocab_size, (batch, context), device="cuda")
    cache = DynamicCache(config=model.config) if cache_kind == "dynamic" else GEARCache.for_model(
        GEARConfig(bits=int(cache_kind[-1])), model.config)
    with torch.inference_mode():
        out = model(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
        nxt = out.logits[:, -1:].argmax(-1)
        for _ in range(WARMUP):  # the first steps pay for kernel selection and allocator growth
            out = model(input_ids=nxt, past_key_values=cache, use_cache=True)
            nxt = out.logits[:, -1:].argmax(-1)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(steps):
            out = model(input_ids=nxt, past_key_values=cache, use_cache=True)
            nxt = out.logits[:, -1:].argmax(-1)
        torch.cuda.synchronize()
        secs = time.perf_counter() - t0
    held = cache.nbytes() if isinstance(cache, GEARCache) else dense_cache_bytes(cache)
    return {"batch": batch, "cache": cache_kind, "tok_s": round(batch * steps / secs, 1),
            "ms_per_step": round(1000 * secs / steps, 2), "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "kv_gib": round(held / 2**30, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="8b", choices=sorted(CONFIGS))
    ap.add_argument("--batches", default="1,8,32,64")
    ap.add_argument("--context", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--caches", default="dynamic,gear4,gear2")
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "bench/results"), "gpu_compress.json"))
    args = ap.parse_args()
    _import_package()
    import torch

    rows: list[dict] = []
    device = torch.cuda.get_device_name()
    print(f"device: {device}, torch {torch.__version__}", flush=True)
    try:
        check = _int4_error()
    except Exception as exc:  # report, go on with the timings
        check = {"error": repr(exc)[:1000]}
    print(f"int4 kernel check: {check}", flush=True)
    rows.append({"check": check})
    model = _model(args.config)
    for weights in ("bf16", "int4"):
        if weights == "int4":
            t0 = time.perf_counter()
            try:
                _int4(model)
            except Exception as exc:  # the CUDA int4 packing path: report, keep the bf16 rows
                rows.append({"weights": "int4", "error": repr(exc)[:2000], "config": args.config, "device": device})
                print(f"int4 conversion FAILED: {exc!r}"[:600], flush=True)
                break
            torch.cuda.empty_cache()
            print(f"int4 conversion {time.perf_counter() - t0:.0f} s", flush=True)
        weight_gib = sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers())) / 2**30
        for cache_kind in args.caches.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                try:
                    row = _decode(model, batch, args.context, args.steps, cache_kind)
                except torch.OutOfMemoryError:
                    row = {"batch": batch, "cache": cache_kind, "error": "out of memory"}
                    torch.cuda.empty_cache()
                row.update(weights=weights, weight_gib=round(weight_gib, 2), config=args.config, device=device)
                rows.append(row)
                print(json.dumps(row), flush=True)
                _write(args, device, rows)
    _write(args, device, rows)


def _write(args: argparse.Namespace, device: str, rows: list[dict]) -> None:
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"device": device, "context": args.context, "steps": args.steps,
                                          "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
