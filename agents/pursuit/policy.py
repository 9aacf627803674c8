"""Query selection of conformal information pursuit: which unasked query to ask next (C-IP's size bound, or IP's entropy).

"cip" picks the unasked query with the least expected prediction-set-size bound (conformal.size_bound)
over labels sampled from the prior with their simulated answers; "ip" (information pursuit, the
baseline) the least mean posterior entropy over the same draws. The draws come from a generator
seeded by the config's seed and the history, so the policy is a function of the history alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from ratiocinator.agents.pursuit.config import PursuitConfig
from ratiocinator.agents.pursuit.conformal import Thresholds, entropy, prediction_set, size_bound
from ratiocinator.agents.pursuit.types import History, Posterior, Sample
from ratiocinator.errors import InvalidInput


def history_rng(seed: int, history: History) -> np.random.Generator:
    digest = hashlib.sha256(repr((seed, tuple(history))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _check(
    samples: Sequence[Sample], config: PursuitConfig, thresholds: Thresholds | None
) -> None:
    if config.method == "direct":
        raise InvalidInput("select_query: method 'direct' asks no questions")
    if not samples:
        raise InvalidInput(
            "samples: query selection needs draws from the prior (at least one Sample)"
        )
    if config.method == "cip" and thresholds is None:
        raise InvalidInput(
            "thresholds: method 'cip' needs calibrated thresholds (see pursuit.calibrate)"
        )


def _draw(
    rng: np.random.Generator,
    posterior: Posterior,
    history: History,
    samples: Sequence[Sample],
    config: PursuitConfig,
) -> list[Sample]:
    """The samples whose simulated answers each candidate query is judged by (prior or posterior weights)."""
    weights = None
    if config.draw_labels_from == "posterior":
        weights = np.array([posterior(s.problem, history)[s.label_index] for s in samples])
        weights = weights / weights.sum()
    picks = rng.choice(len(samples), size=config.n_label_samples, replace=True, p=weights)
    return [samples[i] for i in picks]


def select_query(
    posterior: Posterior,
    history: History,
    queries: Sequence[str],
    samples: Sequence[Sample],
    config: PursuitConfig,
    thresholds: Thresholds | None,
) -> tuple[str, dict[str, float]]:
    """The next query and the objective of every candidate (lower is better)."""
    _check(samples, config, thresholds)
    asked = {q for q, _ in history}
    unasked = [q for q in queries if q not in asked]
    if not unasked:
        raise InvalidInput("queries: every query of the bank has been asked")
    rng = history_rng(config.seed, history)
    if config.n_candidate_queries is not None and config.n_candidate_queries < len(unasked):
        picked = rng.choice(len(unasked), size=config.n_candidate_queries, replace=False)
        unasked = [unasked[i] for i in sorted(picked)]
    drawn = _draw(rng, posterior, history, samples, config)
    label_idx = [s.label_index for s in drawn]
    objective: dict[str, float] = {}
    for q in unasked:
        probs = np.stack(
            [posterior(s.problem, (*history, (q, s.answerer.answer(q)))) for s in drawn]
        )
        if config.method == "cip":
            assert thresholds is not None
            psets = prediction_set(probs, thresholds.at(len(history) + 1))
            objective[q] = size_bound(psets, label_idx, config.alpha)
        else:
            objective[q] = entropy(probs)
    best = min(unasked, key=lambda q: objective[q])  # ties: the earlier query of the bank
    return best, objective
