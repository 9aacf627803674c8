"""`optimization`: the LLMOPT agent on LLMOPT's nine test sets (or Mamo's own LP files), scored with Mamo's rule.

Reads `optimization/llmopt/*.jsonl` (`{question, answer, ori, index}`, antgroup/LLMOPT; no licence
stated, not vendored) or, with `--set source=mamo` for the two Mamo sets, `optimization/mamo/*_lp.jsonl`
(`{id, Question, Answer}`, CC BY-SA 4.0). An item is one problem; `agents.llmopt` defines and
solves it (its config is the option `config`: LLMOPTConfig's defaults, the stepwise translation). The score is solving
accuracy with self-correction (Mamo's tolerance on the optimal value); the metrics give the same
without self-correction (the first formulation of each sample), the execution rates (a model was
built and solved to a value), the stricter tolerance, the correction rounds used (cf. LLMOPT's
average solving times) and how many samples agreed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ratiocinator.agents.llmopt import LLMOPTConfig
from ratiocinator.errors import InvalidInput
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome
from ratiocinator.evals.benchmarks.mamo_tolerance import answer_text, mamo_correct, strict_correct

SETS = {
    "nl4opt": "nl4opt_test.jsonl",
    "mamo-easy": "mamo_easy_test.jsonl",
    "mamo-complex": "mamo_complex_test.jsonl",
    "nlp4lp": "nlp4lp.jsonl",
    "complexor": "complexor.jsonl",
    "industryor": "industryor.jsonl",
    "optibench": "optibench.jsonl",
    "optmath": "optmath_bench.jsonl",
    "icml-task3": "task3_test.jsonl",
}
MAMO_FILES = {"mamo-easy": "easy_lp.jsonl", "mamo-complex": "complex_lp.jsonl"}
SetName = Literal[
    "nl4opt",
    "mamo-easy",
    "mamo-complex",
    "nlp4lp",
    "complexor",
    "industryor",
    "optibench",
    "optmath",
    "icml-task3",
]


class OptimizationOptions(BaseModel):
    """Which test set, where its file comes from, and LLMOPT's config (its defaults: the stepwise translation;
    NL4Opt and Mamo easy 1-40 with both models, stepwise with the reading against whole in BENCHMARKS-history.md;
    `--set translation=whole` runs the whole-problem method)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    set: SetName = "nl4opt"
    source: Literal["llmopt", "mamo"] = (
        "llmopt"  # mamo: Mamo's own files (mamo-easy / mamo-complex only)
    )
    config: LLMOPTConfig = LLMOPTConfig()


def _rows(path: Path, question: str, answer: str) -> list[tuple[str, str, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read it ({exc.strerror})") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append(
                (
                    str(row.get("index", row.get("id", number))),
                    row[question],
                    answer_text(row[answer]),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(
                f"{path}, line {number}: expected JSON with {question!r} and {answer!r} ({exc})"
            ) from None
    if not rows:
        raise InvalidInput(f"{path}: no problems")
    return rows


class Optimization(Benchmark):
    name = "optimization"
    description = "LLMOPT agent (five-element formulation + solver + self-correction) on LLMOPT/Mamo test sets"
    needs_model = True
    method = "llmopt"
    Options = OptimizationOptions
    data_subdir = "optimization"

    def items(self) -> list[Item]:
        opts: OptimizationOptions = self.options  # type: ignore[assignment]
        assert self.data_dir is not None
        if opts.source == "mamo":
            if opts.set not in MAMO_FILES:
                raise InvalidInput(
                    f"optimization: source=mamo has only {sorted(MAMO_FILES)}, not {opts.set!r}"
                )
            rows = _rows(
                self.data_dir / "optimization" / "mamo" / MAMO_FILES[opts.set], "Question", "Answer"
            )
        else:
            rows = _rows(
                self.data_dir / "optimization" / "llmopt" / SETS[opts.set], "question", "answer"
            )
        return [
            Item(
                id=f"{opts.set}/{key}",
                group=opts.set,
                inputs={"question": q, "answer": a, "source": opts.source},
            )
            for key, q, a in rows
        ]

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.agents.llmopt import run as run_llmopt

        opts: OptimizationOptions = self.options  # type: ignore[assignment]
        config = opts.config.model_copy(update={"seed": ctx.item_seed(item)})
        result = run_llmopt(item.inputs["question"], backend=ctx.backend, config=config)
        truth = item.inputs["answer"]
        correct = mamo_correct(result.objective, truth)
        metrics = {
            "accuracy": float(correct),
            "accuracy_strict": float(strict_correct(result.objective, truth)),
            "accuracy_without_correction": float(mamo_correct(result.initial_objective, truth)),
            "execution_rate": float(result.executed),
            "execution_rate_without_correction": float(result.initial_executed),
            "verified": float(result.verdict.verified),
            "correction_rounds": float(result.rounds),
            "agreement": float(result.agreement),
            "seconds": result.usage.seconds,
        }
        output = {
            "objective": result.objective,
            "initial_objective": result.initial_objective,
            "truth": truth,
            "status": result.verdict.status,
            "answer": result.answer,
            "attempts": [
                [
                    {
                        "status": a.status,
                        "objective": a.objective,
                        "feedback": a.feedback[:300],
                        "formulation": a.formulation,
                    }
                    for a in track
                ]
                for track in result.attempts
            ],
        }
        return Outcome(
            output=output,
            score=float(correct),
            metrics=metrics,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
        )
