"""Metrics against hand-computed values and their defining formulas."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.evals.metrics import (
    accuracy,
    bootstrap_interval,
    estimate,
    exact_match,
    exact_nuclear_norm,
    harmonic_estimate,
    mamo_close,
    nuclear_norm,
    parse_number,
    pass_at_k,
    plan_quality,
    wilson_interval,
)


def _pass_at_k_by_enumeration(n: int, c: int, k: int) -> float:
    samples = [1] * c + [0] * (n - c)
    draws = list(combinations(range(n), k))
    return sum(any(samples[i] for i in d) for d in draws) / len(draws)


@pytest.mark.parametrize(("n", "c", "k"), [(10, 3, 1), (10, 3, 2), (8, 0, 3), (8, 8, 3), (7, 2, 5), (6, 1, 6)])
def test_pass_at_k_is_the_probability_that_k_draws_contain_a_correct_one(n: int, c: int, k: int) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(_pass_at_k_by_enumeration(n, c, k))


def test_pass_at_k_rejects_impossible_counts() -> None:
    with pytest.raises(InvalidInput, match="k=5 is larger"):
        pass_at_k(3, 1, 5)
    with pytest.raises(InvalidInput, match="0 <= c <= n"):
        pass_at_k(3, 4, 1)


def test_wilson_interval_matches_the_textbook_value() -> None:
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and 0.1 < high < 0.2


def test_estimate_picks_wilson_for_rates_and_bootstrap_otherwise() -> None:
    rate = estimate([1, 0, 1, 1])
    assert rate.method == "wilson" and rate.value == 0.75 and rate.low < 0.75 < rate.high
    spread = estimate([0.5, 1.5, 2.0, 3.0, 0.1])
    assert spread.method == "bootstrap" and spread.low < spread.value < spread.high
    assert bootstrap_interval([0.5, 1.5, 2.0, 3.0, 0.1]) == bootstrap_interval([0.5, 1.5, 2.0, 3.0, 0.1])
    assert math.isnan(estimate([]).value) and estimate([]).n == 0


def test_accuracy_and_exact_match() -> None:
    assert accuracy([True, False, True, True]) == 0.75 and accuracy([]) == 0.0
    assert exact_match("  Paris. ", "paris") and not exact_match("Paris is it", "paris")
    assert not exact_match("Paris.", "paris", normalize=False)


@pytest.mark.parametrize(("answer", "truth", "ok"), [
    (12.5001, "12.5", True),      # relative error 8e-6
    ("3.1449", "3.14", True),     # equal at gt's two decimals
    ("3.146", "3.14", False),
    (0.001, "0", True),           # gt 0: rounded to 2 decimals
    ("x = 1,000.05", "1000", True),
    (1001, "1000", False),
    (0.12346, "0.12345", True),
    (0.1235, "0.12345", False),   # rounded to gt's 5 decimals it differs
    ("no number", "7", False),
    (None, "7", False),
])
def test_mamo_tolerance(answer: object, truth: str, ok: bool) -> None:
    assert mamo_close(answer, truth) is ok  # type: ignore[arg-type]


def test_mamo_needs_a_numeric_ground_truth_and_numbers_parse() -> None:
    with pytest.raises(InvalidInput, match="ground truth"):
        mamo_close(1, "n/a")
    assert parse_number("the optimum is -2.5e3 units") == -2500.0 and parse_number("none") is None


def test_plan_quality() -> None:
    assert plan_quality(True, 12, 12).optimal and plan_quality(True, 12, 12).cost_ratio == 1.0
    worse = plan_quality(True, 15, 12)
    assert worse.valid and worse.optimal is False and worse.cost_ratio == 1.25
    assert plan_quality(False, None, 12).optimal is False and plan_quality(True, 3, None).optimal is None
    with pytest.raises(InvalidInput, match="below the optimal"):
        plan_quality(True, 10, 12)


def test_nuclear_norm_by_hand_and_its_invariances() -> None:
    eye = np.eye(2)
    # centred: [[.5,-.5],[-.5,.5]]; rows normalised: ±[.707,-.707]; column norms 1 and 1; sum 2, over L=2
    assert nuclear_norm(eye) == pytest.approx(1.0)
    assert exact_nuclear_norm(eye) == pytest.approx(math.sqrt(2) / 2)  # rank one, sigma = ||A||_F = sqrt 2
    assert nuclear_norm(np.ones((5, 3))) == 0.0  # identical rows: nothing left after centring
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 40))
    value = nuclear_norm(x)
    assert nuclear_norm(3.0 * x + 7.0) == pytest.approx(value)  # scale and shift invariant
    assert nuclear_norm(x[rng.permutation(12)]) == pytest.approx(value)  # order of tokens does not matter
    assert 0 < value <= math.sqrt(12 * 12) / 12  # Cauchy-Schwarz: sum of D norms <= sqrt(D * L)
    assert nuclear_norm(x, top_d=1) < value
    with pytest.raises(InvalidInput, match="non-empty"):
        nuclear_norm(np.zeros((0, 4)))


def test_harmonic_estimate_is_processbench_f1_with_an_interval_per_group() -> None:
    erroneous = [1.0] * 3 + [0.0] * 7  # 0.3 of the erroneous solutions found
    correct = [1.0] * 9 + [0.0] * 1  # 0.9 of the correct ones called correct
    est = harmonic_estimate(erroneous, correct)
    assert est.value == pytest.approx(2 * 0.3 * 0.9 / 1.2) and est.n == 20 and est.method == "jeffreys"
    assert 0.0 <= est.low < est.value < est.high <= 1.0
    none_found = harmonic_estimate([0.0] * 10, [1.0] * 10)  # "always correct": F1 0, yet not a certainty
    assert none_found.value == 0.0 and none_found.low == 0.0 < 0.05 < none_found.high < 0.5
    graded = harmonic_estimate([0.5, 0.25, 1.0], [0.75, 1.0])  # not 0/1: resampled
    assert graded.method == "bootstrap" and graded.low <= graded.value <= graded.high
    assert math.isnan(harmonic_estimate([], [1.0]).value)
    assert math.isnan(harmonic_estimate([1.0, math.nan], [1.0]).value)  # a NaN is not silently a 0
