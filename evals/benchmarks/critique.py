"""`critique`: DeepCritic first-error identification on step-labelled solutions, and critique-and-refine accuracy.

Datasets (`--set dataset=...`):
- `processbench-gsm8k` (default), `processbench-math`, `mr-gsm8k`: step-wise solutions with the
  0-based index of the first wrong step (-1 none), from `critique/` of the data directory (RUCBM/DeepCritic
  copies, MIT). Score: the predicted first error equals the label. Metrics: `on_erroneous` and
  `on_correct` (ProcessBench reports both, and their harmonic mean), `first_look` (the first
  critiques alone, without the second look), `symbolic_only` (sympy's verdicts alone, where it had one
  on every step it could read: steps without a verdict count as correct).
- `planted`: derivations made by reasoning/symbolic_steps.py, one step changed so that sympy proves it
  wrong (two in three items; the rest correct); the same scoring.
- `refine`: Mr-GSM8K problems with a reference answer: the model solves, the critic looks, the first
  error goes back to the model (`max_refinements` times, once by default). Score: the final answer
  after refinement is right; `initial` is the answer before it.
The critic is reasoning/critique/ (registry: `deepcritic`); its config is the option `config`, with
smaller token limits for a CPU (`--set critique_max_tokens=...` sets the initial critiques',
`second_look_max_tokens` the second looks'); `max_refinements` applies to `dataset=refine` only (the
other sets score the first critique). `--set verdict=scored` decides each step by the model's scores
of "correct" / "incorrect" (issue 21; `--set critique=false` scores without a check first, `--set
threshold=X` moves the decision); `--set verdict=surprise` by how strongly the model would have
written other numbers in the step (reasoning/critique/surprise.py; `--set surprise_threshold=X`).
The outputs keep every step's score (`log_odds`) and sympy verdict, so other thresholds can be read
off a finished run (bench/critique_scores.py).
"""

from __future__ import annotations

from itertools import zip_longest
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome
from ratiocinator.evals.benchmarks._stepdata import (
    STEP_SETS,
    final_number,
    gsm8k_questions,
    read_step_set,
)
from ratiocinator.evals.metrics import mamo_close
from ratiocinator.reasoning.critique import CritiqueRound, DeepCriticConfig
from ratiocinator.reasoning.critique.scoring import combined_marks, first_error

Dataset = Literal["processbench-gsm8k", "processbench-math", "mr-gsm8k", "planted", "refine"]


class CritiqueBenchOptions(BaseModel):
    """Which data, how many planted items, and the critic's config (smaller token limits for a CPU)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: Dataset = "processbench-gsm8k"
    planted_items: int = Field(30, ge=1)
    #: skip the first `start` items (held-in items for calibration: `--set start=100 --limit 30`)
    start: int = Field(0, ge=0)
    #: max_refinements is used by dataset=refine only
    config: DeepCriticConfig = DeepCriticConfig(
        critique_max_tokens=256, second_look_max_tokens=256, solve_max_tokens=256, max_refinements=1
    )


def _first(marks: list[int | None]) -> int:
    return next((i for i, m in enumerate(marks) if m == -1), -1)


def _kind(label: int) -> str:
    return "on_erroneous" if label >= 0 else "on_correct"


def step_set_metrics(rnd: CritiqueRound, label: int, *, text: bool) -> dict[str, float]:
    """The critic's hit by kind, and the baselines: always correct, sympy alone, sympy and the critic combined."""
    hit = rnd.first_error == label
    metrics = {_kind(label): float(hit), "constant": float(label == -1)}
    if text:
        metrics["first_look"] = float(_first([c.initial for c in rnd.critiques]) == label)
    sym = [c.symbolic_valid for c in rnd.critiques]
    if any(v is not None for v in sym):
        alone = float(_first([-1 if v is False else 1 for v in sym]) == label)
        metrics["symbolic_only"] = alone
        metrics[f"symbolic_{_kind(label)}"] = alone
    model = [c.final if c.critic is None else c.critic for c in rnd.critiques]  # before any sympy override
    combined = first_error(combined_marks(model, sym))
    metrics[f"combined_{_kind(label)}"] = float(combined == label)
    return metrics


class CritiqueBench(Benchmark):
    name = "critique"
    description = (
        "DeepCritic: first wrong step on ProcessBench / planted derivations; critique-and-refine"
    )
    needs_model = True
    method = "deepcritic"
    Options = CritiqueBenchOptions
    data_subdir = "critique"
    # ProcessBench's F1: the harmonic mean of the accuracies on erroneous and on correct solutions
    harmonic_means = (
        ("f1", "on_erroneous", "on_correct"),
        ("combined_f1", "combined_on_erroneous", "combined_on_correct"),
        ("symbolic_f1", "symbolic_on_erroneous", "symbolic_on_correct"),
    )

    def items(self) -> list[Item]:
        opts: CritiqueBenchOptions = self.options  # type: ignore[assignment]
        return self._all_items()[opts.start :]

    def metrics_on_error(self, item: Item) -> dict[str, float]:
        label = item.inputs.get("label")
        if not isinstance(label, int):  # refine items: no first-error label
            return {}
        return {_kind(label): 0.0, f"combined_{_kind(label)}": 0.0}

    def _all_items(self) -> list[Item]:
        from ratiocinator.reasoning.symbolic_steps import generate_item, plant_error

        opts: CritiqueBenchOptions = self.options  # type: ignore[assignment]
        assert self.data_dir is not None
        if opts.dataset in STEP_SETS:
            sols = read_step_set(self.data_dir, opts.dataset)
            # erroneous and correct solutions alternate, so that a --limit takes both kinds
            wrong, right = [s for s in sols if s.label >= 0], [s for s in sols if s.label < 0]
            mixed = [s for pair in zip_longest(wrong, right) for s in pair if s is not None]
            return [
                Item(
                    id=s.id,
                    group=opts.dataset,
                    inputs={"problem": s.problem, "steps": list(s.steps), "label": s.label},
                )
                for s in mixed
            ]
        if opts.dataset == "planted":
            items = []
            for seed in range(opts.planted_items):
                d = generate_item(seed)
                if seed % 3 == 0:
                    steps, label = d.steps[1:], -1
                else:
                    steps, label = plant_error(d, seed)
                items.append(
                    Item(
                        id=d.id,
                        group="planted",
                        inputs={
                            "problem": d.problem(),
                            "steps": list(steps),
                            "label": label,
                            "given": list(d.premises),
                        },
                    )
                )
            return items
        return [
            Item(id=f"refine/{key}", group="refine", inputs={"problem": problem, "reference": ref})
            for key, problem, ref in gsm8k_questions(self.data_dir)
        ]

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.reasoning.critique import run as run_critique

        opts: CritiqueBenchOptions = self.options  # type: ignore[assignment]
        refine = opts.dataset == "refine"
        cfg = opts.config if refine else opts.config.model_copy(update={"max_refinements": 0})
        result = run_critique(
            item.inputs["problem"],
            backend=ctx.backend,
            config=cfg,
            steps=item.inputs.get("steps", ()),
            given=item.inputs.get("given", ()),
        )
        rounds = [
            {
                "steps": list(r.steps),
                "first_error": r.first_error,
                "judgements": [[c.initial, c.second, c.final] for c in r.critiques],
                "log_odds": [c.log_odds for c in r.critiques],
                "symbolic": [c.symbolic for c in r.critiques],
                "symbolic_valid": [c.symbolic_valid for c in r.critiques],
                "critiques": [c.merged for c in r.critiques],
            }
            for r in result.rounds
        ]
        if refine:
            ref = item.inputs["reference"]

            def right(steps: tuple[str, ...]) -> bool:
                answer = final_number("\n".join(steps))
                return answer is not None and mamo_close(answer, ref)

            initial, final = right(result.rounds[0].steps), right(result.steps)
            metrics = {
                "initial": float(initial),
                "refined": float(final),
                "flagged": float(result.rounds[0].first_error >= 0),
                "rounds": float(len(result.rounds)),
            }
            return Outcome(
                output={"rounds": rounds, "reference": ref, "verdict": result.verdict.to_json()},
                score=float(final),
                metrics=metrics,
                prompt_tokens=result.usage.prompt_tokens,
                completion_tokens=result.usage.completion_tokens,
            )
        label = item.inputs["label"]
        (rnd,) = result.rounds
        hit = rnd.first_error == label
        metrics = step_set_metrics(rnd, label, text=cfg.verdict == "text")
        return Outcome(
            output={
                "predicted": rnd.first_error,
                "label": label,
                "rounds": rounds,
                "verdict": result.verdict.to_json(),
            },
            score=float(hit),
            metrics=metrics,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
        )
