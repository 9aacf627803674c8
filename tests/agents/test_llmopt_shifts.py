"""Staffing periods read in code (shifts.py) and the covering model they can be (networkmodels.cover, structure.py)."""

from __future__ import annotations

import itertools

import pytest

from ratiocinator.agents.llmopt import networkmodels, shifts, structure
from ratiocinator.agents.llmopt.config import LLMOPTConfig
from tests.agents.test_llmopt_network import Prefers, optimum

STORE = (
    "A 24-hour shop needs a number of clerks in each period: 0:00-6:00 - 4 people, 6:00-12:00 - 9 people, "
    "12:00-18:00 - 7 people, 18:00-0:00 - 5 people. Clerks start at 0:00, 6:00, 12:00 or 18:00 and work "
    "continuously for twelve hours. What is the fewest clerks that meets every need?"
)
TABLE = (
    "The crew needed on a line in each period is shown in the table.\n\\begin{tabular}{c|c|c}\n"
    "\\hline Shift & Time & Number Required \\\\\n\\hline 1 & $8: 00 \\sim 16: 00$ & 6 \\\\\n"
    "\\hline 2 & $16: 00 \\sim 0: 00$ & 3 \\\\\n\\hline 3 & $0: 00 \\sim 8: 00$ & 2 \\\\\n\\hline\n\\end{tabular}\n"
    "Each crew member works for 16 hours in a row from the start of a period. How many are needed at least?"
)
WEEK = (
    "A ward plans a weekly schedule. The demand on day j is dj: d1 = 2, d2 = 4, d3 = 4, d4 = 3, d5 = 1, d6 = 2, "
    "d7 = 3. Every nurse works 5 days in a row. Minimize the number of nurses. Ignore the integrality constraints "
    "for now (i.e., we allow half a nurse if necessary)."
)



def _brute(need: tuple[float, ...], span: int) -> int:
    n = len(need)
    for total in itertools.count(1):
        for starts in itertools.product(range(total + 1), repeat=n):
            if sum(starts) == total and all(
                    sum(starts[s] for s in range(n) if (t - s) % n < span) >= need[t] for t in range(n)):
                return total
    raise AssertionError


def test_clock_ranges_with_their_needs_and_the_shifts_hours_are_read():
    store = shifts.read(STORE)
    assert store == shifts.Shifts(("0:00-6:00", "6:00-12:00", "12:00-18:00", "18:00-0:00"), (4.0, 9.0, 7.0, 5.0),
                                  2, True, (12.0, 6.0, 24.0))
    table = shifts.read(TABLE)  # a LaTeX table of shifts, "\sim" between the times, each row's shift number
    assert table is not None and table.need == (6.0, 3.0, 2.0) and table.span == 2 and table.cyclic
    assert table.periods == ("1 (8:00-16:00)", "2 (16:00-0:00)", "3 (0:00-8:00)")
    week = shifts.read(WEEK)
    assert week is not None and week.periods[0] == "d1" and week.span == 5 and week.cyclic
    assert week.lengths == (5.0, 1.0, 7.0)


def test_texts_without_a_shift_length_or_periods_are_none():
    assert shifts.read(STORE.replace("work continuously for twelve hours", "are paid by the hour")) is None
    assert shifts.read(STORE.replace("twelve", "five")) is None  # not a whole number of 6-hour periods
    assert shifts.read("Plant x1 = 2 acres and x3 = 4 acres; each worker stays 3 days in a row.") is None


def test_the_cover_is_the_fewest_staff_that_meet_every_need():
    store = shifts.read(STORE)
    assert optimum(networkmodels.cover(store)) == pytest.approx(_brute(store.need, store.span)) == 14
    week = shifts.read(WEEK)
    assert optimum(networkmodels.cover(week)) == pytest.approx(_brute(week.need, week.span)) == 4
    assert optimum(networkmodels.cover(week, whole=False)) == pytest.approx(4)  # day 2 alone needs 4



def test_the_model_decides_whether_the_text_asks_for_a_cover():
    assert set(structure.candidates(STORE)) == {"cover"}
    fractional = structure.candidates(WEEK)["cover"]
    assert fractional["variables"][0]["domain"] == "nonnegative"  # "we allow half a nurse"
    chosen = structure.decide(TABLE, Prefers("cover"), LLMOPTConfig())  # checked against the text: every number
    assert chosen is not None and chosen[0] == "cover" and chosen[1].objective == pytest.approx(6)  # of it used
    assert structure.decide(STORE, Prefers("cover"), LLMOPTConfig()) is not None  # "twelve hours", "24-hour"
    assert structure.decide(TABLE, Prefers("other"), LLMOPTConfig()) is None
