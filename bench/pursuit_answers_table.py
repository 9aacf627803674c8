"""pursuit-20q on a saved answers table (the model's yes/no log-odds per animal and question), without the model.

    python bench/pursuit_answers_table.py ODDS.json [--data ../shared/data] [--floor 0.05]
        [--temperature 1] [--draw prior|posterior] [--budget 6] [--likelihood label|answer|question]
    python bench/pursuit_answers_table.py --truthful   # the dataset's answers at ±2 nats

ODDS.json is the table a `pursuit-20q` run with the answers posterior caches under the model cache
(`pursuit/pursuit-20q-odds-*.json`). With it, floor, temperature and draws can be varied in about a
minute per run: the posterior, the calibration and the query choice need no model call once the
table is known. `--truthful` writes the table a perfect model would give (log-odds +2 where the
animal's dictionary says yes, -2 where no: the same likelihood ratio e^2 as bench/pursuit_truthful.py).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import get_args

from ratiocinator.agents.pursuit.config import LikelihoodKind
from ratiocinator.evals.benchmarks import pursuit as bench
from ratiocinator.evals.results import load_results
from ratiocinator.evals.runner import RunConfig, run
from ratiocinator.models.scripted import ScriptedBackend

HERE = Path(__file__).resolve().parent


class NoModel(ScriptedBackend):
    def score(self, prompt, continuations):  # type: ignore[override]
        raise SystemExit(f"the table lacks a question the run needed (prompt {str(prompt)[:80]!r})")


def truthful(data: Path, out: Path) -> Path:
    game = bench.TwentyQuestions(bench.PursuitOptions(), data)
    samples, queries = game.calibration_samples()
    odds = {q: [2.0 if s.answerer.answer(q) == "Yes." else -2.0 for s in samples] for q in queries}
    out.write_text(json.dumps(odds), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("odds", type=Path, nargs="?")
    parser.add_argument("--truthful", action="store_true")
    parser.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data")
    parser.add_argument("--floor", type=float, default=0.05)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--draw", choices=("prior", "posterior"), default="posterior")
    parser.add_argument("--budget", type=int, default=6)
    parser.add_argument("--likelihood", choices=get_args(LikelihoodKind), default="label",
                        help="the likelihood the table was asked with (its cache file says it by its key)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["RATIOCINATOR_HOME"] = home  # thresholds of this table stay out of the model cache
        odds = truthful(args.data, Path(home) / "truthful.json") if args.truthful else args.odds
        if odds is None:
            parser.error("give ODDS.json or --truthful")
        bench.TwentyQuestions._odds_file = lambda self, ctx: odds  # type: ignore[method-assign]
        bench.TwentyQuestions.save_odds = lambda self: None  # type: ignore[method-assign]
        options = {
            "budget": args.budget, "n_candidate_queries": 85, "n_cal_per_length": 20,
            "draw_labels_from": args.draw, "answer_floor": args.floor,
            "answer_temperature": args.temperature, "likelihood": args.likelihood,
        }
        out = Path(home) / "run"
        run(RunConfig(benchmark="pursuit-20q", data_dir=str(args.data), out=str(out), options=options,
                      cache=False), backend=NoModel(name="answers-table"))
        records = load_results(out / "results.jsonl")
    n = len(records)
    print(f"pursuit-20q on {odds} ({n} animals), options {options}")
    for m in ("ip", "cip"):
        acc = " ".join(f"{sum(r.metrics[f'{m}_acc@{k}'] for r in records) / n:.2f}" for k in range(args.budget + 1))
        questions = sum(r.metrics[f"{m}_questions"] for r in records) / n
        print(f"{m:>4} acc@0..{args.budget}: {acc}; mean questions {questions:.2f}")


if __name__ == "__main__":
    main()
