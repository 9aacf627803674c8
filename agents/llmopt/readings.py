"""Each number of a problem's text read as a relation, in code, from its words and the declared decisions (stepwise LLMOPT).

Resource-table problems state their data as rates ("each chair requires 1.4 gallons of stain") and
limits ("17 gallons of stain are available"): the relation a limit states adds up the rates of its
column, each times the decision whose words come before it. Asked sentence by sentence, the 0.5B model
left most of these relations out (NL4Opt 1-20, run llmopt-stepwise7: items 9, 18 and 19 had no
resource constraint at all), while the words decide them. So they are read here, and the model is
asked only about the sentences whose numbers the reading leaves unexplained, or that compare
decisions without a number. Nothing here knows a domain: the units, columns, directions and owners
come from the words around each number and the names the model declared.

- a column: the rates of one unit (`_same_unit`), split by the words that tell them apart where one
  decision has several rates of that unit ("2 hours with the design team", "3 hours with the
  engineering team");
- a limit: a number with a direction (its words', a list's it shares "at least 30 units of protein
  and 50 units of fat", or its verb's: "has 1000 units" <=, "needs to transport 320" >=) and no
  decision before it; it bounds its column's sum, or one decision its words name next ("at least 20
  scooters"), or all of them ("a total of", or a unit every decision's name shares);
- a share: a percentage with a direction and the decision its words name (shares.py);
- a comparison of two decisions ("at most twice as many cows as elephants"), and arithmetic written in
  words over labelled decisions (arithmetic.py);
- the objective: the column the first telling word of its phrase names ("the total amount of time":
  the minutes), the one decision it names, all of them ("the number of machines"), else every column
  for the model's scored choice (choose.py); a limit no words tie to a column: each column's sum, for
  the model's scored choice (`limit_options`).
Python's re and plain word lists do the reading; no parser library reads these relations.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from ratiocinator.agents.llmopt import arithmetic, logic
from ratiocinator.agents.llmopt.draft import Draft, _same_unit
from ratiocinator.agents.llmopt.shares import is_share, subject
from ratiocinator.agents.llmopt.table import CARDINALS, MULTIPLIERS, Number, _unit, show, stem
from ratiocinator.agents.llmopt.table import forms as _forms

#: where a clause ends: punctuation, a conjunction, or a reason ("due to budget limitations" says why, not what)
_BREAK = re.compile(r"[,;.:]|\b(?:and|while|whereas|but|whilst|due to|because|owing to|in order to|so that)\b",
                    re.IGNORECASE)
_STOP = {"the", "a", "an", "of", "per", "to", "and", "each", "every", "is", "are", "be", "can", "in", "on",
         "for", "with", "at", "by", "that", "which", "it", "its", "their", "his", "her", "from", "as", "than",
         "should", "must", "will", "would", "could", "may", "there", "this", "these", "those", "one", "has",
         "have", "had", "was", "were", "been", "being", "or", "unit", "units", "worth", "only", "also", "him", "them",
         "our", "your"}
#: the verb nearest before a limit that states no direction: what one has is an upper limit, what one needs a lower
_UPPER_VERBS = {"has", "have", "had", "available", "budget", "capacity", "supply", "supplies", "owns", "stock",
                "spend", "allowed", "afford", "most", "maximum", "limit", "limited"}
_LOWER_VERBS = {"need", "needs", "needed", "require", "requires", "required", "requiring", "must", "demand",
                "demands", "least", "minimum", "contract", "ensure", "satisfy", "meet", "deliver", "transport",
                "aim", "aims", "goal", "goals", "target", "targets"}  # "You aim to consume 74 grams of protein"
_TOTAL = re.compile(r"\b(total|in all|combined|altogether|overall|either type|all)\b", re.IGNORECASE)
_COMPARE = re.compile(r"\b(more than|less than|fewer than|exceed\w*|at least|at most|twice|thrice|as many|as much|"
                      r"greater|smaller|larger|equal\w*|ratio|half|no more|no less|outnumber\w*|times|"
                      r"a third|a quarter)\b", re.IGNORECASE)
#: the relation a comparison's words state, the first that matches (the negated and longer phrases first)
_RELATIONS = (
    (r"\b(cannot|can ?not|can't|must not|should not|may not|not to|does not|do not|never) (exceed|be more|be greater|"
     r"outnumber)", "<="),
    (r"\b(at most|no more than|not more than|no greater than|up to|less than or equal|at the most|or fewer|or less)\b",
     "<="),
    (r"\b(at least|no less than|not less than|no fewer than|or more|greater than or equal)\b", ">="),
    (r"\b(exceed\w*|more than|greater than|outnumber\w*|larger than)\b", ">="),
    (r"\b(fewer than|less than|smaller than|below)\b", "<="),
    (r"\b(equal\w*|the same as|exactly|must be|should be|has to be|have to be|needs to be|is|are)\b", "=="),
)
_FACTOR = re.compile(r"\b(twice|double|thrice|triple|half|a third|one third|a quarter|one quarter|a fourth|"
                     r"\w+(?=\s+times\b))")
_DIGITS = re.compile(r"\d")
#: a number that is a factor ("3 times as many", "3 times the number of"), not a count ("up to 20 times for X1")
_FACTOR_TIMES = re.compile(r"\b\d+(?:\.\d+)?(?=\s+times\s+(?:as|the|that|those|more|larger|greater)\b)")
#: kinds of measure an objective may name by the kind ("the total amount of time"), with the units of each,
#: and money, which "profit", "cost" or "earnings" name (plain English, no domain)
_KINDS = {
    "time": {"second", "minute", "hour"},  # not day or week: "80 cones every day" counts cones
    "money": {"$", "dollar", "profit", "cost", "revenue", "earning", "income", "price", "spending", "expense",
              "budget", "money", "pay", "wage", "salary", "earn", "costs", "fee", "investment", "invest"},
    "weight": {"gram", "kilogram", "kg", "pound", "lb", "ton", "tonne", "ounce"},
    "distance": {"meter", "metre", "kilometer", "km", "mile", "foot", "feet", "yard"},
    "volume": {"litre", "liter", "gallon", "millilitre", "milliliter", "ml"},
}
#: words of an objective's phrase that say nothing about what it adds up
_VAGUE = {"total", "number", "amount", "sum", "overall", "need", "needed", "used", "use", "make", "made", "get",
          "produce", "produced", "company", "day", "week", "month", "year", "hour", "time", "daily", "weekly",
          "required", "possible", "how", "many", "much", "what", "all", "they", "he", "she", "we", "you"}
_MEASURE = re.compile(r"(?<![\w.])\$?\d(?:[\d,]*\d)?(?:\.\d+)?%?(?![\w])|\b(?:" + "|".join(CARDINALS) + r")\b", re.IGNORECASE)
_LIST_GAP = 9  # most words between two numbers of one list ("30 units of protein and 50")


@dataclass(frozen=True, kw_only=True)
class Reading:
    """What the words make of the table's numbers: rows per number, the rates used, the objective's candidates."""

    rows: dict[int, str]
    rates: frozenset[int]
    columns: tuple[str, ...]
    #: the words of each column (its rates' units, what follows and what comes right before each rate)
    words: tuple[frozenset[str], ...] = ()
    #: the decisions that own a rate of a column or that a limit or share names alone
    named: frozenset[str] = frozenset()
    #: a sentence's comparison of two decisions ("at most twice as many cows as elephants": cow <= 2*elephant)
    compared: dict[int, str] = field(default_factory=dict)
    #: the decisions are amounts of money put in (`_invested`): money limits bound them, not a column
    invested: bool = False

    def explained(self, k: int) -> bool:
        return k in self.rows or k in self.rates


def read(draft: Draft) -> Reading:
    """The relations the words of `draft`'s numbers state over its declared decisions (see the module)."""
    names = [name for name, _ in draft.variables()]
    if not names:
        return Reading(rows={}, rates=frozenset(), columns=())
    table = directed(draft, names)
    size = len(table)
    table += _cardinals(draft)
    counted = _counted_in(draft)
    written = {s: rows for s, sentence in enumerate(draft.sentences)
               if (rows := arithmetic.relations(sentence, names, counted, _rated_units(table)))}
    spelled = {k for k, n in enumerate(table) if n.sentence in written}  # read as arithmetic in words
    given = _respective(draft, names, table)
    bounded = _respective(draft, names, table, limits=True)  # "maximum 300, 500 and 30, respectively"
    bounded = {k: f"{owner} {table[k].bound} {show(table[k].value)}" for k, owner in bounded.items()}
    table = _with_units(draft, table, given)
    owners = {k: given.get(k) or _owner_after(draft, names, n) or _owner(draft, names, n)
              or _owner_after(draft, names, n, anywhere=True) for k, n in enumerate(table)}
    labels = _in_names(draft, names, table[:size])  # "Property 2 has ...": a name's label, no rate
    rates = [k for k, n in enumerate(table) if n.bound is None and owners[k] and n.value != 0.0
             and not is_share(n) and not _multiplier(n) and k not in spelled and k not in labels]
    columns = _columns(draft, names, table, rates, owners)
    rows: dict[int, str] = {}
    used: set[int] = set()
    named = {owners[k] for c in columns.values() if len(c) > 1 for k in c}
    invested = _invested(draft, table, rates)
    for k, n in enumerate(table[:size]):
        if n.bound is None or k in rates or _multiplier(n) or k in spelled or _factor_of(draft, n):
            continue
        row = _share_row(draft, names, n) if is_share(n) else bounded.get(k)
        if row is None and not is_share(n):
            column = _told_column(table, k, columns) or _column_of(draft, names, table, k, columns)
            if column and (_open_total(draft, n) or (invested and _money(n))):
                column = None  # "at least $2,000 must be allocated to option X", the decisions being dollars
            if column:
                used |= set(column)
                row = f"{_sum(table, column, owners, names)} {n.bound} {show(n.value)}"
            else:
                row = _single_or_total(draft, names, n)
        if row:
            rows[k] = row
            if len(row.split()) == 3 or is_share(n):  # `scooter >= 20`, `owl <= 0.4*(...)`
                named.add(row.split(" ", 1)[0])
    wide = [c for c in columns.values() if len(c) > 1]
    bodies: dict[str, frozenset[str]] = {}
    for c in wide:
        body = _sum(table, c, owners, names)
        bodies[body] = bodies.get(body, frozenset()) | _column_words(draft, names, [table[k] for k in c])
    rated = used | {k for c in wide for k in c} | labels
    binary = frozenset(name for name, domain in draft.variables() if domain == "binary")
    compared = {s: row for s, sentence in enumerate(draft.sentences)
                if (row := _compared(sentence, names) or logic.implication(sentence, names, binary))}
    compared |= {s: "\n".join(rows) for s, rows in written.items() if s not in compared}
    rated |= {k for k, n in enumerate(table[:size]) if n.sentence in compared and (
        _multiplier(n) or k in spelled or _factor_of(draft, n))}
    named |= {w for rows in written.values() for row in rows for w in re.findall(r"[A-Za-z_]\w*", row)} & set(names)
    return Reading(rows=rows, rates=frozenset(k for k in rated if k < size), columns=tuple(bodies),
                   words=tuple(bodies.values()), named=frozenset(n for n in named if n), compared=compared,
                   invested=invested)


def _told_column(table: list[Number], k: int, columns: dict[tuple[str, frozenset[str]], list[int]]) -> list[int] | None:
    """The column whose rates the limit's own sentence gives after it, in its unit: "At least 100 units of total
    buildings, where each unit of type X contributes 5 units towards this requirement and each of type Y 10 units"."""
    n = table[k]
    head = n.unit.split(" ")[0]
    told = [ks for ks in columns.values() if len(ks) > 1 and all(
        table[j].sentence == n.sentence and j > k and table[j].unit.split(" ")[0] == head for j in ks)]
    return told[0] if head and len(told) == 1 else None


def _rated_units(table: list[Number]) -> frozenset[str]:
    """The units the text gives rates of (numbers that state no bound): "3 hours per chair" (hour)."""
    return frozenset(stem(n.unit.split(" ")[0]) for n in table if n.bound is None and n.unit)


def _open_total(draft: Draft, n: Number) -> bool:
    """A limit on all the decisions in a plain unit: "the combined allocation must not be less than 20 units" (not
    "a total of 90 units of wood", which bounds the wood column)."""
    return n.unit.split(" ")[0] in _GENERIC_UNITS and " of " not in n.unit and bool(_TOTAL.search(_up_to(draft, n)))


def _money(n: Number) -> bool:
    """A number of money: "$2,000", "500 dollars"."""
    return bool(n.unit) and stem(n.unit.split(" ")[0]) in {"$", "dollar"}


def _invested(draft: Draft, table: list[Number], rates: list[int]) -> bool:
    """Decisions that are amounts of money put in: a money limit's words say so ("the total amount invested in
    both options cannot exceed $10,000", "a minimum investment of $200"), no rate of money is an investment
    itself ("each acre requires an investment of $50": acres are decided), and no other unit counts the
    decisions ("$20 per share": shares are). Their money limits bound the decisions, not a column of rates."""
    limits = [n for n in table if n.bound and _money(n) and re.search(r"\binvest", _up_to(draft, n), re.I)]
    before = [(s := _span(draft, table[k]))[0][: max(s[1], 0)] for k in rates if _money(table[k])]  # each money rate's
    paid = any(re.search(r"\binvest\w*(?:\s+(?:of|is|are|was|costs?|requires?|needs?|at))?\s*\$?\s*$", b, re.I)
               for b in before)
    priced = any(re.search(  # "each truck costs $40,000": trucks are decided
        r"\b(?:each|every|per|one)\s+(?!units?\b|dollars?\b)[a-z]+\b(?!\s+of\s+(?:investment|return))", b, re.I)
        for b in before)
    counted = _counted_in(draft) - _KINDS["money"] - {"dollar"}
    yes_no = any(domain == "binary" for _, domain in draft.variables())  # whether to buy: no dollar amounts
    return bool(limits) and not paid and not priced and not counted and not yes_no


def _with_units(draft: Draft, table: list[Number], given: dict[int, str]) -> list[Number]:
    """The table with each number's unit completed: by the word before it where none follows ("a benefit
    score of 4"), and one unit for a "respectively" list ("costs of 50, 30 and 20 units respectively")."""
    table = list(table)
    for k, n in enumerate(table):
        unit = _unit_before(draft, n) if n.unit in _UNITLESS else n.unit
        if given and k in given:
            unit = next(table[j].unit for j in sorted(given, reverse=True) if table[j].sentence == n.sentence)
        if unit != n.unit:
            table[k] = Number(value=n.value, written=n.written, sentence=n.sentence, words=n.words, bound=n.bound,
                              unit=unit)
    return table


def _compared(sentence: str, names: list[str]) -> str | None:
    """`X OP f*Y` where the sentence compares two decisions by the words: X the one named first, OP from
    "at most"/"cannot exceed" (<=), "at least"/"exceed"/"more than" (>=) or "must be"/"equal" (==), f the
    factor ("twice", "three times", "a third of"; 1 without one). None unless exactly two decisions are
    named and the words state a comparison and no number."""
    sentence = arithmetic.without_reason(sentence)
    if len(names) < 2 or _DIGITS.search(_FACTOR_TIMES.sub("", sentence)) or not _COMPARE.search(sentence):
        return None  # a number other than the factor ("at least 3 times as many A as B") is a limit's
    own = _distinct(names)
    order = list(dict.fromkeys(n for w in re.findall(r"[a-z0-9]+", sentence.lower()) for n in _names_of(w, own)))
    if len(order) != 2:
        return None
    low = sentence.lower()
    op = next((o for pattern, o in _RELATIONS if re.search(pattern, low)), None)
    if op is None:
        return None
    factor = 1.0
    found = _FACTOR.search(low)
    if found:
        word = found.group(1)
        factor = arithmetic.WORD_FACTORS.get(word) or (float(word) if word.replace(".", "", 1).isdigit() else CARDINALS.get(word, 0.0))
        if not factor:
            return None
    x, y = order
    return f"{x} {op} {arithmetic.expression([(factor, y)])}"  # y, 2*y, y/3


def _column_words(draft: Draft, names: list[str], rates: list[Number]) -> frozenset[str]:
    """What a column's rates are about: their units, the words after each, the two words before each
    ("yields a profit of $43": profit), and the kind (money, time, ...) a heading before a colon names."""
    found: set[str] = set()
    for n in rates:
        found |= {stem(w) for w in n.unit.split() if w not in _STOP}
        found |= _clause_words(draft, n, names, before=False)
        sentence, at, _ = _span(draft, n)
        before = [w for w in re.findall(r"[a-z]+", _unmeasured(sentence[: max(at, 0)]).lower())
                  if w not in _STOP and not any(_forms(w) & t for t in _tokens(names).values())]
        found |= {stem(w) for w in before[-1:]}
        heading = {stem(w) for w in re.findall(r"[a-z$]+", sentence[: max(at, 0)].split(":")[0].lower())
                   } if ":" in sentence[: max(at, 0)] else set()  # "incurs different costs: X requires 6 units"
        head = stem(n.unit.split(" ")[0]) if n.unit else ""
        said = {head} if head and head not in _GENERIC_UNITS | _UNITLESS else {head} | found | heading
        # "231 calories at a cost of $4": calories, whatever follows; "5 units of ... at a cost": the words say
        kinds = {kind for kind, units in _KINDS.items() if said & units}
        found = (found - _VAGUE) | kinds  # "an investment of 5": money
    return frozenset(found)


def _in_names(draft: Draft, names: list[str], table: list[Number]) -> set[int]:
    """The numbers that are part of a decision's name, with the word before them ("Beam 1": beam_1)."""
    out = set()
    for k, n in enumerate(table):
        sentence, at, _ = _span(draft, n)
        before = re.findall(r"(?<![a-z0-9])([a-z]+)[ _-]*$", sentence[: max(at, 0)].lower())  # right before it
        if before and any(f"{before[0]}_{n.written.lower()}" in f"_{name.lower()}_" or
                          f"{before[0]}{n.written.lower()}" in name.lower().split("_") for name in names):
            out.add(k)
    return out


_GENERIC_UNITS = {"", "unit", "number", "item", "time"}
#: words of a limit on what is paid out
_OUTLAY = {"budget", "spend", "spending", "afford", "investment", "invest", "outlay"}
_UNITLESS = {"", "while", "and", "for", "this", "the", "respectively", "with", "to", "which", "but", "whereas",
             "each", "per", "if", "in", "on", "is", "are"}


def _unit_before(draft: Draft, n: Number) -> str:
    """What a number written without a unit after it counts, by the word before it: "a benefit score of 4"."""
    sentence, at, _ = _span(draft, n)
    before = [w for w in re.findall(r"[a-z]+", _BREAK.split(sentence[: max(at, 0)])[-1].lower())
              if w not in _STOP and w not in _UNITLESS]
    return stem(before[-1]) if before else n.unit


def _respective(draft: Draft, names: list[str], table: list[Number], *, limits: bool = False) -> dict[int, str]:
    """Owners a "respectively" gives: the sentence's numbers that state no bound (with `limits`, those that
    do), in order, to the decisions it names in order ("costs of 5, 7 and 6 for x1, x2 and x3 respectively"),
    or to all, in declared order."""
    out: dict[int, str] = {}
    for s, sentence in enumerate(draft.sentences):
        if not re.search(r"\brespectively\b", sentence, re.IGNORECASE):
            continue
        mine = [k for k, n in enumerate(table) if n.sentence == s and (n.bound is not None) == limits
                and not is_share(n)]
        order = list(dict.fromkeys(m.name for m in arithmetic.mentions(sentence, names))) or names
        if len(mine) == len(order):
            out |= dict(zip(mine, order, strict=True))
    return out


def _owner_after(draft: Draft, names: list[str], n: Number, *, anywhere: bool = False) -> str | None:
    """The decision a number is "for", named right after it ("$100 for crop X", "$20 per nurse"), before any other
    number; or (`anywhere`, where no decision comes before it) the first named after it ("it takes 1 hour to
    produce a gallon of chocolate")."""
    sentence, at, end = _span(draft, n)
    if at < 0:
        return None
    clause = _BREAK.split(sentence[end:])[0]
    other = next((m for m in _MEASURE.finditer(clause) if not re.search(r"\b[A-Z][a-z]*\s+$", clause[: m.start()])), None)
    segment = clause[: other.start()] if other else clause  # up to the next number; "Project 1" is a label, not one
    found = re.search(r"\b(?:for|per)\b", segment) or (re.search(r"^", segment) if anywhere else None)
    mentions = arithmetic.mentions(segment[found.end():], names) if found else []
    return mentions[0].name if mentions else None


def _factor_of(draft: Draft, n: Number) -> bool:
    """A number written as a factor of a comparison: "3 times as many"."""
    sentence, at, _ = _span(draft, n)
    return at >= 0 and any(m.start() == at for m in _FACTOR_TIMES.finditer(sentence))


def _multiplier(n: Number) -> bool:
    """A factor word (twice, half): it compares decisions, the model reads it."""
    return n.written.lower() in MULTIPLIERS


def _cardinals(draft: Draft) -> list[Number]:
    """The cardinal words of the text ("carry two letters") as numbers that may be rates, never limits."""
    found = []
    for k, sentence in enumerate(draft.sentences):
        for m in re.finditer(r"\b(" + "|".join(CARDINALS) + r")\b", sentence, re.IGNORECASE):
            unit = _unit(sentence, m.start(), m.end())
            if unit:
                found.append(Number(value=CARDINALS[m.group(1).lower()], written=m.group(1), sentence=k,
                                    words=sentence[max(0, m.start() - 60): m.end() + 60], unit=unit))
    return found


def directed(draft: Draft, names: list[str]) -> list[Number]:
    """The table with each limit's direction completed: from its list's neighbour, else from its verb."""
    table = list(draft.table)
    for k, n in enumerate(table):
        if n.bound is None and not is_share(n) and _stock(draft, n):  # "the bakery has 2500 units of ..."
            table[k] = _with_bound(n, "<=")
        elif n.bound is None and not is_share(n) and _owner(draft, names, n) is None and (
                _has_rates(table, k, draft, names) or _counts_decisions(draft, n)):
            verb = "<=" if "available" in _after(draft, n) else _verb(draft, n)
            if verb:
                table[k] = _with_bound(n, verb)
    for _ in range(2):  # a list of three: the bound travels twice
        for k, n in enumerate(table):
            if n.bound is None:
                for j in (k - 1, k + 1):
                    if 0 <= j < len(table) and table[j].bound and _listed(draft, table[min(j, k)], table[max(j, k)]):
                        table[k] = _with_bound(n, table[j].bound)
                        break
    return table


def limit_options(draft: Draft, reading: Reading, k: int) -> list[str]:
    """The relations an unread limit may state, for the model to choose among by its score: each column's sum
    (of the columns not of another kind: money, time, ...), or where none is, each decision and all of them,
    against the number in the direction its words state (a share: each decision
    against that fraction of all). Empty for a number the reading explains or that states no direction."""
    names = [name for name, _ in draft.variables()]
    n = directed(draft, names)[k] if k < len(draft.table) else None
    if n is None or n.bound is None or reading.explained(k) or _multiplier(n) or not names:
        return []
    value = show(n.value)
    if is_share(n):
        return [f"{name} {n.bound} {value}*({' + '.join(names)})" for name in names] if len(names) > 1 else []
    # words that named one decision, or all, were read already: what is left bounds a column's sum, if any
    # column may add up its unit (not one of money when the limit counts employees); else a decision or all
    unit = stem(n.unit.split(" ")[0]) if n.unit else ""
    kind = next((k for k, units in _KINDS.items() if unit in units | {k}), None)
    sides = [c for c, words in zip(reading.columns, reading.words, strict=True) if not (set(_KINDS) & words) - {kind}]
    if _money(n) and reading.invested:
        sides = []  # the decisions are dollars put in: a money limit bounds them, not a column of rates
    sides = sides or [*names, *([" + ".join(names)] if len(names) > 1 else [])]
    return [f"{side} {n.bound} {value}" for side in dict.fromkeys(sides)]


def settled(draft: Draft, reading: Reading, sentence: int) -> bool:
    """A sentence the reading explains whole: each of its numbers read, and no comparison of decisions without a
    number unless read (`compared`)."""
    if sentence in reading.compared:
        return True
    mine = [k for k, n in enumerate(draft.table) if n.sentence == sentence and n.value not in (0.0, 1.0)]
    if mine:
        return all(reading.explained(k) or f"n{k}" in draft.replies for k in mine)
    return not _COMPARE.search(draft.sentences[sentence]) if sentence < len(draft.sentences) else True


def _with_bound(n: Number, bound: str | None) -> Number:
    return Number(value=n.value, written=n.written, sentence=n.sentence, words=n.words, bound=bound, unit=n.unit)


def _span(draft: Draft, n: Number) -> tuple[str, int, int]:
    """The number's sentence and where the number is written in it (-1 when not found)."""
    sentence = draft.sentences[n.sentence] if n.sentence < len(draft.sentences) else ""
    at = _find(draft, sentence, n)
    return sentence, at, at + len(n.written)


def _find(draft: Draft, sentence: str, n: Number) -> int:
    """Where `n` is written in its sentence: its occurrence by the table's order (the same number may be
    written twice in a sentence), or for a number not in the table the occurrence its words surround."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(n.written)}(?!\w|\.\d)", re.IGNORECASE)
    same = [m for m in draft.table if m.sentence == n.sentence and m.written == n.written]
    mine = [j for j, m in enumerate(same) if m.words == n.words]
    hits = list(pattern.finditer(sentence))
    if mine and len(hits) == len(same):
        return hits[mine[0]].start()
    anchor = pattern.search(n.words)
    before = n.words[: anchor.start()].split()[-2:] if anchor else []
    for m in hits:
        if all(w in sentence[: m.start()].split()[-2:] for w in before):
            return m.start()
    return hits[0].start() if hits else -1


def _up_to(draft: Draft, n: Number) -> str:
    """The number's sentence up to the break after the number ("The total ... cannot exceed 100 units", not the
    question after it: "has 2500 units of chocolate mix, how many ... to minimize the total fiber")."""
    sentence, at, end = _span(draft, n)
    return sentence if at < 0 else sentence[:end] + _BREAK.split(sentence[end:])[0]


def _stock(draft: Draft, n: Number) -> bool:
    """What someone has: "the bakery has 2500 units of chocolate mix" (not "each brownie has 5 units")."""
    sentence, at, _ = _span(draft, n)
    clause = _BREAK.split(sentence[: max(at, 0)])[-1].lower() if at >= 0 else ""
    verb = re.search(r"\b(?:has|have)(?: (?:a total of|available|only|just))?\s*$", clause)
    return bool(verb) and not re.search(r"\b(?:each|every|per|a|an|one)\b", clause[: verb.start()])


def _listed(draft: Draft, a: Number, b: Number) -> bool:
    """`a` then `b`, in one sentence, joined by `and` or a comma with only a few words (their units, what
    they are for: "up to 3000 units from coal, 2000 units from gas") between them."""
    if a.sentence != b.sentence:
        return False
    sentence, _, a_end = _span(draft, a)
    b_at = sentence.find(b.written, a_end)
    if b_at < 0:
        return False
    between = sentence[a_end:b_at].lower()
    words = re.findall(r"[a-z$]+", between)
    return len(words) <= _LIST_GAP and ("and" in words or "," in between) and not re.search(r"[;.]", between) and not (
        set(words) & (_UPPER_VERBS | _LOWER_VERBS | {"while", "whereas", "but", "each", "every", "per"}))


def _decision_unit(draft: Draft) -> str | None:
    """What the decisions are counted in, where the question says it: "how many acres of each" (acre)."""
    found = re.search(r"\bhow (?:many|much) ([a-z]+) of (?:each|the|both)\b", " ".join(draft.sentences), re.IGNORECASE)
    return stem(found.group(1).lower()) if found and found.group(1).lower() not in _STOP else None


def _counted_in(draft: Draft) -> frozenset[str]:
    """What the decisions are counted in: the unit the question asks for ("how many acres of each"), what the
    rates are per ("4 units of fatigue per session"), but for units of time ("per hour" is a rate's), and
    what each of a decision's is ("each employee in departments x1 ...")."""
    text = " ".join(draft.sentences).lower()
    per = {stem(w) for w in re.findall(r"\bper ([a-z]+)", text)} - _STOP - _GENERIC_UNITS - _KINDS["time"]
    per |= {stem(w) for w in re.findall(r"\beach ([a-z]+) (?:in|on|for|allocated to|assigned to)\b", text)
            } - _STOP - _GENERIC_UNITS  # "each employee in departments x1 and x2"
    return frozenset(per | ({_decision_unit(draft)} - {None}))


def _listing(draft: Draft) -> frozenset[str]:
    """The noun a list of every decision follows: "The Lee family has 5 children, Alice, Bob, ..., and Ella"
    (children: "a maximum of 3 children" counts the decisions)."""
    return _listed_noun(tuple(draft.sentences), tuple(name for name, _ in draft.variables()))


@functools.lru_cache(maxsize=256)
def _listed_noun(sentences: tuple[str, ...], names: tuple[str, ...]) -> frozenset[str]:
    """`_listing` once per text and declaration (it is asked for each number of the text)."""
    out = set()
    for sentence in sentences if len(names) > 1 else ():
        for m in re.finditer(r"\b([a-z]{3,})\s*[,:(]\s*(?:namely\s+|named\s+|called\s+)?", sentence):
            listed = {x.name for x in arithmetic.mentions(re.split(r"[.;)]", sentence[m.end():])[0], list(names))}
            if listed == set(names) and m.group(1) not in _STOP:
                out.add(stem(m.group(1)))
    return frozenset(out)


def _counts_decisions(draft: Draft, n: Number) -> bool:
    """A number of the unit the decisions are counted in ("has 500 acres" where it asks how many acres of each; "a
    maximum of 3 children" where the decisions are the children the text lists)."""
    unit = stem(n.unit.split(" ")[0]) if n.unit else ""
    return bool(unit) and (unit == _decision_unit(draft) or unit in _listing(draft))


def _after(draft: Draft, n: Number) -> list[str]:
    """The words of the number's clause after it."""
    sentence, at, end = _span(draft, n)
    return re.findall(r"[a-z]+", _BREAK.split(sentence[end:])[0].lower()) if at >= 0 else []


def _verb(draft: Draft, n: Number) -> str | None:
    """The direction the nearest telling word before the number (in its sentence) states, or None."""
    sentence, at, _ = _span(draft, n)
    for word in reversed(re.findall(r"[a-z]+", sentence[: max(at, 0)].lower())):
        if word in _UPPER_VERBS:
            return "<="
        if word in _LOWER_VERBS:
            return ">="
    return None


def _tokens(names: list[str]) -> dict[str, set[str]]:
    """Each name's words, in every form (`minibuses` names `minibus`)."""
    return {name: set().union(*(_forms(t) for t in name.lower().split("_") if t)) for name in names}


def _distinct(names: list[str]) -> dict[str, set[str]]:
    """Each name's word forms that no other name has (what tells the decisions apart)."""
    tokens = _tokens(names)
    return {n: {t for t in tokens[n] if not any(t in tokens[m] for m in names if m != n)} for n in names}


def _names_of(word: str, own: dict[str, set[str]]) -> list[str]:
    """The decisions whose own words `word` is a form of."""
    forms = _forms(word)
    return [name for name, words in own.items() if forms & words]


def _owner(draft: Draft, names: list[str], n: Number) -> str | None:
    """The decision named nearest before the number in its sentence, by a word only its name has."""
    sentence, at, _ = _span(draft, n)
    own = _distinct(names)
    for word in reversed(re.findall(r"[a-z0-9]+", _unmeasured(sentence[: max(at, 0)]).lower())):
        hits = _names_of(word, own)
        if len(hits) == 1:
            return hits[0]
    return None


def _unmeasured(text: str) -> str:
    """The text without what its numbers measure ("requires 15 units of platinum and 25": the words
    `units of platinum` say what 15 counts, not whose rate 25 is)."""
    out, last = [], 0
    for m in _MEASURE.finditer(text):
        if m.start() < last or (re.search(r"\b[A-Z][a-z]*\s+$", text[: m.start()]) and m.group(0).isdigit()):
            continue  # "Property 1 has an annual income of": a label, which measures nothing
        out.append(text[last:m.end()])
        rest = _BREAK.search(text, m.end())
        last = rest.start() if rest else len(text)
    return "".join(out) + text[last:]


def _clause_words(draft: Draft, n: Number, names: list[str], *, before: bool) -> set[str]:
    """The content words of the number's clause after it (and before it, when asked), decisions' words left out."""
    sentence, at, end = _span(draft, n)
    after = _MEASURE.split(_BREAK.split(sentence[end:])[0])[0] if at >= 0 else ""
    text = after
    if before and at >= 0:
        text += " " + _BREAK.split(sentence[:at])[-1]
    tokens = set().union(*_tokens(names).values()) if names else set()
    return {stem(w) for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP and not _forms(w) & tokens}


def _has_rates(table: list[Number], k: int, draft: Draft, names: list[str]) -> bool:
    return any(j != k and _same_unit(m.unit, table[k].unit) and _owner(draft, names, m) for j, m in enumerate(table))


def _columns(draft: Draft, names: list[str], table: list[Number], rates: list[int],
             owners: dict[int, str | None]) -> dict[tuple[str, frozenset[str]], list[int]]:
    """The rates grouped in columns: by unit, then by the words that tell a unit's rates apart."""
    groups: list[list[int]] = []
    for k in rates:  # equal units group even where too vague to check ("5 units per second")
        group = next((g for g in groups if table[g[0]].unit == table[k].unit
                      or _same_unit(table[g[0]].unit, table[k].unit)), None)
        if group is None:
            groups.append([k])
        else:
            group.append(k)
    columns: dict[tuple[str, frozenset[str]], list[int]] = {}
    for group in groups:
        unit = table[group[0]].unit
        if len({owners[k] for k in group}) == len(group):
            columns[(unit, frozenset())] = group
            continue
        found = _told_apart(draft, names, table, group)
        if any(len({owners[k] for k in ks}) < len(ks) for ks in found.values()):  # a column with an owner twice:
            found = _sentence_lists(draft, names, table, group, owners) or found  # the sentences may tell them apart
        for key, ks in found.items():
            columns.setdefault((unit, key), []).extend(ks)
    return {key: ks for key, ks in columns.items() if len({owners[k] for k in ks}) == len(ks)}


def _told_apart(draft: Draft, names: list[str], table: list[Number], group: list[int]) -> dict[frozenset[str], list[int]]:
    """A unit's rates split by the words of their clauses that the others lack (after each rate, else before it)."""
    details = {k: _clause_words(draft, table[k], names, before=False) for k in group}
    common = set.intersection(*details.values())
    if len({frozenset(details[k] - common) for k in group}) == 1:  # the words after tell none apart: those
        details = {k: _clause_words(draft, table[k], names, before=True) for k in group}  # before may ("the
        common = set.intersection(*details.values())  # cost of A is $1.6 million", "A has an income of $15,000")
    keys = {k: frozenset(details[k] - common) for k in group}
    told = {key for key in keys.values() if key}
    out: dict[frozenset[str], list[int]] = {}
    for k in group:
        if not keys[k] and told:  # "Fish is high in protein with 20 grams, contains no ...": the words before
            before = _clause_words(draft, table[k], names, before=True)
            fits = [key for key in told if key <= before]
            keys[k] = fits[0] if len(fits) == 1 else keys[k]
        out.setdefault(keys[k], []).append(k)
    return out


def _sentence_lists(draft: Draft, names: list[str], table: list[Number], group: list[int],
                    owners: dict[int, str | None]) -> dict[frozenset[str], list[int]]:
    """A unit's rates that are lists, one per sentence, each naming every owner once ("sell tables for $200
    each, chairs for $50 each ..."; "the manufacturing costs for each table, chair and bookshelf are $120,
    $20 and $90, respectively"): one column per sentence, told apart by the words of its sentence the
    others lack (a list's later numbers have no words of their own in their clause); {} otherwise."""
    parts: dict[int, list[int]] = {}
    for k in group:
        parts.setdefault(table[k].sentence, []).append(k)
    if len(parts) < 2 or any(len(ks) < 2 or len({owners[k] for k in ks}) < len(ks) for ks in parts.values()):
        return {}
    tokens = set().union(*_tokens(names).values()) if names else set()
    said = {s: {stem(w) for w in re.findall(r"[a-z]+", _unmeasured(draft.sentences[s]).lower())
                if w not in _STOP and not _forms(w) & tokens} for s in parts}
    common = set.intersection(*said.values())
    keys = {s: frozenset(said[s] - common) for s in parts}
    if len(set(keys.values())) < len(keys) or not all(keys.values()):
        return {}
    return {keys[s]: ks for s, ks in parts.items()}


def _column_of(draft: Draft, names: list[str], table: list[Number], k: int,
               columns: dict[tuple[str, frozenset[str]], list[int]]) -> list[int] | None:
    """The column a limit bounds: the only one of its unit, else the one its words name, else the one no
    other limit of its unit names; a column of one rate where the unit is as specific as "units of chocolate
    mix" and the same."""
    n = table[k]
    mine = {key: ks for key, ks in columns.items() if (key[0] == n.unit or _same_unit(key[0], n.unit)) and len(ks) > 1
            and not _other_kind(draft, names, n, [table[j] for j in ks])}
    if not mine and " of " in n.unit:  # "2500 units of chocolate mix", used only by brownies at 5 units each
        alone = [ks for ks in columns.values() if len(ks) == 1 and table[ks[0]].unit == n.unit]
        return alone[0] if len(alone) == 1 else None
    if len(mine) <= 1:
        return next(iter(mine.values()), None)
    words = _clause_words(draft, n, names, before=True)
    if words & _OUTLAY:  # "the investment budget is $6 million": what is paid, the column of costs
        words |= {"cost", "price", "expense", "fee"}
    named = [key for key in mine if key[1] & words]
    if len(named) == 1:
        return mine[named[0]]
    if named:
        return None
    others = [j for j, m in enumerate(table) if j != k and m.bound and _same_unit(m.unit, n.unit)]
    claimed = {key for j in others for key in mine if key[1] & _clause_words(draft, table[j], names, before=True)}
    left = [key for key in mine if key not in claimed]
    return mine[left[0]] if len(left) == 1 else None


def _other_kind(draft: Draft, names: list[str], n: Number, rates: list[Number]) -> bool:
    """A column of money ("incurs costs of 0.5, 0.2 ... units") where the limit counts no money ("no more than
    150 units" of x1, "of resources"): it does not bound that column."""
    words = {stem(w) for w in re.findall(r"[a-z$]+", _up_to(draft, n).lower())}
    money = _KINDS["money"] | {"money"}  # "money" is no unit word: the kind _column_words adds
    counts_money = stem(n.unit.split(" ")[0]) in money if n.unit else False
    return "money" in _column_words(draft, names, rates) and not counts_money and not words & money


def _sum(table: list[Number], column: list[int], owners: dict[int, str | None], names: list[str]) -> str:
    """The column's rates times their decisions, in the decisions' order."""
    ordered = sorted(column, key=lambda k: names.index(owners[k]) if owners[k] in names else len(names))
    return " + ".join(f"{show(table[k].value)}*{owners[k]}" for k in ordered)


def _share_row(draft: Draft, names: list[str], n: Number) -> str | None:
    """`decision OP fraction*(all decisions)` where the percentage's words name the decision."""
    sentence, at, end = _span(draft, n)
    if len(names) < 2 or at < 0:
        return None
    rest = sentence[end:]
    whole = re.match(r"\s*of\b(.*?)\b(can|could|should|must|may|will|would|be|are|is|have to|has to|need to)\b",
                     rest, re.IGNORECASE)
    if re.match(r"\s*of\b", rest, re.IGNORECASE) and whole is None:
        return None  # "75% of all vehicles": the whole named, not the part
    owner = subject(names, sentence[:end] + (rest[whole.start(2):] if whole else rest), n)
    return f"{owner} {n.bound} {show(n.value)}*({' + '.join(names)})" if owner else None


def _single_or_total(draft: Draft, names: list[str], n: Number) -> str | None:
    """A limit on the decisions its words name right after the number ("at least 20 scooters", "300 vehicles
    between routes x1 and x3"), or on all of them ("a total of", or a unit word every decision's name has);
    None when the words say neither."""
    sentence, at, end = _span(draft, n)
    if at < 0 or _DIGITS.search(n.unit or ""):
        return None
    after = re.findall(r"[a-z0-9]+", _BREAK.split(sentence[end:])[0].lower())[:8]  # "employees can be hired for department Y"
    own = _distinct(names)
    listed = re.findall(r"[a-z0-9]+", _MEASURE.split(re.split(r"[,;.]", sentence[end:])[0])[0].lower())[:12]
    some = {name for w in listed for name in _names_of(w, own)}
    compares = {"more", "less", "fewer", "than"} & set(listed)  # "50 more units of x1 than x2": arithmetic's
    if len(some) > 1 and not compares:  # "500 acres for wheat and corn": all; "300 vehicles between x1 and x3"
        return f"{' + '.join(name for name in names if name in some)} {n.bound} {show(n.value)}"
    hits = list(dict.fromkeys(name for w in after for name in _names_of(w, own)))
    if len(hits) == 1:
        return f"{hits[0]} {n.bound} {show(n.value)}"
    if not hits and re.search(r"\b(of|for|on) each\b", " ".join(after)) and len(names) > 1:
        return "\n".join(f"{name} {n.bound} {show(n.value)}" for name in names)  # "at least 5 gallons of each"
    if hits:
        return None
    named = {m.name for m in arithmetic.mentions(_BREAK.split(sentence[:at])[-1], names)}
    marks = [m.start() for m in re.finditer(r"[;]|,(?!\d{3})", sentence)]  # not the comma of 50,000
    start = max([i + 1 for i in marks if i < at] or [0])
    stop = min([i for i in marks if i >= end] or [len(sentence)])
    subject = {m.name for m in arithmetic.mentions(sentence[start:at], names)}
    lead = re.match(r"\s*(?:for|as for|regarding)\b([^,;]*),", sentence[:at], re.IGNORECASE)
    subject = subject or ({m.name for m in arithmetic.mentions(lead.group(1), names)} if lead else set())  # "For asset Z,"
    other = {m.name for m in arithmetic.mentions(sentence[end:stop], names)}  # "20 more than half of X3"
    earlier = [m for m in draft.table if m.sentence == n.sentence and m is not n and start <= _span(draft, m)[1] < at]
    label = len(subject) == 1 and re.fullmatch(r"[a-z]\d{0,2}|[a-z]+_\d{1,2}", next(iter(subject)))
    plain = n.unit in ("$", "") or n.unit.split(" ")[0] in _GENERIC_UNITS  # "$50,000", "20 units": of the subject
    total = _TOTAL.search(_BREAK.split(sentence[:at])[-1]) or re.search(r"\bboth\b", sentence[start:stop], re.I)
    if (len(subject) == 1 and len(names) > 1 and named <= subject and not other and not total
            and (label or plain) and all(m.bound for m in earlier)):
        # "Teacher salaries should not be less than $50,000 and cannot exceed $80,000", "position Y requires at
        # least 20": its subject's limits; not "the park needs to transport at least 300 visitors"
        return f"{subject.pop()} {n.bound} {show(n.value)}"
    if named and set(names) - named:
        return None  # "the combined units of x1 and x2 cannot exceed 1000": some of them, arithmetic's to read
    tokens = _tokens(names)
    common = set.intersection(*tokens.values()) if tokens else set()
    if (any(_forms(w) & common for w in after[:3]) or (len(names) > 1 and _TOTAL.search(_up_to(draft, n)))
            or _counts_decisions(draft, n)):
        return f"{' + '.join(names)} {n.bound} {show(n.value)}"
    return None


_SENSE = re.compile(r"\b(minimi[sz]\w*|maximi[sz]\w*|minimum|maximum|minimal|maximal|lowest|highest|(?<!at )least|"
                    r"cheapest|fewest)\b",
                    re.IGNORECASE)


def objective_bodies(draft: Draft) -> tuple[tuple[str, ...], bool]:
    """What the objective may add up, and whether the words decide among them.

    The words after the sense ("minimize the total amount of filler", "maximize profit") name a column when
    they share a word with it (its unit, or the words around its rates: "yields a profit of $43"), or one
    decision ("minimize the total number of bikes needed": `bike`); those, when any, are the only
    candidates (True). Otherwise every column is one (False), for the model's score to choose among."""
    names = [name for name, _ in draft.variables()]
    reading = read(draft)
    own = _distinct(names)
    named: list[str] = []
    supported: list[str] = []
    for sentence in draft.sentences:
        for m in _SENSE.finditer(sentence):
            clause = _BREAK.split(sentence[m.end():])[0]
            if _DIGITS.search(clause):  # "a minimum of 30 units": a limit, not the objective
                continue
            after = re.findall(r"[a-z0-9]+", clause.lower())[:8]
            whole = re.findall(r"[a-z0-9]+", re.split(r"[,;.?]", sentence[m.end():])[0].lower())[:12]
            hits = list(dict.fromkeys(name for w in whole for name in _names_of(w, own)))  # "doctors and nurses": 2
            if len(hits) == 1 and len(names) > 1:
                named.append(hits[0])
            tokens = set().union(*_tokens(names).values()) if names else set()
            counted = re.search(r"\bnumber of (?:the )?([a-z]+)", clause.lower())
            if counted and not _names_of(counted.group(1), own) and len(names) > 1 and (not any(
                    stem(counted.group(1)) in words for words in reading.words) or stem(counted.group(1)) in
                    _counted_in(draft)):  # "the total number of trips" where the rates are "per trip"
                supported.append(" + ".join(names))  # "the total number of machines": how many, all counted
                break
            for word in (stem(w) for w in after if w not in _STOP):
                said = {kind for kind, units in _KINDS.items() if word in units | {kind}}  # "cost": money's column,
                said = said or {word} - _VAGUE - tokens  # not one "at a cost" follows; a decision's word says nothing
                hits = [body for body, words in zip(reading.columns, reading.words, strict=True) if words & said]
                exact = [body for body, words in zip(reading.columns, reading.words, strict=True) if word in words]
                hits = exact if 0 < len(exact) < len(hits) else hits  # "maximize their annual income": that
                if hits:  # money column's own word, not every money column  # the first word of the phrase that names a column: "amount of time ... the ducks"
                    supported += hits
                    break
    defined = _difference(draft, reading, names)
    if defined and any(re.search(rf"\b{defined[0]}", sentence[m.end():].lower())
                       for sentence in draft.sentences for m in _SENSE.finditer(sentence)):
        return (defined[1],), True  # "maximize profit" where "profit is the difference between ..."
    if supported or named:
        return tuple(dict.fromkeys([*supported, *named])), True
    return reading.columns, False


_DIFFERENCE = re.compile(r"\b([a-z]+) is the difference between (?:the )?(.+?) and (?:the )?(.+?)(?:[.;]|$)", re.IGNORECASE)


def _difference(draft: Draft, reading: Reading, names: list[str]) -> tuple[str, str] | None:
    """A quantity the text defines as one column less another ("Profit is the difference between the selling
    price and the feed cost"): its word and the body, each column the one whose own words (those the other
    columns lack) the phrase names most, e.g. `400*cows + 120*sheep + 3*chickens`; None when not so stated."""
    found = next((m for m in map(_DIFFERENCE.search, draft.sentences) if m), None)
    if found is None or len(reading.columns) < 2:
        return None
    picked = []
    for phrase in found.group(2, 3):
        said = {stem(w) for w in re.findall(r"[a-z]+", phrase.lower()) if w not in _STOP}
        scores = []
        for i, words in enumerate(reading.words):
            own = words - set().union(*(w for j, w in enumerate(reading.words) if j != i))
            scores.append(sum(any(w == c or (len(c) > 3 and w.startswith(c)) for c in own) for w in said))
        best = max(scores)
        if best == 0 or scores.count(best) > 1:
            return None
        picked.append(reading.columns[scores.index(best)])
    if picked[0] == picked[1]:
        return None
    rate = {name: 0.0 for name in names}
    for body, sign in zip(picked, (1.0, -1.0), strict=True):
        for value, name in re.findall(r"([\d.]+)\*(\w+)", body):
            rate[name] += sign * float(value)
    terms = [f"{show(v)}*{n}" for n, v in rate.items() if v]
    if not terms:
        return None
    return stem(found.group(1).lower()), " + ".join(terms).replace("+ -", "- ")
