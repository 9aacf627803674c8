"""Share constraints read off their words (agents/llmopt/shares.py): the decision and direction a percentage states."""

from __future__ import annotations

from ratiocinator.agents.llmopt.draft import Draft, check_rows, mend
from ratiocinator.agents.llmopt.shares import is_share, share_row, subject
from ratiocinator.agents.llmopt.table import numbers, sentences

TEXT = ("Parcels go by van or by bike. A van carries 30 parcels and a bike 6 parcels. "
        "At most 10 vans are hired and at least 70% of the deliveries must be made by bike. "
        "No more than 25 percent of the vehicles can be vans. Minimize the number of vehicles.")


def draft(**replies: str) -> Draft:
    return Draft(problem=TEXT, table=tuple(numbers(TEXT)), sentences=tuple(sentences(TEXT)),
                 replies={"variables": "van: integer\nbike: integer", **replies})


def share(value: float):
    return next(n for n in numbers(TEXT) if n.value == value)


def test_a_share_is_a_percentage_whose_words_state_a_direction() -> None:
    assert is_share(share(0.7)) and is_share(share(0.25))
    assert not is_share(share(10)) and not is_share(share(30))


def test_the_decision_of_a_share_is_the_one_the_words_after_it_name() -> None:
    ss = sentences(TEXT)
    assert subject(["van", "bike"], ss[2], share(0.7)) == "bike"  # "by bike", though "vans" came before
    assert subject(["van", "bike"], ss[3], share(0.25)) == "van"
    assert subject(["truck", "cart"], ss[2], share(0.7)) is None  # the words name neither: no guess


def test_a_share_written_with_the_wrong_decision_or_direction_is_rewritten_from_the_words() -> None:
    ss = sentences(TEXT)
    names = ["van", "bike"]
    assert share_row("van >= 0.7*(van + bike)", names, ss[2], share(0.7)) == "bike >= 0.7*(van + bike)"
    assert share_row("van >= 10*0.7*(van + bike)", names, ss[2], share(0.7)) == "bike >= 0.7*(van + bike)"
    assert share_row("0.25*(van + bike) <= van", names, ss[3], share(0.25)) == "van <= 0.25*(van + bike)"
    # not written as a share over decisions: left alone
    assert share_row("bike >= 0.7*40", names, ss[2], share(0.7)) is None
    assert share_row("van <= 0.7*(van + truck)", names, ss[2], share(0.7)) is None


def test_the_check_names_the_share_the_words_state_and_mend_writes_it() -> None:
    d = draft(s2="van <= 10\nvan >= 0.7*(van + bike)")
    fault = check_rows(d, "s2")
    assert "bike >= 0.7*(van + bike)" in fault and "70%" in fault
    assert mend(d, "s2").rows("s2") == ["van <= 10", "bike >= 0.7*(van + bike)"]
    right = draft(s2="van <= 10\nbike >= 0.7*(van + bike)")
    assert check_rows(right, "s2") == ""
