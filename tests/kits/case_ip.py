"""The registry walk's case for `ip` (information pursuit, no conformal step): the `c-ip` game without thresholds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("case_c_ip", Path(__file__).with_name("case_c_ip.py"))
_cip = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cip)

make_input = _cip.make_input
make_backend = _cip.make_backend


def check(result) -> None:
    # IP runs to its budget (no set to stop on), asking the entropy-minimising questions
    assert result.prediction == "bird" and result.stop_reason == "no_query_left"
    assert result.prediction_set == () and result.coverage is None
    assert result.verdict.status == "unverified" and "no coverage statement" in result.verdict.reason
