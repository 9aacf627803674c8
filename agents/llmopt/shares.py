"""Share constraints read off their words: "at least 60% of the trips should be by canoe" is `canoe >= 0.6*(boat + canoe)`.

The 0.5B model writes the shape of a share right (a decision against a fraction of a sum of decisions)
but picks its decision and direction by position, not by the words: asked to score the four
variants of three NL4Opt shares it preferred the first decision with `>=` every time (0 of 3). The words
decide both: the direction is the one the percentage's words state ("at least", "at most"; table.py),
the decision the one the words after the percentage name ("by canoe", "must be small", "can be bikes"),
by a word that tells it apart from the other decisions. Only a relation the model already wrote as a
share is rewritten, and only where the words decide; nothing else is guessed.
"""

from __future__ import annotations

import re

from ratiocinator.agents.llmopt.table import Number, show, stem

_SUM = r"\(\s*([A-Za-z_]\w*(?:\s*\+\s*[A-Za-z_]\w*)+)\s*\)"
_FACTORS = r"(?:\d+(?:\.\d+)?\*)*"


def is_share(number: Number) -> bool:
    """A percentage (written with % or "percent") whose words state a direction."""
    return number.bound is not None and bool(re.search(r"%|percent|per cent", number.written, re.IGNORECASE))


def subject(names: list[str], sentence: str, number: Number) -> str | None:
    """The decision the words after the percentage name first, by a word no other decision's name has."""
    tokens = {name: {stem(t) for t in name.lower().split("_")} for name in names}
    at = sentence.find(number.written)
    if at < 0:
        return None
    clause = re.split(r"[,;.]| and (?=at |no |not )", sentence[at + len(number.written):])[0]
    for word in (stem(w) for w in re.findall(r"[a-z]+", clause.lower())):
        owners = [n for n in names if word in tokens[n] and not any(word in tokens[m] for m in names if m != n)]
        if len(owners) == 1:
            return owners[0]
    return None


def share_row(row: str, names: list[str], sentence: str, number: Number) -> str | None:
    """`row` as the share `number` states, when the model wrote it as a share of this number over a sum of
    decisions (`x OP [c*]f*(a + b)`, either side); None when it is no such share or the words do not decide."""
    if not is_share(number):
        return None
    f = re.escape(show(number.value))
    left = re.fullmatch(rf"([A-Za-z_]\w*) (<=|>=|==) {_FACTORS}{f}\*{_SUM}", row.strip())
    right = re.fullmatch(rf"{_FACTORS}{f}\*{_SUM} (<=|>=|==) ([A-Za-z_]\w*)", row.strip())
    if left is None and right is None:
        return None
    whole = (left.group(3) if left else right.group(1)).replace(" ", "").split("+")  # type: ignore[union-attr]
    if not set(whole) <= set(names):
        return None
    owner = subject(names, sentence, number) or (left.group(1) if left else right.group(3))  # type: ignore[union-attr]
    return f"{owner} {number.bound} {show(number.value)}*({' + '.join(whole)})"
