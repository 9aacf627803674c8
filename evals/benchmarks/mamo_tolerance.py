"""Mamo's answer check as its scripts apply it (FreedomIntelligence/Mamo `compare_output_with_standard`).

Mamo counts a numeric answer correct when it is within one unit of the ground truth's last written
decimal place (`|a·10^d − gt·10^d| ≤ 1`, d = the ground truth's decimals, 0 for an integer) or within
a relative error of 1e-4. The one-unit rule is lenient for small integer answers (7 passes for 8), so
the benchmarks report `evals.metrics.mamo_close` next to it as `accuracy_strict` (relative error ≤ 1e-4,
or equal after rounding to the ground truth's decimals, at least 2: the rule the data README states).
"""

from __future__ import annotations

import math

from ratiocinator.evals.metrics import mamo_close

RELATIVE = 1e-4


def answer_text(value: float | int | str) -> str:
    """The ground truth as written: JSON numbers that are whole print without a decimal point."""
    if isinstance(value, str):
        return value.strip()
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text and "e" not in text.lower() else 0


def mamo_correct(value: float | None, truth: str) -> bool:
    """Mamo's rule: within one unit of the last written decimal place, or relative error ≤ 1e-4."""
    if value is None or not math.isfinite(value):
        return False
    gt = float(truth)
    scale = 10 ** _decimals(truth)
    diff = abs(value - gt)
    relative = (
        diff * RELATIVE if gt == 0 else diff / abs(gt)
    )  # Mamo's `comp`, its zero case included
    return abs(value * scale - gt * scale) <= 1 or relative <= RELATIVE


def strict_correct(value: float | None, truth: str) -> bool:
    """The stricter rule of `evals.metrics.mamo_close`."""
    return value is not None and mamo_close(value, truth)
