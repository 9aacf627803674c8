"""Read DeepCritic's scored-verdict runs: calibrate the log-odds threshold on held-in runs, then score the rules on evaluated runs.

    python bench/critique_scores.py --calibrate RUN [RUN ...] [--combined]
    python bench/critique_scores.py --threshold T RUN [RUN ...] [--json]

Each RUN is an `eval run critique --set verdict=scored` directory; its results keep every step's
log-odds of "incorrect" over "correct" and sympy's verdict, so any threshold can be read off it.
`--calibrate` prints the threshold with the best ProcessBench harmonic mean on those runs (use
held-in items: `--set start=100`). Otherwise, per run and for each rule, the accuracy on erroneous
and on correct solutions and their harmonic mean: always correct (constant), sympy alone (on the
items where sympy had a verdict, beside the model and combined rules on the same items), the scored
model alone at T, and combined (sympy's verdict where it has one, the model's elsewhere); and the
seconds per item; and, threshold-free, the step-level AUC (first wrong steps against known-correct
steps) and the best harmonic mean any threshold would reach on those items (an oracle, only for
comparing two settings on the same items, e.g. with and without the critique).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ratiocinator.reasoning.critique.scoring import (
    calibrate_threshold,
    combined_marks,
    decide,
    first_error,
    processbench_f1,
)


def load(run: Path) -> list[dict]:
    """The finished items of a run: label, per-step log-odds and sympy verdicts, seconds."""
    rows = []
    for line in (run / "results.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r.get("error") or not r.get("output"):
            continue
        (rnd,) = r["output"]["rounds"]
        rows.append({"id": r["item_id"], "label": r["output"]["label"], "odds": rnd["log_odds"],
                     "sym": rnd["symbolic_valid"], "seconds": r["seconds"]})
    return rows


def rules(rows: list[dict], t: float) -> dict[str, dict[str, float]]:
    """Each rule's (acc on erroneous, acc on correct, harmonic mean, items) over `rows`."""
    labels = [r["label"] for r in rows]
    model = [[decide(o, t) for o in r["odds"]] for r in rows]
    preds = {
        "constant": [-1] * len(rows),
        "model": [first_error(m) for m in model],
        "combined": [first_error(combined_marks(m, r["sym"])) for m, r in zip(model, rows, strict=True)],
    }
    out = {k: _row(v, labels) for k, v in preds.items()}
    has = [k for k, r in enumerate(rows) if any(v is not None for v in r["sym"])]
    sub = [labels[k] for k in has]
    sym = [first_error([-1 if v is False else 1 for v in rows[k]["sym"]]) for k in has]
    out["sympy alone (where it has verdicts)"] = _row(sym, sub)
    out["model (same items)"] = _row([preds["model"][k] for k in has], sub)
    out["combined (same items)"] = _row([preds["combined"][k] for k in has], sub)
    return out


def step_auc(rows: list[dict]) -> float:
    """Threshold-free separation: the chance that a first wrong step has higher log-odds than a known-correct step.

    Known-correct steps are those before the first error and every step of a correct solution
    (steps after the first error carry no label).
    """
    pos = [r["odds"][r["label"]] for r in rows if r["label"] >= 0]
    neg = [o for r in rows for i, o in enumerate(r["odds"]) if r["label"] < 0 or i < r["label"]]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def best_threshold(rows: list[dict]) -> tuple[float, float]:
    """The best harmonic mean any threshold reaches on `rows` (an oracle, for comparing settings on the same items)."""
    return calibrate_threshold([r["odds"] for r in rows], [r["label"] for r in rows])


def _row(pred: list[int], labels: list[int]) -> dict[str, float]:
    e, c, f1 = processbench_f1(pred, labels)
    return {"on_erroneous": e, "on_correct": c, "f1": f1, "items": len(labels),
            "erroneous": sum(lab >= 0 for lab in labels)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--calibrate", action="store_true", help="print the best threshold on these runs")
    parser.add_argument("--combined", action="store_true", help="calibrate the combined rule")
    parser.add_argument("--threshold", type=float, default=0.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    runs = {str(r): load(r) for r in args.runs}
    if args.calibrate:
        rows = [x for v in runs.values() for x in v]
        sym = [r["sym"] for r in rows] if args.combined else None
        t, f1 = calibrate_threshold([r["odds"] for r in rows], [r["label"] for r in rows], sym)
        print(json.dumps({"threshold": t, "f1": f1, "items": len(rows)}))
        return 0
    report = {name: {"rules": rules(rows, args.threshold), "items": len(rows),
                     "s_per_item": sum(r["seconds"] for r in rows) / max(len(rows), 1),
                     "step_auc": step_auc(rows), "oracle": best_threshold(rows)}
              for name, rows in runs.items()}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    for name, rep in report.items():
        print(f"{name}: {rep['items']} items, {rep['s_per_item']:.1f} s/item, threshold {args.threshold}; "
              f"step AUC {rep['step_auc']:.2f}; oracle threshold {rep['oracle'][0]:.2f} gives F1 {rep['oracle'][1]:.2f}")
        for rule, r in rep["rules"].items():
            print(f"  {rule:40s} n={r['items']:3d} ({r['erroneous']} erroneous)  err {r['on_erroneous']:.2f}"
                  f"  corr {r['on_correct']:.2f}  F1 {r['f1']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
