"""Grids of two label sets read in code (grid.py) and the assignment they can be (networkmodels.assign, structure.py)."""

from __future__ import annotations

import itertools

import pytest

from ratiocinator.agents.llmopt import grid, networkmodels, structure
from ratiocinator.agents.llmopt.config import LLMOPTConfig
from tests.agents.test_llmopt_network import Prefers, optimum

TIMES = [[9, 4, 3, 7], [4, 6, 5, 6], [5, 4, 7, 5], [7, 5, 2, 3], [10, 6, 7, 4]]
LATEX = (
    "Now we need to choose 4 out of 5 workers to each complete one of the four tasks. The time each worker needs "
    "for each task is shown in Table 5-2.\nTable 5-2\n\\begin{tabular}{|c|c|c|c|c|}\n"
    "\\hline Task Time Required & $A$ & $B$ & $C$ & $D$ \\\\\n\\hline Worker & & & & \\\\\n"
    + "".join(f"\\hline {r} & " + " & ".join(map(str, v)) + " \\\\\n" for r, v in zip(["I", "II", "III", "IV", "V"], TIMES,
                                                                                        strict=True))
    + "\\hline\n\\end{tabular}\n\nFind a work assignment plan that minimizes the total working hours."
)
MARKDOWN = (
    "Three machines must be assigned to three jobs, one job each. The profit of each pair is:\n\n"
    "| Machine | Job X | Job Y | Job Z |\n| :---: | :---: | :---: | :---: |\n| M1 | 8 | 6 | 3 |\n"
    "| M2 | 5 | 9 | 4 |\n| M3 | 7 | 2 | 6 |\n\nHow should they be assigned to maximize the total profit?"
)



def test_a_latex_or_markdown_grid_is_read_with_its_labels():
    table = grid.read(LATEX)
    assert table is not None and table.rows == ("I", "II", "III", "IV", "V") and table.columns == ("A", "B", "C", "D")
    assert [list(map(int, v)) for v in table.values] == TIMES  # the empty "Worker & & & &" row skipped
    squared = grid.read(MARKDOWN)
    assert squared is not None and squared.rows == ("M1", "M2", "M3") and squared.values[1] == (5.0, 9.0, 4.0)


def test_tables_with_other_cells_or_two_grids_are_not_grids():
    totals = MARKDOWN.replace("| M3 | 7 | 2 | 6 |", "| M3 | 7 | 2 | 6 |\n| Total | 20 | 17 | n/a |")
    assert grid.read(totals) is None  # a cell that is no number
    assert grid.read(LATEX + "\n" + MARKDOWN) is None  # which one the question is about is not guessed
    same = "| | 1 | 2 |\n| --- | --- | --- |\n| 1 | - | 5 |\n| 2 | 5 | - |"
    assert grid.read(same) is None  # one label set (a distance matrix): network.py's


def test_the_assignment_is_the_best_matching_of_the_smaller_set():
    best = min(sum(TIMES[w][t] for t, w in enumerate(ws)) for ws in itertools.permutations(range(5), 4))
    assert optimum(networkmodels.assign(grid.read(LATEX))) == pytest.approx(best) == 14
    assert optimum(networkmodels.assign(grid.read(MARKDOWN), "maximize")) == pytest.approx(8 + 9 + 6)



def test_only_a_text_about_assigning_is_asked_and_the_model_decides():
    assert set(structure.candidates(LATEX)) == {"assign"}
    assert structure.candidates(MARKDOWN)["assign"]["objective"]["sense"] == "maximize"
    assert structure.candidates(LATEX.replace("assignment", "production")) == {}  # a grid alone is no assignment
    chosen = structure.decide(LATEX, Prefers("assign"), LLMOPTConfig())
    assert chosen is not None and chosen[0] == "assign" and chosen[1].objective == pytest.approx(14)
    assert structure.decide(LATEX, Prefers("other"), LLMOPTConfig()) is None
