"""The pieces of a stepwise translation: answers read as objects or facts, votes, and which sentence each failed check goes back to.

Pure functions of the pieces (no model): `read_objects` and `read_facts_answer` read one answer,
`confidence` and `vote` decide where the model was unsure and what the majority says, and `review`
runs the checks of consistency.py on the assembled facts and says which sentences to ask again,
each with the message it is shown (errors go to the piece that caused them, not to the whole).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ratiocinator.agents.llmp.consistency import contradictions, goal_holds, pattern, unused_objects
from ratiocinator.agents.llmp.facts import Fact, read_facts
from ratiocinator.agents.llmp.sentences import Sentence, kind_words, norm, words
from ratiocinator.models.types import Completion


def read_objects(answer: str) -> list[tuple[str, str | None]]:
    """`a b - t` lines as (name, type) pairs in order, each name once (the first type wins)."""
    out: dict[str, str | None] = {}
    for line in answer.splitlines():
        names, _, kind = line.partition(" - ")
        for name in names.split():
            out.setdefault(name.lower(), kind.strip().lower() or None)
    return list(out.items())


def read_answer(answer: str) -> list[Fact]:
    """The facts of one sentence's answer (`none`: no fact), each once, in order."""
    return list(dict.fromkeys(read_facts(answer)))


def confidence(completion: Completion) -> float:
    """The lowest log-probability of a token of the completion (0.0 when the backend gave none)."""
    if not completion.logprobs:
        return 0.0
    return min(t.logprob for t in completion.logprobs)


def vote(answers: Sequence[Sequence[Fact]]) -> list[Fact]:
    """The facts that more than half of the answers state, in order of first appearance; when that
    is none while most answers state some (they split between alternatives: part1 twice, part2
    twice), the answer most like the others (most summed Jaccard agreement, the earliest on a tie:
    a minimum-Bayes-risk choice) rather than no fact at all."""
    counts = Counter(f for a in answers for f in dict.fromkeys(a))
    order = dict.fromkeys(f for a in answers for f in a)
    kept = [f for f in order if 2 * counts[f] > len(answers)]
    stating = [set(a) for a in answers if a]
    if kept or 2 * len(stating) <= len(answers):
        return kept

    def agreement(a: set[Fact]) -> float:
        return sum(len(a & b) / len(a | b) for b in map(set, answers) if a | b)

    best = max(range(len(answers)), key=lambda k: (agreement(set(answers[k])) if answers[k] else -1.0, -k))
    return list(dict.fromkeys(answers[best]))


@dataclass(frozen=True)
class Review:
    """What the checks made of the assembled facts: '' (passed) or the status and message, and the
    sentences to ask again with the message each is shown."""

    status: str = ""
    message: str = ""
    ask: tuple[tuple[int, str], ...] = ()


def _mentions(sentence: Sentence, name: str, kind: str | None) -> int:
    """2 when the sentence names the object, 1 when it names its kind, else 0."""
    said = words(sentence.text)
    if name in said:
        return 2
    return int(bool(kind_words(name, kind) & {norm(w) for w in said}))


def _misplaced(
    sentence: Sentence,
    facts: list[Fact],
    named: set[str],
    fit: Callable[[str, int], set[str]] | None,
) -> tuple[Fact, int, list[str]] | None:
    """The first fact, place and candidates where a fact names an object the text names elsewhere but
    this sentence does not, while the sentence names others that no fact of it uses, of the same kind
    or (with `fit`) fitting that place; None when there is none."""
    said = set(words(sentence.text))
    used = {a for f in facts for a in f.args}
    free = {w for w in said - used if w in named}
    for fact in sorted(facts):
        for j, arg in enumerate(fact.args):
            if arg not in named or arg in said:
                continue
            others = sorted(w for w in free
                            if pattern(w) == pattern(arg) or (fit is not None and w in fit(fact.pred, j)))
            if others:
                return fact, j, others
    return None


def misnamed(
    sentence: Sentence,
    facts: list[Fact],
    named: set[str],
    fit: Callable[[str, int], set[str]] | None = None,
) -> str:
    """'' unless a fact names an object the text names elsewhere but this sentence does not, while the
    sentence names another that no fact of it uses, of the same kind (`robot2 is in room1` answered
    `(at-robby robot1 room1)`) or, with `fit` (the objects that fit a predicate's parameter), one that
    fits that place (`shot7 contains ingredient3` answered `(contains shot7 cocktail3)`); then what to
    correct."""
    found = _misplaced(sentence, facts, named, fit)
    return "" if found is None else f"the sentence names {found[2][0]}, not {found[0].args[found[1]]}"


def reground(
    sentence: Sentence,
    facts: list[Fact],
    named: set[str],
    fit: Callable[[str, int], set[str]] | None = None,
) -> tuple[list[Fact], str] | None:
    """The sentence's facts with each misnamed object replaced by the one object the sentence names in
    its place (only where exactly one fits), and what was replaced; None when nothing is."""
    out, notes = list(facts), []
    for _ in range(len(facts) * 4):
        found = _misplaced(sentence, out, named, fit)
        if found is None or len(found[2]) != 1:
            break
        fact, j, (name,) = found
        new = Fact(fact.pred, (*fact.args[:j], name, *fact.args[j + 1 :]), fact.negated, fact.value)
        out = [new if f == fact else f for f in out]
        notes.append(f"{fact} names {fact.args[j]}, which the sentence does not; it names {name}: {new}")
    return (list(dict.fromkeys(out)), "; ".join(notes)) if notes else None


def named_in(sentences: list[Sentence], objects: list[tuple[str, str | None]]) -> set[str]:
    """The declared objects the text's sentences name."""
    return {w for s in sentences for w in words(s.text)} & {n for n, _ in objects}


def _owners(fact: Fact, answers: dict[int, list[Fact]]) -> list[int]:
    return [i for i, facts in answers.items() if fact in facts]


def review(
    sentences: list[Sentence],
    answers: dict[int, list[Fact]],
    objects: list[tuple[str, str | None]],
    functional: set[tuple[str, int]] | frozenset[tuple[str, int]],
    *,
    max_unused: int | None,
    goal_checked: bool,
    fit: Callable[[str, int], set[str]] | None = None,
) -> Review:
    """Contradictions on function-like predicates, objects no fact names, no goal, a goal that already
    holds (asked once: when the sentences still say so, the text says so), a fact naming an object in
    place of the one its sentence names (misnamed; goal sentences too when `fit` says which objects fit
    each predicate's place, else only the init part)."""
    goal_ids = {s.index for s in sentences if s.goal}
    init = [f for i, fs in answers.items() if i not in goal_ids for f in fs]
    goal = [f for i, fs in answers.items() if i in goal_ids for f in fs]
    clashes = contradictions(init, functional) + contradictions(goal, functional)
    if clashes:
        ask: dict[int, str] = {}
        for a, b in clashes:
            for i in dict.fromkeys(_owners(a, answers) + _owners(b, answers)):
                ask.setdefault(i, f"{a} and {b} cannot both hold")
        text = "; ".join(f"{a} and {b} cannot both hold" for a, b in clashes[:4])
        return Review("contradiction", text, tuple(ask.items()))
    unused = unused_objects([n for n, _ in objects], init + goal)
    if max_unused is not None and len(unused) > max_unused:
        ask = {}
        kinds = dict(objects)
        for name in unused:
            scores = {s.index: _mentions(s, name, kinds[name]) for s in sentences}
            best = max(scores.values(), default=0)
            for i, score in scores.items():
                if best and score == best:
                    ask.setdefault(i, f"the facts leave out {name}, which this sentence is about")
        return Review(
            "incomplete", f"{', '.join(unused)} appear in no fact", tuple(ask.items())
        )
    if not goal:
        ask = {i: "it states no fact, but the goal needs one" for i in goal_ids}
        return Review("incomplete", "no sentence states a goal fact", tuple(ask.items()))
    if not goal_checked and goal_holds(init, goal):
        holding = " ".join(str(g) for g in goal[:6])
        ask = {i: f"{holding} already hold at the start; state what the sentence asks to change"
               for i in goal_ids if answers.get(i)}
        return Review("goal_holds", f"the goal already holds at the start: {holding}", tuple(ask.items()))
    named = named_in(sentences, objects)
    wrong = {s.index: m for s in sentences
             if (not s.goal or fit is not None) and (m := misnamed(s, answers.get(s.index, []), named, fit))}
    if wrong:
        return Review("misnamed", "; ".join(wrong.values()), tuple(wrong.items()))
    return Review()


def least_confident(confidences: dict[int, float], skip: set[int], count: int) -> list[int]:
    """The `count` sentences whose greedy answers were least sure, not in `skip`, least sure first."""
    ranked = sorted((c, i) for i, c in confidences.items() if i not in skip)
    return [i for _, i in ranked[:count]]

