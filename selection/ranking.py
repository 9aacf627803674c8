"""Rankings of candidate groups, shared by every selection strategy, and the pass@1 of a ranking.

A strategy maps a 0/1 passing matrix E (N candidates × M tests) to a `Ranking`: groups of candidate
row indices with a score, best first. Groups with exactly equal scores are merged, as the B4
evaluation does (`_turn_solution_scores_into_choose_count`), so the top group is every candidate that
a strategy cannot tell apart from the best.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ratiocinator.errors import InvalidInput


@dataclass(frozen=True, kw_only=True)
class Group:
    """Candidates a strategy scores identically (row indices into E), with that score."""

    members: tuple[int, ...]
    score: float


@dataclass(frozen=True, kw_only=True)
class Ranking:
    """Groups best first; ties already merged, so scores strictly decrease."""

    strategy: str
    groups: tuple[Group, ...]

    @property
    def top(self) -> tuple[int, ...]:
        """The candidates a uniform pick chooses from."""
        return self.groups[0].members if self.groups else ()

    def expected_correctness(self, correct: Sequence[bool] | np.ndarray) -> float:
        """pass@1: the expected correctness of a uniform pick from the top group (0.0 when empty)."""
        top = self.top
        if not top:
            return 0.0
        truth = np.asarray(correct, dtype=bool)
        return float(truth[list(top)].sum()) / len(top)


def as_matrix(E: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
    """Validate and convert a passing matrix to an (N, M) int64 array of 0/1."""
    arr = np.asarray(E)
    if arr.ndim != 2:
        raise InvalidInput(f"a passing matrix must be 2-D (candidates × tests), got shape {arr.shape}")
    if arr.size and not np.isin(arr, (0, 1)).all():
        raise InvalidInput("a passing matrix must hold only 0/1 (or booleans)")
    return arr.astype(np.int64)


def group_rows(E: np.ndarray) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Identical rows grouped: (unique rows (G, M), members of each) in order of first occurrence."""
    if E.shape[0] == 0:
        return E.reshape(0, E.shape[1]), []
    uniq, first, inverse = np.unique(E, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(first, kind="stable")
    members = [tuple(int(i) for i in np.flatnonzero(inverse == g)) for g in order]
    return uniq[order], members


def rank(strategy: str, scored: Iterable[tuple[tuple[int, ...], float]]) -> Ranking:
    """Sort (members, score) pairs best first (stable) and merge exactly equal scores."""
    ordered = sorted(scored, key=lambda pair: pair[1], reverse=True)
    groups: list[Group] = []
    for members, score in ordered:
        if groups and groups[-1].score == score:
            groups[-1] = Group(members=groups[-1].members + tuple(members), score=score)
        else:
            groups.append(Group(members=tuple(members), score=float(score)))
    return Ranking(strategy=strategy, groups=tuple(groups))
