"""Reproduce B4 on CodeT's HumanEval data: pass@1 per strategy (all tasks, B4's subset), timings, counts.

    python bench/selection.py [--data ../shared/data/code/humaneval] [--strategies b4,codet,...]
                              [--limit N | --tasks ID,ID] [--cache DIR | --no-cache] [--json]

A table goes to stderr; with --json, stdout is one JSON object
{"strategies": {name: {"pass1_all", "pass1_subset"}}, "n_tasks_all", "n_tasks_subset", "seconds", "counts"}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "code" / "humaneval"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ratiocinator" / "selection"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with CodeT's HumanEval files")
    parser.add_argument("--strategies", default="random,maxpass,mbr_exec,codet,b4",
                        help="comma-separated; b4 expands to beta0 in 1e4,1e5,1e6")
    parser.add_argument("--limit", type=int, default=None, help="only the first N tasks")
    parser.add_argument("--tasks", default=None, help="only these comma-separated task ids")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="passing-matrix cache folder")
    parser.add_argument("--no-cache", action="store_true", help="recompute every matrix")
    parser.add_argument("--test-timeout", type=float, default=0.1, help="seconds per generated test (B4: 0.1)")
    parser.add_argument("--gt-timeout", type=float, default=1.0, help="seconds for the ground-truth check")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args(argv)

    from ratiocinator.errors import RatiocinatorError
    from ratiocinator.selection.execution import ExecutionConfig
    from ratiocinator.selection.reproduce import reproduce
    from ratiocinator.selection.sandbox import SandboxWarning

    warnings.simplefilter("always", SandboxWarning)
    config = ExecutionConfig(test_timeout=args.test_timeout, workers=args.workers,
                             cache_dir=None if args.no_cache else args.cache)
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 5 or done == total:
            last[0] = now
            print(f"  {stage}: {done}/{total} batches", file=sys.stderr, flush=True)

    try:
        report = reproduce(args.data, strategies=[s.strip() for s in args.strategies.split(",") if s.strip()],
                           config=config, gt_timeout=args.gt_timeout, limit=args.limit, progress=progress,
                           task_ids=args.tasks.split(",") if args.tasks else None)
    except RatiocinatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    width = max(len(n) for n in report.strategies) + 2
    print(f"\n{'strategy':<{width}} {'pass@1 all':>11} {'pass@1 subset':>14}", file=sys.stderr)
    for name, r in report.strategies.items():
        print(f"{name:<{width}} {r['pass1_all']:>11.4f} {r['pass1_subset']:>14.4f}", file=sys.stderr)
    print(f"tasks: {report.n_tasks_all} all, {report.n_tasks_subset} in the subset", file=sys.stderr)
    print("seconds: " + ", ".join(f"{k}={v:.3f}" for k, v in report.seconds.items()), file=sys.stderr)
    print("counts: " + ", ".join(f"{k}={v}" for k, v in report.counts.items()), file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
