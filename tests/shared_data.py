"""The team's offline data for the tests: the root that holds a path (ratiocinator.datadirs) and the skip marker that needs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ratiocinator import datadirs


def root(probe: str) -> Path:
    """The first data root that holds `probe` ($RATIOCINATOR_DATA, ../shared/data, ...), else the first root."""
    return datadirs.holding(probe) or datadirs.data_roots()[0]


def needs(probe: str, what: str | None = None) -> pytest.MarkDecorator:
    """Skip unless a data root holds `probe`; the reason names what is missing (`what`) and how to point at it."""
    return pytest.mark.skipif(datadirs.holding(probe) is None, reason=datadirs.missing(what or probe))
