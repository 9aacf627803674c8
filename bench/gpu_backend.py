"""The whole transformers backend on a GPU: HFBackend with its Decoder, CUDA-graphed compiled step, grammar
masks, seeded sampling and logprobs, on a randomly initialised Qwen2.5-0.5B-shaped model with the real
tokenizer (weights cannot travel to the device machine; the tokenizer files can).

    python bench/gpu_backend.py --tokenizer DIR [--device cuda] [--tokens 64] [--out $OUT/gpu_backend.json]

Checks (each prints PASS/FAIL and goes into the JSON): a JSON-schema-constrained output parses and
validates; the same seed gives the same sample; a sample's output does not depend on the batch it ran in;
logprobs of a greedy reply sum to `score()`; batch-1 and batch-8 greedy decode tok/s through `generate`
(warm: the first call compiles and captures). Random weights make the text meaningless; validity,
determinism and speed are what is checked.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
                                           "population": {"type": "integer", "minimum": 0, "maximum": 99999}},
          "required": ["city", "population"], "additionalProperties": False}


def _import_package() -> None:
    try:
        import ratiocinator  # noqa: F401
    except ImportError:
        tmp = Path(tempfile.mkdtemp())
        (tmp / "ratiocinator").symlink_to(ROOT)
        sys.path.insert(0, str(tmp))


def _random_model_dir(tokenizer_dir: Path, device: str) -> Path:
    import torch
    from transformers import AutoConfig, Qwen2ForCausalLM

    out = Path(tempfile.mkdtemp()) / "qwen-random"
    out.mkdir()
    for f in tokenizer_dir.iterdir():
        if f.name != "config.json":
            shutil.copy(f, out / f.name)
    cfg = AutoConfig.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2ForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", type=Path, required=True, help="a directory with the Qwen2.5 config + tokenizer")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--out", default="bench/results/gpu_backend.json")
    args = ap.parse_args()
    _import_package()
    import jsonschema
    import torch

    from ratiocinator.models import SamplingParams
    from ratiocinator.models.hf import HFBackend, HFConfig

    t0 = time.perf_counter()
    path = _random_model_dir(args.tokenizer, args.device)
    backend = HFBackend(path, config=HFConfig(dtype="bfloat16", device=args.device, threads=4))
    fast = backend.decoder.fast
    report: dict = {"device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
                    "load_s": time.perf_counter() - t0, "compile": bool(fast and fast.compile),
                    "cuda_graphs": bool(fast and fast.cuda_graphs), "checks": {}, "speed": []}

    def check(name: str, ok: bool, detail: str = "") -> None:
        report["checks"][name] = {"ok": ok, "detail": detail}
        print(f"{'PASS' if ok else 'FAIL'} {name} {detail}"[:300], flush=True)

    conv = [{"role": "user", "content": "Which is the largest city of Japan? Answer as JSON."}]
    try:
        outs = backend.generate([conv] * 4, SamplingParams(schema=SCHEMA, max_tokens=48, temperature=1.0, seed=3, n=1))
        bad = []
        for c in outs:
            try:
                jsonschema.validate(json.loads(c.text), SCHEMA)
            except Exception as exc:
                bad.append(f"{c.finish_reason}: {c.text!r} ({exc})")
        check("schema-valid", not bad, "; ".join(bad) or f"{len(outs)} samples, e.g. {outs[0].text}")
    except Exception as exc:
        check("schema-valid", False, repr(exc))
    try:
        p = SamplingParams(temperature=0.8, max_tokens=24, seed=11)
        a = backend.generate([conv], p)[0].text
        b = backend.generate([conv], p)[0].text
        other = [{"role": "user", "content": "Tell me a joke."}]
        c = backend.generate([other, conv, other], p)
        check("seed-reproducible", a == b, repr(a[:60]))
        check("batch-independent-sample", c[1].text == a, f"{c[1].text[:40]!r} vs {a[:40]!r}")
    except Exception as exc:
        check("seed-reproducible", False, repr(exc))
    try:
        g = backend.generate([conv], SamplingParams(max_tokens=12, logprobs=True))[0]
        total = sum(t.logprob for t in g.logprobs)
        ids = [t.token_id for t in g.logprobs]
        if backend.tokenizer.encode(g.text, add_special_tokens=False) != ids:
            print("skip logprobs-sum-equals-score: the random model's text does not re-tokenize to its tokens")
        else:
            scored = backend.score(conv, [g.text])[0]
            check("logprobs-sum-equals-score", abs(total - scored) < 0.05 * max(1.0, abs(total)),
                  f"{total:.3f} vs {scored:.3f}")
    except Exception as exc:
        check("logprobs-sum-equals-score", False, repr(exc))
    for batch in (1, 8):
        prompts = [[{"role": "user", "content": f"Write a long story number {i}."}] for i in range(batch)]
        params = SamplingParams(max_tokens=args.tokens, stop=None)
        backend.generate(prompts, SamplingParams(max_tokens=4))  # warm-up: compile + capture this shape
        backend.generate(prompts, params)
        if args.device == "cuda":
            torch.cuda.synchronize()
        t1 = time.perf_counter()
        outs = backend.generate(prompts, params)
        if args.device == "cuda":
            torch.cuda.synchronize()
        secs = time.perf_counter() - t1
        n = sum(c.completion_tokens for c in outs)
        row = {"batch": batch, "tokens": n, "seconds": secs, "tok_s": n / secs}
        report["speed"].append(row)
        print(f"generate batch {batch}: {n} tokens in {secs:.2f} s = {n / secs:.1f} tok/s", flush=True)
    report["captures"] = getattr(fast, "captures", None)
    report["compilations"] = getattr(fast, "compilations", None)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "checks"}), flush=True)
    sys.exit(0 if all(c["ok"] for c in report["checks"].values()) else 1)


if __name__ == "__main__":
    main()
