"""B4 and the heuristics on hand-made matrices with known answers and against a transcription of the paper."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.selection import B4Config, b4, codet, maxpass, mbr_exec, random_pick, select
from ratiocinator.selection.b4 import BETA0_GRID, b4_scores


def _betaln(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _reference_b4(E: np.ndarray, beta0: float, alpha_xy: float) -> list[tuple[list[int], float]]:
    """The paper's four terms written out directly, one hypothesis per distinct row (math.lgamma)."""
    n, m = E.shape
    out = []
    for layout in Counter(tuple(r) for r in E.tolist()):
        y = np.array(layout)
        x = np.array([tuple(r) == layout for r in E.tolist()])
        rest = E[~x]
        e1, e0 = rest[:, y == 1], rest[:, y == 0]
        score = (_betaln(x.sum() + alpha_xy, n - x.sum() + 1) + _betaln(y.sum() + alpha_xy, m - y.sum() + 1)
                 + _betaln(e1.sum() + 1, e1.size - e1.sum() + 1) + _betaln(e0.sum() + 1, e0.size - e0.sum() + beta0))
        out.append((list(np.flatnonzero(x)), score))
    return sorted(out, key=lambda p: p[1], reverse=True)


@pytest.mark.parametrize("seed", range(40))
def test_b4_matches_the_transcription_on_random_matrices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 30)), int(rng.integers(0, 25))
    # Few distinct row patterns, as real passing matrices have.
    patterns = rng.random((int(rng.integers(1, 6)), m)) < rng.random()
    E = patterns[rng.integers(len(patterns), size=n)].astype(int)
    beta0 = BETA0_GRID[seed % 3]
    members, scores = b4_scores(E, B4Config(beta0=beta0))
    ref = _reference_b4(E, beta0, 1e3)
    mine = sorted(zip(members, scores.tolist(), strict=True), key=lambda p: p[1], reverse=True)
    assert len(mine) == len(ref)
    for (_, s1), (_, s2) in zip(mine, ref, strict=True):
        assert s1 == pytest.approx(s2, rel=1e-9, abs=1e-6)
    by_members = {tuple(g): s for g, s in mine}
    for g, s in ref:
        assert by_members[tuple(g)] == pytest.approx(s, rel=1e-9, abs=1e-6)
    top = b4(E, B4Config(beta0=beta0)).top
    best = ref[0][1]
    assert sorted(top) == sorted(i for g, s in ref if s == pytest.approx(best, rel=1e-12) for i in g)


def test_b4_prefers_a_small_consistent_group_that_passes_many_tests() -> None:
    # 2 correct solutions pass all 6 tests; 5 identical wrong ones pass only test 0.
    E = np.array([[1] * 6] * 2 + [[1, 0, 0, 0, 0, 0]] * 5)
    correct = np.array([1, 1, 0, 0, 0, 0, 0], bool)
    assert b4(E).top == (0, 1)
    assert b4(E).expected_correctness(correct) == 1.0
    assert mbr_exec(E).top == (2, 3, 4, 5, 6)  # the majority, wrong
    assert mbr_exec(E).expected_correctness(correct) == 0.0
    assert codet(E).top == (0, 1)  # 6·√2 > 1·√5
    assert random_pick(E).expected_correctness(correct) == pytest.approx(2 / 7)


def test_codet_and_maxpass_scores() -> None:
    E = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1], [1, 0, 0]])
    ranking = codet(E)
    assert [g.members for g in ranking.groups] == [(0, 1), (2,), (3,)]
    assert [g.score for g in ranking.groups] == pytest.approx([2 * math.sqrt(2), 2.0, 1.0])
    mp = maxpass(E)
    assert [g.members for g in mp.groups] == [(0, 1, 2), (3,)]  # grouped by count, not by row
    assert [g.score for g in mp.groups] == [2.0, 1.0]


def test_exact_ties_are_merged() -> None:
    E = np.array([[1, 0], [0, 1]])
    for ranking in (b4(E), codet(E), mbr_exec(E), maxpass(E)):
        assert sorted(ranking.top) == [0, 1], ranking.strategy
        assert ranking.expected_correctness([True, False]) == 0.5


def test_degenerate_matrices() -> None:
    assert b4(np.zeros((0, 3), int)).top == ()
    assert b4(np.zeros((3, 0), int)).top == (0, 1, 2)  # no tests: one group
    assert b4(np.ones((1, 4), int)).expected_correctness([True]) == 1.0
    assert random_pick(np.zeros((0, 2), int)).expected_correctness([]) == 0.0


def test_beta0_changes_the_choice() -> None:
    # A lone candidate passing 4 tests vs. a group of 6 passing 2 of them: β0 trades group size
    # against the penalty for failing tests that "should" pass. The paper's grid must not all agree
    # by accident here; each β0 is checked against the transcription instead.
    E = np.array([[1, 1, 1, 1]] + [[1, 1, 0, 0]] * 6 + [[0, 0, 1, 1]] * 2)
    for beta0 in BETA0_GRID:
        ref = _reference_b4(E, beta0, 1e3)
        assert list(b4(E, B4Config(beta0=beta0)).top) == ref[0][0]


def test_config_validation_and_names() -> None:
    assert [B4Config(beta0=b).name for b in BETA0_GRID] == ["b4_1e4", "b4_1e5", "b4_1e6"]
    with pytest.raises(InvalidInput):
        B4Config(beta0=0)
    with pytest.raises(InvalidInput):
        b4(np.array([[0, 2]]))
    with pytest.raises(InvalidInput):
        b4(np.array([1, 0]))


def test_select_with_any_checkable_candidates() -> None:
    # Candidates are numbers; a "test" is a predicate the right answer (12) satisfies.
    candidates = [12, 7, 12, 30, 7, 7]
    tests = [lambda x: x % 2 == 0, lambda x: x % 3 == 0, lambda x: x < 20, lambda x: 1 / (x - 7) > 0]

    def run(candidate: int, test) -> bool:
        return test(candidate)  # 1/(7-7) raises: a failure of that cell, not of select()

    chosen = select(candidates, tests, run=run, strategy="b4")
    assert chosen.best == 12 and chosen.best_index in (0, 2) and set(chosen.top) == {12}
    assert chosen.matrix.shape == (6, 4) and chosen.matrix[1].tolist() == [0, 0, 1, 0]
    assert select(candidates, matrix=chosen.matrix, strategy="mbr_exec").best == 7
    assert select(candidates, tests, run=run, strategy=B4Config(beta0=1e6), rng=None).best_index == 0


def test_select_rejects_misuse() -> None:
    with pytest.raises(InvalidInput):
        select([], [1], run=lambda c, t: True)
    with pytest.raises(InvalidInput):
        select([1], [1])
    with pytest.raises(InvalidInput):
        select([1], [1], run=lambda c, t: True, matrix=[[1]])
    with pytest.raises(InvalidInput):
        select([1, 2], matrix=[[1]])
    with pytest.raises(InvalidInput):
        select([1], [1], run=lambda c, t: True, strategy="best")
