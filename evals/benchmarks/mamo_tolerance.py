"""Mamo's answer check (FreedomIntelligence/Mamo `compare_output_with_standard`), also used for LLMOPT's sets.

Mamo counts a numeric answer correct when it is within one unit of the ground truth's last written
decimal place (`|a·10^d − gt·10^d| ≤ 1`, d = the ground truth's decimals, 0 for an integer) or within
a relative error of 1e-4. The one-unit rule is lenient for small integer answers (7 passes for 8), so
`strict_correct` is reported next to it: relative error ≤ 1e-4, or equal after rounding to the ground
truth's decimals (at least 2), the rule the data README states.
"""

from __future__ import annotations

import math

RELATIVE = 1e-4


def answer_text(value: float | int | str) -> str:
    """The ground truth as written: JSON numbers that are whole print without a decimal point."""
    if isinstance(value, str):
        return value.strip()
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text and "e" not in text.lower() else 0


def _relative(value: float, truth: float) -> bool:
    diff = abs(value - truth)
    return (diff * RELATIVE if truth == 0 else diff / abs(truth)) <= RELATIVE


def mamo_correct(value: float | None, truth: str) -> bool:
    """Mamo's rule: within one unit of the last written decimal place, or relative error ≤ 1e-4."""
    if value is None or not math.isfinite(value):
        return False
    gt = float(truth)
    scale = 10 ** _decimals(truth)
    return abs(value * scale - gt * scale) <= 1 or _relative(value, gt)


def strict_correct(value: float | None, truth: str) -> bool:
    """Relative error ≤ 1e-4, or equal to the ground truth after rounding to its decimals (at least 2)."""
    if value is None or not math.isfinite(value):
        return False
    gt = float(truth)
    digits = max(2, _decimals(truth))
    return _relative(value, gt) or round(value, digits) == round(gt, digits)
