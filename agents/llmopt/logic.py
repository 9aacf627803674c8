"""Logical conditions over yes/no decisions written in words, read in code: "If they take Alice, they will not take Diana" is `alice + diana <= 1`.

Selection problems (which children to take on a trip, which properties to buy) state their rules as
conditions on yes/no decisions: "if A, then B" (`a <= b`), "if A, not B" (`a + b <= 1`), "if not A, then B"
(`a + b >= 1`), "if not A, not B" (`b <= a`), and a decision the text settles ("they will definitely take
him": 1; "they will not take Bob": 0). Each such sentence names the decisions by their words; the rule is
read only where each side of the condition names exactly one binary decision and no number is written
(a number makes it a limit, which readings.py reads). Plain regular expressions over the words: no parser
library reads logical conditions written in English.
"""

from __future__ import annotations

import re

from ratiocinator.agents.llmopt.arithmetic import mentions

_IF = re.compile(r"^\s*(?:but\s+|and\s+|also,?\s+)?if\b(.*?),\s*(?:then\s+)?(.*)$", re.IGNORECASE)
_NOT = re.compile(r"\b(?:not|cannot|can ?not|can't|won't|never|no longer|neither|nor)\b|n't\b", re.IGNORECASE)
#: a reason after the rule ("because Alice and Diana do not get along") names decisions that are not its sides
_REASON = re.compile(r"\b(?:because|since|as they|as the|due to|given that)\b.*$", re.IGNORECASE)
#: words that settle one decision without a condition ("will definitely take him", "must be chosen")
_SETTLED = re.compile(r"\b(?:definitely|certainly|surely|for sure|must|has to|have to|is required to|are required to|"
                      r"will)\b", re.IGNORECASE)
_OPEN = re.compile(r"\b(?:if|unless|only|either|or|whether|at least|at most|maximum|minimum|both)\b", re.IGNORECASE)
_DIGIT = re.compile(r"\d")


def implication(sentence: str, names: list[str], binary: frozenset[str]) -> str | None:
    """The relation a sentence's logical condition states over two binary decisions, or the value it settles for
    one; None unless its words state exactly that (see the module)."""
    if not binary or _DIGIT.search(sentence):
        return None
    found = _IF.match(sentence)
    if found is None:
        return _settled(sentence, names, binary)
    condition, consequence = found.group(1), _REASON.sub("", found.group(2))
    a, b = _one(condition, names), _one(consequence, names)
    if a is None or b is None or a == b or not {a, b} <= binary:
        return None
    not_a, not_b = bool(_NOT.search(condition)), bool(_NOT.search(consequence))
    if not_a and not_b:
        return f"{b} <= {a}"
    if not_a:
        return f"{a} + {b} >= 1"
    if not_b:
        return f"{a} + {b} <= 1"
    return f"{a} <= {b}"


def _settled(sentence: str, names: list[str], binary: frozenset[str]) -> str | None:
    """`x == 1` where the sentence names one binary decision and says it will be taken ("so the Lee family will
    definitely take him"; a pronoun after the name is that name), `x == 0` where it says it will not."""
    text = _REASON.sub("", sentence)
    one = _one(text, names)
    if one is None or one not in binary or _OPEN.search(text) or not _SETTLED.search(text):
        return None
    return f"{one} == {0 if _NOT.search(text) else 1}"


def _one(text: str, names: list[str]) -> str | None:
    """The one decision a text names, or None where it names none or several."""
    named = {m.name for m in mentions(text, names)}
    return named.pop() if len(named) == 1 else None
