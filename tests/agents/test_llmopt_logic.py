"""Logical conditions over yes/no decisions written in words, read in code (agents/llmopt/logic.py), and in the reading."""

from __future__ import annotations

import pytest

from ratiocinator.agents.llmopt.logic import implication
from ratiocinator.agents.llmopt.readings import read
from tests.agents.test_llmopt_readings import draft

KIDS = ["alice", "bob", "charlie", "diana"]
BINARY = frozenset(KIDS)


@pytest.mark.parametrize(("sentence", "row"), [
    ("If the couple takes Alice, they will not take Diana because Alice and Diana do not get along.",
     "alice + diana <= 1"),
    ("If they take Charlie, they must also take Diana.", "charlie <= diana"),
    ("If they do not take Bob, they must take Alice.", "bob + alice >= 1"),
    ("If they do not take Bob, then they will not take Charlie either.", "charlie <= bob"),
    ("Bob is the youngest, so the family will definitely take him.", "bob == 1"),
    ("The family will not take Alice this time.", "alice == 0"),
])
def test_a_condition_over_two_yes_no_decisions_is_read_as_its_relation(sentence: str, row: str) -> None:
    assert implication(sentence, KIDS, BINARY) == row


@pytest.mark.parametrize("sentence", [
    "If they take Alice, they must take at least 2 more children.",  # a number: a limit, not a condition
    "If they take Alice and Bob, they will not take Diana.",  # two decisions on one side
    "Either Alice or Bob will come.",  # no condition and two decisions
    "Alice will come only if Bob comes.",  # "only if": not read here
])
def test_a_condition_its_words_leave_open_is_not_read(sentence: str) -> None:
    assert implication(sentence, KIDS, BINARY) is None


def test_conditions_are_read_only_over_binary_decisions() -> None:
    assert implication("If they take Charlie, they must also take Diana.", KIDS, frozenset()) is None
    text = ("The cost of taking Alice is $1000, Bob $900, Charlie $600 and Diana $500. If they take Charlie, they must "
            "also take Diana. Minimize the cost.")
    assert read(draft(text, *KIDS, domain="binary")).compared == {1: "charlie <= diana"}
    assert read(draft(text, *KIDS, domain="integer")).compared == {}


def test_a_limit_in_the_noun_a_list_of_every_decision_follows_adds_them_all_up() -> None:
    text = ("The family has 4 children, Alice, Bob, Charlie, and Diana. The cost of taking Alice is $1000, Bob $900, "
            "Charlie $600 and Diana $500. They can take a maximum of 3 children on the trip. Minimize the cost.")
    rows = read(draft(text, *KIDS, domain="binary")).rows.values()
    assert "alice + bob + charlie + diana <= 3" in rows


def test_a_and_i_are_labels_where_a_noun_labels_several_letters_and_before_words_tell_columns_apart() -> None:
    from ratiocinator.agents.llmopt.declarations import labels
    text = ("A family may buy restaurants. Restaurant A has an annual income of $15,000 and Restaurant B has an annual "
            "income of $40,000. The cost of Restaurant A is $1.6 million and the cost of Restaurant B is $2.5 million. "
            "If they buy Restaurant A, they will not buy Restaurant B. Maximize the income.")
    d = draft(text, "a", "b", domain="binary")
    assert labels(d) == ["a", "b"]  # "A family" is an article, "Restaurant A" a label
    reading = read(d)
    assert set(reading.columns) == {"15000*a + 40000*b", "1600000*a + 2500000*b"}  # income, cost
    assert reading.compared == {3: "a + b <= 1"}
    budget = text.replace("Maximize the income.", "Their investment budget is $3 million. Maximize the income.")
    assert "1600000*a + 2500000*b <= 3000000" in read(draft(budget, "a", "b", domain="binary")).rows.values()
