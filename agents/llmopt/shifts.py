"""Staffing over consecutive periods read in code: each period's need, in order, and how many periods one shift spans.

"2:00-6:00 - 10 people, 6:00-10:00 - 15 people, ... Salespersons ... work continuously for 8 hours", a table
of shifts "1 & 6:00 ~ 10:00 & 60", or "d1 = 2, d2 = 4, ..., d7 = 3 ... Every nurse works 5 days in a row":
a need per period and a shift of several periods in a row is the cyclic staffing (covering) problem, whose
data the words give exactly. Read here so that the model only decides whether the text asks it:
- periods are clock ranges with the number after each (`H:MM-H:MM`, `~` or "to" between), or a letter's
  numbered values `d1 = 2`, `d2 = 4`, ... in order;
- a shift spans its hours ("work(s) (continuously) for eight hours") over the periods' common length, or
  "N days in a row" / "N consecutive days" for numbered periods (days);
- the periods wrap around (the last runs into the first) where they fill a day (clock ranges) or a week
  (seven numbered periods).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ratiocinator.agents.llmopt.table import CARDINALS

_RANGE = re.compile(r"(\d{1,2})\s*:\s*(\d{2})\s*(?:-|–|~|to)\s*(\d{1,2})\s*:\s*(\d{2})")
_AFTER = re.compile(r"[^\d\n]{0,15}?(\d+(?:\.\d+)?)(?!\s*:|\d)")
_HOURS = re.compile(r"\bwork\w*\s+(?:continuously\s+)?(?:for\s+)?(\w+)\s+(?:consecutive\s+|continuous\s+)?hours?\b",
                    re.IGNORECASE)
_INDEXED = re.compile(r"\b([a-z])_?\{?(\d+)\}?\s*=\s*(\d+(?:\.\d+)?)")
_DAYS = re.compile(r"\b(\w+)\s+(?:days\s+in\s+a\s+row|consecutive\s+days)\b", re.IGNORECASE)
_DAY = 24 * 60
_ROW_LABEL = re.compile(r"(?:^|\n|\\\\|\|)\s*(?:\\hline\s*)?(\d+)\s*[&|]\s*$")


@dataclass(frozen=True)
class Shifts:
    """Periods in order with the need of each, the periods one shift covers, and whether they wrap around."""

    periods: tuple[str, ...]
    need: tuple[float, ...]
    span: int
    cyclic: bool
    #: the shift's length, a period's, and the whole the periods fill (24 hours, 7 days; 0 where they do not
    #: wrap), in the text's unit: what the span and the wrap were read from
    lengths: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _count(word: str) -> int | None:
    """A count written in digits or as a word ("eight")."""
    if word.isdigit():
        return int(word)
    value = CARDINALS.get(word.lower())
    return int(value) if value is not None and float(value).is_integer() else None


def _clock(text: str) -> Shifts | None:
    """Clock ranges, each with its need after it, and the shift's hours."""
    found = []
    for m in _RANGE.finditer(text):
        after = _AFTER.match(text, m.end())
        if after:
            h1, m1, h2, m2 = map(int, m.groups())
            row = _ROW_LABEL.search(text[: m.start()])  # "| 3 | 14:00 ~ 18:00 | 60": shift 3
            name = f"{row.group(1)} ({h1}:{m1:02d}-{h2}:{m2:02d})" if row else f"{h1}:{m1:02d}-{h2}:{m2:02d}"
            found.append((name, float(after.group(1)), (h2 * 60 + m2 - h1 * 60 - m1) % _DAY))
    hours = _HOURS.search(text)
    if len(found) < 3 or hours is None or (count := _count(hours.group(1))) is None:
        return None
    length = Counter(minutes for _, _, minutes in found).most_common(1)[0][0]  # one typo'd range does not decide
    if not length or (count * 60) % length:
        return None
    span = count * 60 // length
    if not 1 < span < len(found):
        return None
    cyclic = len(found) * length == _DAY
    return Shifts(tuple(p for p, _, _ in found), tuple(n for _, n, _ in found), span, cyclic,
                  (float(count), length / 60, 24.0 if cyclic else 0.0))


def _numbered(text: str) -> Shifts | None:
    """`d1 = 2, d2 = 4, ...` (one letter, numbered from 1 in order) and "N days in a row"."""
    values = [(m.group(1), int(m.group(2)), float(m.group(3))) for m in _INDEXED.finditer(text)]
    letters = {letter for letter, _, _ in values}
    days = _DAYS.search(text)
    if len(letters) != 1 or [i for _, i, _ in values] != list(range(1, len(values) + 1)) or days is None:
        return None
    span = _count(days.group(1))
    if span is None or not 1 < span < len(values):
        return None
    week = len(values) == 7
    return Shifts(tuple(f"{values[0][0]}{i}" for _, i, _ in values), tuple(v for _, _, v in values), span, week,
                  (float(span), 1.0, 7.0 if week else 0.0))


def read(text: str) -> Shifts | None:
    """The text's staffing periods, or None where it states none (or both kinds at once)."""
    plain = text.replace("\\sim", "~").replace("$", "")
    found = [s for s in (_clock(plain), _numbered(plain)) if s is not None]
    return found[0] if len(found) == 1 else None
