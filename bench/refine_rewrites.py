"""DeepCritic's refinement step alone, on the rounds a run recorded: the whole rewrite beside the rewrite from the error.

A `critique --set dataset=refine` run (Mr-GSM8K) records, per item, the first round: the solution's steps,
the first step the critic found wrong and its critique, then the rewrite the model made
(refine_from="solution", the paper's: the whole solution again). For every item whose first round flagged a
step, this script makes the rewrite with refine_from="error" (reasoning/critique/refine.py: the steps before
the error kept, the rest rewritten, redrawn when it repeats the wrong step or sympy refutes it) from the same
round, and scores both rewrites' final numbers against the reference as the benchmark does (the score after
one refinement, given the same first critique; the critique after the rewrite does not change the answer).
Prints a table, writes JSON.

    python bench/refine_rewrites.py RUN_DIR [--model llamacpp:qwen2.5-coder-0.5b-instruct] [--threads 1]
        [--out bench/results/refine_rewrites.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("--model", default="llamacpp:qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="bench/results/refine_rewrites.json")
    args = ap.parse_args()

    from ratiocinator.evals.benchmarks._stepdata import final_number
    from ratiocinator.evals.benchmarks.critique import CritiqueBenchOptions
    from ratiocinator.evals.metrics import mamo_close
    from ratiocinator.models.loading import load_backend
    from ratiocinator.reasoning.critique.refine import refine_from_error

    config = CritiqueBenchOptions().config.model_copy(update={"refine_from": "error"})
    backend = load_backend(args.model, threads=args.threads)
    records = [json.loads(line) for line in (Path(args.run_dir) / "results.jsonl").read_text().splitlines()]
    rows = []
    for r in records:
        rounds = r["output"]["rounds"] if r.get("output") else []
        if not rounds or rounds[0]["first_error"] < 0 or len(rounds) < 2:
            continue
        first, k, ref = rounds[0], rounds[0]["first_error"], r["inputs"]["reference"]

        def right(steps: list[str], ref: str = ref) -> bool:
            answer = final_number("\n".join(steps))
            return answer is not None and mamo_close(answer, ref)

        new = refine_from_error(backend, config, r["inputs"]["problem"], first["steps"], k, first["critiques"][k],
                                config.solve_max_tokens)
        rows.append({"item": r["item_id"], "flagged_step": k + 1, "initial": right(first["steps"]),
                     "whole": right(rounds[1]["steps"]), "from_error": right(new),
                     "whole_copies": rounds[1]["steps"] == first["steps"],
                     "from_error_steps": new})
        print(f"{r['item_id']:<22} step {k + 1:>2}  initial {rows[-1]['initial']!s:<5}  whole {rows[-1]['whole']!s:<5} "
              f"(copy {rows[-1]['whole_copies']!s:<5})  from error {rows[-1]['from_error']!s:<5}", flush=True)
    n = len(rows)
    print(f"\n{n} flagged items: right before {sum(x['initial'] for x in rows)}, after the whole rewrite "
          f"{sum(x['whole'] for x in rows)}, after the rewrite from the error {sum(x['from_error'] for x in rows)}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"run_dir": args.run_dir, "model": args.model, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
