"""The baseline selection strategies B4 is compared with: CodeT, MBR-exec, MaxPass and Random.

As implemented in the B4 reference code (ZJU-CTAG/B4, `strategy.py`), on a 0/1 passing matrix E:
- CodeT (Chen et al., ICLR 2023): groups of identical rows scored |passed tests| × √|group|.
- MBR-exec (Shi et al., EMNLP 2022): groups of identical rows scored by their size.
- MaxPass: candidates grouped by how many tests they pass, scored by that number.
- Random: one group holding every candidate (pass@1 is the mean correctness).
"""

from __future__ import annotations

import numpy as np

from ratiocinator.selection.ranking import Ranking, as_matrix, group_rows, rank


def codet(E: np.ndarray) -> Ranking:
    """CodeT's consensus score: passed tests × sqrt(size of the group of identical rows)."""
    rows, members = group_rows(as_matrix(E))
    return rank("codet", ((g, float(row.sum()) * len(g) ** 0.5) for row, g in zip(rows, members, strict=True)))


def mbr_exec(E: np.ndarray) -> Ranking:
    """MBR-exec: the largest group of candidates that behave identically on the tests."""
    _, members = group_rows(as_matrix(E))
    return rank("mbr_exec", ((g, float(len(g))) for g in members))


def maxpass(E: np.ndarray) -> Ranking:
    """MaxPass: the candidates that pass the most tests."""
    E = as_matrix(E)
    counts = E.sum(axis=1)
    first_seen = list(dict.fromkeys(counts.tolist()))
    return rank("maxpass", ((tuple(int(i) for i in np.flatnonzero(counts == c)), float(c)) for c in first_seen))


def random_pick(E: np.ndarray) -> Ranking:
    """Random: every candidate in one group."""
    n = as_matrix(E).shape[0]
    return rank("random", [(tuple(range(n)), 1.0)] if n else [])
