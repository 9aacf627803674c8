"""Stepwise LLMOPT's choice of the decisions: the declaration whose reading (readings.py) explains most of the text's numbers.

The 0.5B model's declarations are often data (`filler`, `minimum_protein_units`) or miss the decisions
(`Feed A` and `Feed B` cannot be spelled from the words it may use). Each declaration is judged by how
many numbers of the text its reading explains (rates owned, limits read); names of function words,
money or bounds are no decisions (`wordless`); a declared name that explains nothing more is pruned;
the text's labels ("X, Y and Z", "x1", "Project 2") form a declaration; and declarations are made in
code from the words before the numbers, for the model to score where its own explain fewer.
"""

from __future__ import annotations

import re

from ratiocinator.agents.llmopt.draft import Draft
from ratiocinator.agents.llmopt.readings import (
    _KINDS,
    _LOWER_VERBS,
    _STOP,
    _UPPER_VERBS,
    _VAGUE,
    _forms,
    _span,
    _unmeasured,
    read,
)

_NO_NAME = {"unit", "units", "number", "numbers", "item", "items", "amount", "amounts", "quantity", "total"}


def wordless(name: str) -> bool:
    """A name made only of function words or words that count anything (`because`, `units`), or one that names
    money or a bound (`pills_cost`, `maximum_profit`): no decision, data or the objective."""
    tokens = [t for t in name.lower().split("_") if t]
    return all(t in _STOP | _LINKS | _VAGUE | _NO_NAME | _RELATION_WORDS for t in tokens) or any(
        t in _KINDS["money"] | {"minimum", "maximum", "min", "max", "costs", "profits"} for t in tokens)


def names_a_datum(name: str, draft: Draft) -> bool:
    """A name that carries one of the text's numbers past any label's size (`consume_74` from "consume 74 grams
    of protein"): the number is data, not the name of a decision (`project_2`, `x12` are labels)."""
    data = {n.written.replace(",", "") for n in draft.table if n.value >= 20}
    return any(t.isdigit() and t in data for t in name.lower().split("_"))


def explained(draft: Draft) -> int:
    """How many of the text's numbers (0 and 1 aside) the reading over `draft`'s decisions explains."""
    reading = read(draft)
    return sum(1 for k, n in enumerate(draft.table) if n.value not in (0.0, 1.0) and reading.explained(k))


def measured(draft: Draft) -> list[str]:
    """The declared decisions the reading uses (in a relation or a column); the others nothing in the text
    measures or limits (`cones` in "80 cones of ice cream", data declared as a decision)."""
    reading = read(draft)
    return [name for name, _ in draft.variables() if name in reading.named]


_LINKS = {"while", "whereas", "if", "since", "because", "however", "also", "then", "both", "other", "than", "into",
          "yields", "yield", "takes", "take", "costs", "cost", "contains", "contain", "carry", "carries", "can",
          "produces", "produce", "makes", "make", "gives", "give", "holds", "hold", "uses", "use", "earns", "earn"}
#: words of relations and quantifiers ("should not be less than $50,000": no decision `not`, `less`)
_RELATION_WORDS = {"not", "no", "nor", "less", "more", "least", "most", "fewer", "greater", "exceed", "below", "above",
                   "but", "so", "yet", "such", "same", "different", "certain", "various", "following", "main"}
_MOST_CANDIDATES = 24  # words tried as decisions (pairs of them: 276 readings at ~3 ms)


def candidate_declarations(draft: Draft, domain: str, most: int = 6) -> list[str]:
    """Declarations made in code from the words that come before the text's numbers (the subjects of its
    rates: "a boat can take 10", "Feed A costs $100"), two decisions at a time and then one more while it
    explains more: those whose reading explains the most numbers (fewest decisions first), at most `most`.
    For the model to choose among by its score where its own declarations explain fewer numbers."""
    words = _subjects(draft)[:_MOST_CANDIDATES]
    scored: list[tuple[int, tuple[str, ...]]] = []
    for i, a in enumerate(words):
        for b in words[i + 1:]:
            if _forms(a) & _forms(b):
                continue
            names = (a, b)
            count = _count(draft, names, domain)
            while True:  # one decision more while it explains more numbers
                extra = [(c, _count(draft, (*names, c), domain)) for c in words if c not in names
                         and not any(_forms(c) & _forms(n) for n in names)]
                best = max(extra, key=lambda e: e[1], default=None)
                if best is None or best[1] <= count:
                    break
                names, count = (*names, best[0]), best[1]
            if count:
                scored.append((count, names))
    if not scored:
        return []
    top = max(count for count, _ in scored)
    best = sorted({names for count, names in scored if count == top}, key=lambda names: (len(names), names))
    best = [names for names in best if not any(set(other) < set(names) for other in best)]
    text = " ".join(draft.sentences).lower().replace("_", " ")
    ordered = {tuple(sorted(names, key=lambda n: text.find(n.replace("_", " ")))): None for names in best}
    leading = _leading(draft)  # ties go to the subjects of the sentences of data ("Bread contains 4 grams ...")
    best = sorted(ordered, key=lambda names: (len(names), -sum(n in leading for n in names)))
    return [_declaration(names, domain) for names in best[:most]]


def declared(draft: Draft, decisions: list[tuple[str, str]]) -> Draft:
    """The draft with these (name, domain) decisions as its declaration."""
    return draft.with_reply("variables", "\n".join(f"{name}: {domain}" for name, domain in decisions))


def _declaration(names: tuple[str, ...], domain: str) -> str:
    return "\n".join(f"{name}: {domain}" for name in names)


def _count(draft: Draft, names: tuple[str, ...], domain: str) -> int:
    return explained(draft.with_reply("variables", _declaration(names, domain)))


def _subjects(draft: Draft) -> list[str]:
    """The words before the text's numbers that may name a decision, most frequent first: content words seen
    at least twice in the text or that begin a sentence of data ("Bread contains 4 grams of protein, ..."),
    and a word with the letter or digit that labels it (`feed_a`, `beam_1`)."""
    text = " ".join(draft.sentences).lower()
    counts: dict[str, int] = {}
    leading = _leading(draft)
    for n in draft.table:
        sentence, at, _ = _span(draft, n)
        before = re.findall(r"[a-z]+(?: (?:[a-z]|\d+)(?![\w.]))?", _unmeasured(sentence[: max(at, 0)]).lower())
        for phrase in before:
            word = phrase.replace(" ", "_")
            first = phrase.split(" ")[0]
            if first in _STOP | _VAGUE | _UPPER_VERBS | _LOWER_VERBS | _LINKS | _RELATION_WORDS | _KINDS["money"] or (
                    len(phrase) < 3):
                continue
            if " " in phrase and not phrase.split(" ")[1].isdigit() and len(phrase.split(" ")[1]) != 1:
                continue
            seen = len(re.findall(rf"\b{re.escape(phrase)}\w*", text))
            if seen >= 2 or " " in phrase or phrase in leading:  # a labelled name ("Mix A") even written once
                counts[word] = seen
    for m in re.finditer(r"\$\s?\d[\d,.]*\s+(?:each\s+)?per\s+([a-z]+)", text):  # "$20 per nurse": what is paid for
        word = m.group(1)
        if word not in _STOP | _VAGUE | {"unit", "units", "item", "items"} | set().union(*_KINDS.values()) and (
                not word.endswith("s")):
            counts.setdefault(word, len(re.findall(rf"\b{re.escape(word)}\w*", text)))
    for label in labels(draft):
        counts[label] = counts.get(label, 0) + 1  # "$X$", "x1": a label names a decision
    return sorted(counts, key=lambda w: -counts[w])


def _leading(draft: Draft) -> set[str]:
    """The first word of each sentence of data, or of its part after a colon ("Bread contains 4 grams of
    protein, ... and costs 3 dollars"): the subjects of rows of rates."""
    per_sentence = [sum(1 for n in draft.table if n.sentence == k) for k in range(len(draft.sentences))]
    return {m.group(1).lower() for k, sentence in enumerate(draft.sentences) if per_sentence[k] >= 2
            for m in re.finditer(r"(?:^[-•* ]*|: )([A-Z][a-z]+)", sentence)}


def labels(draft: Draft) -> list[str]:
    """The text's labels, in order: a capital letter (not A or I) or a letter with digits, written alone
    ("$X, Y$, and $Z$", "x1", "Project 2"'s `project_2`), each named at least twice; identifiers written as
    such ("Food_1", "Food_2") even once each."""
    raw = " ".join(draft.sentences)
    # "Restaurant A" beside "Restaurant B": A and I are labels too where a noun labels two or more letters
    pairs = re.findall(r"\b([A-Z][a-z]+) ([A-Z])(?![\w'&/])", raw)
    family = {w for w in {w for w, _ in pairs} if len({letter for v, letter in pairs if v == w}) > 1}
    # not a letter of a word written with & or / ("R&B", "A/C")
    found: list[str] = []
    for m in re.finditer(r"(?<![\w.'&/])\$?([B-HJ-Z]\d{0,2}|[a-zA-Z]\d{1,2})\$?(?![\w'&/])|\b([A-Z][a-z]+) ([AI])(?![\w'&/])",
                         raw):
        if m.group(1):
            found.append(m.group(1).lower())
        elif m.group(2) in family:
            found.append(m.group(3).lower())
    found += [f"{w.lower()}_{d}" for w, d in re.findall(r"\b([A-Z][a-z]+) (\d{1,2})(?![\w.])", raw)
              if w.lower() not in _STOP | _VAGUE | _LINKS | {"between", "from", "under", "over", "about", "only"}]
    # identifiers written as such ("Food_1" ... "Food_6"): labels even when each is named once, two at least
    ids = [f"{w.lower()}_{d}" for w, d in re.findall(r"\b([A-Za-z]+)_(\d{1,2})\b", raw)]
    kept = {i for i in ids if sum(1 for j in set(ids) if j.rsplit("_", 1)[0] == i.rsplit("_", 1)[0]) >= 2}
    found += ids
    return [w for w in dict.fromkeys(found) if found.count(w) >= 2 or w in kept]


def pruned(draft: Draft) -> Draft:
    """The declaration without each decision whose leaving out explains as many numbers (one at a time, the
    best first, two decisions at least): data declared as a decision (`flooring` beside `hardwood` and
    `vinyl`, read as "a total of 60,000 square feet of flooring")."""
    count = explained(draft)
    while len(draft.variables()) > 2:
        options = []
        for name, _ in draft.variables():
            fewer = declared(draft, [(n, d) for n, d in draft.variables() if n != name])
            options.append((explained(fewer), fewer))
        best = max(options, key=lambda o: o[0])
        if best[0] < count:
            break
        count, draft = best
    return draft


#: units whose amounts need not be whole ("how many minutes of each beam": a continuous decision)
_MEASURES = {"second", "minute", "hour", "gram", "kilogram", "kg", "pound", "lb", "ton", "tonne", "ounce", "litre",
             "liter", "gallon", "millilitre", "milliliter", "ml", "meter", "metre", "mile", "km", "kilometer", "acre",
             "hectare", "square", "cubic", "foot", "feet", "yard", "dollar", "percent", "kwh"}


def says_binary(draft: Draft) -> bool:
    """The words allow a yes/no decision ("whether to open", "binary", "0 or 1", "selected or not")."""
    text = " ".join(draft.sentences).lower()
    return bool(re.search(r"\b(?:binary|whether|yes or no|yes/no|0 or 1|either 0 or 1|or not)\b", text))


def stated_domain(draft: Draft) -> str | None:
    """The domain the text's words state for the decisions: integer for "whole numbers", "integers", or a
    count asked ("how many servings of each"), continuous for a measure asked ("how many minutes of each",
    "how much"); None where the words say neither (the model's answer stands)."""
    text = " ".join(draft.sentences).lower()
    if re.search(r"\bwhole (numbers?|units?)\b|\bintegers?\b|\bindivisible\b", text):
        return "integer"
    asked = re.search(r"\bhow (many|much)\b(?: (?:of )?(?:the )?([a-z]+))?", text)
    if asked is None:
        return None
    if asked.group(1) == "much":
        return "continuous"
    noun = (asked.group(2) or "").rstrip("s")
    return "continuous" if noun in _MEASURES or noun + "s" in _MEASURES else "integer"
