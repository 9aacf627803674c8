"""Linear relations written out in words, read in code: "Twice the allocation for unit X plus that for unit Y cannot exceed 200" is `2*x + y <= 200`.

Problem texts of the Mamo kind state each constraint as arithmetic in words over labelled decisions
(X, Y, x1, Project 2): terms with their factors ("twice", "three times", "(multiplied by a factor of
3)", "weighted by 0.6 for x1"), signs ("minus", "the difference between A and B"), a relation ("at
least", "cannot exceed", "at least 10 units more than") and a number or other terms on its other side.
The words decide each of these, so a clause is read here, and only where every part of it is read
(each number a factor or the bound, the relation stated, a decision on the left): otherwise None, and
the model is asked. The decisions are the declared names; a clause that names none is not read.
Plain regular expressions over the words: no parser library reads arithmetic written in English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ratiocinator.agents.llmopt.table import CARDINALS, forms, show, stem

#: the words that state a factor ("twice", "a third of")
WORD_FACTORS = {"twice": 2.0, "double": 2.0, "thrice": 3.0, "triple": 3.0, "half": 0.5, "a third": 1 / 3,
                 "one third": 1 / 3, "a quarter": 0.25, "one quarter": 0.25, "a fourth": 0.25}
_CLAUSES = re.compile(r";|\.\s|, (?:while|whereas|and while)\b|\bwhile\b")
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
_RELATIONS = (
    (r"\b(?:cannot|can ?not|can't|must not|should not|may not|shall not|does not|do not) (?:exceed|be more than|"
     r"be greater than|go beyond|surpass)\b", "<="),
    (r"\b(?:should not|must not|cannot|can't|may not) (?:fall below|be less than|be lower than|be below|drop below)\b",
     ">="),
    (r"\b(?:at most|no more than|not more than|no greater than|up to|less than or equal to|a maximum of|maximum of|"
     r"capped at|limited to|is limited to|a limit of|should not exceed|must not exceed|is at most|"
     r"maximum(?: \w+){0,3} of)\b", "<="),
    (r"\b(?:at least|no less than|not less than|no fewer than|greater than or equal to|a minimum of|minimum of|"
     r"meet or exceed|a threshold of|threshold value of|minimum(?: \w+){0,3} of)\b", ">="),
    (r"\b(?:more than|greater than|exceeds?|larger than|outnumbers?)\b", ">="),
    (r"\b(?:be|is|are|remain)\s+non-?negative\b", ">="),
    (r"\b(?:less than|fewer than|smaller than|below)\b", "<="),
    (r"\b(?:exactly|equal to|must equal|equals|must be|should be)\b", "=="),
)
_CARDINALS = {**CARDINALS, "one": 1.0, "zero": 0.0}
_DIGITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9}
_MORE_THAN = re.compile(rf"({_NUMBER}|{'|'.join(_CARDINALS)})\s+(?:\w+\s+)?(more|greater|higher|larger|less|fewer|"
                        r"lower|smaller)\s+(?:\w+\s+){0,3}than\b", re.IGNORECASE)  # "50 more units of allocation than"
_PAREN_FACTOR = re.compile(rf"\((?:[^()]*?)(?:factor of|multiplied by|times)\s+({_NUMBER})[^()]*\)", re.IGNORECASE)
_TIMES = re.compile(rf"\b({_NUMBER}|{'|'.join(CARDINALS)}|one)\s*(?:-\s*)?times\b", re.IGNORECASE)
_BARE = re.compile(rf"(?<![\w.]){_NUMBER}(?!\w|\.\d|%)")


#: the weights of a weighted sum, up to the relation after them ("weighted by 0.6 for x1 and 0.8 for x2, must be")
_WEIGHTED = re.compile(r"\bweighted by\s+(.*?)(?=,?\s+(?:must|should|cannot|can|is|are|has to|have to|needs? to|"
                       r"may|will)\b)", re.IGNORECASE)
#: a parenthesis that describes a measure's scale ("(on a scale from 0 to 1)"): no relation, its numbers no data
_SCALE = re.compile(r"\s*\([^()]*\ba scale (?:of|from)\b[^()]*\)", re.IGNORECASE)  # not "(... its larger scale)"
#: words that make "from A to B" a decision's range ("anywhere from 20 up to a limit of 70 units")
_RANGE_CUE = re.compile(r"\b(?:up to|anywhere|range|ranging|limit|maximum|minimum|hold|between)\b", re.IGNORECASE)
_NON_NEGATIVE = re.compile(r"non-?negative", re.IGNORECASE)
#: a percentage of what one decision names ("70% of the resources for service x1"), not of a whole ("of the total")
_PERCENT_OF = re.compile(rf"({_NUMBER})\s*(?:%|percent\b|per cent\b)\s+of\s+", re.IGNORECASE)
_WHOLE = re.compile(r"\b(?:total|all|combined|sum|overall|entire|whole|both|each|every)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """A decision named in a text: its name and where."""

    name: str
    start: int
    end: int


def relations(sentence: str, names: list[str], counted: frozenset[str] = frozenset(),
              rated: frozenset[str] | None = None) -> list[str] | None:
    """The relations a sentence states, one per clause that states one; None unless each such clause is read whole.
    `counted`: what the decisions are counted in ("4 units per session": session), so that "the number of
    sessions for X and Y" adds up the decisions themselves; `rated`: the units the text gives rates of (None:
    any), so that "the number of resources for x1 and x2" where no rate counts resources adds up x1 and x2."""
    rows: list[str] = []
    for clause in _CLAUSES.split(without_reason(sentence)):
        between = _between(clause, names)
        if between:
            rows += between
            continue
        if not _relation_words(clause):
            continue
        row = relation(clause, names, counted, rated)
        if row is None:
            return None
        rows.append(row)
    return rows or None


#: a leading clause that gives a reason ("Since tractors are very slow, ..."): it states no relation
_REASON = re.compile(r"^\s*(?:since|because|as|given that|due to|in order to|"
                     r"to (?:avoid|ensure|maintain|meet|make sure|guarantee|keep|prevent|satisfy))\b"
                     r"(?:[^,]|,(?=\d{3}))*,\s*", re.IGNORECASE)  # not the comma of $50,000


def without_reason(sentence: str) -> str:
    """The sentence without a leading clause that gives a reason: "Since tractors are slow, the number of cars
    ...": "the number of cars ..." (the decision it names is not a term of the relation); kept where that
    clause states a relation itself ("Due to storage limits the total cannot exceed 500, and ...")."""
    found = _REASON.match(sentence)
    return sentence if found is None or _relation_words(found.group(0)) else sentence[found.end():]


def relation(clause: str, names: list[str], counted: frozenset[str] = frozenset(),
             rated: frozenset[str] | None = None) -> str | None:
    """The relation one clause states (`2*x + y <= 200`), or None where its words leave any part open."""
    clause = _weighted(_SCALE.sub("", clause), names)  # "(on a scale from 0 to 1)" describes; weights are factors
    clause = _percent_factors(clause, names)  # "70% of the resources for x1": 0.7 times x1
    if re.search(r"%|\bper ?cent", clause, re.IGNORECASE):
        return None  # a share of a whole: shares.py reads it
    text, factors = _without_parentheses(clause)
    named = mentions(text, names)
    found = _relation_words(text)
    if not named or found is None:
        return None
    noun = re.search(r"\b(?:number|amount|total) of (\w+)", text, re.IGNORECASE)
    if noun and any(m.start == noun.start(1) for m in named) and len({m.name for m in named}) > 1 and re.match(
            r"\s*(?:\(|(?:\w+\s+)?by\b)", text[noun.end(1):]):
        return None  # "the number of staff (doctors + nurses)", "of patients treated by doctors": what they count
    if noun and not mentions(noun.group(1), names) and stem(noun.group(1).lower()) not in counted and (
            rated is None or stem(noun.group(1).lower()) in rated) and all(
            _factor(text[:m.start]) in (1.0, None) for m in named):
        return None  # "the number of patients treated by doctors and nurses": their rates count, not them
    at, end, op = found
    more = _MORE_THAN.search(text, end)
    if _NON_NEGATIVE.search(text[at:end]):  # "the difference between A and B must be non-negative"
        bound, right_from, right_sign = 0.0, len(text), 1.0
    elif more and more.start() - end < 30:  # "at least 10 units more than Y": left - right OP 10
        bound = _value(more.group(1))
        right_from, right_sign = more.end(), 1.0
        op = {"more": op, "greater": op, "higher": op, "larger": op}.get(more.group(2).lower(), _flip(op))
    else:
        after = text[end:]
        number = _BARE.search(after) or re.search(rf"\b({'|'.join(_CARDINALS)})\b", after, re.IGNORECASE)
        later = [m for m in named if m.start >= end]
        if number and (not later or number.start() + end < later[0].start):
            bound, right_from, right_sign = _value(number.group(0)), len(text), 1.0
        elif later:
            bound, right_from, right_sign = 0.0, end, 1.0
        else:
            return None
    left = [m for m in named if m.end <= at]
    right = [m for m in named if m.start >= right_from]
    if not left or len(left) + len(right) != len(named):
        return None
    lefts = _terms(text, left, factors, 0, at)
    rights = _terms(text, right, factors, right_from, len(text))
    if len(lefts) == 1 and not rights and lefts[0][0] == 1.0 and len(re.findall(r"[A-Za-z]+", text[left[-1].end:at])) > 5:
        return None  # "The firm wants to keep the weekly wage bill below $150000": the bill, not the firm
    terms = lefts + rights
    if any(c is None for c, _ in terms) or not _numbers_read(text, {abs(c) for c, _ in terms if c} | {bound}):
        return None
    if rights and not more:  # "X must be at least twice Y": x >= 2*y
        return f"{expression(lefts)} {op} {expression(rights)}"
    return f"{expression(lefts + [(-c * right_sign, n) for c, n in rights])} {op} {show(bound)}"  # type: ignore[operator]


def _weighted(clause: str, names: list[str]) -> str:
    """The clause with its subject written as the weighted sum it states: "the average rating for x1 and x2,
    weighted by 0.6 for x1 and 0.8 for x2, must be at least 20" reads "0.6 times x1 and 0.8 times x2, must be at
    least 20"; unchanged unless each weight names one decision and they are the decisions the subject names."""
    found = _WEIGHTED.search(clause)
    if found is None:
        return clause
    terms = []
    for part in re.split(r",|\band\b", found.group(1)):
        number = _BARE.findall(part)
        named = {m.name for m in mentions(part, names)}
        if len(number) != 1 or len(named) != 1:
            return clause
        terms.append(f"{number[0]} times {named.pop()}")
    subject = {m.name for m in mentions(clause[: found.start()], names)}
    if (subject and subject != {t.split()[-1] for t in terms}) or _BARE.search(clause[: found.start()]):
        return clause  # other decisions, or numbers the weights leave unread
    return " and ".join(terms) + clause[found.end():]


def _percent_factors(clause: str, names: list[str]) -> str:
    """The clause with each percentage of one decision written as its factor: "the difference between 70% of the
    resources for service x1 and those for x3" reads "... between 0.7 times the resources for service x1 ..."; a
    percentage of a whole ("30% of the total") is left for shares.py."""
    def factor(m: re.Match[str]) -> str:
        first = mentions(clause[m.end():], names)
        words = clause[m.end(): m.end() + first[0].start] if first else ""
        if not first or len(words.split()) > 6 or _WHOLE.search(words) or re.search(r"\d|[,;.]", words) or re.search(
                r"(?:-|\bminus|\bnegative)\s*$", clause[: m.start()], re.IGNORECASE):
            return m.group(0)  # a whole's share, or a negative percentage: not read here
        return f"{show(float(m.group(1).replace(',', '')) / 100)} times "
    return _PERCENT_OF.sub(factor, clause)


def _between(clause: str, names: list[str]) -> list[str] | None:
    """"between 0 and 700 units", "from 20 up to a limit of 70 units", "$x1$: [0, 400]" of the one decision the
    clause names: its two bounds."""
    found = re.search(rf"\b(?:between|from)\s+\$?({_NUMBER})\s*(?:\w+\s+)?(?:and|to|up to)\s+(?:[a-z]+\s+){{0,3}}?"
                      rf"\$?({_NUMBER})|:\s*\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]", clause, re.IGNORECASE)
    named = {m.name for m in mentions(clause, names)}
    if found is None or len(named) != 1 or len(_BARE.findall(clause)) != 2:
        return None
    name = named.pop()
    low, high = (float(g.replace(",", "")) for g in found.groups() if g is not None)  # "x1: [0, 400]" too
    if low > high or (found.group(0).lower().startswith("from") and not _RANGE_CUE.search(clause)):
        return None  # "from 9 am to 5 pm", "takes from 2 to 3 hours": no bounds of a decision
    return [f"{name} >= {show(low)}", f"{name} <= {show(high)}"]


def _flip(op: str) -> str:
    return {"<=": ">=", ">=": "<=", "==": "=="}[op]


def _value(written: str) -> float:
    word = written.lower()
    return _CARDINALS[word] if word in _CARDINALS else float(written.replace(",", ""))


def _relation_words(text: str) -> tuple[int, int, str] | None:
    """Where the first relation phrase is, and the relation it states."""
    for group in (_RELATIONS[:-1], _RELATIONS[-1:]):  # "must be at least": the inequality, not "must be"
        best = None
        for pattern, op in group:
            m = re.search(pattern, text, re.IGNORECASE)
            if m and (best is None or m.start() < best[0]):
                best = (m.start(), m.end(), op)
        if best:
            return best
    return None


def _without_parentheses(clause: str) -> tuple[str, dict[int, float]]:
    """The clause with each "(multiplied by a factor of 3 ...)" cut out, and its factor by where it stood."""
    factors: dict[int, float] = {}
    out, last = [], 0
    for m in _PAREN_FACTOR.finditer(clause):
        out.append(clause[last:m.start()])
        factors[sum(len(p) for p in out)] = float(m.group(1).replace(",", ""))
        last = m.end()
    out.append(clause[last:])
    return "".join(out), factors


def mentions(text: str, names: list[str]) -> list[Mention]:
    """Each place a decision is named: its label (`X`, `x1`, `Project 2`), or a word only its name has."""
    tokens = {n: [t for t in n.lower().split("_") if t] for n in names}
    own = {n: [t for t in ts if not any(t in tokens[m] for m in names if m != n)] for n, ts in tokens.items()}
    plural = {n: {p for t in ts if len(t) > 2 for p in forms(t)} for n, ts in own.items()}
    found: list[Mention] = []
    for m in re.finditer(r"[A-Za-z]+\d*|\d+", text):
        word = m.group(0).lower()
        hits = [n for n in names if word in own[n] or word.rstrip("s") in own[n]
                or (len(word) > 2 and forms(word) & plural[n])]  # "each cow" names `cows`
        if len(hits) != 1:
            continue
        name = hits[0]
        if word.isdigit() or len(word) == 1:  # a label: "Project 2", "crop X", "$X$"; not "a" or a quantity
            before = re.findall(r"[A-Za-z]+", text[: m.start()])[-1:]
            shared = {t for t in tokens[name] if t not in own[name]}
            if word.isdigit() and not (before and before[0].lower().rstrip("s") in shared):
                continue
            if word.isalpha() and not m.group(0).isupper() and not re.match(r"[xyz]$", word):
                continue
            if word in ("a", "i") and not (before and before[0][0].isupper() and text[m.start() - 1: m.start()] == " "):
                continue  # "Restaurant A", not the article "A" nor the pronoun "I"
        if found and found[-1].name == name and m.start() - found[-1].end < 3:
            continue
        found.append(Mention(name, m.start(), m.end()))
    return found


def _terms(text: str, mentions: list[Mention], factors: dict[int, float], start: int,
           stop: int) -> list[tuple[float | None, str]]:
    """Each mention's signed factor, from the words since the previous mention (or after it, in parentheses)."""
    out: list[tuple[float | None, str]] = []
    begin = start
    # "the difference between A and B", "the difference in resource allocation between A and B"
    difference = re.search(r"\bdifference(?: [a-z]+){0,4}? between\b", text[start:stop], re.IGNORECASE)
    if difference and difference.start() + start > mentions[0].start:
        difference = None
    # "the difference between the resources for (x1, and x2) and those for (x3, and x4)": the second group subtracted
    second = re.search(r"\band (?:those|that|the ones?)\b", text[start:stop], re.IGNORECASE) if difference else None
    negative = False
    for k, m in enumerate(mentions):
        segment = text[begin:m.start]
        factor = _factor(segment)
        after = [f for at, f in factors.items() if m.end <= at <= m.end + 3]
        if after:
            factor = after[0] if factor == 1.0 else None
        if re.search(r"\b(minus|less|subtract\w*|reduced by)\b(?! than)", segment, re.IGNORECASE):
            negative = True
        elif negative and k and re.fullmatch(r"[\s$,]*(?:and)?[\s$]*", segment):
            negative = True  # "minus those assigned to projects x1 and x3": both subtracted
        elif second:
            negative = m.start > second.start() + start
        else:  # "the difference between A and B" (not "between A, plus B, minus C")
            negative = bool(difference) and k == 1 and not re.search(r"\bplus\b", segment, re.IGNORECASE)
        out.append((None if factor is None else (-factor if negative else factor), m.name))
        begin = m.end
    return out


def _factor(segment: str) -> float | None:
    """The factor the words before a mention state: "twice", "3 times", "weighted by 0.6 for"; 1 without one;
    None where the segment holds numbers that are not one factor."""
    low = segment.lower()
    spelled = re.search(rf"\b({'|'.join(_CARDINALS)})-and-a-half\b|\b({'|'.join(_CARDINALS)})-point-"
                        rf"({'|'.join(_DIGITS)})\b", low)
    if spelled:  # "three-and-a-half times": 3.5; "four-point-seven times": 4.7
        if spelled.group(1):
            return _CARDINALS[spelled.group(1)] + 0.5
        return float(f"{int(_CARDINALS[spelled.group(2)])}.{_DIGITS[spelled.group(3)]}")
    words = [w for w in WORD_FACTORS if re.search(rf"\b{w}\b", low)]
    times = _TIMES.findall(segment)
    bare = [m.group(0) for m in _BARE.finditer(segment)]
    if len(words) + len(times) > 1:
        return None
    if words:
        return WORD_FACTORS[words[0]] if not bare else None
    if times:
        return _value(times[0]) if len(bare) <= 1 else None
    if len(bare) == 1 and re.search(rf"(by|of)\s+{re.escape(bare[0])}\s+(for|to|on)\b", low):
        return float(bare[0].replace(",", ""))
    if len(bare) == 1 and re.search(rf"(?<![\w.$]){re.escape(bare[0])}\s+$", segment):
        return float(bare[0].replace(",", ""))  # "60 condos plus 30 apartments": the number right before the name
    return 1.0 if not bare else None


def _numbers_read(text: str, used: set[float]) -> bool:
    """Every number written in the clause is read: a factor or the bound (a clause with a number more is left
    to the model: "between 0 and 700" states two bounds)."""
    written = {float(m.group(0).replace(",", "")) for m in _BARE.finditer(text)}
    return written <= {round(u, 12) for u in used}


def expression(terms: list[tuple[float | None, str]]) -> str:
    """`2*x + y - z`: the terms in order, each factor written as the text's number."""
    out = ""
    for k, (factor, name) in enumerate(terms):
        factor = factor if factor is not None else 1.0
        sign = "-" if factor < 0 else "+"
        size = abs(factor)
        body = name if size == 1.0 else f"{show(size)}*{name}"
        if size < 1 and size != 0.5 and abs(1 / size - round(1 / size)) < 1e-9:
            body = f"{name}/{round(1 / size)}"  # a third: y/3
        out += (f"-{body}" if sign == "-" else body) if k == 0 else f" {sign} {body}"
    return out
