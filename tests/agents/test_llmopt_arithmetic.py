"""Linear relations written out in words, read in code (agents/llmopt/arithmetic.py)."""

from __future__ import annotations

import pytest

from ratiocinator.agents.llmopt.arithmetic import mentions, relation, relations

XY = ["x", "y"]
XYZ = ["x", "y", "z"]
FOUR = ["x1", "x2", "x3", "x4"]


@pytest.mark.parametrize(("clause", "names", "row"), [
    ("The land for twice the area of crop $X$ and thrice the area of crop $Y$ cannot exceed 50 acres.", XY,
     "2*x + 3*y <= 50"),
    ("The area for crop $X$ must be at least 10 acres more than that of crop $Y$.", XY, "x - y >= 10"),
    ("Department Z has a maximum allowable budget of 300 units.", XYZ, "z <= 300"),
    ("The sum of the effort for unit X, twice that for unit Y, and unit Z should be at least 100.", XYZ,
     "x + 2*y + z >= 100"),
    ("The difference between allocations for unit X and unit Z should not exceed 50.", XYZ, "x - z <= 50"),
    ("The money in fund x1 (multiplied by a factor of 3 for its risk) and fund x2 (multiplied by a factor of 4 "
     "for its size) cannot exceed $5000.", FOUR, "3*x1 + 4*x2 <= 5000"),
    ("The units of project x2 should be at least five more than twice the units of project X4.", FOUR,
     "x2 - 2*x4 >= 5"),
    ("Three times the solar capacity minus the wind capacity cannot exceed 500 units.", ["solar", "wind"],
     "3*solar - wind <= 500"),
    ("The work on Project 1 and twice that of project 2 cannot exceed a limit of 1500 units.",
     ["project_1", "project_2"], "project_1 + 2*project_2 <= 1500"),
    ("The number of senior staff should be at least a third of the junior staff.", ["senior", "junior"],
     "senior >= junior/3"),
    ("Five times unit X1 should be at least 2000 more than three-and-a-half times unit X2.", FOUR,
     "5*x1 - 3.5*x2 >= 2000"),
    ("Four-point-seven times unit X4 should be no more than 3500 greater than unit X3.", FOUR,
     "4.7*x4 - x3 <= 3500"),
    ("The difference in resource allocation between warehouse $X$ and warehouse $Y$ must not exceed 300 units.",
     XY, "x - y <= 300"),  # words between "difference" and "between"
    ("The difference between the number of technicians and nurses must be at least 10 individuals.",
     ["doctor", "nurse", "technician"], "technician - nurse >= 10"),
])
def test_a_clause_of_arithmetic_in_words_is_read(clause: str, names: list[str], row: str) -> None:
    assert relation(clause, names) == row


def test_a_sum_of_decisions_counted_in_what_the_rates_are_per_is_read() -> None:
    clause = "The combined number of sessions for strength training (group X) and agility drills (group Y) is at least 6."
    assert relations(clause, XYZ) is None  # the number of sessions might be a rate's ("2 sessions per athlete")
    assert relations(clause, XYZ, frozenset({"session"})) == ["x + y >= 6"]  # "4 units of fatigue per session"
    assert relations("The area provided by 60 condos plus 30 apartments must be at least 3000 square feet.",
                     ["condo", "apartment"]) == ["60*condo + 30*apartment >= 3000"]  # a number right before a name
    assert relations("At least 60 condos must be built.", ["condo", "apartment"]) is None  # a bound, no factor


def test_a_leading_reason_names_no_term() -> None:
    sentence = "Since tractors are very slow, the number of cars used has to be at least twice the number of tractors."
    assert relations(sentence, ["tractor", "car"]) == ["car >= 2*tractor"]
    assert relations("Asset X requires at least $200, while asset Y requires at least $150.", XY) == [
        "x >= 200", "y >= 150"]  # "Asset" is no leading "as"


def test_a_decision_far_before_the_relation_is_not_what_it_bounds() -> None:
    assert relations("The firm wants to keep the weekly wage bill below $150000.", ["firm", "senior"]) is None
    assert relations("To make sure there is enough experience on the accounting team, the number of senior "
                     "accountants should be at least a third of the junior accountants.",
                     ["accounting", "senior", "junior"]) == ["senior >= junior/3"]


def test_what_a_clause_counts_is_no_term_beside_the_decisions_it_counts() -> None:
    names = ["staff", "doctor", "nurse", "patient"]  # a declaration with what the text counts as decisions
    assert relations("The total number of staff (doctors + nurses) that can be hired is limited to 12.", names) is None
    assert relations("The total number of patients treated by both doctors and nurses must be at least 10.",
                     names) is None


def test_a_leading_clause_that_states_a_relation_is_no_reason_to_drop() -> None:
    from ratiocinator.agents.llmopt.arithmetic import without_reason

    kept = "Due to storage limits the total of X and Y cannot exceed 500, and X must be at least 100."
    assert without_reason(kept) == kept
    assert without_reason("Since the budget is $50,000, the cars must be at least twice the tractors.") == (
        "the cars must be at least twice the tractors.")  # the comma of 50,000 ends no clause


def test_a_range_gives_two_bounds() -> None:
    assert relations("For cargo type $x2$, between 0 and 600 units can be shipped.", FOUR) == ["x2 >= 0", "x2 <= 600"]


def test_a_range_from_one_number_up_to_another_gives_two_bounds() -> None:
    assert relations("x3 can use anywhere from 20 up to a limit of 70 units;", FOUR) == ["x3 >= 20", "x3 <= 70"]


def test_a_percentage_of_one_decision_is_its_factor_and_non_negative_is_at_least_zero() -> None:
    sentence = ("The difference between 70% of the hours for service x1 and those for service x3 must be non-negative "
                "(i.e., greater than or equal to zero).")
    assert relations(sentence, FOUR) == ["0.7*x1 - x3 >= 0"]
    assert relation("At least 30% of the total allocation must go to x1.", FOUR) is None  # a share: shares.py's
    assert relation("At least 30% of all units, x1 included, must be at most 90.", FOUR) is None


def test_a_weighted_sum_is_read_with_its_weights_and_a_scale_described_in_parentheses_is_no_data() -> None:
    sentence = ("The average rating (on a scale from 0 to 1) for packages $x1$ and $x2$, weighted by 0.6 for $x1$ and "
                "0.8 for $x2$, must be at least 20.")
    assert relations(sentence, FOUR) == ["0.6*x1 + 0.8*x2 >= 20"]
    scaled = ("The money in x1 (multiplied by a factor of 3 due to its volatility) and x2 (multiplied by a factor of 4 "
              "due to its larger scale) cannot exceed $5000.")
    assert relations(scaled, FOUR) == ["3*x1 + 4*x2 <= 5000"]  # a factor's parenthesis, not a scale's


def test_the_number_of_a_thing_no_rate_counts_adds_up_the_decisions_it_is_for() -> None:
    sentence = "The number of resources required for packages $x1$ and $x2$ combined cannot exceed 50."
    assert relations(sentence, FOUR, rated=frozenset({"$"})) == ["x1 + x2 <= 50"]
    assert relations(sentence, FOUR, rated=frozenset({"resource"})) is None  # their rates count resources


def test_an_interval_after_a_label_gives_two_bounds() -> None:
    assert relations("$x1$: [0 ,400]", FOUR) == ["x1 >= 0", "x1 <= 400"]


@pytest.mark.parametrize(("sentence", "row"), [
    ("The difference between resources for project $x2$, plus those for project x4, minus those assigned to "
     "projects x1 and x3 must be exactly equal to 80 units.", "x2 + x4 - x1 - x3 == 80"),
    ("The difference between the total resources used for crops (x1, and X2) and those used for crops (x3, and X4) "
     "should be zero.", "x1 + x2 - x3 - x4 == 0"),
    ("The difference between x1 and x3 cannot exceed 50.", "x1 - x3 <= 50"),
])
def test_the_terms_of_a_difference_take_the_signs_its_words_give(sentence: str, row: str) -> None:
    assert relations(sentence, FOUR) == [row]


@pytest.mark.parametrize(("sentence", "names", "rows"), [
    ("Workers on x1 work from 9 am to 5 pm.", FOUR, None),  # times of a day, no bounds of x1
    ("Each unit of x1 takes from 2 to 3 hours to make.", FOUR, None),
    ("The sum, calculated as -3% of the investment in x3 and -4% of the investment in x4, should not exceed 20.",
     FOUR, None),  # a negative percentage is not read as a positive factor
    ("The non-negative allocation for x1 must not exceed 100 units.", FOUR, ["x1 <= 100"]),
])
def test_words_that_look_like_a_range_a_factor_or_a_sign_are_read_only_where_they_are_one(
        sentence: str, names: list[str], rows: list[str] | None) -> None:
    assert relations(sentence, names) == rows


def test_a_number_of_millions_is_one_number_in_the_table_and_in_the_faithfulness_check() -> None:
    from ratiocinator.agents.llmopt.numbers import text_numbers
    from ratiocinator.agents.llmopt.table import numbers
    from ratiocinator.solvers.statements import read_text
    text = "Restaurant A costs $1.6 million and the budget is $6 million; 2 thousand units at most."
    assert [n.value for n in numbers(text)] == [1_600_000.0, 6_000_000.0, 2000.0]
    assert {1_600_000.0, 6_000_000.0} <= text_numbers(text)
    assert [n.value for n in read_text(text).numbers] == [1_600_000.0, 6_000_000.0, 2000.0]


def test_a_small_word_glued_to_a_number_is_read_apart() -> None:
    from ratiocinator.agents.llmopt.table import numbers, sentences
    assert sentences("x4 cannot exceed an upper limit of60 units.") == ["x4 cannot exceed an upper limit of 60 units."]
    assert [n.value for n in numbers("x4 cannot exceed a limit of60 units, and x1 is at most 5.")] == [60.0, 5.0]
    # list items whose line breaks were lost, and fractions written in LaTeX
    assert sentences("Limits:-Crop X1: up to 100 acres-Crop X2: up to 200 acres") == [
        "Limits:", "Crop X1: up to 100 acres", "Crop X2: up to 200 acres"]
    assert sentences("x1 is at least $\\frac{4}{3}$ times x3.") == ["x1 is at least 1.3333333333 times x3."]
    assert [n.value for n in numbers("x1 uses $\\frac{1}{0}$ units.")] == [1.0, 0.0]  # left as written
    # hyphenated names and capital codes are no glued items or numbers
    assert sentences("20 bottles of Coca-Cola and 30 of U.S.-Made cola.") == ["20 bottles of Coca-Cola and 30 of U.S.-Made cola."]
    assert [n.value for n in numbers("Product BY5 sells 3 units.")] == [3.0]


def test_a_sentence_of_two_clauses_gives_two_relations() -> None:
    sentence = ("Team X needs at least 200 more people than team Y, while team Y needs at least 100 more people "
                "than team Z.")
    assert relations(sentence, XYZ) == ["x - y >= 200", "y - z >= 100"]


@pytest.mark.parametrize(("clause", "names"), [
    ("A boat can take 10 ducks per trip while a canoe can take 8 ducks per trip.", ["boat", "canoe"]),  # no relation
    ("At most 12 boat trips and at least 60% of the trips should be by canoe.", ["boat", "canoe"]),  # a share
    ("The rating (from 0 to 1) of x1, weighted by 0.6 for x1, must be at least 20.", FOUR),  # 0, 1 unread
    ("The rating of x1 and x2, weighted by 0.6 for x1 and 0.8 for x3, must be at least 20.", FOUR),  # x3 unrated
    ("The total weight of both cargos combined cannot exceed 100 tons.", XY),  # no decision named
])
def test_a_clause_its_words_leave_open_is_not_read(clause: str, names: list[str]) -> None:
    assert relation(clause, names) is None


def test_a_label_is_a_mention_but_an_article_or_a_quantity_is_not() -> None:
    assert [m.name for m in mentions("A crop X and a crop Y; 2 units of x.", ["crop_x", "crop_y"])] == [
        "crop_x", "crop_y", "crop_x"]
    assert [m.name for m in mentions("Project 2 costs 1 unit and 2 hours.", ["project_1", "project_2"])] == [
        "project_2"]
