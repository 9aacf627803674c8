"""Aggregate a run's result records into a Summary: the score and every metric, overall and per group, with CIs."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from ratiocinator.evals.metrics import Estimate, estimate, harmonic_estimate
from ratiocinator.evals.results import ResultRecord

SCORE = "score"


class Row(BaseModel):
    """One aggregated figure: a metric over the items of a group (None: all items), with its 95 % interval."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    group: str | None = None
    n: int
    value: float | None
    low: float | None
    high: float | None
    method: str

    @property
    def label(self) -> str:
        return self.metric if self.group is None else f"{self.metric} [{self.group}]"


class Summary(BaseModel):
    """What a run measured: counts, cost, and one Row per (metric, group)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    benchmark: str
    model: str | None
    config_hash: str
    n_items: int
    n_errors: int
    seconds: float  # summed over items (work, not wall time)
    prompt_tokens: int
    completion_tokens: int
    rows: tuple[Row, ...]
    errors: tuple[str, ...] = ()  # the first few error messages

    def row(self, metric: str = SCORE, group: str | None = None) -> Row | None:
        return next((r for r in self.rows if r.metric == metric and r.group == group), None)

    @property
    def score(self) -> float | None:
        row = self.row()
        return row.value if row is not None else None


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _row(metric: str, group: str | None, est: Estimate) -> Row:
    return Row(metric=metric, group=group, n=est.n, value=_finite(est.value), low=_finite(est.low),
               high=_finite(est.high), method=est.method)


def _rows(records: Sequence[ResultRecord], group: str | None,
          harmonic: Sequence[tuple[str, str, str]]) -> list[Row]:
    names: list[str] = []
    for r in records:
        names += [m for m in r.metrics if m not in names]
    out = []
    for metric in [SCORE, *names]:
        if metric == SCORE:
            values = [r.score for r in records if r.score is not None]
        else:
            values = [r.metrics[metric] for r in records if metric in r.metrics]
        if metric != SCORE and not values:
            continue
        out.append(_row(metric, group, estimate(values)))
    for metric, a, b in harmonic:  # derived: the harmonic mean of two metrics' means
        xa = [r.metrics[a] for r in records if a in r.metrics]
        xb = [r.metrics[b] for r in records if b in r.metrics]
        if xa and xb:
            out.append(_row(metric, group, harmonic_estimate(xa, xb)))
    return out


def summarize(records: Sequence[ResultRecord], *, benchmark: str, model: str | None, config_hash: str,
              harmonic: Sequence[tuple[str, str, str]] = ()) -> Summary:
    """Every metric over all items and per group (groups in order of first appearance), and each derived
    metric of `harmonic` ((name, a, b): the harmonic mean of metrics a's and b's means, e.g. ProcessBench's F1).

    An item that raised counts as score 0 (a failure), so that errors cannot make a run look better;
    its metrics are those its benchmark counts as failed (Benchmark.metrics_on_error), usually none.
    """
    scored = [r if r.score is not None else r.model_copy(update={"score": 0.0}) for r in records]
    rows = _rows(scored, None, harmonic)
    groups: list[str] = []
    for r in scored:
        if r.group is not None and r.group not in groups:
            groups.append(r.group)
    if groups:  # even one group: so that runs over different groups compare row by row
        for g in groups:
            rows += _rows([r for r in scored if r.group == g], g, harmonic)
    errors = [f"{r.item_id}: {r.error}" for r in records if r.error]
    return Summary(benchmark=benchmark, model=model, config_hash=config_hash, n_items=len(records),
                   n_errors=len(errors), seconds=sum(r.seconds for r in records),
                   prompt_tokens=sum(r.prompt_tokens for r in records),
                   completion_tokens=sum(r.completion_tokens for r in records), rows=tuple(rows),
                   errors=tuple(errors[:10]))

