"""A formulation and its answer checked against the text it was written from: statements read, constraints compared."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ratiocinator.solvers.faithfulness import ALL_CHECKED, NOT_CHECKED, check_text, pddl_stated
from ratiocinator.solvers.optimization import solve
from ratiocinator.solvers.statements import read_text

ISSUE = "Maximize 3x + 5y subject to x <= 4, 2y <= 12, 3x + 2y <= 18, x, y >= 0."
BAKERY = (
    "A bakery makes bread and cakes. A loaf of bread needs 2 kg of flour and 1 hour of oven time and earns $3; "
    "a cake needs 1 kg of flour and 2 hours of oven time and earns $4. There are 100 kg of flour and 80 oven "
    "hours a week. How many of each should it make to maximize profit?"
)
COST = "Minimise the cost C = 4p + 6q such that p + q ≥ 10, p ≥ 2 and q ≥ 3."


def formulation(constraints: list[str], objective: str = "3*x + 5*y", sense: str = "maximize",
                names: tuple[str, ...] = ("x", "y"), domain: str = "nonnegative", **extra: Any) -> dict[str, Any]:
    return {
        "variables": [{"name": n, "domain": domain} for n in names],
        "objective": {"sense": sense, "expression": objective},
        "constraints": [{"name": f"c{i}", "expression": c} for i, c in enumerate(constraints)],
        **extra,
    }


def checked(text: str | None, f: dict[str, Any]):
    result = solve(f)
    assert result.verified  # the solver's own check holds in every case here: only the text can tell
    return check_text(text, f, result.values), result


def test_the_issue_formulation_that_drops_a_stated_constraint_is_broken_and_names_it() -> None:
    check, result = checked(ISSUE, formulation(["x <= 4", "3*x + 2*y <= 18"]))
    assert result.objective == pytest.approx(45)  # the wrong answer of the issue
    assert check.scope == "broken" and not check.verified
    assert "2y <= 12" in check.reason and "18 <= 12, which is false" in check.reason
    assert [s.statement for s in check.statements if s.holds is False] == ["2y <= 12"]
    assert "2y <= 12" in check.feedback


@pytest.mark.parametrize("domain", ["nonnegative", "nonnegative_integer"])
def test_a_faithful_formulation_of_a_symbolic_text_is_checked_against_every_constraint(domain: str) -> None:
    check, result = checked(ISSUE, formulation(["x <= 4", "y <= 6", "3*x + 2*y <= 18"], domain=domain))
    assert result.objective == pytest.approx(36)
    assert check.scope == "all" and check.verified and check.reason.startswith(ALL_CHECKED)
    for stated in ("x <= 4", "2y <= 12", "3x + 2y <= 18", "x >= 0", "y >= 0"):
        assert stated in check.reason
    assert "same optimum (36)" in check.reason


def test_other_names_in_the_formulation_are_paired_with_the_texts() -> None:
    f = formulation(["a <= 4", "2*b <= 12", "3*a + 2*b <= 18"], objective="3*a + 5*b", names=("a", "b"))
    check, _ = checked(ISSUE, f)
    assert check.scope == "all" and "your x, y are its a, b" in check.reason


@pytest.mark.parametrize(
    ("constraints", "objective", "scope", "words"),
    [
        (["x <= 4", "2*y <= 10", "3*x + 2*y <= 18"], "3*x + 5*y", "doubtful", "2y <= 12 of your text is not in it"),
        (["x <= 4", "2*y <= 18", "3*x + 2*y <= 18"], "3*x + 5*y", "broken", "2y <= 12"),
        (["x <= 4", "2*y <= 12", "3*x + 2*y <= 18"], "3*x + 4*y", "doubtful", "your text maximizes 3x + 5y"),
        (["x <= 4", "2*y <= 12", "3*x + 2*y <= 18", "x + y <= 7"], "3*x + 5*y", "doubtful", "(x + y <= 7) is not in"),
        (["x >= 4", "2*y <= 12", "3*x + 2*y <= 18"], "3*x + 5*y", "doubtful", "x <= 4 of your text is not in it"),
        (["x >= 5", "2*y <= 12", "3*x + 2*y <= 18"], "3*x + 5*y", "broken", "x <= 4"),
    ],
)
def test_an_altered_or_added_constraint_or_objective_is_never_verified(
    constraints: list[str], objective: str, scope: str, words: str
) -> None:
    check, _ = checked(ISSUE, formulation(constraints, objective=objective))
    assert check.scope == scope and not check.verified and words in check.reason


def test_a_word_problem_that_drops_a_limit_leaves_its_number_unused() -> None:
    names = ("bread", "cake")
    dropped, _ = checked(BAKERY, formulation(["bread + 2*cake <= 80"], "3*bread + 4*cake", names=names))
    assert dropped.scope == "doubtful" and "100 of your text is used nowhere" in dropped.reason
    faithful, result = checked(
        BAKERY, formulation(["2*bread + cake <= 100", "bread + 2*cake <= 80"], "3*bread + 4*cake", names=names)
    )
    assert result.objective == pytest.approx(200)
    assert faithful.scope == "partial" and faithful.verified
    assert faithful.reason == f"every number of your text is used in it; {NOT_CHECKED} beyond that (it is stated in words)"


def test_other_wording_names_and_unicode_relations() -> None:
    altered, _ = checked(COST, formulation(["p + q >= 8", "p >= 2", "q >= 3"], "4*p + 6*q", "minimize", ("p", "q")))
    assert altered.scope == "broken" and "p + q >= 10" in altered.reason
    faithful, _ = checked(COST, formulation(["p + q >= 10", "p >= 2", "q >= 3"], "4*p + 6*q", "minimize", ("p", "q")))
    assert faithful.scope == "all" and "minimizing 4p + 6q" in faithful.reason


def test_indexed_variables_stand_for_numbered_names() -> None:
    text = "Maximize 2x1 + 3x2 subject to x1 + x2 <= 4, x1 - x2 >= -2 and x1, x2 >= 0."
    f = formulation(["sum(x[i] for i in I) <= 4", "x[1] - x[2] >= -2"], "sum(c[i]*x[i] for i in I)", names=())
    f["variables"] = [{"name": "x", "index": ["I"], "domain": "nonnegative"}]
    f["sets"] = [{"name": "I", "elements": [1, 2]}]
    f["parameters"] = [{"name": "c", "index": ["I"], "value": [2, 3]}]
    check, result = checked(text, f)
    assert result.objective == pytest.approx(11) and check.scope == "all"


def test_numbers_used_through_products_percentages_and_counts_are_accounted_for() -> None:
    text = ("Two machines work 8 hours a day for 5 days. Each chair takes 2 hours, each table 3 hours; "
            "at least 20% of the items are tables. Maximize 7 per chair and 9 per table.")
    f = formulation(["2*chair + 3*table <= 40", "table >= 0.2*(chair + table)"], "7*chair + 9*table",
                    names=("chair", "table"))
    check, _ = checked(text, f)
    assert check.scope == "partial", check.reason  # 40 = 8 * 5; 20% is 0.2; two is the number of variables


def test_what_the_reader_finds_in_a_text() -> None:
    stated = read_text(ISSUE)
    assert stated.objective is not None and stated.objective.sense == "maximize"
    assert [c.text for c in stated.constraints] == ["x <= 4", "2y <= 12", "3x + 2y <= 18", "x >= 0", "y >= 0"]
    assert stated.complete
    prose = read_text("Let x = number of chairs and y = tables. Maximize profit. Each takes 10 min; "
                      "Cost = 10 and 20% of $1,500 goes to rent (0 <= x <= 25).")
    assert prose.objective is None and [c.text for c in prose.constraints] == ["0 <= x <= 25"] * 2
    assert [d.text for d in prose.definitions] == ["Cost = 10"]
    assert [n.written.strip() for n in prose.outside] == ["10", "10", "20%", "1,500"]
    assert not prose.complete


def test_a_formula_too_big_to_evaluate_is_reported_unread_at_once() -> None:
    start = time.monotonic()
    stated = read_text("Maximize x subject to x <= 9**9**9 and x^2 <= 4.")
    assert time.monotonic() - start < 5  # limit no run reaches: 9**9**9 is never evaluated
    assert stated.unread == ("x <= 9**9**9",)
    check, _ = checked("Maximize x subject to x <= 9**9**9 and x^2 <= 4.", formulation(["x <= 2"], "x", names=("x",)))
    assert check.scope == "doubtful" and "could not be read" in check.reason


def test_names_are_paired_only_when_one_pairing_fits_best() -> None:
    extra = formulation(["u <= 4", "v <= 6", "w <= 1", "3*u + 2*v <= 18"], "3*u + 5*v", names=("u", "v", "w"))
    check, _ = checked(ISSUE, extra)
    assert check.scope == "all" and "your x, y are its u, v" in check.reason
    symmetric = "Maximize x + y subject to x <= 3 and y <= 3."  # a, b could be x, y or y, x: no telling
    check, _ = checked(symmetric, formulation(["a <= 3", "b <= 3"], "a + b", names=("a", "b")))
    assert check.scope == "doubtful" and "are not the formulation's (a, b)" in check.reason


def test_no_text_is_said_plainly() -> None:
    check, _ = checked(None, formulation(["x <= 4", "y <= 6"]))
    assert check.scope == "unchecked" and check.verified and check.reason == f"{NOT_CHECKED} (no text was given)"


def test_a_pddl_problem_is_the_users_only_when_the_request_states_it() -> None:
    problem = "(define (problem p) (:domain d) (:objects a b) (:init (on a b)) (:goal (on b a)))"
    assert pddl_stated(problem, f"Solve this:\n{problem.replace(' ', '  ').upper()}")
    assert not pddl_stated(problem, "stack b on a")
    assert not pddl_stated(problem, None)


def test_hostile_text_is_read_quickly_and_never_verified_where_it_cannot_be_read() -> None:
    from ratiocinator.solvers.faithfulness import compare_with_text

    many = "Maximize x subject to " + ", ".join(f"x <= {i + 2}" for i in range(1000)) + "."
    start = time.monotonic()
    stated = read_text(many)
    assert time.monotonic() - start < 30  # a limit no run reaches: 200 formulas are read, not 1000
    assert len(stated.constraints) == 200 and "1000 formulas" in stated.unread[0]
    f = formulation(["x <= 2"], "x", names=("x",))
    assert compare_with_text(many, f, solve(f).values).scope == "doubtful"
    complex_valued = "Maximize x subject to sqrt(x - 5) <= 1 and x <= 2."
    check, _ = checked(complex_valued, f)
    assert check.scope == "doubtful" and "no real value" in check.reason
    broken_formulation = compare_with_text("x <= 2", {"variables": []}, {})
    assert broken_formulation.scope == "doubtful" and "could not be compared" in broken_formulation.reason


def test_a_captions_number_is_no_datum_of_the_text():
    """"as shown in Table 1-17": 1 and 17 name the table; a formulation is not asked to use them."""
    stated = read_text("The crews needed are shown in Table 1-17 and Figure 3. Shift 1 needs 60 people, shift 2 needs 70.")
    assert [n.written for n in stated.outside] == ["1", "60", "2", "70"]
