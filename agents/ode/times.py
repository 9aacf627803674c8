"""The conditions a problem's words state, read in code: the times a sentence names and the value it gives the unknown.

"A tank initially contains 1000 L of brine with 15 kg of salt" states the salt at time 0; "after 11
minutes the soup has cooled to 31.079 °C" states the temperature at 11. The times come from plain
English time phrases (initially, at first, starting, at t = 0; after / in / at N seconds ... years; t = N);
the value is the sentence's other number whose unit (the word after it) the unknown's description names
("S: the salt in the tank in kg": 15 kg, not 1000 L), then whose surrounding words share most words with
that description, then the one nearest the time phrase.
Rates (5 L/min, 3 kg per hour) and relative amounts (10 %, twice, half) are
never values. Conditions written in function notation (`x(4) = 50`) are taken as written. The question
sentence only states a time-0 value ("Starting from 10,000, find the population after
5 years": P(0) = 10000); its "after 5 years" is the time asked. A state before any time phrase is the
value at time 0 when a later sentence observes the unknown in the same unit: "a rod heated to 72 °C is left
in a room kept at 10 °C. After 4 minutes it is at 39.112 °C" states T(0) = 72 (a value its words call
constant, maintained or fixed is a surrounding, not the state). A minus written before a number is its
sign (-4 °C); "zero" or "no" said of the unknown's own words is the value 0 ("the initial current is zero").
No model call here.
"""

from __future__ import annotations

import re

from ratiocinator.agents.llmopt.table import Number, numbers, sentences, show

_UNITS = r"(?:seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?|years?|yrs?)"
_ZERO = re.compile(r"\b(?:initial(?:ly)?|at first|at the (?:start|beginning|outset)|starting|to start|begins?|"
                   r"originally|at (?:time )?t\s*=\s*0(?![.\d])|at time zero)\b", re.IGNORECASE)
_AT = re.compile(rf"\b(?:after|in|at|within)\s+(?:t\s*=\s*)?(\d+(?:\.\d+)?)\s*{_UNITS}\b|\bt\s*=\s*(\d+(?:\.\d+)?)",
                 re.IGNORECASE)
_NOTATION = re.compile(r"(?<![\w.])[A-Za-z]\(\s*(\d+(?:\.\d+)?)\s*\)\s*=\s*(-?\d+(?:\.\d+)?)(?!\w|\.\d)")
#: what a number is per: `/ min`, `per hour`, `kg/L`, `grams per liter`, `per unit of time` (up to two words of its
#: unit before); a rate when that is a unit of time
_PER = re.compile(r"\s*(?:[^\s/]+\s+){0,2}?(?:[^\s/]*\s*/\s*|per\s+(?:unit\s+(?:of\s+)?)?)([A-Za-z]+)", re.IGNORECASE)
_TIME_WORD = re.compile(rf"{_UNITS}|time", re.IGNORECASE)
#: "zero" or "no" said of the unknown's own words: "the initial current is zero", "air with no smoke"
_NONE_OF = re.compile(r"\b(?:no|zero)\s+(?:[a-z]+\s+)?([a-z]+)|\b([a-z]+)\s+(?:is|was|are|of)\s+(?:zero|0)\b",
                      re.IGNORECASE)
#: words that say a quantity does not change: it is a surrounding or a parameter, not the unknown's state
_FIXED = re.compile(r"\b(?:constant(?:ly)?|maintained|fixed|steady|kept|held)\b", re.IGNORECASE)
_STOP = {"the", "a", "an", "of", "in", "at", "to", "and", "is", "it", "its", "with", "for", "by", "on", "per", "that",
         "which", "has", "have", "be", "was", "this", "after", "initially"}


#: unit names and their abbreviations, read as one word ("15 kg" matches "the salt in kilograms")
_SAME_UNIT = {"kilogram": "kg", "gram": "g", "litre": "liter", "l": "liter", "milliliter": "ml", "millilitre": "ml",
              "meter": "m", "metre": "m", "gallon": "gal", "pound": "lb", "lbs": "lb", "dollar": "$"}


def _words(text: str) -> set[str]:
    """The text's words that can say what a number counts: stop words dropped, plurals and unit names folded."""
    words = (w if w in _SAME_UNIT else w.rstrip("s") for w in re.findall(r"[a-z]+", text.lower()))
    folded = {_SAME_UNIT.get(w, w) for w in words if w not in _STOP}
    return {w for w in folded if len(w) > 1 or w in _SAME_UNIT.values()}


def _times(sentence: str, zero_only: bool) -> list[tuple[float, int, str]]:
    """(time, where its phrase is, the number as written) for each time the sentence names, once per time
    ("at t = 0" is both a time-0 phrase and `t = N`)."""
    found = [(0.0, m.start(), "") for m in _ZERO.finditer(sentence)]
    if not zero_only:
        found += [(float(m.group(1) or m.group(2)), m.start(), m.group(1) or m.group(2)) for m in _AT.finditer(sentence)]
    once: dict[float, tuple[float, int, str]] = {}
    for time in found:
        once.setdefault(time[0], time)
    return list(once.values())


def _amount(number: Number, sentence: str) -> bool:
    """Whether a number can be a value of the unknown: not a rate (`5 L/min`, `3 kg per hour`, `0.89 per day`)
    and not a relative amount (a percentage, `twice`, `half`), which state a change, not a value. An amount per
    anything else (`33 grams per liter`, `0.2 kg/L`) is a concentration: a value."""
    if "%" in number.written or "percent" in number.written or not number.written[:1].isdigit():
        return False
    return not _TIME_WORD.fullmatch(_per(number, sentence))


def _written(text: str) -> dict[float, float]:
    """Conditions the text writes in function notation, in any sentence: `x(4) = 50`, `i(0) = 0` (time: value)."""
    return {float(m.group(1)): float(m.group(2)) for m in _NOTATION.finditer(text)}


def conditions(text: str, name: str, unknown: str, asked: int) -> list[str]:
    """`name(time) = value` for each condition written in function notation, then for each sentence up to the
    question (`asked`: its index) that names one time and a value, then the state before any time phrase."""
    table = numbers(text, limit=10_000)
    said = sentences(text)
    described = _words(unknown.partition(":")[2])
    found = _written(text)  # time: value; a new dict, filled below
    first: tuple[int, str] | None = None  # the first observation read from a sentence: (its sentence, its unit)
    for k, sentence in enumerate(said[: asked + 1]):
        times = _times(sentence, zero_only=k == asked)
        if len(times) != 1:  # none, or several: which value goes with which time is not for code to guess
            continue
        time, where, _ = times[0]
        # a number of a time phrase ("after 5 years", "t = 0"), the question's included, is a time, not a value
        timed = {m.group(1) or m.group(2) for m in _AT.finditer(sentence)}
        values = [n for n in table if n.sentence == k and n.written not in timed and _amount(n, sentence)
                  and _words(_per(n, sentence)) <= described]  # "0.2 kg/L" is a value only of an unknown per litre
        none = _none(sentence, described) and not any(_words(_unit(n, sentence)) & described for n in values)
        if values and time not in found and not none:
            best = max(values, key=lambda n: (bool(_words(n.unit.split(" ")[0]) & described),
                                              len(_words(n.words) & described), -abs(_position(sentence, n) - where)))
            found[time] = _signed(best, sentence)
            first = first or (k, _unit(best, sentence))
        elif time not in found and none:  # "a room with 5899 m^3 of air and no smoke": S(0) = 0
            found[time] = 0.0
    if 0.0 not in found and first is not None and first[1]:
        start = _initial(table, said[: first[0]], first[1])
        if start is not None:
            found[0.0] = start
    return [f"{name}({show(time)}) = {show(value)}" for time, value in sorted(found.items())]


def _per(number: Number, sentence: str) -> str:
    """The word a number is per (`5 L/min`: min, `33 grams per liter`: liter), "" for a plain amount."""
    at = _position(sentence, number) + len(number.written)
    m = _PER.match(sentence[at:at + 40])
    return m.group(1) if m else ""


def _none(sentence: str, described: set[str]) -> bool:
    """Whether the sentence says there is none of the unknown ("the initial current is zero", "no smoke")."""
    return any(_words(m.group(1) or m.group(2)) & described for m in _NONE_OF.finditer(sentence))


def _unit(number: Number, sentence: str) -> str:
    """What a number counts, as written: the symbol glued to it (`72°C`) or the first word of its unit."""
    at = _position(sentence, number) + len(number.written)
    glued = re.match(r"[^\s\d.,;:!?)]+", sentence[at:])
    return glued.group(0).lower() if glued else number.unit.split(" ")[0].lower()


def _signed(number: Number, sentence: str) -> float:
    """The number's value with the minus written right before it (`-4°C`, `−3`), not a dash between two numbers."""
    at = _position(sentence, number)
    return -number.value if re.search(r"(?:^|[\s(=:,])[-\u2212]\s?$", sentence[:at]) else number.value


def _initial(table: list[Number], before: list[str], unit: str) -> float | None:
    """The first value in `unit` of the sentences before the first observation that name no time, unless its
    words say it is held constant (a surrounding, not the state)."""
    for k, sentence in enumerate(before):
        if _times(sentence, zero_only=False):
            continue
        for n in (n for n in table if n.sentence == k and _amount(n, sentence)):
            at = _position(sentence, n)
            if _unit(n, sentence) == unit and not _FIXED.search(" ".join(sentence[:at].split()[-4:])):
                return _signed(n, sentence)
    return None


def _position(sentence: str, number: Number) -> int:
    at = sentence.find(number.written)
    return at if at >= 0 else len(sentence)
