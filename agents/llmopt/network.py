"""Networks read in code: the places a text names and the number it gives each ordered pair of them (no model inside).

"The cost to travel from City 1 to City 2 is 61 units, to City 3 is 17 units", "Node 6 is connected to nodes 3,
4, and 7 with edge weights of 7, 2, and 3, respectively", "- From Center 1: $5 to Outlet 1, $5 to Outlet 2":
many optimization texts give their data as numbers between named places. Reading these with the model one
number at a time would cost a generation per number and its arithmetic is exact anyway, so it is read here,
from the words' structure alone (no domain word):
- a place is a word with a label after it ("City 1", "node S", "Center 2"), where that word carries at least
  three labels in the text; "nodes 3, 4, and 7" lists several; a capital letter the text labels a place with
  stands alone after "to"/"from" ("from City E to F");
- a sentence's first place is where its numbers' arcs start; each later clause (split at ", " and ";") pairs its
  places and numbers in order ("61 units to City 1", "to City 2 is 61 units", "City 1 (18,000)"), a
  "respectively" sentence its whole list;
- a sentence of one place and numbers after it ("Center 1: $151,000", "City 1 has 483 units but needs 346")
  gives that place its numbers, each grouped with the others under the same heading (the last sentence before
  it with no number) and in the same place in its sentence, or as a need ("but needs", "yet it requires").
A number neither reading takes is counted as unread, so the caller can tell a network text from one that only
names a few places.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ratiocinator.agents.llmopt.table import sentences

_LABEL = r"(?:[A-Z]|\d{1,3})(?![\w,.]\d|[\w'])"
_MENTION = re.compile(r"\b([A-Za-z]{3,})\s+(" + _LABEL + ")")
_NUMBER = re.compile(r"(?<![\w.])\$?(\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w])")
_CLAUSE = re.compile(r",\s+|;\s*")
#: words that say a place's number is what it needs ("but needs 346", "yet it requires only 61")
_NEED = re.compile(r"\b(needs?|needed|requires?|required|requirements?|demands?|demanded|wants?)\b", re.IGNORECASE)
NEED = "need"
_CLAUSE_END = re.compile(r"[,;.]|\b(?:but|yet|and|while|whereas)\b", re.IGNORECASE)
#: words after "from"/"to"/"at" that name no place ("at most 20 hours", "from all 3")
_NOT_PLACES = {"most", "least", "all", "any", "each", "every", "once", "which", "what", "about", "around",
               "maximum", "minimum", "time", "times", "rate", "cost", "price", "up"}
#: fewest distinct labels a word needs to name places
MOST_PLACES = 30
FEWEST_LABELS = 3


@dataclass(frozen=True)
class Arc:
    """The number a text gives the ordered pair (tail, head) of places, as written."""

    tail: str
    head: str
    value: float
    written: str
    heading: str = ""
    sentence: str = ""


@dataclass(frozen=True)
class Network:
    """The places of a text (in order of first mention), its arcs, each place's numbers by the words they come
    under (the heading, and the words before the number in its sentence: "has", "needs"), the numbers read
    neither way, and the ordered pairs (source, target) its number-free sentences name ("from S to T")."""

    places: tuple[str, ...]
    arcs: tuple[Arc, ...]
    series: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    unread: tuple[str, ...] = ()
    routes: tuple[tuple[str, str], ...] = field(default=())

    def tables(self) -> int:
        """How many headings the arcs come under (a text may give costs, then capacities, of the same pairs)."""
        return len({arc.heading for arc in self.arcs})

    def cost(self) -> dict[tuple[str, str], float]:
        """The arcs' numbers by ordered pair (a pair given twice keeps its first number)."""
        found: dict[tuple[str, str], float] = {}
        for arc in self.arcs:
            found.setdefault((arc.tail, arc.head), arc.value)
        return found

    def undirected(self) -> dict[tuple[str, str], float]:
        """`cost` where the text gives some pair in both directions, else `symmetric`: a text that gives each pair
        once ("from location 1 to 3 costs 11") may state what a move between them costs either way (the models
        use it only where the pairs as given leave the question without an answer)."""
        given = self.cost()
        return given if any((b, a) in given for a, b in given) else self.symmetric()

    def reachable(self, start: str) -> set[str]:
        """The places the arcs lead to from `start` (itself included)."""
        seen, todo = {start}, [start]
        while todo:
            here = todo.pop()
            for arc in self.arcs:
                if arc.tail == here and arc.head not in seen:
                    seen.add(arc.head)
                    todo.append(arc.head)
        return seen

    def symmetric(self) -> dict[tuple[str, str], float]:
        """`cost`, and each pair's reverse where the text gives no number for that direction (the text states each
        link once: "the distance between A and B")."""
        found = self.cost()
        return {**{(b, a): v for (a, b), v in found.items()}, **found}


def _stem(word: str) -> str:
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


@lru_cache(maxsize=64)
def place_words(text: str) -> dict[str, frozenset[str]]:
    """The words that name places (stemmed), each with its labels: written capitalized at least once with a
    label (or after "from", "to", "at": "from location 1"), and with at least FEWEST_LABELS labels in all."""
    labels: dict[str, set[str]] = {}
    capitalized: set[str] = set()
    for m in _MENTION.finditer(text):
        word = _stem(m.group(1))
        labels.setdefault(word, set()).add(m.group(2))
        if m.group(1)[0].isupper() or (re.search(r"\b(?:from|to|at)\s+$", text[: m.start()], re.IGNORECASE)
                                       and word not in _NOT_PLACES):
            capitalized.add(word)  # "City 2", or "from location 1": a place (not "at most 20")
    for word in list(labels):
        plural = word[:-1] + "(?:ies|ys|s)" if word.endswith("y") else word + "s"
        for m in _listed(plural).finditer(text):
            labels[word] |= set(re.findall(_LABEL, m.group(1)))
    return {w: frozenset(ls) for w, ls in labels.items()
            if w in capitalized and FEWEST_LABELS <= len(ls) <= MOST_PLACES}


def _listed(plural: str) -> re.Pattern[str]:
    """A plural place word and the list of labels after it ("nodes 3, 4, and 7"); group 1 is the list."""
    return re.compile(r"\b" + plural + r"\s+((?:" + _LABEL + r"(?:,?\s+and\s+|,\s*))+" + _LABEL + ")", re.IGNORECASE)


def _mentions(sentence: str, words: dict[str, frozenset[str]]) -> list[tuple[int, int, str]]:
    """The places a sentence names, as (start, end, place) in order; a place is its word and label ("City 2")."""
    found: list[tuple[int, int, str]] = []
    letters = {label: w for w, ls in words.items() for label in ls if label.isalpha()}
    for word, ls in words.items():  # "nodes 3, 4, and 7"
        plural = word[:-1] + "ies" if word.endswith("y") else word + "s"
        for m in _listed(plural).finditer(sentence):
            for label in re.finditer(_LABEL, m.group(1)):
                if label.group(0) in ls:
                    found.append((m.start(1) + label.start(), m.start(1) + label.end(), _place(word, label.group(0))))
    listed = {s for s, _, _ in found}
    for m in _MENTION.finditer(sentence):
        word = _stem(m.group(1))
        if word in words and m.group(2) in words[word] and m.start(2) not in listed:
            found.append((m.start(), m.end(), _place(word, m.group(2))))
    taken = [(s, e) for s, e, _ in found]
    for m in re.finditer(r"\b(?:to|from|and|reach)\s+([A-Z])\b(?!')", sentence):  # "from City E to F"
        word = letters.get(m.group(1))
        if word and not any(s <= m.start(1) < e for s, e in taken):
            found.append((m.start(1), m.end(1), _place(word, m.group(1))))
    return sorted(set(found))


def _place(word: str, label: str) -> str:
    return f"{word.capitalize()} {label}"


def read(text: str) -> Network | None:
    """The network a text states, or None where fewer than FEWEST_LABELS places are named."""
    text = text.replace("\\n", "\n")
    matrix = _matrix(text)
    if matrix is not None:
        return matrix
    words = place_words(text)
    if not words:
        return None
    places: list[str] = []
    arcs: list[Arc] = []
    unread: list[str] = []
    series: dict[str, list[tuple[str, float]]] = {}
    routes: list[tuple[str, str]] = []
    heading, fresh = "", False
    split = [(sentence, _mentions(sentence, words)) for sentence in sentences(text)]
    aliases = _aliases(split)
    labelled = {_place(w, label) for w, ls in words.items() for label in ls}
    for sentence, said in split:
        places += [p for p in dict.fromkeys(p for _, _, p in said) if p not in places]
        numbers = [(m.start(), m.end(), m.group(1)) for m in _NUMBER.finditer(sentence)
                   if not any(s <= m.start(1) < e for s, e, _ in said) and m.start() not in aliases.get(sentence, ())]
        if not numbers:
            heading, fresh = sentence, True
            routes += _route(sentence, said)
            continue
        bare = len(said) == 1 and _bare(sentence, numbers[0], said[0][2].split(" ", 1)[0], labelled)
        if len(said) == 1 and numbers[0][0] > said[0][1] and not bare:  # "Center 1: $151,000", "has 483 but needs 346"
            for k, (start, _, written) in enumerate(numbers):
                before = sentence[numbers[k - 1][1] if k else said[0][1]:start]
                after = _CLAUSE_END.split(sentence[numbers[k][1]: numbers[k + 1][0] if k + 1 < len(numbers) else None])[0]
                role = NEED if _NEED.search(before) or _NEED.search(after) else str(k)  # "but 150 cars are needed"
                series.setdefault(f"{heading if fresh else ''} | {role}", []).append((said[0][2], _value(written)))
            continue
        fresh = False  # a heading heads the lines right after it, not a later paragraph
        if not said:
            unread += [w for _, _, w in numbers]
            continue
        arcs += _arcs(sentence, said, numbers, unread, heading, labelled)
    unread += [str(v) for values in series.values() if len(values) < 2 for _, v in values]  # no table
    return Network(places=tuple(places), arcs=tuple(arcs), unread=tuple(unread), routes=tuple(routes),
                   series=tuple((h, tuple(v)) for h, v in series.items() if len(v) > 1))


def _route(sentence: str, said: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    """The pair a number-free sentence names "from X ... to Y" ("from node 1, via nodes 2 and 3, to node 5")."""
    near = r"\s+(?:[\w-]+\s+){0,4}\(?$"  # "from the power plant (Node 0)"
    start = next((p for s, _, p in said if re.search(r"\bfrom" + near, sentence[:s], re.IGNORECASE)), None)
    end = next((p for s, _, p in said if p != start and re.search(r"\bto" + near, sentence[:s], re.IGNORECASE)), None)
    return [(start, end)] if start and end else []


def _matrix(text: str) -> Network | None:
    """A table whose rows and columns are labelled by the same places ("| | 1 | 2 | 3 |" then "| 1 | - | 86 | 49 |"):
    each number is the arc from its row's place to its column's ("-" or an empty cell: none). The places take
    the word the text names one of them with ("from location 1"), else "Place". None where the text has no such
    table, or more than one."""
    found = []
    for block in re.findall(r"(?:^[ \t]*\|.*\|[ \t]*$\n?){3,}", text, re.MULTILINE):
        rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in block.strip().splitlines()]
        rows = [r for r in rows if any(c for c in r) and not all(re.fullmatch(r":?-{3,}:?", c) for c in r if c)]
        if not rows:
            continue
        labels = rows[0][1:]
        if len(labels) < FEWEST_LABELS or not all(re.fullmatch(r"[A-Za-z]?\d{1,2}|[A-Z]", c) for c in labels):
            continue
        body = [r for r in rows[1:] if r and r[0] in labels]
        if len(body) < len(rows) - 2 or len(body) < 2 or any(
                c not in ("", "-", "0", "—") for r in body for lab, c in zip(labels, r[1:], strict=False)
                if lab == r[0]):  # a place's own cell is empty: numbers there are of another table (workers x tasks)
            continue
        found.append((labels, body))
    if len(found) != 1:
        return None
    labels, body = found[0]
    named = re.search(r"\b(?:from|to|at)\s+([A-Za-z]{3,})\s+(?:" + "|".join(map(re.escape, labels)) + r")\b", text,
                      re.IGNORECASE)
    word = _stem(named.group(1)).capitalize() if named else "Place"
    arcs = [Arc(f"{word} {row[0]}", f"{word} {label}", _value(cell), cell, "matrix")
            for row in body for label, cell in zip(labels, row[1:], strict=False)
            if re.fullmatch(r"\d+(?:,\d{3})*(?:\.\d+)?", cell) and label != row[0] and _value(cell) > 0]
    places = tuple(f"{word} {label}" for label in labels)
    said = [(m.start(), m.end(), f"{word} {m.group(1)}") for m in re.finditer(
        r"\b" + word + r"\s+(" + "|".join(map(re.escape, labels)) + r")\b", text, re.IGNORECASE)]
    return Network(places=places, arcs=tuple(arcs), routes=tuple(_route(text, said)))


def _bare(sentence: str, number: tuple[int, int, str], word: str, labelled: set[str]) -> bool:
    """Whether a number is a place's label standing alone after "to" ("From/To Hospital 1: To 2 costs 12")."""
    return bool(re.search(r"\bto\s+$", sentence[: number[0]], re.IGNORECASE)) and f"{word} {number[2]}" in labelled


def _aliases(split: list[tuple[str, list[tuple[int, int, str]]]]) -> dict[str, set[int]]:
    """Where a number in parentheses after a place is its other label ("City E (1)", "to G (3) is 90 units"): one
    number per place, a different one for each; those numbers' positions by sentence (they are no data)."""
    seen: dict[str, set[str]] = {}
    found: dict[str, set[int]] = {}
    for sentence, said in split:
        for _, end, place in said:
            m = re.match(r"\s*\((\d{1,2})\)", sentence[end:])
            if m:
                seen.setdefault(place, set()).add(m.group(1))
                found.setdefault(sentence, set()).add(end + m.start(1))
    labels = [next(iter(ks)) for ks in seen.values() if len(ks) == 1]
    if len(seen) < 2 or len(labels) < len(seen) or len(set(labels)) < len(labels):
        return {}
    return found


def _arcs(sentence: str, said: list[tuple[int, int, str]], numbers: list[tuple[int, int, str]],
          unread: list[str], heading: str, labelled: set[str]) -> list[Arc]:
    """One sentence's arcs: from its first place, to the place each clause pairs with each of its numbers."""
    tail_end, tail = said[0][1], said[0][2]
    heads = [m for m in said[1:]]
    after = [n for n in numbers if n[0] >= tail_end]
    unread += [w for s, _, w in numbers if s < tail_end]
    if re.search(r"\brespectively\b", sentence, re.IGNORECASE):
        groups = [(heads, after)]
    else:
        cuts = [tail_end] + [m.end() for m in _CLAUSE.finditer(sentence, tail_end)] + [len(sentence)]
        groups = [([h for h in heads if a <= h[0] < b], [n for n in after if a <= n[0] < b])
                  for a, b in itertools.pairwise(cuts)]
    found: list[Arc] = []
    word, _ = tail.split(" ", 1)
    for hs, ns in groups:
        if not hs and len(ns) == 2 and _bare(sentence, ns[0], word, labelled):
            hs, ns = [(ns[0][0], ns[0][1], f"{word} {ns[0][2]}")], ns[1:]
        start = [h for h in hs if re.search(r"\bfrom\s+$", sentence[max(0, h[0] - 6): h[0]], re.IGNORECASE)]
        here = start[0][2] if len(start) == 1 and len(hs) > 1 else tail  # "..., from Town B to Town C is 3 km"
        hs = [h for h in hs if h[2] != here]  # "..., the pipe from Station 1 to Station 3 can carry 5"
        if hs and len(hs) == len(ns):
            found += [Arc(here, h[2], _value(n[2]), n[2], heading, sentence) for h, n in zip(hs, ns, strict=True)]
        else:
            unread += [w for _, _, w in ns]
    return found


def _value(written: str) -> float:
    return float(written.replace(",", ""))
