"""End to end with our own model: generate N solutions and M test samples per task, select, score pass@1.

    nice -n 5 python bench/selection_generate.py [--data ../shared/data/code/humaneval] [--limit 20]
        [--model embedded:qwen2.5-coder-0.5b-instruct] [--threads 1] [--n 8] [--m 4] [--max-tokens 160]
        [--temperature 0.8] [--seed 0] [--cache FILE] [--out FILE] [--json]

Prints a table (pass@1 of a raw sample, of each strategy, and pass@N) and writes the full report
(config, per-task rows, timings, counts, machine load) as JSON under bench/results/. Sampling is
seeded and goes through a ResponseCache, so a re-run decodes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data" / "code" / "humaneval"
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ratiocinator"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="HumanEval or MBPP folder")
    parser.add_argument("--limit", type=int, default=20, help="the first N tasks")
    parser.add_argument("--tasks", default=None, help="only these comma-separated task ids")
    parser.add_argument("--model", default="embedded:qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n", type=int, default=8, help="solution samples per task")
    parser.add_argument("--m", type=int, default=4, help="test samples per task")
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--test-max-tokens", type=int, default=None)
    parser.add_argument("--test-stop", action="store_true",
                        help="end test samples at \\ndef, \\nclass, \\nif, \\nprint (saves tokens; default: no stop)")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows-per-call", type=int, default=32, help="sequences per generate call")
    parser.add_argument("--strategies", default="random,maxpass,mbr_exec,codet,b4")
    parser.add_argument("--cache", type=Path, default=CACHE_HOME / "cache" / "selection-generate.sqlite",
                        help="response cache (SQLite)")
    parser.add_argument("--matrix-cache", type=Path, default=CACHE_HOME / "selection",
                        help="passing-matrix cache folder")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=None, help="JSON report (default bench/results/...)")
    parser.add_argument("--json", action="store_true", help="also print the JSON report on stdout")
    args = parser.parse_args(argv)

    from ratiocinator.errors import RatiocinatorError
    from ratiocinator.models import load_backend
    from ratiocinator.models.cache import ResponseCache
    from ratiocinator.selection.execution import ExecutionConfig, Executor
    from ratiocinator.selection.generate import GenerateConfig, load_problems, run
    from ratiocinator.selection.sandbox import SandboxWarning

    warnings.simplefilter("always", SandboxWarning)
    load_start = os.getloadavg()
    started = time.time()
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 5 or done == total:
            last[0] = now
            print(f"  [{time.time() - started:7.1f}s] {stage}: {done}/{total}", file=sys.stderr, flush=True)

    try:
        config = GenerateConfig(n_solutions=args.n, n_test_samples=args.m, temperature=args.temperature,
                                max_tokens=args.max_tokens, test_max_tokens=args.test_max_tokens, seed=args.seed,
                                test_stop=("\ndef", "\nclass", "\nif", "\nprint") if args.test_stop else (),
                                rows_per_call=args.rows_per_call)
        problems = load_problems(args.data, limit=args.limit if not args.tasks else None,
                                 task_ids=args.tasks.split(",") if args.tasks else None)
        t0 = time.perf_counter()
        backend = load_backend(args.model, threads=args.threads, cache=ResponseCache(args.cache))
        load_seconds = time.perf_counter() - t0
        executor = Executor(ExecutionConfig(workers=args.workers, cache_dir=args.matrix_cache))
        report = run(backend, problems, config, executor=executor, progress=progress,
                     strategies=[s.strip() for s in args.strategies.split(",") if s.strip()])
    except RatiocinatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    doc = report.to_json()
    doc["seconds"] = {"load_model": load_seconds, **doc["seconds"], "total": time.time() - started}
    doc["machine"] = {"cpus": os.cpu_count(), "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
                      "threads": args.threads, "nice": os.nice(0), "data": str(args.data)}
    out = args.out or HERE / "results" / f"selection-generate-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")

    width = max(len(n) for n in report.strategies) + 2
    print(f"{'strategy':<{width}} {'pass@1 all':>11} {'pass@1 subset':>14}")
    for name, r in report.strategies.items():
        print(f"{name:<{width}} {r['pass1_all']:>11.4f} {r['pass1_subset']:>14.4f}")
    print(f"tasks: {report.n_tasks_all} all, {report.n_tasks_subset} in the subset; N={args.n}, M={args.m}, "
          f"max_tokens={args.max_tokens}, T={args.temperature}, seed={args.seed}, model={args.model}")
    print("seconds: " + ", ".join(f"{k}={v:.1f}" for k, v in doc["seconds"].items() if not k.startswith("select_")))
    print("counts: " + ", ".join(f"{k}={v}" for k, v in report.counts.items()))
    print(f"load average: start {load_start[0]:.2f}, end {doc['machine']['loadavg_end'][0]:.2f} "
          f"on {os.cpu_count()} CPUs; report: {out}")
    if args.json:
        print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
