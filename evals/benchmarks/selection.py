"""`selection`: B4 and the baseline selectors on CodeT's HumanEval data (CodeGen-16B), one item per task.

Each item runs `selection.reproduce.reproduce` (unchanged) on one task: CodeT's 100 solutions and
generated tests -> passing matrix (sandboxed, cached on disk) -> pick with every strategy -> expected
ground-truth correctness of the pick. Metrics per item: `pass1/<strategy>` for every strategy, and
`pass1_subset/<strategy>` when the task is in B4's subset (has tests, ground-truth pass rate strictly
between 0 and 1). Averaged over the items these are exactly `reproduce`'s pass1_all and pass1_subset.
The item's score is the primary strategy's pass@1: the kit's config (agents/code_selection, the option
`config`) names it, B4 at β0 = 1e5 (the paper's best) by default; `--set strategy=codet` makes CodeT's
the score. The config's α_xy, per-test limits (`test_timeout`, `trusted_test_timeout` for the
ground truth) and sandbox limits apply; its sampling fields do not (the samples are CodeT's) and must
stay at their defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.agents.code_selection.config import CodeSelectionConfig
from ratiocinator.errors import InvalidInput
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome, sha256_text

DATASETS = {"humaneval-codegen16b": "code/humaneval"}


def _default_cache() -> str:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return str(base / "ratiocinator" / "selection")  # the same cache as bench/selection.py


#: the config fields that only matter when the model samples (this benchmark reads CodeT's samples)
SAMPLING_FIELDS = ("n_solutions", "n_test_samples", "temperature", "top_p", "max_tokens", "test_max_tokens",
                   "seed")


class SelectionOptions(BaseModel):
    """The dataset, the strategies (None: every heuristic and B4 at each β0), B4's config and limits, the cache."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: Literal["humaneval-codegen16b"] = "humaneval-codegen16b"
    strategies: tuple[str, ...] | None = None
    tasks: tuple[str, ...] | None = None  # only these task ids (None: every task)
    matrix_cache: str | None = Field(default_factory=_default_cache)  # None: recompute every matrix
    #: the primary strategy (its pass@1 is the score), B4's α_xy, the per-test and sandbox limits
    config: CodeSelectionConfig = CodeSelectionConfig(beta0=1e5)


class Selection(Benchmark):
    name = "selection"
    description = "B4 vs CodeT/MBR-exec/MaxPass/random on CodeT's HumanEval solutions (pass@1, per strategy)"
    Options = SelectionOptions
    data_subdir = DATASETS["humaneval-codegen16b"]

    @property
    def folder(self) -> Path:
        assert self.data_dir is not None
        opts: SelectionOptions = self.options  # type: ignore[assignment]
        return self.data_dir / DATASETS[opts.dataset]

    def items(self) -> list[Item]:
        from ratiocinator.selection.reproduce import load_codet_humaneval, strategy_table

        opts: SelectionOptions = self.options  # type: ignore[assignment]
        cfg, default = opts.config, CodeSelectionConfig()
        changed = [f for f in SAMPLING_FIELDS if getattr(cfg, f) != getattr(default, f)]
        if changed:
            raise InvalidInput(f"selection: {', '.join(changed)} set, but this benchmark samples nothing (it "
                               "reads CodeT's solutions and tests); leave them at their defaults")
        names = list(strategy_table(opts.strategies, b4=cfg.b4_config()))
        if cfg.strategy_name not in names:
            raise InvalidInput(f"selection: primary strategy {cfg.strategy_name!r} is not among the strategies run "
                               f"({', '.join(names)}); set strategy=NAME (and beta0) to one of them")
        return [Item(id=t.task_id, inputs={
            "task_id": t.task_id, "dataset": opts.dataset,
            "data_sha256": sha256_text("\0".join([t.prompt, t.test, *t.solution_samples, *t.test_samples]))[:16],
        }) for t in load_codet_humaneval(self.folder, task_ids=opts.tasks)]

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.selection.reproduce import reproduce

        opts: SelectionOptions = self.options  # type: ignore[assignment]
        cfg = opts.config
        config = cfg.execution_config(workers=1, cache_dir=Path(opts.matrix_cache) if opts.matrix_cache else None)
        report = reproduce(self.folder, strategies=opts.strategies, config=config,
                           gt_timeout=cfg.trusted_test_timeout, task_ids=[item.id], b4=cfg.b4_config(),
                           sandbox=cfg.sandbox_config())
        in_subset = report.n_tasks_subset == 1
        metrics = {f"pass1/{name}": r["pass1_all"] for name, r in report.strategies.items()}
        if in_subset:
            metrics.update({f"pass1_subset/{name}": r["pass1_subset"] for name, r in report.strategies.items()})
        counts = {k: report.counts[k] for k in ("unique_solutions", "unique_tests", "loaded_solutions")}
        return Outcome(output={"in_subset": in_subset, **counts}, score=report.strategies[cfg.strategy_name]["pass1_all"],
                       metrics=metrics)
