"""One stepwise translation in progress (a Draft): its pieces, the checks of each piece, and their assembly into a Formulation.

A draft holds the text's numbers (each tied to its words; the parameters, named from those words) and
the model's reply to each piece: `variables`, `objective`, and `sN` (the constraints sentence N
states); expressions write the text's numbers themselves, which the grammars admit and no other. Each check returns what is wrong with one
piece in words the model can act on, or "" — so that an error goes back to the piece at fault, not to
the whole problem. `assemble` turns the pieces into the five-element formulation, whose constraints
are labelled by the sentence they come from (`s3_1`), so the engine's complaints can be traced back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.agents.llmopt.shares import is_share, share_row
from ratiocinator.agents.llmopt.stepgrammar import NONE
from ratiocinator.agents.llmopt.table import Number, literals, show, stem
from ratiocinator.solvers.formulation import _RESERVED

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERAL = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
_GENERIC = {"", "unit", "number", "item", "time", "and", "or"}  # units too vague to check
DOMAIN = {"continuous": "nonnegative", "integer": "nonnegative_integer", "binary": "binary"}


class Draft(BaseModel):
    """The pieces of one translation: the text's numbers and sentences, and the model's reply per piece."""

    model_config = ConfigDict(frozen=True)

    problem: str
    table: tuple[Number, ...]
    sentences: tuple[str, ...]
    replies: dict[str, str] = Field(default_factory=dict)

    def with_reply(self, piece: str, text: str) -> Draft:
        return self.model_copy(update={"replies": {**self.replies, piece: text.strip()}})

    def names(self) -> list[str]:
        """The parameters' names, in the table's order, made from the words after each number (`crates_per_hour`)."""
        taken = {name for name, _ in self.variables()} | _RESERVED
        out: list[str] = []
        for number in self.table:
            after = number.words.split(number.written, 1)[-1]
            words = [w.lower() for w in re.findall(r"[A-Za-z]+", after)][:3] or ["number"]
            base = "_".join(words)
            name, k = base, 2
            while name in out or name in taken:
                name, k = f"{base}_{k}", k + 1
            out.append(name)
        return out

    def variables(self) -> list[tuple[str, str]]:
        """(name, domain) of each declared variable, in order, the first of a repeated name kept."""
        seen: dict[str, str] = {}
        for line in self.replies.get("variables", "").splitlines():
            name, _, domain = line.partition(": ")
            if name.strip() and domain.strip() in DOMAIN:
                seen.setdefault(name.strip(), domain.strip())
        return list(seen.items())

    def rows(self, piece: str) -> list[str]:
        """The relations of one sentence piece (none: an empty list)."""
        text = self.replies.get(piece, NONE)
        return [] if text.strip() == NONE else [r.strip() for r in text.splitlines() if r.strip()]

    def objective(self) -> tuple[str, str]:
        """(sense, expression) of the objective."""
        sense, _, expression = self.replies.get("objective", "minimize 0").partition(" ")
        return sense, expression.strip()


def sentence_pieces(draft: Draft) -> list[str]:
    """The pieces of the constraints, one per sentence: s0, s1, ..."""
    return [f"s{k}" for k in range(len(draft.sentences))]


def constraint_pieces(draft: Draft) -> list[str]:
    """Every piece that states constraints: each sentence's, then each number's asked so far (nK)."""
    numbers = sorted((p for p in draft.replies if p[0] == "n" and p[1:].isdigit()), key=lambda p: int(p[1:]))
    return [*sentence_pieces(draft), *numbers]


def unused(draft: Draft) -> list[int]:
    """The indices of the table's numbers that no expression writes (0 and 1 need not be written)."""
    written = " ".join([draft.objective()[1], *(r for p in constraint_pieces(draft) for r in draft.rows(p))])
    used = {float(x) for x in _LITERAL.findall(written)}
    return [k for k, n in enumerate(draft.table) if n.value not in used and n.value not in (0.0, 1.0)]


def check_variables(draft: Draft, piece: str = "variables") -> str:
    """Declared variables: at least one, none named like a reserved word."""
    declared = [name for name, _ in draft.variables()]
    if not declared:
        return "No decision variable was declared."
    clash = sorted(set(declared) & _RESERVED)
    if clash:
        return f"{', '.join(clash)} is a reserved word. Name the decisions differently."
    return ""


def check_objective(draft: Draft, piece: str = "objective") -> str:
    """The objective names at least one decision variable."""
    _, expression = draft.objective()
    if not _uses_variable(draft, expression):
        return f"The objective `{expression}` contains no decision variable."
    return ""


#: a parenthesis that gives an example or a gloss: its numbers illustrate, they state no data
_EXAMPLE = re.compile(r"\((?:e\.\s?g\.|for example|for instance|such as)[^()]*\)", re.IGNORECASE)  # "(i.e., 12)" restates


def ungrounded(draft: Draft, piece: str) -> list[str]:
    """A sentence's relations none of whose numbers (0 and 1 aside) the sentence writes: what the model restated
    from other sentences or made up ("what is the minimum total cost?" answered with every constraint again and
    `2*x1 + 2*x4 >= 5*x2`). A relation with no number, or with one of its sentence's, is grounded."""
    if piece[0] != "s" or int(piece[1:]) >= len(draft.sentences):
        return []
    sentence = _EXAMPLE.sub("", draft.sentences[int(piece[1:])])  # "(e.g., you can't plant half a tree)": no data
    own = set(literals(sentence))
    own |= {2.0} if re.search(r"\bhalf\b", sentence, re.IGNORECASE) else set()  # "at most half": 2*x <= y
    own |= {3.0} if re.search(r"\bthirds?\b", sentence, re.IGNORECASE) else set()  # "a third": y/3
    own |= {4.0} if re.search(r"\b(?:quarters?|fourths?)\b", sentence, re.IGNORECASE) else set()
    out = []
    for row in draft.rows(piece):
        used = {float(x) for x in _LITERAL.findall(row)} - {0.0, 1.0}
        if used and not used & own:
            out.append(row)
    return out


def check_rows(draft: Draft, piece: str) -> str:
    """Each relation names a decision variable, none more than twice (a generation that loops), and a number
    alone on one side keeps its words' direction and unit."""
    for row in draft.rows(piece):
        if not _uses_variable(draft, row):
            return f"`{row}` contains no decision variable: a constraint limits a decision."
        names = [w for w in _WORD.findall(row) if w in {name for name, _ in draft.variables()}]
        repeated = next((w for w in names if names.count(w) > 2), None)
        if repeated:  # a generation that loops: "x3 + x4 + x1 + x2 + x3 + x4 + ..."
            return f"`{row[:80]}` names {repeated} {names.count(repeated)} times: write each decision once."
        fault = _bound_fault(draft, piece, row)
        if fault:
            return fault
        number, share = _share(draft, piece, row)
        if number is not None and share and share != row:
            return f"`{row}`: the problem says \"{number.words}\", so it is `{share}`."
    return ""


def mend(draft: Draft, piece: str) -> Draft:
    """What code can mend in a piece the model did not fix: a relation against its number's stated direction is
    turned round; one whose number counts a unit its other side does not add up is rewritten from the rates
    of that unit (`_summed`), else dropped when the piece has another relation with that number that does."""
    if piece[0] not in "sn":
        return draft
    rows = [_share(draft, piece, row)[1] or _turned(draft, piece, row) for row in draft.rows(piece)]
    rows = [(_summed(draft, piece, r) or r) if _bound_fault(draft, piece, r) else r for r in rows]
    good = [r for r in rows if not _bound_fault(draft, piece, r)]
    kept = list(dict.fromkeys(r for r in rows if r in good or not any(_same_number(r, g) for g in good)))
    return draft.with_reply(piece, "\n".join(kept) or NONE)


def _turned(draft: Draft, piece: str, row: str) -> str:
    """The relation with the direction its number's words state (unchanged when they state none)."""
    found = re.fullmatch(r"(.+?) (<=|>=) (.+)", row)
    if found is None or not _LITERAL.fullmatch(found.group(3).strip()):
        return row
    number = _number(draft, piece, float(found.group(3)))
    if number is None or number.bound not in ("<=", ">=") or number.bound == found.group(2):
        return row
    return f"{found.group(1)} {number.bound} {found.group(3)}"


def _summed(draft: Draft, piece: str, row: str) -> str | None:
    """`row` rewritten to add up its number's unit: each rate of that unit times the decision its words name.

    "at least 300 crates" with "a van carries 10 crates per trip" and "a cart 8 crates per trip" gives
    `10*van + 8*cart >= 300` when the decisions are `van` and `cart`; None when a rate names no decision.
    """
    found = re.fullmatch(r"(.+?) (<=|>=|==) (\d+(?:\.\d+)?)", row)
    number = _number(draft, piece, float(found.group(3))) if found else None
    return None if found is None or number is None else summed(draft, number, found.group(2))


def summed(draft: Draft, number: Number, op: str | None = None) -> str | None:
    """The relation a limit states with its rates: each rate of its unit times the decision its words name."""
    rates = _rates(draft, number)
    owners = [_owner(draft, n) for n in rates]
    if not rates or None in owners or len(set(owners)) != len(owners) or not (number.bound or op):
        return None
    terms = " + ".join(f"{show(n.value)}*{owner}" for n, owner in zip(rates, owners, strict=True))
    return f"{terms} {number.bound or op} {show(number.value)}"


def _rates(draft: Draft, number: Number) -> list[Number]:
    """The numbers of the same unit as `number` that state no bound (what it adds up)."""
    return [n for n in draft.table if _same_unit(n.unit, number.unit) and n.bound is None and n is not number
            and n.value not in (0.0, 1.0)]


def to_ask(draft: Draft) -> list[int]:
    """The unused numbers worth asking for a constraint: each that states a bound, and the largest number of a
    unit no bounded number counts (a total, as "has 1000 units"); never a rate of a bounded number."""
    left = unused(draft)
    bounded = [n for n in draft.table if n.bound is not None]
    out = []
    for k in left:
        n = draft.table[k]
        peers = [m for m in draft.table if _same_unit(m.unit, n.unit)]
        if n.bound is not None:
            out.append(k)
        elif not any(_same_unit(b.unit, n.unit) for b in bounded) and all(m.value <= n.value for m in peers):
            out.append(k)
    return out


def _owner(draft: Draft, number: Number) -> str | None:
    """The decision a number's words name last before it (by the words that tell the decisions apart)."""
    names = [name for name, _ in draft.variables()]
    tokens = {name: {stem(t) for t in name.split("_")} for name in names}
    common = set.intersection(*tokens.values()) if tokens else set()
    before = [stem(w) for w in re.findall(r"[a-z]+", number.words.lower().split(number.written.lower())[0])]
    for word in reversed(before):
        owners = [name for name in names if word in tokens[name] - common]
        if len(owners) == 1:
            return owners[0]
    return None


def _same_number(a: str, b: str) -> bool:
    """Two relations with the same number alone on their right side."""
    return a.rsplit(" ", 1)[-1] == b.rsplit(" ", 1)[-1]


def _bound_fault(draft: Draft, piece: str, row: str) -> str:
    """A relation `side OP number` against the number's words: the direction they state, the unit it counts."""
    found = re.fullmatch(r"(.+?) (<=|>=|==) (.+)", row)
    if found is None:
        return ""
    left, op, right = found.groups()
    if _LITERAL.fullmatch(left.strip()):
        left, op, right = right, {"<=": ">=", ">=": "<=", "==": "=="}[op], left
    if not _LITERAL.fullmatch(right.strip()):
        return ""
    number = _number(draft, piece, float(right))
    if number is None:
        return ""
    if number.bound is not None and number.bound != op:
        return f'`{row}`: the problem says "{number.words}", so the constraint is `... {number.bound} {right}`.'
    rates = _rates(draft, number)
    if rates and not {n.value for n in rates} & {float(x) for x in _LITERAL.findall(left)}:
        listed = ", ".join(f'{show(n.value)} ("{n.words}")' for n in rates[:4])
        return (f"`{row}`: {number.written} counts {number.unit}s, so the other side adds up {number.unit}s: "
                f"multiply each decision by its number of {number.unit}s: {listed}.")
    return ""


def _same_unit(a: str, b: str) -> bool:
    """Two units are the same when equal (`unit of heat`), or when they share a head word that says something (`hour of labor`, `hour`)."""
    head = a.split(" ")[0]
    return (a == b and a not in _GENERIC) or (head not in _GENERIC and head == b.split(" ")[0])


def _number(draft: Draft, piece: str, value: float) -> Number | None:
    """The table's number of this value, preferring the piece's own sentence or number."""
    same = [n for n in draft.table if n.value == value]
    if piece[0] == "n" and draft.table[int(piece[1:])].value == value:
        return draft.table[int(piece[1:])]
    own = [n for n in same if piece[0] == "s" and n.sentence == int(piece[1:])]
    return (own or same or [None])[0]


def _share_number(draft: Draft, piece: str, row: str) -> Number | None:
    """The percentage of the piece's sentence (or the piece's own number) that `row` writes as a fraction."""
    if piece[0] == "n":
        candidates = [draft.table[int(piece[1:])]]
    else:
        candidates = [n for n in draft.table if n.sentence == int(piece[1:])]
    written = {float(x) for x in _LITERAL.findall(row)}
    return next((n for n in candidates if is_share(n) and n.value in written), None)


def _share(draft: Draft, piece: str, row: str) -> tuple[Number | None, str | None]:
    """The percentage `row` writes and `row` rewritten as the share its words state (shares.py), or Nones."""
    number = _share_number(draft, piece, row)
    if number is None or number.sentence >= len(draft.sentences):
        return None, None
    names = [name for name, _ in draft.variables()]
    return number, share_row(row, names, draft.sentences[number.sentence], number)


def unused_numbers(draft: Draft) -> dict[str, str]:
    """The question of each number no expression uses (nK), with the feedback for it."""
    return {f"n{k}": f'No constraint and not the objective uses the number {draft.table[k].written} '
                     f'("{draft.table[k].words}").' for k in unused(draft)}


def _uses_variable(draft: Draft, expression: str) -> bool:
    return bool(set(_WORD.findall(expression)) & {name for name, _ in draft.variables()})


def assemble(draft: Draft) -> str:
    """The five-element formulation (JSON) of the draft: constraints labelled by their sentence (s3_1)."""
    sense, expression = draft.objective()
    constraints = [{"name": f"{piece}_{j}", "expression": row}
                   for piece in constraint_pieces(draft) for j, row in enumerate(draft.rows(piece), 1)]
    formulation: dict[str, Any] = {
        "sets": [],
        "parameters": [{"name": n, "value": x.value} for n, x in zip(draft.names(), draft.table, strict=True)],
        "variables": [{"name": n, "domain": DOMAIN[d]} for n, d in draft.variables()],
        "objective": {"sense": sense, "expression": expression},
        "constraints": constraints,
    }
    return json.dumps(formulation, separators=(", ", ": "))
