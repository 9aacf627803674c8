"""The English of an LLM+P problem in pieces: its sentences (init or goal), the one-shot example's sentences aligned with its facts, and the example sentences chosen for each input sentence.

Nothing here knows a domain. A sentence is a line of the text, or a part of a line ending in `.` or
`;`, or consecutive lines of object names alone (a grid's rows); the goal part starts at the first sentence that names a goal (`goal`, or `should` when no
sentence says goal: the English of every LLM+P problem states the goal so). The example's facts
are aligned with its sentences by what they share: an argument named in the sentence (b4), an
argument's kind named (`hubs` for the-hub1 of type hub) and the words of the predicate's name
(`on`, `table` for on-table); each fact goes to the sentence of its part (init or goal) that shares
the most with it. The example sentences shown for an input sentence are the most similar ones, by
their words with object names replaced by the names' kinds (DQ-LoRe's choice of exemplars per query).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ratiocinator.agents.llmp.facts import Fact, problem_facts

_SPLIT = re.compile(r"(?<=[.;])\s+")
_WORD = re.compile(r"[a-z0-9][a-z0-9_-]*[a-z0-9]|[a-z0-9]")
_GOAL = re.compile(r"\bgoals?\b", re.I)
_SHOULD = re.compile(r"\bshould\b", re.I)
#: English words too common to tell sentences apart by an object's kind
_ARTICLES = frozenset(("a", "an", "the"))
_STOP = frozenset("a an the of and or to in on at is are be it its this that with for by".split())


@dataclass(frozen=True)
class Sentence:
    """One sentence (or `;` clause) of a problem's English, and whether it is part of the goal."""

    index: int
    text: str
    goal: bool


@dataclass(frozen=True)
class Aligned:
    """An example sentence with the example's facts it states (empty: it states none)."""

    sentence: Sentence
    facts: tuple[Fact, ...]


def words(text: str) -> list[str]:
    """Lower-case words, names kept whole (b1, pos-0-1, tile_0-1, robots' -> robots)."""
    return _WORD.findall(text.lower())


def norm(word: str) -> str:
    """A word without a plural `s` (hubs -> hub, glasses -> glasse), to compare kinds with text."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _names_only(piece: str) -> bool:
    """Whether every word of the piece is an object name (a word with a digit: a row of a grid)."""
    said = words(piece)
    return bool(said) and all(re.search(r"\d", w) and re.search(r"[a-z]", w) for w in said)


def split_sentences(text: str) -> list[Sentence]:
    """The text's sentences in order; those from the first that names the goal on are goal sentences.
    Consecutive lines of object names alone (the rows of a grid or a map) are one sentence: what they
    state together (which cells are next to which) is no one row's."""
    pieces: list[str] = []
    last_names = False
    for line in text.splitlines():
        parts = [p.strip().rstrip(";").strip() for p in _SPLIT.split(line.strip())]
        parts = [p for p in parts if words(p)]
        names = len(parts) == 1 and _names_only(parts[0])
        if names and last_names:
            pieces[-1] += "\n" + parts[0]
        else:
            pieces += parts
        last_names = names or (last_names and not parts)
    pieces = [p for p in pieces if words(p)]
    marker = _GOAL if any(_GOAL.search(p) for p in pieces) else _SHOULD
    first = next((i for i, p in enumerate(pieces) if marker.search(p)), len(pieces))
    return [Sentence(i, p, i >= first) for i, p in enumerate(pieces)]


def kind_words(name: str, kind: str | None) -> set[str]:
    """The words an English text may use for an object of this name and type (the-hub1, hub -> hub)."""
    parts = [p for p in re.split(r"[\d_-]+", name.lower()) if len(p) > 1] + ([kind.lower()] if kind else [])
    return {norm(p) for p in parts if p not in _STOP and p != "object"}


def overlap(fact: Fact, sentence: str, kinds: dict[str, str | None]) -> tuple[int, int]:
    """What a fact shares with a sentence: (2 per argument named (coffee-table as `coffee table`) and
    for its value, 1 per argument whose kind is named, 2 per word of the predicate's name; the
    predicate's part of that)."""
    said = words(sentence)
    named, normed = set(said), {norm(w) for w in said}
    spaced = " " + " ".join(said) + " "
    score = 2 * (fact.value is not None and fact.value in named)
    for arg in fact.args:
        if arg in named or " " + re.sub(r"[-_]+", " ", arg) + " " in spaced:  # coffee-table
            score += 2
        elif kind_words(arg, kinds.get(arg)) & normed:
            score += 1
    parts = [p for p in re.split(r"[-_]+", fact.pred) if p]
    pred = sum(norm(p) in normed for p in parts)
    bare = [w for w in said if w not in _ARTICLES]
    joined = {a + b for a, b in itertools.pairwise(bare)}
    pred += len(parts) > 0 and fact.pred.replace("-", "").replace("_", "") in joined  # ontable: "on the table"
    return score + 2 * pred, pred


def align(example_nl: str, example_pddl: str, kinds: dict[str, str | None]) -> list[Aligned]:
    """Each example sentence with the facts it states: a fact goes to the sentence of its part that
    shares the most with it (on a tie, the one sharing more of the predicate's words, then the earliest;
    the part's first sentence when none shares any)."""
    sentences = split_sentences(example_nl)
    init, goal = problem_facts(example_pddl)
    found: dict[int, list[Fact]] = {s.index: [] for s in sentences}
    for facts, is_goal in ((init, False), (goal, True)):
        part = [s for s in sentences if s.goal == is_goal] or sentences
        for fact in facts:
            best = max(part, key=lambda s: (*overlap(fact, s.text, kinds), -s.index))
            found[best.index].append(fact)
    return [Aligned(s, tuple(found[s.index])) for s in sentences]


def shape(text: str) -> set[str]:
    """A sentence's words and word pairs with each name replaced by its kind (b12 -> b#)."""
    toks = [re.sub(r"\d+", "#", w) for w in words(text)]
    return set(toks) | {a + " " + b for a, b in itertools.pairwise(toks)}


def exemplars(sentence: Sentence, example: list[Aligned], k: int) -> list[Aligned]:
    """The k example sentences most like `sentence` (same part first), least similar first, so that
    the most similar one stands next to the question."""
    mine = shape(sentence.text)

    def similarity(a: Aligned) -> tuple[float, int]:
        theirs = shape(a.sentence.text)
        jaccard = len(mine & theirs) / max(1, len(mine | theirs))
        return (jaccard + 0.5 * (a.sentence.goal == sentence.goal), -a.sentence.index)

    return sorted(example, key=similarity, reverse=True)[:k][::-1]
