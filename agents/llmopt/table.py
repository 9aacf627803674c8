"""The sentences of a problem text and its numbers, each number tied to the words it comes from (no model inside).

Stepwise translation (steps.py) grounds every constant of a formulation in the text: the numbers are
found here, in code, with the sentence and the words around each, and the model only names them; the
grammars of the later steps admit no other number. Percentages become fractions (60% -> 0.6), numbers
written with thousands separators are read (20,000), and multiplier words (twice, double, triple, half)
count as numbers; a number glued to letters (x1, 3D) is part of a name, not a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ratiocinator.solvers.statements import SCALES

_NUMBER = re.compile(
    r"(?<![\w.])(\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\w])(\s*(?:%|percent\b|per cent\b))?"
    r"(\s+(?:thousand|million|billion)\b)?",  # "$1.6 million": 1600000
    re.IGNORECASE,
)
#: words that state a factor (counted as numbers of the text: "twice as many" is the constant 2)
MULTIPLIERS = {"twice": 2.0, "double": 2.0, "triple": 3.0, "thrice": 3.0, "half": 0.5}
#: cardinal words: allowed as literals, but not parameters (they usually count the products named)
CARDINALS = {"two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0, "seven": 7.0, "eight": 8.0,
             "nine": 9.0, "ten": 10.0, "twelve": 12.0, "twenty": 20.0, "hundred": 100.0}
_WORD = re.compile(r"\b(" + "|".join(MULTIPLIERS) + r")\b", re.IGNORECASE)
_CARDINAL = re.compile(r"\b(" + "|".join(CARDINALS) + r")\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z\s])|\n+|(?<=[.!?:])\s*[-•*]\s+(?=[A-Z])|(?<=:)\s*[-•*](?=[A-Z])"
                           r"|(?<=[a-z0-9$)][.!?])(?=[A-Z][a-z])")  # "$Y$.Each": a sentence glued on
_CONTEXT_WORDS = 7
#: a number, its unit, then a dash glued to a capitalized word: the next item of a list whose line breaks were lost
_GLUED_BULLET = re.compile(r"(\d[^\n.;:\d]{0,20}?[a-z])-(?=[A-Z][\w ]{0,30}:)")  # not "Coca-Cola"
#: a fraction written in LaTeX, with its math delimiters
_FRACTION = re.compile(r"\$?\\[dt]?frac\s*\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}\$?")
#: a small word glued to the number after it, a typing slip ("a limit of60 units"); names such as x1 are untouched
_GLUED = re.compile(r"\b(of|to|at|than|exceed|exceeds|is|be|from|and|by|only|least|most)(?=\d)")  # not "BY5"


#: words right before (or after) a number that state a bound on what it limits; plain English, no domain
_AT_MOST = re.compile(r"(at most|no more than|not more than|up to|maximum of|maximum|not exceed|cannot exceed|"
                      r"can't exceed|not to exceed|not go beyond|beyond|limited to|limit of|budget of|capacity of|"
                      r"available|no greater than|not greater than|less than or equal to|"
                      r"maximum(?: [a-z]+){1,3} (?:is|of))( be)?$")  # "the maximum load allowed is 500"
_AT_LEAST = re.compile(r"(at least|no less than|not less than|not be less than|minimum of|minimum|no fewer than|"
                       r"not fewer than|greater than or equal to|"
                       r"minimum(?: [a-z]+){1,3} (?:is|of))( be)?$")  # "the minimum investment required is $250"
_EXACTLY = re.compile(r"(exactly|equal to)( be)?$")
_AFTER = {"or less": "<=", "or fewer": "<=", "or more": ">=", "at most": "<=", "at least": ">="}
_SKIP = {"of", "more", "less", "fewer", "additional", "extra", "total", "new", "worth", "a", "an", "the", "in", "per"}


@dataclass(frozen=True, kw_only=True)
class Number:
    """One number of the text: its value (a percentage as a fraction), how it was written, and where.

    `bound` is the direction its words state ("at most 12": <=, "at least 60%": >=, "exactly": ==), if
    any; `unit` what it counts ("crates per hour" and "300 crates": crate; "$300": $), for the unit check.
    """

    value: float
    written: str
    sentence: int
    words: str
    bound: str | None = None
    unit: str = ""


def sentences(text: str) -> list[str]:
    """The text's sentences and lines (an escaped `\\n` counts as a line break), bullets and blanks dropped."""
    text = text.replace("\\n", "\n")
    text = _GLUED.sub(r"\1 ", text)  # "an upper limit of60 units": a word glued to the number after it
    text = _GLUED_BULLET.sub(r"\1\n", text)  # "up to 100 acres-Crop X2: up to 200 acres": a bullet glued on
    text = _FRACTION.sub(lambda m: show(int(m.group(1)) / int(m.group(2))) if int(m.group(2)) else m.group(0),
                         text)  # "$\frac{4}{3}$": 1.3333333333
    parts = (p.strip().lstrip("-*• ").strip() for p in _SENTENCE_END.split(text))
    return [p for p in parts if re.search(r"[A-Za-z]", p)]


def numbers(text: str, limit: int = 40) -> list[Number]:
    """The numbers of the text in order of appearance (at most `limit`), each with the words around it."""
    found: list[Number] = []
    for k, sentence in enumerate(sentences(text)):
        hits = [(m.start(), m.end(), _value(m), m.group(0).strip()) for m in _NUMBER.finditer(sentence)]
        hits += [(m.start(), m.end(), MULTIPLIERS[m.group(1).lower()], m.group(1)) for m in _WORD.finditer(sentence)]
        for start, end, value, written in sorted(hits):
            found.append(Number(value=value, written=written, sentence=k, words=_around(sentence, start, end),
                                bound=_bound(sentence, start, end), unit=_unit(sentence, start, end)))
    return found[:limit]


def literals(text: str) -> list[float]:
    """Every constant an expression may write: the text's numbers, its cardinal words, and 0 and 1."""
    values = {n.value for n in numbers(text, limit=10_000)} | {0.0, 1.0}
    values |= {CARDINALS[m.group(1).lower()] for m in _CARDINAL.finditer(text)}
    return sorted(values)


def words(text: str) -> list[str]:
    """The text's words (lowercase letters, two or more) that a variable's name may be made of, and its labels
    (`x1`, `X`, `Project 2`'s `2`: a letter with digits, a capital letter other than A and I, digits after a
    capitalized word); `none` is not one."""
    text = text.replace("\\n", "\n")
    found = {w.lower() for w in re.findall(r"[A-Za-z]{2,}", text)}
    found |= {w.lower() for w in re.findall(r"(?<![\w.])[A-Za-z]\d{1,2}(?![\w.])", text)}
    found |= {w.lower() for w in re.findall(r"(?<![\w.'])[B-HJ-Z](?![\w'])", text)}
    found |= set(re.findall(r"\b[A-Z][a-z]+ (\d{1,2})(?![\w.])", text))
    found |= set(re.findall(r"\b[A-Za-z]+_(\d{1,2})\b", text))  # "Food_1": an identifier's number
    return sorted(found - {"none", "sum", "for", "in", "if", "and", "or", "not", "lambda"})


def show(value: float) -> str:
    """A number as a formulation writes it: 60 not 60.0, 0.6, 1e-06 as 0.000001."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


def _value(match: re.Match[str]) -> float:
    value = float(match.group(1).replace(",", ""))
    if match.group(3):
        value = round(value * SCALES[match.group(3).strip().lower()], 6)
    return round(value / 100, 12) if match.group(2) else value


def _bound(sentence: str, start: int, end: int) -> str | None:
    """The direction the words around a number state: <=, >=, == or None."""
    before = " ".join(re.sub(r"[^a-z' ]", " ", sentence[:start].lower()).split()).removesuffix(" $").strip()
    for pattern, bound in ((_AT_MOST, "<="), (_AT_LEAST, ">="), (_EXACTLY, "==")):
        if pattern.search(before):
            return bound
    after = " ".join(sentence[end:].lower().split()[1:3])
    found = next((b for words, b in _AFTER.items() if after.startswith(words)), None)
    # "5000 hours available", "300 units of water available": what is available is an upper limit
    near = re.split(r"[,;.]| and ", sentence[end:].lower())[0].split()[:5]
    return found or ("<=" if "available" in near else None)


def _unit(sentence: str, start: int, end: int) -> str:
    """What a number counts: $ for money, else the first word after it (and its `of` phrase), singular; none when
    that word is a single letter (a symbol of a formula, as in "3x + 2y <= 18, x, y >= 0")."""
    if sentence[max(0, start - 1):start] == "$" or sentence[max(0, start - 2):start].strip() == "$":
        return "$"
    after = [w for w in re.findall(r"[a-z]+", sentence[end:].lower())[:5]]
    while after and after[0] in _SKIP:
        after = after[1:]
    if not after or len(after[0]) == 1:
        return ""
    unit = after[0]
    if len(after) > 2 and after[1] == "of":
        rest = [w for w in after[2:] if w not in ("the", "a", "an")]  # "units of the paste": of paste
        unit += f" of {rest[0]}" if rest else ""
    return " ".join(stem(w) for w in unit.split())


def forms(word: str) -> set[str]:
    """A word and the singulars it may be the plural of (minibuses: minibuse, minibus; batteries: battery)."""
    word = word.lower()
    out = {word}
    if word.endswith("s") and len(word) > 2:
        out.add(word[:-1])
    if word.endswith("es") and len(word) > 3:
        out.add(word[:-2])
    if word.endswith("ies") and len(word) > 4:
        out.add(word[:-3] + "y")
    if word.endswith("ves") and len(word) > 4:  # shelves, knives
        out |= {word[:-3] + "f", word[:-3] + "fe"}
    return out


def stem(word: str) -> str:
    """A word without its plural s (`trips` -> `trip`; short words such as `gas` kept)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _around(sentence: str, start: int, end: int) -> str:
    """The words around a number: a few before and after, within its sentence."""
    while start > 0 and not sentence[start - 1].isspace():
        start -= 1
    while end < len(sentence) and not sentence[end].isspace():
        end += 1
    before = sentence[:start].split()[-_CONTEXT_WORDS:]
    after = sentence[end:].split()[:_CONTEXT_WORDS]
    return " ".join([*before, sentence[start:end], *after])
