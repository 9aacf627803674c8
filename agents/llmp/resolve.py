"""Contradictions of the stepwise translation resolved by the model's own scores: of two facts that give a function-like predicate two values, the sentence that loses least by changing one fact is changed.

`(cocktail-part2 cocktail2 ingredient2)` from "The first ingredient of cocktail2 is ingredient2" and
`(cocktail-part2 cocktail2 ingredient3)` from "The second ingredient of cocktail2 is ingredient3"
cannot both hold. Asking both sentences again with the error shown made the 0.5B change the wrong
one (barman p01). Here each clashing fact gets its single-change variants (another predicate of the
same parameter types, or an argument the sentence does not name replaced by another declared object
of its type that the text does not name elsewhere) that clash with nothing else in its part; each sentence's prompt scores its answer with the variant against its
answer as it stands (`Backend.score`, one call per sentence sharing its prompt); the sentence whose
best variant costs the fewest nats is changed. The 0.5B's scores put the change on the first
sentence by 2.95 against 4.10 nats and on "The first ingredient of cocktail3 ..." by 0.13 against
3.37. Nothing names a domain: the predicates, types and function-like rules come from the domain
and its example.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ratiocinator.agents.llmp.consistency import contradictions
from ratiocinator.agents.llmp.domain import Vocabulary
from ratiocinator.agents.llmp.facts import Fact
from ratiocinator.agents.llmp.grammar import fitting
from ratiocinator.agents.llmp.sentences import words
from ratiocinator.models.types import Message


@dataclass(frozen=True)
class Change:
    """One sentence's fact replaced: what it was, what it became, and the nats the model's score lost."""

    index: int
    old: Fact
    new: Fact
    loss: float
    facts: tuple[Fact, ...]  # the sentence's facts after the change

    def note(self) -> str:
        """The change in words, for the record."""
        return f"{self.old} changed to {self.new}: it contradicted another fact, and this change cost the model's score least ({self.loss:.2f} nats)"


def variants(
    fact: Fact,
    vocab: Vocabulary,
    objects: list[tuple[str, str | None]],
    said: set[str] | frozenset[str] = frozenset(),
    named: set[str] | frozenset[str] = frozenset(),
) -> list[Fact]:
    """The facts one change away: another predicate of the same parameter types over the same
    arguments, or one argument replaced by another object that fits its parameter's type — never an
    object the sentence names (`said`), and never by one the text names (`named`) elsewhere only:
    the sentence's own names are what it is about."""
    signatures = dict(vocab.signatures)
    kinds = signatures.get(fact.pred, ("",) * len(fact.args))
    out = [
        Fact(pred, fact.args, fact.negated)
        for pred, theirs in signatures.items()
        if pred != fact.pred and theirs == kinds
    ]
    for j, kind in enumerate(kinds):
        if fact.args[j] in said:
            continue
        for name in fitting(vocab, objects, kind):
            if name != fact.args[j] and (name in said or name not in named):
                out.append(Fact(fact.pred, (*fact.args[:j], name, *fact.args[j + 1 :]), fact.negated))
    return out


def _text(facts: Sequence[Fact]) -> str:
    return "\n".join(map(str, facts)) or "none"


def cheapest(
    clash: tuple[Fact, Fact],
    answers: dict[int, list[Fact]],
    part: set[int],
    prompts: dict[int, list[Message]],
    vocab: Vocabulary,
    objects: list[tuple[str, str | None]],
    rules: set[tuple[str, int]] | frozenset[tuple[str, int]],
    backend: Any,
    sentences: dict[int, str] | None = None,
) -> Change | None:
    """The change to one of the clashing facts (in one sentence of `part` that states it) that leaves
    the part without a contradiction on that fact and costs the model's score least; None when no
    sentence stating them has a prompt or no variant fits (`sentences`: each index's text, whose
    object names a variant keeps)."""
    texts = sentences or {}
    named = {w for t in texts.values() for w in words(t)} & {n for n, _ in objects}
    best: Change | None = None
    for fact in clash:
        for i in sorted(part):
            if fact not in answers.get(i, []) or i not in prompts:
                continue
            others = [f for j in part for f in answers.get(j, []) if f != fact]
            mine = answers[i]
            options = [
                v for v in variants(fact, vocab, objects, set(words(texts.get(i, ""))), named)
                if v not in mine and not any(v in pair for pair in contradictions([*others, v], rules))
            ]
            if not options:
                continue
            changed = [[v if f == fact else f for f in mine] for v in options]
            scores = backend.score(prompts[i], [_text(mine)] + [_text(c) for c in changed])
            k = max(range(len(options)), key=lambda n: scores[n + 1])
            loss = scores[0] - scores[k + 1]
            if best is None or loss < best.loss:
                best = Change(i, fact, options[k], loss, tuple(changed[k]))
    return best


def resolve(
    answers: dict[int, list[Fact]],
    goal_ids: set[int],
    prompts: dict[int, list[Message]],
    vocab: Vocabulary,
    objects: list[tuple[str, str | None]],
    rules: set[tuple[str, int]] | frozenset[tuple[str, int]],
    backend: Any,
    sentences: dict[int, str] | None = None,
    most: int = 16,
) -> tuple[dict[int, list[Fact]], list[Change]]:
    """The answers with each contradiction (init and goal apart) resolved by its cheapest change, one
    clash at a time (at most `most` changes); the changes made. A clash no change resolves is left
    for the feedback round."""
    answers = {i: list(fs) for i, fs in answers.items()}
    changes: list[Change] = []
    for part in ({i for i in answers if i not in goal_ids}, {i for i in answers if i in goal_ids}):
        stuck: set[tuple[Fact, Fact]] = set()
        while len(changes) < most:
            clashes = [c for c in contradictions([f for i in sorted(part) for f in answers[i]], rules)
                       if c not in stuck]
            if not clashes:
                break
            change = cheapest(clashes[0], answers, part, prompts, vocab, objects, rules, backend, sentences)
            if change is None:
                stuck.add(clashes[0])
                continue
            answers[change.index] = list(change.facts)
            changes.append(change)
    return answers, changes
