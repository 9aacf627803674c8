"""The query-selection policies alone: pursuit-20q with a truthful scripted scorer in place of a model.

    python bench/pursuit_truthful.py [--data ../shared/data] [--budget 6] [--candidates 0] [--samples 4]
        [--n-cal 20] [--draw prior|posterior] [--out DIR]

The scorer gives each animal 2 nats per answer of the history that its answer dictionary agrees with
(a Bayes-like posterior with no language model), so the table shows what C-IP and IP selection do
when the posterior is informative; it is not a model measurement. `--candidates 0` weighs every
unasked query of the bank (the paper's closed setting). Writes an eval run directory and prints
accuracy after k questions per method.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

from ratiocinator.evals.results import load_results
from ratiocinator.evals.runner import RunConfig, run
from ratiocinator.models.scripted import ScriptedBackend

HERE = Path(__file__).resolve().parent
LINE = re.compile(r"^\d+\. (.+\?) (Yes\.|No\.)$", re.M)


class TruthfulScorer(ScriptedBackend):
    """2 nats per history answer that a label's answer dictionary agrees with."""

    def __init__(self, data: Path) -> None:
        super().__init__(name="truthful-20q-scorer")
        root = data / "pursuit" / "20q" / "query_bank_closed_yesno" / "dicts"
        self.truth = {
            p.stem: {k.strip(): v[0] for k, v in json.loads(p.read_text()).items()}
            for p in root.iterdir()
        }

    def score(self, prompt, continuations):  # type: ignore[override]
        history = LINE.findall(prompt[-1]["content"])
        return [2.0 * sum(self.truth[c][q] == a for q, a in history) for c in continuations]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data")
    parser.add_argument("--budget", type=int, default=6)
    parser.add_argument("--candidates", type=int, default=0, help="0: every unasked query")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--n-cal", type=int, default=20)
    parser.add_argument(
        "--draw", choices=("prior", "posterior"), default="prior", help="draw_labels_from"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="default: bench/results/pursuit-20q-truthful-<draw>"
    )
    args = parser.parse_args()
    args.out = args.out or HERE / "results" / f"pursuit-20q-truthful-{args.draw}"
    options = {
        "budget": args.budget,
        "n_candidate_queries": args.candidates or None,
        "n_label_samples": args.samples,
        "n_cal_per_length": args.n_cal,
        "draw_labels_from": args.draw,
    }
    with tempfile.TemporaryDirectory() as home:
        import os

        os.environ["RATIOCINATOR_HOME"] = (
            home  # thresholds of this scorer stay out of the model cache
        )
        run(
            RunConfig(
                benchmark="pursuit-20q",
                data_dir=str(args.data),
                out=str(args.out),
                options=options,
                cache=False,
            ),
            backend=TruthfulScorer(args.data),
        )
    records = load_results(args.out / "results.jsonl")
    n = len(records)
    print(f"pursuit-20q, truthful scorer, {n} animals, options {options}; run directory {args.out}")
    print("k  " + "  ".join(f"{m:>6}" for m in ("ip", "cip")))
    for k in range(args.budget + 1):
        row = [sum(r.metrics[f"{m}_acc@{k}"] for r in records) / n for m in ("ip", "cip")]
        print(f"{k}  " + "  ".join(f"{v:6.2f}" for v in row))
    for m in ("ip", "cip"):
        print(f"{m}: mean questions {sum(r.metrics[f'{m}_questions'] for r in records) / n:.2f}")
    print(
        f"direct: {sum(r.metrics['direct_acc'] for r in records) / n:.2f}; "
        f"cip mean final set size {sum(r.metrics['cip_set_size'] for r in records) / n:.2f}"
    )


if __name__ == "__main__":
    main()
