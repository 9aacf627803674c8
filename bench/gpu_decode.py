"""GPU decode benchmark for the device machine: transformers' eager `generate` vs our static-cache step, eager,
CUDA-graphed, and torch.compile'd + CUDA-graphed, on randomly initialised models of real shapes.

    python bench/gpu_decode.py [--models qwen0.5b,llama8b] [--batches 1,64] [--prompt 128] [--tokens 64]
                               [--variants generate,step,graph,compiled] [--budget 420] [--out $OUT/gpu_decode.json]

Per (model, batch, variant): decode tokens/s, ms per step, time to first token, peak GiB, and a correctness
check: the greedy tokens of row 0 and the first-step logits against transformers' own forward (bf16, so
kernels differ in the last bits: report where tokens diverge, not only pass/fail). The device has no pydantic
or xgrammar, so only `models/fastdecode.py` is imported (through a stub package) and the loop is the bare
step: prefill with the model's forward, then `FastDecoder.step` and an on-device argmax, no host sync per
token. Compile-heavy variants are skipped once `--budget` seconds have passed; the JSON is rewritten after
every row, so a run cut short still returns what it measured.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVICE = "cuda"  # --device cpu runs the same code without graphs, as a smoke test of the script

CONFIGS = {
    # Qwen2.5-0.5B's shape (the embedded default model's family), Llama-3-8B's shape.
    "qwen0.5b": ("qwen2", {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
                           "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
                           "tie_word_embeddings": True, "rope_theta": 1e6, "max_position_embeddings": 4096}),
    "llama8b": ("llama", {"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
                          "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
                          "tie_word_embeddings": False, "rope_theta": 5e5, "max_position_embeddings": 4096}),
}


def _fastdecode() -> types.ModuleType:
    """Import models/fastdecode.py alone (it needs only torch) under a stub `ratiocinator` package."""
    for name, path in (("ratiocinator", ROOT), ("ratiocinator.models", ROOT / "models")):
        # Stub packages: their __init__ would import the whole package (xgrammar, jsonschema, ...).
        if name not in sys.modules:
            pkg = types.ModuleType(name)
            pkg.__path__ = [str(path)]
            sys.modules[name] = pkg
    spec = importlib.util.spec_from_file_location("ratiocinator.models.fastdecode", ROOT / "models" / "fastdecode.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _model(name: str):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    kind, kw = CONFIGS[name]
    cls, cfg_cls = (Qwen2ForCausalLM, Qwen2Config) if kind == "qwen2" else (LlamaForCausalLM, LlamaConfig)
    torch.manual_seed(0)
    with torch.device(DEVICE):
        model = cls(cfg_cls(**kw)).to(torch.bfloat16).eval()
    return model


def _int4(model) -> None:
    """int4 group-128 weights (lm_head too) through the package's compression layer (needs pydantic)."""
    from ratiocinator.models.compress import CompressionConfig, WeightConfig
    from ratiocinator.models.compress.pipeline import compress_model

    compress_model(
        model,
        None,
        CompressionConfig(weights=WeightConfig(scheme="int4", group_size=128, head="same")),
    )


def _sync() -> None:
    import torch

    if DEVICE == "cuda":
        torch.cuda.synchronize()


def _run_generate(model, ids, tokens: int) -> dict:
    import torch

    kw = {"max_new_tokens": tokens, "min_new_tokens": tokens, "do_sample": False, "pad_token_id": 0,
          "eos_token_id": None}
    model.generate(ids, **{**kw, "max_new_tokens": 4, "min_new_tokens": 4})  # warm-up
    _sync()
    t0 = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(ids, max_new_tokens=1, min_new_tokens=1, do_sample=False, pad_token_id=0,
                             eos_token_id=None)
    _sync()
    ttft = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = model.generate(ids, **kw)
    _sync()
    total = time.perf_counter() - t0
    return {"total_s": total, "ttft_s": ttft, "step_ms": 1e3 * (total - ttft) / max(tokens - 1, 1),
            "row0": out[0, ids.shape[1]:].tolist()}


def _run_step(fd_mod, model, ids, tokens: int, *, compile_: bool, graphs: bool) -> dict:
    import torch
    from transformers import DynamicCache

    fd = fd_mod.FastDecoder(model, compile=compile_, cuda_graphs=graphs)
    slots, plen = ids.shape
    bucket = fd_mod.bucket_for(plen + tokens, fd.limit)

    def decode(n: int) -> tuple[list[int], float, float, torch.Tensor]:
        t0 = time.perf_counter()
        cache = fd.allocate(slots, bucket)
        with torch.inference_mode():
            past = DynamicCache()
            logits = model(input_ids=ids, past_key_values=past, use_cache=True, logits_to_keep=1).logits[:, -1]
            for row in range(slots):
                fd.load_prefill(cache, row, past, row, plen)
            tok = logits.argmax(-1)
            first_logits = None
            _sync()
            ttft = time.perf_counter() - t0
            out = [tok]
            for i in range(n - 1):
                step_logits = fd.step(tok, cache)
                if i == 0:
                    first_logits = step_logits
                tok = step_logits.argmax(-1)
                out.append(tok)
            _sync()
        fd.release(cache)
        return torch.stack(out, 1)[0].tolist(), ttft, time.perf_counter() - t0, first_logits

    t0 = time.perf_counter()
    decode(4)  # warm-up: compilation and graph capture happen here
    _sync()
    warm = time.perf_counter() - t0
    row0, ttft, total, first = decode(tokens)
    # Reference for the first decode step: transformers' forward over prompt + first token.
    with torch.inference_mode():
        nxt = model(input_ids=ids, logits_to_keep=1).logits[:, -1].argmax(-1)
        ref = model(input_ids=torch.cat([ids, nxt[:, None]], 1), logits_to_keep=1).logits[:, -1].float()
    diff = float((first - ref).abs().max()) if first is not None else None
    return {"total_s": total, "ttft_s": ttft, "step_ms": 1e3 * (total - ttft) / max(tokens - 1, 1),
            "warmup_s": warm, "captures": fd.captures, "compiled": fd.compile, "graphs": fd.cuda_graphs,
            "first_step_max_abs_diff": diff, "row0": row0}


def _measure(fd_mod, model, ids, name: str, batch: int, variant: str, tokens: int,
             refs: dict[tuple[str, int], list[int]]) -> dict:
    """One (model, batch, variant) row, printed; a failure is reported as a row, not raised."""
    import torch

    if DEVICE == "cuda":
        torch.cuda.reset_peak_memory_stats()
    try:
        if variant == "generate":
            r = _run_generate(model, ids, tokens)
        else:
            r = _run_step(fd_mod, model, ids, tokens, compile_=variant.endswith("compiled"),
                          graphs=variant.endswith(("graph", "compiled")))
    except Exception as exc:  # one failing variant must not lose the others
        print(f"{name:9} {batch:>5} {variant:9} FAILED {type(exc).__name__}: {exc}"[:400], flush=True)
        return {"model": name, "batch": batch, "variant": variant, "error": repr(exc)[:2000]}
    ref = refs.setdefault((name, batch), r["row0"])
    agree = next((i for i, (a, b) in enumerate(zip(r["row0"], ref, strict=False)) if a != b),
                 min(len(r["row0"]), len(ref)))
    r.update(model=name, batch=batch, variant=variant, agree=agree, tok_s=batch * 1e3 / r["step_ms"],
             peak_gib=torch.cuda.max_memory_allocated() / 2**30 if DEVICE == "cuda" else 0.0)
    dl = r.get("first_step_max_abs_diff")
    print(f"{name:9} {batch:>5} {variant:9} {r['tok_s']:9.1f} {r['step_ms']:8.2f} {1e3 * r['ttft_s']:8.1f} "
          f"{r.get('warmup_s', 0):7.1f} {r['peak_gib']:8.2f} {agree:>6} {'' if dl is None else f'{dl:.3f}':>7}",
          flush=True)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="qwen0.5b,llama8b")
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--variants", default="generate,step,graph,compiled",
                    help="generate, step, graph, compiled, int4-graph, int4-compiled")
    ap.add_argument("--budget", type=float, default=420.0, help="skip compiled variants after this many seconds")
    ap.add_argument("--out", default="bench/results/gpu_decode.json")
    ap.add_argument("--device", default="cuda", help="cuda, or cpu for a smoke test (graph variants skipped)")
    args = ap.parse_args()
    global DEVICE
    DEVICE = args.device

    import torch

    fd_mod = _fastdecode()
    start = time.perf_counter()
    rows: list[dict] = []
    meta = {"device": torch.cuda.get_device_name() if DEVICE == "cuda" else "cpu", "torch": torch.__version__,
            "transformers": __import__("transformers").__version__, "prompt": args.prompt, "tokens": args.tokens}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"{'model':9} {'batch':>5} {'variant':9} {'tok/s':>9} {'ms/step':>8} {'ttft ms':>8} {'warm s':>7} "
          f"{'peak GiB':>8} {'agree':>6} {'dlogit':>7}", flush=True)
    refs: dict[tuple[str, int], list[int]] = {}
    variants = args.variants.split(",")
    # Cheap variants of every model first, then the compiled ones while the budget lasts.
    # int4 variants last: they rewrite the model's linear layers in place (models/compress, int4 g128).
    passes = [
        [v for v in variants if v in ("generate", "step", "graph")],
        [v for v in variants if v == "compiled"],
        [v for v in variants if v.startswith("int4")],
    ]
    for pass_variants in (p for p in passes if p):
        for name in args.models.split(","):
            if pass_variants[0] != "generate" and time.perf_counter() - start > args.budget:
                print(f"{name:9} {pass_variants} skipped (budget)", flush=True)
                continue
            model = _model(name)
            if pass_variants[0].startswith("int4"):
                t0 = time.perf_counter()
                _int4(model)
                print(f"{name:9} int4 conversion {time.perf_counter() - t0:.1f} s", flush=True)
            for batch in (int(b) for b in args.batches.split(",")):
                gen = torch.Generator(device=DEVICE).manual_seed(batch)
                ids = torch.randint(100, model.config.vocab_size - 100, (batch, args.prompt), device=DEVICE,
                                    generator=gen)
                for variant in pass_variants:
                    if DEVICE != "cuda" and variant.endswith(("graph", "compiled")):
                        continue
                    if variant.endswith("compiled") and time.perf_counter() - start > args.budget:
                        print(f"{name:9} {batch:>5} {variant:9} skipped (budget)", flush=True)
                        continue
                    rows.append(_measure(fd_mod, model, ids, name, batch, variant, args.tokens, refs))
                    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
            del model
            if DEVICE == "cuda":
                torch.cuda.empty_cache()
    print(f"done in {time.perf_counter() - start:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
