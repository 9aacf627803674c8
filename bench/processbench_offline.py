"""ProcessBench verdicts recomputed from a run's records, no model: the surprise (or text) verdict alone and with sympy.

A `critique` run records, per step, the model's mark (`judgements`' final), its log-odds or surprise gap, and
sympy's verdict as the checker of that run gave it (`symbolic_valid`). Here, for every item, the first error is
predicted four ways: the model alone; combined with sympy's recorded verdicts (sympy decides where it has one,
kit: scoring.combined_marks); combined with sympy's verdicts recomputed by the current checker
(reasoning/symbolic_steps.check_arithmetic on each step: refuted -> wrong, all claims confirmed -> right, no
claim -> the model's); and the model with only the current checker's refutations added (a step sympy refutes is
wrong; nothing the model flags is overruled). ProcessBench's F1 (the harmonic mean of the accuracies on
erroneous and on correct solutions) for each. Prints a table, writes JSON.

    python bench/processbench_offline.py RUN_DIR [RUN_DIR ...] [--out bench/results/processbench_offline.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ratiocinator.reasoning.critique.scoring import combined_marks, first_error, processbench_f1
from ratiocinator.reasoning.symbolic_steps import check_arithmetic


def current_symbolic(step: str) -> bool | None:
    """The current checker on a step's arithmetic: False if it refutes a claim, True if it confirms all, else None."""
    verdicts = [ok for _, ok in check_arithmetic(step)]
    return None if not verdicts else all(verdicts)


def predictions(record: dict) -> dict[str, int]:
    """The first error (0-based, -1: none) each way, from one item's recorded first round."""
    rnd = record["output"]["rounds"][0]
    marks = [final for _, _, final in rnd["judgements"]]
    marks = [m if m in (1, -1) else 1 for m in marks]
    now = [current_symbolic(s) for s in rnd["steps"]]
    refuted = [-1 if v is False else m for m, v in zip(marks, now, strict=True)]
    return {"model": first_error(marks),
            "with sympy as recorded": first_error(combined_marks(marks, rnd["symbolic_valid"])),
            "with the current sympy": first_error(combined_marks(marks, now)),
            "model + current refutations": first_error(refuted)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dirs", nargs="+")
    ap.add_argument("--out", default="bench/results/processbench_offline.json")
    args = ap.parse_args()
    rows = []
    for run_dir in args.run_dirs:
        records = [json.loads(x) for x in (Path(run_dir) / "results.jsonl").read_text().splitlines() if x.strip()]
        records = [r for r in records if r.get("output") and r["output"].get("rounds")]
        labels = [r["inputs"]["label"] for r in records]
        preds = [predictions(r) for r in records]
        for way in preds[0]:
            err, ok, f1 = processbench_f1([p[way] for p in preds], labels)
            rows.append({"run": Path(run_dir).name, "items": len(records), "way": way, "on_erroneous": err,
                         "on_correct": ok, "f1": f1})
    print(f"{'run':<30}{'n':>5}  {'way':<30}{'erroneous':>10}{'correct':>9}{'F1':>7}")
    for r in rows:
        print(f"{r['run']:<30}{r['items']:>5}  {r['way']:<30}{r['on_erroneous']:>10.3f}{r['on_correct']:>9.3f}"
              f"{r['f1']:>7.3f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
