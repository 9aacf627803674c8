"""Compression benchmarks: perplexity table (weights, EoRA vs SVD), decode speed and RSS, GEAR KV cache.

    python bench/compress.py ppl   [--model qwen2.5-coder-0.5b-instruct] [--eval 16x512] [--calib 32x256]
    python bench/compress.py speed [--model smollm2-135m-instruct] [--configs bf16,int8,int4-g128,int4-g128+lr64]
    python bench/compress.py gear  [--model qwen2.5-coder-0.5b-instruct] [--contexts 1024,2048,4096]

ppl: every configuration is evaluated on the same held-out windows (evaluation split of models/compress
/data.py), bfloat16. EoRA / SVD ranks are computed once at the largest rank from one calibration pass of
the uncompressed model (EoRA's non-sequential variant) and truncated: the top-r factors of a rank-128
decomposition are exactly the rank-r ones. speed: peak RSS is measured per configuration in its own
subprocess; the timing loads every configuration in one process and interleaves them over several rounds,
so the ratios share the machine's load; best and median of the rounds are reported. "+lrR" adds rank-R
factors of EoRA's shape to every compressed decoder layer (their values do not change the speed).
Results print as markdown tables and go to bench/results/compress-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

PROMPT = "Write a long, detailed story about a dragon who learns to program computers."


def _cfg(spec: str):
    """'bf16' -> None; anything else through CompressionConfig.parse (small calibration for the bench)."""
    import dataclasses

    from ratiocinator.models.compress import CompressionConfig

    if spec == "bf16":
        return None
    cfg = CompressionConfig.parse(spec)
    if cfg.eora is not None and cfg.eora.method == "eigen":
        cfg = dataclasses.replace(cfg, eora=dataclasses.replace(cfg.eora, calibration_samples=16, calibration_len=256))
    return cfg


def _machine() -> dict:
    import torch

    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "load_avg": os.getloadavg(), "torch": torch.__version__, "threads": torch.get_num_threads()}


# --- perplexity ------------------------------------------------------------------------------------


def run_ppl(model: str, eval_spec: str, calib_spec: str, ranks: list[int], out: Path) -> None:
    import torch

    from ratiocinator.models import load_backend
    from ratiocinator.models.compress import CompressionConfig, WeightConfig
    from ratiocinator.models.compress.calibrate import model_covariances
    from ratiocinator.models.compress.data import perplexity, token_windows
    from ratiocinator.models.compress.eora import EigenBasis, LowRankLinear, gram_factors
    from ratiocinator.models.compress.pipeline import _set_module, compress_model, target_names

    n_eval, len_eval = (int(x) for x in eval_spec.split("x"))
    n_cal, len_cal = (int(x) for x in calib_spec.split("x"))
    rows: list[dict] = []

    def evaluate(label: str, backend, extra: dict | None = None) -> float:
        windows = token_windows(backend.tokenizer, split="evaluation", n=n_eval, seq_len=len_eval)
        t0 = time.perf_counter()
        ppl = perplexity(backend.model, windows, batch_size=4)
        rows.append({"config": label, "ppl": round(ppl, 4), "eval_s": round(time.perf_counter() - t0, 1), **(extra or {})})
        print(f"| {label} | {ppl:.3f} |", flush=True)
        return ppl

    spec = f"embedded:{model}"
    base = load_backend(spec, dtype="bfloat16")
    evaluate("bf16", base)
    cal = token_windows(base.tokenizer, split="calibration", n=n_cal, seq_len=len_cal)
    names, _ = target_names(base.model, CompressionConfig(weights=WeightConfig()))
    t0 = time.perf_counter()
    covs = model_covariances(base.model, cal, 4, names)
    cov_s = time.perf_counter() - t0
    originals = {n: base.model.get_submodule(n).weight.detach().clone() for n in names}
    del base
    for simple in ("int8", "int4-g128", "int4-g64"):
        b = load_backend(spec, dtype="bfloat16", compress=_cfg(simple))
        evaluate(simple, b)
        del b
    top = max(ranks)
    for scheme in ("int4-g128", "2:4"):
        wcfg = _cfg(scheme).weights
        b = load_backend(spec, dtype="bfloat16")
        if wcfg.needs_calibration:  # Wanda needs E[x²]: the same covariances' diagonals
            from ratiocinator.models.compress.pipeline import _LayerCompressor

            worker = _LayerCompressor(b.model, CompressionConfig(weights=wcfg))
            for n in names:
                worker.one(n, b.model.get_submodule(n), covs[n])
            worker.one("lm_head", b.model.lm_head, None, head=True)
        else:
            compress_model(b.model, b.tokenizer, CompressionConfig(weights=wcfg))
        label = wcfg.label
        if scheme == "2:4":
            evaluate(label, b)
        t0 = time.perf_counter()
        factors: dict[str, dict[str, tuple[torch.Tensor, torch.Tensor]]] = {"eigen": {}, "svd": {}}
        bases: dict[int, EigenBasis] = {}
        for n in names:
            comp = b.model.get_submodule(n)
            delta = originals[n].float() - comp.dequantized()
            cov = covs[n].mean

            def basis(c=covs[n], cache=bases) -> EigenBasis:
                if id(c) not in cache:
                    cache[id(c)] = EigenBasis.from_covariance(c.mean)
                return cache[id(c)]

            factors["eigen"][n] = gram_factors(delta, top, cov, basis)
            factors["svd"][n] = gram_factors(delta, top)
            _set_module(b.model, n, LowRankLinear(comp, *reversed(factors["svd"][n]), dtype=torch.float32))
        fact_s = time.perf_counter() - t0
        for method in ("svd", "eigen"):
            for r in ranks if scheme == "int4-g128" else [64]:
                for n in names:
                    bb, aa = factors[method][n]
                    mod = b.model.get_submodule(n)
                    mod.lora_A = aa[:r].contiguous()
                    mod.lora_B = bb[:, :r].contiguous()
                tag = "eora" if method == "eigen" else "svd"
                evaluate(f"{label}+{tag}{r}", b, {"factor_s": round(fact_s, 1), "cov_s": round(cov_s, 1)})
        del b, factors
    res = {"model": model, "eval": eval_spec, "calibration": calib_spec, "machine": _machine(), "rows": rows}
    ppl = {r["config"]: r["ppl"] for r in rows}
    for r in ranks:
        key = f"int4-g128+eora{r}"
        gap = ppl["int4-g128"] - ppl["bf16"]
        res[f"gap_closed_eora{r}"] = round((ppl["int4-g128"] - ppl[key]) / gap, 3) if gap > 0 else None
        res[f"gap_closed_svd{r}"] = round((ppl["int4-g128"] - ppl[f"int4-g128+svd{r}"]) / gap, 3) if gap > 0 else None
    print(json.dumps({k: v for k, v in res.items() if k.startswith("gap")}, indent=1))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))


# --- decode speed ----------------------------------------------------------------------------------


def _load_speed_config(model: str, config: str, threads: int):
    import torch

    from ratiocinator.models import load_backend

    base_config, _, lr = config.partition("+lr")  # "+lrR": rank-R factors of EoRA's shape (speed only)
    backend = load_backend(f"embedded:{model}", dtype="bfloat16", threads=threads, compress=_cfg(base_config))
    if lr:
        from ratiocinator.models.compress.eora import LowRankLinear
        from ratiocinator.models.compress.pipeline import _set_module, compressed_layers

        for name, mod in compressed_layers(backend.model).items():
            if name != "lm_head":
                a = torch.randn(int(lr), mod.in_features) * 1e-3
                _set_module(backend.model, name, LowRankLinear(mod, a, torch.zeros(mod.out_features, int(lr)),
                                                               dtype=torch.float32))
    return backend


def _measure_rss(model: str, config: str, threads: int) -> dict:
    from ratiocinator.models import SamplingParams
    from ratiocinator.models.compress.pipeline import weight_bytes

    backend = _load_speed_config(model, config, threads)
    backend.generate([[{"role": "user", "content": PROMPT}]], SamplingParams(max_tokens=8))
    return {"config": config, "weight_mb": round(weight_bytes(backend.model) / 1e6, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_speed(model: str, configs: list[str], tokens: int, threads: int, rounds: int, out: Path) -> None:
    """All configurations loaded in one process and timed in interleaved rounds; RSS per subprocess."""
    import torch

    from ratiocinator.models import SamplingParams

    torch.set_num_threads(threads)
    mem = {}
    for c in configs:
        proc = subprocess.run([sys.executable, __file__, "_rss", model, c, str(threads)],
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            print(proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"{c}: failed")
        mem[c] = json.loads(proc.stdout.strip().splitlines()[-1])
    backends = {c: _load_speed_config(model, c, threads) for c in configs}
    conv = [{"role": "user", "content": PROMPT}]
    params = SamplingParams(max_tokens=tokens, temperature=0.7, seed=0)
    for b in backends.values():
        b.generate([conv], SamplingParams(max_tokens=4))
    samples: dict[str, dict[int, list[float]]] = {c: {1: [], 8: []} for c in configs}
    for _ in range(rounds):  # interleaved: every configuration sees the same load over time
        for batch in (1, 8):
            for c, b in backends.items():
                start = time.perf_counter()
                outs = b.generate([conv], params.model_copy(update={"n": batch}))
                samples[c][batch].append(sum(o.completion_tokens for o in outs) / (time.perf_counter() - start))
    rows = []
    for c in configs:
        row = {**mem[c], "config": c}
        for batch in (1, 8):
            xs = sorted(samples[c][batch])
            row[f"batch{batch}_best_tok_s"] = round(xs[-1], 2)
            row[f"batch{batch}_median_tok_s"] = round(xs[len(xs) // 2], 2)
        rows.append(row)
    base = rows[0]
    for row in rows:
        for batch in (1, 8):
            for kind in ("best", "median"):
                k = f"batch{batch}_{kind}_tok_s"
                row[f"batch{batch}_{kind}_x"] = round(row[k] / base[k], 2)
        print(f"| {row['config']} | {row['batch1_best_tok_s']:.1f} ({row['batch1_best_x']}x) | "
              f"{row['batch1_median_tok_s']:.1f} ({row['batch1_median_x']}x) | "
              f"{row['batch8_best_tok_s']:.1f} ({row['batch8_best_x']}x) | "
              f"{row['weight_mb']} | {row['peak_rss_mb']} |", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": model, "tokens": tokens, "threads": threads, "rounds": rounds,
                               "machine": _machine(), "rows": rows, "samples": samples}, indent=1))


# --- GEAR ------------------------------------------------------------------------------------------


def _tensor_bytes(t) -> int:
    """Bytes of a tensor, looking inside tensor subclasses (quanto's packed tensors) through their parts."""
    import torch

    if type(t) in (torch.Tensor, torch.nn.Parameter):
        return t.numel() * t.element_size()
    names = t.__tensor_flatten__()[0] if hasattr(t, "__tensor_flatten__") else []
    return sum(_tensor_bytes(getattr(t, n)) for n in names)


def _quantized_cache_bytes(cache) -> int:
    total = 0
    for layer in cache.layers:
        for attr in ("_quantized_keys", "_quantized_values", "keys", "values"):
            t = getattr(layer, attr, None)
            if t is not None:
                total += _tensor_bytes(t)
    return total


def run_gear(model: str, contexts: list[int], score_tokens: int, out: Path) -> None:
    import torch
    from transformers import DynamicCache

    from ratiocinator.models import load_backend
    from ratiocinator.models.compress import GEARConfig
    from ratiocinator.models.compress.data import token_windows
    from ratiocinator.models.compress.gear import GEARCache, dense_cache_bytes

    backend = load_backend(f"embedded:{model}", dtype="bfloat16")
    m = backend.model
    caches = {"dynamic": lambda: DynamicCache(config=m.config),
              "gear-4bit": lambda: GEARCache.for_model(GEARConfig(bits=4), m.config),
              "gear-2bit": lambda: GEARCache.for_model(GEARConfig(bits=2), m.config),
              "gear-4bit-no-lowrank-no-outliers": lambda: GEARCache.for_model(
                  GEARConfig(bits=4, outlier_ratio=0.0, rank_prefill=0, rank_decode=0), m.config),
              "gear-2bit-no-lowrank-no-outliers": lambda: GEARCache.for_model(
                  GEARConfig(bits=2, outlier_ratio=0.0, rank_prefill=0, rank_decode=0), m.config)}
    try:
        from transformers import QuantizedCache

        QuantizedCache("quanto", m.config)
        caches["hf-quanto-4bit"] = lambda: QuantizedCache("quanto", m.config, nbits=4)
        caches["hf-quanto-2bit"] = lambda: QuantizedCache("quanto", m.config, nbits=2)
    except Exception as exc:  # the built-in quantized cache needs optimum-quanto
        print(f"transformers QuantizedCache unavailable: {str(exc).splitlines()[0]}", file=sys.stderr)
    rows = []
    for ctx in contexts:
        window = token_windows(backend.tokenizer, split="evaluation", n=1, seq_len=ctx + score_tokens)
        for name, make in caches.items():
            cache = make()
            t0 = time.perf_counter()
            with torch.inference_mode():
                first = m(input_ids=window[:, :ctx], past_key_values=cache, use_cache=True)
                prev = first.logits[:, -1:].float()
                nll = 0.0
                for t in range(ctx, ctx + score_tokens):  # decode: each step reads the (compressed) cache
                    tok = window[:, t:t + 1]
                    nll -= float(torch.log_softmax(prev, -1)[0, 0, tok[0, 0]])
                    prev = m(input_ids=tok, past_key_values=cache, use_cache=True).logits.float()
            secs = time.perf_counter() - t0
            held = cache.nbytes() if isinstance(cache, GEARCache) else (
                dense_cache_bytes(cache) if name == "dynamic" else _quantized_cache_bytes(cache))
            ppl = float(torch.exp(torch.tensor(nll / score_tokens)))
            rows.append({"context": ctx, "cache": name, "ppl": round(ppl, 4),
                         "kv_mb": None if held is None else round(held / 1e6, 2), "seconds": round(secs, 1)})
            print(f"| {ctx} | {name} | {ppl:.3f} | {rows[-1]['kv_mb']} | {secs:.0f} |", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": model, "score_tokens": score_tokens, "machine": _machine(),
                               "rows": rows}, indent=1))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_rss":
        _, _, model, config, threads = sys.argv
        print(json.dumps(_measure_rss(model, config, int(threads))))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["ppl", "speed", "gear"])
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--eval", default="16x512")
    ap.add_argument("--calib", default="32x256")
    ap.add_argument("--ranks", default="16,64,128")
    ap.add_argument("--configs", default="bf16,int8,int4-g128,int4-g128+lr64,int4-g128-headsame,int4-g128-headsame+lr64")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--contexts", default="1024,2048,4096")
    ap.add_argument("--score-tokens", type=int, default=64)
    args = ap.parse_args()
    short = args.model.split("-")[0]
    out = Path("bench/results") / f"compress-{args.what}-{short}.json"
    if args.what == "ppl":
        run_ppl(args.model, args.eval, args.calib, [int(r) for r in args.ranks.split(",")], out)
    elif args.what == "speed":
        run_speed(args.model, args.configs.split(","), args.tokens, args.threads, args.rounds, out)
    else:
        run_gear(args.model, [int(c) for c in args.contexts.split(",")], args.score_tokens, out)


if __name__ == "__main__":
    main()
