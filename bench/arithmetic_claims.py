"""The arithmetic claims sympy checks for the critic, on every ProcessBench step: where its "WRONG" lands.

reasoning/symbolic_steps.check_arithmetic reads `numbers and operators = number` out of a prose step and
checks it; the critic (reasoning/critique) is shown each "WRONG". No model runs here: for every step of
ProcessBench GSM8K and MATH (../shared/data/critique/), the steps with a "WRONG" are counted by where they
lie against the labelled first error: before it (the step is correct: a false alarm), at it, after it.
With `--against COMMIT` the same counts for reasoning/symbolic_steps.py as it was at COMMIT (read from git),
side by side. Prints a table, writes JSON.

    python bench/arithmetic_claims.py [--data-dir ../shared/data] [--against 0dc76f2]
        [--out bench/results/arithmetic_claims.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_at(commit: str) -> types.ModuleType:
    """reasoning/symbolic_steps.py as it was at `commit`, loaded as a module of its own."""
    source = subprocess.run(["git", "show", f"{commit}:reasoning/symbolic_steps.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(f"symbolic_steps_{commit}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{commit}:reasoning/symbolic_steps.py", "exec"), module.__dict__)
    return module


def where_wrong(check, items: list[dict]) -> Counter:
    """Steps with a "WRONG" claim (and claims read), by place against the first error: before / at / after."""
    counts: Counter = Counter()
    for item in items:
        label = item["label"]
        for k, step in enumerate(item["steps"]):
            place = "before" if label == -1 or k < label else "at" if k == label else "after"
            verdicts = [ok for _, ok in check(step)]
            counts[f"claims {place}"] += len(verdicts)
            counts[f"wrong {place}"] += not all(verdicts)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--against", default=None, help="a git commit whose checker to count beside the current one")
    ap.add_argument("--out", default="bench/results/arithmetic_claims.json")
    args = ap.parse_args()

    from ratiocinator.reasoning.symbolic_steps import check_arithmetic

    checkers = {"current": check_arithmetic}
    if args.against:
        checkers = {args.against: module_at(args.against).check_arithmetic, **checkers}
    rows = []
    for name in ("gsm8k", "math"):
        items = json.loads((Path(args.data_dir) / "critique" / f"processbench_{name}.json").read_text())
        for version, check in checkers.items():
            c = where_wrong(check, items)
            rows.append({"set": name, "items": len(items), "checker": version, **dict(c)})
    print(f"{'set':<6}{'checker':<10}{'claims':>8}{'WRONG before (false)':>22}{'at the error':>14}{'after':>7}")
    for r in rows:
        claims = sum(v for k, v in r.items() if k.startswith("claims"))
        print(f"{r['set']:<6}{r['checker']:<10}{claims:>8}{r.get('wrong before', 0):>22}{r.get('wrong at', 0):>14}"
              f"{r.get('wrong after', 0):>7}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
