"""Temperature scaling of the answers posterior: the prior's and the answers' temperatures that make the true labels most likely on held-out histories.

Temperature scaling (Guo et al., 2017, "On Calibration of Modern Neural Networks") divides a model's
log-scores by one number T fitted on held-out data by maximum likelihood. The answers posterior
(answers.py) has two sets of log-scores, on two scales: the model's prior over labels (its answer to
the bare case) and each answer's log-likelihood ratio. A small model's prior over option texts can
spread ~10 nats while one answer moves a label by at most a few, so the prior decides on its own
(MediQ, BENCHMARKS-history.md). `fit_temperatures` picks (prior_temperature, answer_temperature) from a grid
by the mean negative log-likelihood of the true label over histories drawn as calibration draws them
(conformal.calibration_histories), from cases that neither the conformal calibration nor the test
uses (MediQ's train split), so the thresholds stay valid. On 20 Questions there are no such cases
(the reference calibrates on the test animals themselves): the fit draws other histories of the same
animals, and the conformal guarantee holds no more than it does there. A grid, not a
gradient: the posterior is clipped by the answer floor, two numbers are fitted, and every
evaluation reuses the model's memoised scores (no model call after the first grid point).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ratiocinator.agents.pursuit.answers import AnswerPosterior
from ratiocinator.agents.pursuit.types import History, Sample
from ratiocinator.errors import InvalidInput

#: the grids searched by default: 1.0 (no scaling) is in both, and wins ties
PRIOR_GRID = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 64.0)
ANSWER_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True)
class TemperatureFit:
    """The fitted temperatures, with the held-out histories' mean NLL and argmax accuracy at the fit and unscaled."""

    prior_temperature: float
    answer_temperature: float
    nll: float
    accuracy: float
    nll_unscaled: float
    accuracy_unscaled: float
    histories: int

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


def _evaluate(posterior: AnswerPosterior, histories: Sequence[tuple[Sample, History]]) -> tuple[float, float]:
    """Mean -log p(true label | history) (p clamped at 1e-12) and the share of histories whose argmax is it."""
    nll, hits = 0.0, 0
    for sample, history in histories:
        p = posterior(sample.problem, history)
        nll -= float(np.log(max(float(p[sample.label_index]), 1e-12)))
        hits += int(int(np.argmax(p)) == sample.label_index)
    return nll / len(histories), hits / len(histories)


def fit_temperatures(
    posterior: AnswerPosterior,
    histories: Sequence[tuple[Sample, History]],
    *,
    prior_grid: Sequence[float] = PRIOR_GRID,
    answer_grid: Sequence[float] = ANSWER_GRID,
) -> TemperatureFit:
    """The grid point of least mean NLL of the true labels over `histories` (ties: the one nearest 1, 1).

    Every point reuses `posterior`'s memoised model scores (a variant with its own posterior memo), so
    the model is asked only what the first point needs. The prior temperature only matters with
    `prior="model"`; a grid of one value leaves that temperature as it is.
    """
    if not histories:
        raise InvalidInput("histories: fitting temperatures needs at least one held-out history")
    bad = [t for t in (*prior_grid, *answer_grid) if not t > 0]
    if bad or not prior_grid or not answer_grid:
        raise InvalidInput(f"prior_grid, answer_grid: expected non-empty grids of temperatures > 0, got {bad or 'an empty grid'}")
    results: dict[tuple[float, float], tuple[float, float]] = {}
    for tp in prior_grid:
        for ta in answer_grid:
            results[(tp, ta)] = _evaluate(posterior.with_temperatures(tp, ta), histories)
    distance = {key: abs(np.log(key[0])) + abs(np.log(key[1])) for key in results}
    best = min(results, key=lambda key: (round(results[key][0], 9), distance[key]))
    unscaled = results.get((1.0, 1.0)) or _evaluate(posterior.with_temperatures(1.0, 1.0), histories)
    return TemperatureFit(
        prior_temperature=best[0], answer_temperature=best[1], nll=results[best][0], accuracy=results[best][1],
        nll_unscaled=unscaled[0], accuracy_unscaled=unscaled[1], histories=len(histories),
    )
