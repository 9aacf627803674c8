"""B4 posterior selection: rank groups of identical passing rows by a Beta-Bernoulli log posterior.

Chen et al., "B4: Towards Optimal Assessment of Plausible Code Solutions with Plausible Tests"
(ASE 2024; reference code ZJU-CTAG/B4, `strategy.py`). Each distinct passing row y (a group of
candidates x that share it) is a hypothesis "these candidates and the tests they pass are the correct
ones". Its score is the sum of four log-marginal terms, with B(a, b) the Beta function:

    log B(|y| + α_xy, M - |y| + 1)          test prior    (|y| = tests the group passes)
  + log B(|x| + α_xy, N - |x| + 1)          solution prior (|x| = candidates in the group)
  + log B(n1 + 1, m1 - n1 + 1)              θ1 block: other candidates on the group's passed tests
  + log B(n0 + 1, m0 - n0 + β0)             θ0 block: other candidates on the group's failed tests

where m1 = (N - |x|)·|y| cells, n1 of them passing, and m0 = (N - |x|)·(M - |y|) cells, n0 passing.
The sums over blocks are computed from column sums (no sub-matrix copies); the four terms are added
in the reference code's order so that exactly tied hypotheses tie here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln

from ratiocinator.errors import InvalidInput
from ratiocinator.selection.ranking import Ranking, as_matrix, group_rows, rank

BETA0_GRID: tuple[float, ...] = (1e4, 1e5, 1e6)  # the paper's β0 settings


@dataclass(frozen=True, kw_only=True)
class B4Config:
    """B4's hyper-parameters with the paper's defaults (β0 ∈ {1e4, 1e5, 1e6}, α_xy = 1e3)."""

    beta0: float = 1e4  # prior pseudo-count that an incorrect candidate fails a test it "should" fail
    alpha_xy: float = 1e3  # prior pseudo-count on the share of correct candidates and of correct tests

    def __post_init__(self) -> None:
        if not (self.beta0 > 0 and self.alpha_xy > 0):
            raise InvalidInput(f"B4Config needs beta0 > 0 and alpha_xy > 0, got {self.beta0}, {self.alpha_xy}")

    @property
    def name(self) -> str:
        return f"b4_{self.beta0:.0e}".replace("e+0", "e").replace("e+", "e")


def b4_scores(E: np.ndarray, config: B4Config | None = None) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """The log posterior of each group of identical rows: (members per group, scores (G,))."""
    cfg = config or B4Config()
    E = as_matrix(E)
    n, m = E.shape
    rows, members = group_rows(E)
    if not members:
        return [], np.zeros(0)
    size = np.array([len(g) for g in members], dtype=np.int64)  # |x|       (G,)
    passed = rows.sum(axis=1)  # |y|                                              (G,)
    colsum = E.sum(axis=0)  # passes per test over all candidates                (M,)
    on_passed = rows @ colsum  # all candidates' passes on the group's passed tests (G,)
    on_failed = colsum.sum() - on_passed  # ... on its failed tests                 (G,)
    n1 = on_passed - size * passed  # remove the group's own rows (all ones there)
    n0 = on_failed  # the group's own rows are all zeros there
    m1 = (n - size) * passed
    m0 = (n - size) * (m - passed)
    log_py = betaln(passed + cfg.alpha_xy, m - passed + 1.0)
    log_px = betaln(size + cfg.alpha_xy, n - size + 1.0)
    log_p1 = betaln(n1 + 1.0, m1 - n1 + 1.0)
    log_p0 = betaln(n0 + 1.0, m0 - n0 + cfg.beta0)
    return members, log_px + log_py + log_p1 + log_p0


def b4(E: np.ndarray, config: B4Config | None = None) -> Ranking:
    """Rank groups of identical passing rows by B4's log posterior, best first, ties merged."""
    cfg = config or B4Config()
    members, scores = b4_scores(E, cfg)
    return rank(cfg.name, zip(members, scores.tolist(), strict=True))
