"""The conformal side of conformal information pursuit: calibration, thresholds per history length, prediction sets, the size bound.

From "Conformal Information Pursuit for Interactively Guiding Large Language Models" (Chan et al.,
2025; reference code ryanchankh/Conformal-IP):
- the score of a calibration history is -p(true label | history);
- q̂_k is the quantile of the scores of histories of length k at level ceil((n+1)(1-α))/n with
  numpy's `method="higher"` (the finite-sample level of split conformal prediction, which is what
  gives the 1-α <= coverage <= 1-α+1/(n+1) that the paper's bound uses; the reference script
  passes 1-α itself). Fewer than (1-α)/α samples cannot reach the level: a clear error;
- the prediction set is {y : p(y | history) >= -q̂_k};
- the expected prediction-set-size bound a query is judged by (base-2 logs, as in the reference):
  h_b(α) + (1-α_n) E[log |C|; y in C] + α E[log(|Y| - |C|); y not in C], α_n = α - 1/(n+1),
  over the n sampled (label, simulated answer) pairs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.agents.pursuit.config import PursuitConfig
from ratiocinator.agents.pursuit.types import History, Posterior, Sample
from ratiocinator.errors import InvalidInput


def min_calibration_samples(alpha: float) -> int:
    """The fewest calibration scores with which the level ceil((n+1)(1-α))/n is at most 1."""
    _check_alpha(alpha)
    return math.ceil((1 - alpha) / alpha - 1e-9)


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise InvalidInput(
            f"alpha: expected a miscoverage level strictly between 0 and 1, got {alpha}"
        )


def conformal_quantile(scores: Sequence[float], alpha: float, *, where: str = "scores") -> float:
    """q̂ at level 1-α from calibration scores (finite-sample corrected, `method="higher"`)."""
    _check_alpha(alpha)
    n = len(scores)
    need = min_calibration_samples(alpha)
    if n < need:
        raise InvalidInput(
            f"{where}: {n} calibration score(s) cannot give a 1-α = {1 - alpha:g} quantile; "
            f"at least {need} are needed (ceil((n+1)(1-α)) must not exceed n)"
        )
    level = min(
        1.0, math.ceil((n + 1) * (1 - alpha) - 1e-9) / n
    )  # tolerance: 10 * 0.9 may round up
    return float(np.quantile(np.asarray(scores, dtype=float), level, method="higher"))


class Thresholds(BaseModel):
    """q̂_k per history length k at one α, with the calibration sample counts; saved and loaded as JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alpha: float = Field(gt=0, lt=1)
    qhat: dict[int, float]
    n_samples: dict[int, int] = Field(default_factory=dict)
    #: the posterior the scores came from ("answers" or "direct"; None: not recorded, older files)
    posterior: str | None = None

    @classmethod
    def from_scores(
        cls,
        scores_by_length: Mapping[int, Sequence[float]],
        alpha: float,
        posterior: str | None = None,
    ) -> Thresholds:
        """q̂_k for every history length k that has calibration scores."""
        if not scores_by_length:
            raise InvalidInput(
                "scores_by_length: expected calibration scores for at least one history length"
            )
        qhat = {
            int(k): conformal_quantile(s, alpha, where=f"history length {k}")
            for k, s in sorted(scores_by_length.items())
        }
        n_samples = {int(k): len(s) for k, s in scores_by_length.items()}
        return cls(alpha=alpha, qhat=qhat, n_samples=n_samples, posterior=posterior)

    def at(self, length: int) -> float:
        """q̂ for histories of `length` (question, answer) pairs."""
        if length not in self.qhat:
            known = ", ".join(str(k) for k in sorted(self.qhat))
            raise InvalidInput(
                f"thresholds: no q̂ for history length {length} (calibrated lengths: {known}); calibrate "
                "every length from 0 to the question budget"
            )
        return self.qhat[length]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Thresholds:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"thresholds file {path}: cannot read it as JSON ({exc})") from None
        try:
            return cls.model_validate(data)
        except ValueError as exc:
            raise InvalidInput(
                f"thresholds file {path}: expected {{alpha, qhat: {{length: q}}, n_samples}}: {exc}"
            ) from None


def prediction_set(probs: np.ndarray, qhat: float) -> np.ndarray:
    """Boolean mask (..., L) of the labels with p >= -q̂ (may be empty)."""
    return probs >= -qhat


def size_bound(psets: np.ndarray, label_idx: Sequence[int], alpha: float) -> float:
    """The paper's upper bound on the expected log prediction-set size, from n sampled pairs.

    `psets` is (n, L) boolean; `label_idx` holds the n sampled labels.
    """
    n, n_labels = psets.shape
    if n == 0:
        raise InvalidInput("size_bound: expected at least one sampled label")
    sizes = psets.sum(axis=1)
    covered = psets[np.arange(n), np.asarray(label_idx)]
    h_b = -alpha * math.log2(alpha) - (1 - alpha) * math.log2(1 - alpha)
    alpha_n = alpha - 1 / (n + 1)
    inside = (1 - alpha_n) * float(np.log2(sizes[covered]).mean()) if covered.any() else 0.0
    outside = alpha * float(np.log2(n_labels - sizes[~covered]).mean()) if (~covered).any() else 0.0
    return h_b + inside + outside


def entropy(probs: np.ndarray) -> float:
    """Mean base-2 entropy of the rows of `probs` (the information-pursuit objective; p clamped at 1e-5)."""
    p = np.clip(probs, 1e-5, None)
    return float(-(p * np.log2(p)).sum(axis=-1).mean())


def calibration_histories(
    samples: Sequence[Sample], queries: Sequence[str], *, lengths: Sequence[int], n_per_length: int, seed: int = 0
) -> Iterator[tuple[int, Sample, History]]:
    """(k, sample, history) for `n_per_length` random histories of each length k (reference:
    `sample_length_k_history`): a sample drawn uniformly (with replacement) among those with at least k
    queries of their own (a case is never asked more questions than it has), k distinct queries of its
    bank drawn uniformly, answered by the sample's answerer."""
    if not samples:
        raise InvalidInput("samples: calibration needs at least one calibration Sample")
    rng = np.random.default_rng(seed)
    for k in lengths:
        if not 0 <= k <= len(queries):
            raise InvalidInput(
                f"lengths: history length {k} is outside 0..{len(queries)} (the query bank's size)"
            )
        # a sample with fewer than k queries of its own is never asked k questions: not drawn for length k
        eligible = [s for s in samples if k <= len(s.queries if s.queries is not None else queries)]
        if not eligible:
            raise InvalidInput(f"lengths: history length {k} exceeds every calibration sample's own queries")
        for _ in range(n_per_length):
            s = eligible[int(rng.integers(len(eligible)))]
            bank = s.queries if s.queries is not None else queries
            picked = rng.choice(len(bank), size=k, replace=False)
            yield k, s, tuple((bank[i], s.answerer.answer(bank[i])) for i in picked)


def calibrate(
    backend: Any,
    samples: Sequence[Sample],
    queries: Sequence[str],
    *,
    alpha: float = PursuitConfig.model_fields["alpha"].default,
    lengths: Sequence[int],
    n_per_length: int,
    seed: int = 0,
    posterior: Posterior | None = None,
) -> Thresholds:
    """q̂_k for each history length k from random calibration histories (`calibration_histories`).

    Each calibration history's score is -p(sample's label | history) under `posterior` (the reference's
    direct posterior when None; pass answers.make_posterior(backend, config) for the config's own).
    The thresholds record which posterior they were calibrated on.
    """
    posterior = posterior or Posterior(backend)
    scores: dict[int, list[float]] = {k: [] for k in lengths}
    for k, s, history in calibration_histories(samples, queries, lengths=lengths, n_per_length=n_per_length,
                                                seed=seed):
        scores[k].append(-float(posterior(s.problem, history)[s.label_index]))
    return Thresholds.from_scores(scores, alpha, posterior=posterior.kind)
