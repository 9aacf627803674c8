"""The arithmetic claims read from a prose step: what is a claim, what is the tail of algebra, and sympy's check."""

from __future__ import annotations

import pytest

from ratiocinator.reasoning.symbolic_steps import arithmetic_claims, check_arithmetic


@pytest.mark.parametrize(
    ("step", "claims"),
    [
        ("She pays 18 - 6 = 12 dollars.", [("18 - 6", "12")]),
        ("<<2*6=12>> so 12 apples", [("2*6", "12")]),
        ("\\[ 3 \\times 4 = 12 \\]", [("3 * 4", "12")]),
        ("He has 1,200 + 300 = 1,500 coins", [("1200 + 300", "1500")]),
        # a leading minus belongs to the claim (ProcessBench math-599 was read as "5 + 37 = 32")
        ("a non-negative number less than 37:\\n\\[ -5 + 37 = 32 \\]", [("-5 + 37", "32")]),
        ("the same with a typeset minus: \u22125 + 37 = 32", [("-5 + 37", "32")]),
        # algebra on the right is not a claim that the numbers make 92 (math-922)
        ("Rearranging terms to isolate \\(n\\): \\[ 98 - 92 = 92n - 91n \\]", []),
        ("so 2 + 3 = 5(x + 1)", []),
        # the tail of a longer expression is not a claim of its own (math-173 was read as "10 + 4 = -25")
        ("\\implies -40 - B + 10 + 4 = -25 \\implies -26 - B = -25", []),
        ("x+3+4=7", []),
        ("\\(x^{2} + 3 = 7\\)", []),
        # a power on the right is not the number before it (math-851 was read as "... + 1 = 2")
        ("87 = 64 + 16 + 4 + 2 + 1 = 2^6 + 2^4 + 2^2 + 2^1 + 2^0", []),
        # a list's comma is not a thousands separator: "7, x2" is not "7*2" (math-617)
        ("we plug in x1 = -3, y1 = 7, x2 = 2, y2 = 9", []),
        ("(a + b) - 5 + 3 = 8", []),
        # a bullet is not an operator: the claim after it is read
        ("- 18 + 6 = 25", [("18 + 6", "25")]),
        ("* 18 + 6 = 25", [("18 + 6", "25")]),
        # an expression on the right, whatever follows its operator (not only a digit)
        ("5 + 3 = 10 - y", []),
        ("2 * 3 = 12 * x / 2", []),
        ("3 + 4 = 10 - (x + 3)", []),
        ("\\[ 7 / 2 = 3\\frac{1}{2} \\]", []),
        ("1,200 + 300 = 1{,}500", [("1200 + 300", "1500")]),
        ("\\( 10 \\div 13 = 0\\, \\text{R}\\, 10 \\)", [("10 / 13", "0")]),
        # chained equalities: each link after the first is checked on its own
        ("3 + 3 = 6 and 6 + 2 = 8", [("3 + 3", "6"), ("6 + 2", "8")]),
        ("3 + 3 = 6 + 2 = 8", [("6 + 2", "8")]),
    ],
)
def test_arithmetic_claims(step: str, claims: list[tuple[str, str]]) -> None:
    assert arithmetic_claims(step) == claims


def test_check_arithmetic_confirms_and_refutes() -> None:
    assert check_arithmetic("-5 + 37 = 32 and 18 + 6 = 25") == [("-5 + 37 = 32", True), ("18 + 6 = 25", False)]
    assert check_arithmetic("98 - 92 = 92n - 91n") == []  # not "98 - 92 = 92 is WRONG"
    assert check_arithmetic("10 / 3 = 3.33") == [("10 / 3 = 3.33", True)]  # equal to the decimals shown


def test_a_whole_quotient_with_its_remainder_is_checked_as_one() -> None:
    assert check_arithmetic("First, \\(410 \\div 333 = 1\\) with a remainder of \\(77\\).") == [
        ("410 / 333 = 1 remainder 77", True)]
    assert check_arithmetic("\\[18 \\div 4 = 4 \\text{ remainder } 2 \\]") == [("18 / 4 = 4 remainder 2", True)]
    assert check_arithmetic("19/4=4 r 3") == [("19/4 = 4 remainder 3", True)]
    assert check_arithmetic("19/4=4 r 5") == [("19/4 = 4 remainder 5", False)]  # the remainder is checked too
    assert check_arithmetic("19 / 4 = 5 remainder 3") == [("19 / 4 = 5 remainder 3", False)]
    assert check_arithmetic("19 / 4 = 4 apples") == [("19 / 4 = 4", False)]  # no remainder named: the fraction
    assert check_arithmetic("2250 \\div 360 = 6 \\text{ full rotations with } 90 \\text{ degrees remaining}") == [
        ("2250 / 360 = 6 remainder 90", True)]
    assert check_arithmetic("\\[ 2863 \\div 1344 = 2 \\quad \\text{(quotient)} \\]") == [
        ("2863 / 1344 = 2 (the whole quotient)", True)]
    # "remaining" elsewhere in the sentence is not a remainder of this division
    assert check_arithmetic("He spends 50 / 4 = 12 dollars per week, and has 10 dollars remaining.") == [
        ("50 / 4 = 12", False)]
    # a remainder named after another claim belongs to that one
    assert check_arithmetic("19 / 4 = 4 and 8 = 9 - 1, remainder 3")[0] == ("19 / 4 = 4", False)
