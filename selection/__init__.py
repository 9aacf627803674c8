"""Choosing the best of many generated candidates with generated tests (sandbox, execution, B4)."""

from ratiocinator.selection.api import STRATEGIES, Selection, select
from ratiocinator.selection.b4 import BETA0_GRID, B4Config, b4
from ratiocinator.selection.heuristics import codet, maxpass, mbr_exec, random_pick
from ratiocinator.selection.ranking import Group, Ranking

__all__ = [
    "BETA0_GRID",
    "STRATEGIES",
    "B4Config",
    "Group",
    "Ranking",
    "Selection",
    "b4",
    "codet",
    "maxpass",
    "mbr_exec",
    "random_pick",
    "select",
]
