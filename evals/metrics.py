"""Scoring functions of the benchmarks: accuracy, pass@k, confidence intervals, Mamo tolerance, plans, nuclear norm.

Pure functions over numbers and arrays (numpy only); every one states the source of its definition.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from statistics import NormalDist
from typing import Literal

import numpy as np

from ratiocinator.errors import InvalidInput

Interval = Literal["wilson", "bootstrap", "none"]


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """A mean with its confidence interval: `low <= value <= high` at `confidence`, over `n` values."""

    value: float
    low: float
    high: float
    n: int
    method: Interval
    confidence: float = 0.95


def accuracy(correct: Sequence[bool | float]) -> float:
    """The fraction of correct items (0.0 for none)."""
    return float(np.mean(np.asarray(correct, dtype=float))) if len(correct) else 0.0


def exact_match(prediction: str, target: str, *, normalize: bool = True) -> bool:
    """Equal strings; with `normalize`, after lower-casing, dropping surrounding punctuation and squeezing spaces."""
    if normalize:
        prediction, target = _normal(prediction), _normal(target)
    return prediction == target


def _normal(text: str) -> str:
    text = " ".join(text.lower().split())
    return text.strip(" .,;:!?\"'`")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct (Chen et al. 2021, "Evaluating LLMs on Code").

    1 - C(n-c, k) / C(n, k), computed as a stable product.
    """
    if not 0 <= c <= n or k < 1:
        raise InvalidInput(f"pass_at_k: need 0 <= c <= n and k >= 1, got n={n}, c={c}, k={k}")
    if k > n:
        raise InvalidInput(f"pass_at_k: k={k} is larger than the number of samples n={n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson 1927); (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise InvalidInput(f"wilson_interval: need 0 <= successes <= n, got {successes} of {n}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def bootstrap_interval(values: Sequence[float], confidence: float = 0.95, *, resamples: int = 2000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (Efron 1979), seeded so that reports are reproducible."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return math.nan, math.nan
    if len(x) == 1:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(resamples, len(x)))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def harmonic_estimate(a: Sequence[float], b: Sequence[float], confidence: float = 0.95, *,
                      resamples: int = 4000, seed: int = 0) -> Estimate:
    """The harmonic mean of two groups' means (ProcessBench's F1 of the accuracies on erroneous and on
    correct items) with an interval from each group's rate drawn on its own: from its Jeffreys posterior
    Beta(k + 1/2, n - k + 1/2) when the values are 0/1 (so that a rate of 0 or 1 still has an interval, as
    Wilson's does for a plain rate), else by resampling the group (percentile bootstrap).

    n is the two groups' items together; NaN where either group is empty or holds a NaN.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) == 0 or len(y) == 0 or np.isnan(x).any() or np.isnan(y).any():
        return Estimate(value=math.nan, low=math.nan, high=math.nan, n=len(x) + len(y), method="none",
                        confidence=confidence)
    rng = np.random.default_rng(seed)
    binary = np.isin(x, (0.0, 1.0)).all() and np.isin(y, (0.0, 1.0)).all()

    def draws(v: np.ndarray) -> np.ndarray:
        if binary:
            k = float(v.sum())
            return rng.beta(k + 0.5, len(v) - k + 0.5, size=resamples)
        return v[rng.integers(0, len(v), size=(resamples, len(v)))].mean(axis=1)

    def hm(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        total = p + q
        return np.divide(2 * p * q, total, out=np.zeros_like(total), where=total > 0)

    alpha = (1 - confidence) / 2
    low, high = np.quantile(hm(draws(x), draws(y)), [alpha, 1 - alpha])
    value = float(hm(np.array([x.mean()]), np.array([y.mean()]))[0])
    low, high = min(float(low), value), max(float(high), value)  # as Jeffreys' interval: 0 found, low 0
    return Estimate(value=value, low=low, high=high, n=len(x) + len(y),
                    method="jeffreys" if binary else "bootstrap", confidence=confidence)


def estimate(values: Sequence[float], confidence: float = 0.95) -> Estimate:
    """The mean with a Wilson interval when every value is 0 or 1 (a success rate), else a bootstrap one."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return Estimate(value=math.nan, low=math.nan, high=math.nan, n=0, method="none", confidence=confidence)
    mean = float(x.mean())
    if np.isin(x, (0.0, 1.0)).all():
        low, high = wilson_interval(int(x.sum()), len(x), confidence)
        return Estimate(value=mean, low=low, high=high, n=len(x), method="wilson", confidence=confidence)
    low, high = bootstrap_interval(x, confidence)
    return Estimate(value=mean, low=low, high=high, n=len(x), method="bootstrap", confidence=confidence)


# ---------------------------------------------------------------- numeric answers (Mamo / LLMOPT)

_NUMBER = re.compile(r"[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_number(text: str | float | int) -> float | None:
    """The last number in a text ("x = 1,234.50" -> 1234.5), a number as is, or None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text)
    found = _NUMBER.findall(text)
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


def _decimals(ground_truth: str | float | int) -> int:
    text = ground_truth if isinstance(ground_truth, str) else repr(ground_truth)
    try:
        exponent = Decimal(text.strip().replace(",", "")).normalize().as_tuple().exponent
    except InvalidOperation:
        return 2
    return max(-exponent, 0) if isinstance(exponent, int) else 2


def mamo_close(answer: str | float | int | None, ground_truth: str | float | int, *, rel_tol: float = 1e-4) -> bool:
    """Mamo's / LLMOPT's rule: |a - gt| / |gt| <= 1e-4, or a rounded to gt's decimals (at least 2) equals gt."""
    a = parse_number(answer) if answer is not None else None
    gt = parse_number(ground_truth)
    if gt is None:
        raise InvalidInput(f"mamo_close: the ground truth {ground_truth!r} is not a number")
    if a is None or not math.isfinite(a):
        return False
    if gt != 0 and abs(a - gt) / abs(gt) <= rel_tol:
        return True
    places = max(_decimals(ground_truth), 2)
    return round(a, places) == round(gt, places)


# ---------------------------------------------------------------- plans


@dataclass(frozen=True, kw_only=True)
class PlanQuality:
    """Whether a plan is valid, and, against a known optimal cost, whether it is optimal and how far off."""

    valid: bool
    optimal: bool | None  # None when the optimal cost is unknown
    cost_ratio: float | None  # cost / optimal cost (1.0 is optimal)


def plan_quality(valid: bool, cost: float | None, optimal_cost: float | None, *, tol: float = 1e-6) -> PlanQuality:
    """LLM+P's measures: a plan counts when a validator accepts it; optimal when its cost equals the optimum."""
    if not valid or cost is None:
        return PlanQuality(valid=bool(valid), optimal=False if optimal_cost is not None else None, cost_ratio=None)
    if optimal_cost is None:
        return PlanQuality(valid=True, optimal=None, cost_ratio=None)
    if cost < optimal_cost - tol:
        raise InvalidInput(f"plan_quality: cost {cost} is below the optimal cost {optimal_cost}; "
                           "the 'optimal' cost is not optimal")
    ratio = cost / optimal_cost if optimal_cost else (1.0 if cost == 0 else math.inf)
    return PlanQuality(valid=True, optimal=abs(cost - optimal_cost) <= tol, cost_ratio=ratio)


# ---------------------------------------------------------------- Matrix Nuclear-Norm


def nuclear_norm(hidden: np.ndarray, *, top_d: int | None = None) -> float:
    """Matrix Nuclear-Norm of one response (Li et al. 2024, "Large Language Model Evaluation via Matrix Nuclear-Norm").

    `hidden` is (L tokens, d) hidden states of the response. Rows are centred (minus their mean) and
    L2-normalised; the nuclear norm is approximated by the sum of the D largest column L2 norms,
    D = min(L, d) unless `top_d` says otherwise, and divided by L. Lower means more compressed.
    """
    a = np.asarray(hidden, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise InvalidInput(f"nuclear_norm: expected a non-empty (tokens, hidden) matrix, got shape {a.shape}")
    length = a.shape[0]
    a = a - a.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    a = np.divide(a, norms, out=np.zeros_like(a), where=norms > 0)
    columns = np.sort(np.linalg.norm(a, axis=0))[::-1]
    d = min(a.shape) if top_d is None else top_d
    if d < 1:
        raise InvalidInput(f"nuclear_norm: top_d must be at least 1, got {top_d}")
    return float(columns[:d].sum() / length)


def exact_nuclear_norm(hidden: np.ndarray) -> float:
    """The same normalisation with the exact nuclear norm (sum of singular values, by SVD) divided by L."""
    a = np.asarray(hidden, dtype=np.float64)
    a = a - a.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    a = np.divide(a, norms, out=np.zeros_like(a), where=norms > 0)
    return float(np.linalg.svd(a, compute_uv=False).sum() / a.shape[0])


# ---------------------------------------------------------------- paired comparisons (two runs, same items)


@dataclass(frozen=True, kw_only=True)
class PairedTest:
    """Two runs scored on the same items: their means, the mean difference b − a with its 95 % interval
    (paired bootstrap), and the p-value of a paired test (McNemar exact for 0/1 scores, else the sign test)."""

    n: int
    mean_a: float
    mean_b: float
    delta: float
    low: float
    high: float
    test: Literal["mcnemar-exact", "sign", "none"]
    p_value: float
    a_only: int  # items better in a (0/1: right in a only)
    b_only: int  # items better in b


def binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n fair coin flips: 2·P(X <= min(k, n−k)), at most 1."""
    if n == 0:
        return 1.0
    k = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """McNemar's exact test (McNemar 1947): the discordant pairs split as fair coin flips under equal accuracy."""
    if a_only < 0 or b_only < 0:
        raise InvalidInput(f"mcnemar_exact: counts must be >= 0, got {a_only} and {b_only}")
    return binomial_two_sided(a_only, a_only + b_only)


def sign_test(differences: Sequence[float]) -> float:
    """The exact sign test of paired differences (zeros dropped): are positive and negative ones equally likely?"""
    pos = sum(1 for d in differences if d > 0)
    neg = sum(1 for d in differences if d < 0)
    return binomial_two_sided(pos, pos + neg)


def paired_test(a: Sequence[float], b: Sequence[float], confidence: float = 0.95, *, seed: int = 0) -> PairedTest:
    """Compare two runs item by item (a[i] and b[i] are the same item's scores)."""
    if len(a) != len(b):
        raise InvalidInput(f"paired_test: need equally many paired scores, got {len(a)} and {len(b)}")
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) == 0:
        return PairedTest(n=0, mean_a=math.nan, mean_b=math.nan, delta=math.nan, low=math.nan, high=math.nan,
                          test="none", p_value=math.nan, a_only=0, b_only=0)
    d = y - x
    low, high = bootstrap_interval(d, confidence, seed=seed)
    a_only, b_only = int((d < 0).sum()), int((d > 0).sum())
    binary = bool(np.isin(x, (0.0, 1.0)).all() and np.isin(y, (0.0, 1.0)).all())
    p = mcnemar_exact(a_only, b_only) if binary else sign_test(d.tolist())
    return PairedTest(n=len(x), mean_a=float(x.mean()), mean_b=float(y.mean()), delta=float(d.mean()), low=low,
                      high=high, test="mcnemar-exact" if binary else "sign", p_value=p, a_only=a_only,
                      b_only=b_only)
