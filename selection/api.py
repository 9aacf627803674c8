"""`select(candidates, tests, run=…, strategy="b4")`: choose among any candidates that have checkable tests.

Code is the main use, but nothing here is code-specific: candidates may be PDDL translations checked
by a planner, formulations checked by a solver, answers checked by a verifier. `run(candidate, test)`
decides one cell of the passing matrix (True: the candidate passes the test); an exception it raises
counts as a failure of that cell, never of the selection. Pass `matrix=` instead of `run` when the
passing matrix was already computed (e.g. by `execution.Executor`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from ratiocinator.errors import InvalidInput
from ratiocinator.selection.b4 import B4Config, b4
from ratiocinator.selection.heuristics import codet, maxpass, mbr_exec, random_pick
from ratiocinator.selection.ranking import Ranking, as_matrix

C = TypeVar("C")
T = TypeVar("T")

STRATEGIES: dict[str, Callable[[np.ndarray], Ranking]] = {
    "b4": lambda E: b4(E, B4Config()),
    "codet": codet,
    "mbr_exec": mbr_exec,
    "maxpass": maxpass,
    "random": random_pick,
}


def strategy_fn(strategy: str | B4Config) -> Callable[[np.ndarray], Ranking]:
    """The ranking function for a strategy name, or B4 with an explicit config."""
    if isinstance(strategy, B4Config):
        return lambda E: b4(E, strategy)
    try:
        return STRATEGIES[strategy]
    except KeyError:
        raise InvalidInput(f"unknown selection strategy {strategy!r}; expected one of {sorted(STRATEGIES)} "
                           "or a B4Config") from None


@dataclass(frozen=True, kw_only=True)
class Selection(Generic[C]):
    """The chosen candidate, the group it was picked from, the full ranking and the passing matrix."""

    best: C
    best_index: int
    top: tuple[C, ...]
    ranking: Ranking
    matrix: np.ndarray  # (N candidates, M tests) of 0/1


def select(
    candidates: Sequence[C],
    tests: Sequence[T] = (),
    *,
    run: Callable[[C, T], bool] | None = None,
    matrix: np.ndarray | Sequence[Sequence[int]] | None = None,
    strategy: str | B4Config = "b4",
    rng: np.random.Generator | int | None = 0,
) -> Selection[C]:
    """Rank the candidates by how they pass the tests and pick one from the top group.

    The pick within the top group is uniform with `rng` (seeded by default, so repeatable); pass
    `rng=None` to take the first member.
    """
    if not candidates:
        raise InvalidInput("select() needs at least one candidate")
    if (run is None) == (matrix is None):
        raise InvalidInput("give select() exactly one of run= (to compute the passing matrix) or matrix=")
    if matrix is not None:
        E = as_matrix(matrix)
        if E.shape[0] != len(candidates):
            raise InvalidInput(f"matrix has {E.shape[0]} rows but there are {len(candidates)} candidates")
    else:
        assert run is not None
        E = np.zeros((len(candidates), len(tests)), dtype=np.int64)
        for i, cand in enumerate(candidates):
            for j, test in enumerate(tests):
                try:
                    E[i, j] = 1 if run(cand, test) else 0
                except Exception:
                    E[i, j] = 0
    ranking = strategy_fn(strategy)(E)
    top = ranking.top
    if rng is None:
        index = top[0]
    else:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        index = top[int(gen.integers(len(top)))]
    return Selection(best=candidates[index], best_index=index, top=tuple(candidates[i] for i in top),
                     ranking=ranking, matrix=E)
