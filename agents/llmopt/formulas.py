"""What a problem text states in symbols, read in code for the stepwise translation: its decisions, objective, constraints.

"Maximize 3x + 5y subject to x <= 4, 2y <= 12, 3x + 2y <= 18, x, y >= 0" leaves the model nothing to
decide: its symbols are the decisions, its objective and each relation are the formulation's, written as
the text writes them. solvers.statements reads them (the same reader the faithfulness check uses, so what
is read here is what the answer is checked against); a text in words reads as nothing here, and a text
that mixes both gets its formulas read and its words decided as before.
"""

from __future__ import annotations

import functools
import re

from ratiocinator.agents.llmopt.draft import Draft
from ratiocinator.solvers.statements import Stated, TextStatements, read_text


@functools.lru_cache(maxsize=256)
def _read(text: str) -> TextStatements:
    """read_text once per text (a frozen result): each draft and each step of one problem reads the same
    text and sentences again (~27 ms a parse where the text has formulas)."""
    return read_text(text)


def names(draft: Draft) -> list[str]:
    """The symbols of the text's formulas, in the order they are first written: of its objective, and of each
    constraint that bounds by a number (`x1 <= 500`; `c > b` relates data the text names, not decisions)."""
    found: dict[str, int] = {}
    whole = _read(draft.problem)
    stated = [*([whole.objective] if whole.objective else []), *(c for c in whole.constraints if _numeric(c))]
    for s in stated:
        for symbol in s.symbols:
            text = str(symbol)
            found.setdefault(text, _first(whole.text, text))
    return sorted(found, key=found.__getitem__)


def objective(draft: Draft) -> str | None:
    """The objective the text states in symbols over the declared names (`maximize 3*x + 5*y`), else None."""
    stated = _read(draft.problem).objective
    if stated is None or not _declared(draft, stated):
        return None
    return f"{stated.sense} {stated.expression}"


def rows(draft: Draft, sentence: int) -> list[str]:
    """The relations sentence `sentence` states in symbols over the declared names (`3*x + 2*y <= 18`)."""
    if sentence >= len(draft.sentences):
        return []
    return [f"{c.lhs} {c.op} {c.rhs}" for c in _read(draft.sentences[sentence]).constraints if _declared(draft, c)]


def covered(draft: Draft, sentence: int) -> bool:
    """Every number of the sentence is inside a formula read here (nothing left for the words to state)."""
    read = _read(draft.sentences[sentence]) if sentence < len(draft.sentences) else None
    return bool(read and read.constraints and all(_declared(draft, c) for c in read.constraints)
                and not read.outside)


def _declared(draft: Draft, stated: Stated) -> bool:
    declared = {name for name, _ in draft.variables()}
    return bool(stated.symbols) and {str(s) for s in stated.symbols} <= declared


def _numeric(stated: Stated) -> bool:
    """A relation with a number on one side (after moving everything else to the other)."""
    normal, _ = stated.normal()
    return bool(normal.as_coeff_Add()[0])


def _first(text: str, symbol: str) -> int:
    """Where a symbol is first written as a word of the text (the end when it is not)."""
    found = re.search(rf"(?<![A-Za-z_]){re.escape(symbol)}(?![A-Za-z_])", text)
    return found.start() if found else len(text)
