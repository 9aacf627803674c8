"""Properties of the domain's predicates learned from the one-shot example — symmetric, converse pairs, irreflexive; one-place complements — and facts completed by them.

A sentence says `depot48-1-1 and loadarea are connected`; the example shows that every
`(connected a b)` comes with `(connected b a)`, so the sentence states both, whichever one the model
wrote. Nothing here names a domain: a property is learned only where the example's :init shows it on
enough facts (`SYMMETRIC_EVIDENCE` pairs, `IRREFLEXIVE_EVIDENCE` facts), and a completion is
said in words so the record shows what was added or dropped.

A one-place predicate can be the complement of another's place: the example's `(clear t)` holds for
exactly the tiles no `(robot-at r t)` names. Such a predicate is stated by no sentence (the example's
English states it nowhere: its facts sit in whatever sentence they were aligned to), so the assembled
init gets it from the rule (`complement`), over the declared objects of its type.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ratiocinator.agents.llmp.facts import Fact

#: pairs `(p a b)`, `(p b a)` (a != b) the example must show before `p` counts as symmetric
SYMMETRIC_EVIDENCE = 2
#: facts of `p` over two objects of the same kind, none reflexive, before `(p a a)` counts as wrong
IRREFLEXIVE_EVIDENCE = 3
#: facts of a one-place predicate (and one object of its type outside it) before it counts as a complement
COMPLEMENT_EVIDENCE = 3


@dataclass(frozen=True)
class Relations:
    """What the example shows of its two-place predicates."""

    symmetric: frozenset[str] = frozenset()  # (p a b) holds iff (p b a) holds
    converse: tuple[tuple[str, str], ...] = ()  # (p, q): (p a b) holds iff (q b a) holds, p != q
    irreflexive: frozenset[str] = frozenset()  # (p a a) never holds
    #: (p, type, q, place): (p o) holds for exactly the objects o of the type that no (q ...) names at place
    complements: tuple[tuple[str, str | None, str, int], ...] = ()


def _pairs(init: list[Fact]) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in init:
        if len(f.args) == 2 and not f.negated and f.value is None:
            out[f.pred].add((f.args[0], f.args[1]))
    return out


def learn_relations(init: list[Fact], kinds: dict[str, str | None]) -> Relations:
    """The properties the example's :init shows with enough evidence (`kinds`: each object's type)."""
    by_pred = _pairs(init)
    symmetric = {
        p for p, s in by_pred.items()
        if all((b, a) in s for a, b in s) and sum(a != b for a, b in s) >= 2 * SYMMETRIC_EVIDENCE
    }
    converse = [
        (p, q) for p, s in by_pred.items() for q, t in by_pred.items()
        if p != q and len(s) >= SYMMETRIC_EVIDENCE and {(b, a) for a, b in s} == t
    ]
    irreflexive = {
        p for p, s in by_pred.items()
        if len([1 for a, b in s if kinds.get(a) == kinds.get(b)]) >= IRREFLEXIVE_EVIDENCE
        and all(a != b for a, b in s)
    }
    return Relations(frozenset(symmetric), tuple(sorted(converse)), frozenset(irreflexive), _complements(init, kinds))


def _complements(init: list[Fact], kinds: dict[str, str | None]) -> tuple[tuple[str, str | None, str, int], ...]:
    """The one-place predicates of one type whose objects are that type's objects minus those one
    place of exactly one other predicate names (at least `COMPLEMENT_EVIDENCE` facts, one object outside)."""
    ones: dict[str, set[str]] = defaultdict(set)
    places: dict[tuple[str, int], set[str]] = defaultdict(set)
    for f in init:
        if f.negated or f.value is not None:
            continue
        if len(f.args) == 1:
            ones[f.pred].add(f.args[0])
        for i, a in enumerate(f.args):
            places[(f.pred, i)].add(a)
    out = []
    for p, holds in sorted(ones.items()):
        types = {kinds.get(a) for a in holds}
        every = {n for n, k in kinds.items() if k in types}
        if len(types) != 1 or len(holds) < COMPLEMENT_EVIDENCE or len(every - holds) < 1:
            continue
        fits = [q for q, named in places.items() if q[0] != p and {a for a in named if a in every} == every - holds]
        if len(fits) == 1:
            out.append((p, types.pop(), *fits[0]))
    return tuple(out)


def complement(init: list[Fact], relations: Relations, of_type: Callable[[str | None], list[str]]) -> list[Fact]:
    """The init with each complement predicate's facts replaced by the rule's: every object of its type
    (`of_type`) that no fact of the other predicate names at its place (unchanged where none does)."""
    for p, kind, q, place in relations.complements:
        named = {f.args[place] for f in init if f.pred == q and not f.negated and place < len(f.args)}
        if named:
            init = [f for f in init if f.pred != p] + [Fact(p, (o,)) for o in of_type(kind) if o not in named]
    return init


def complete(facts: list[Fact], relations: Relations) -> tuple[list[Fact], list[str]]:
    """The facts without reflexive facts of an irreflexive predicate, with the converse of each fact
    of a symmetric predicate or converse pair added; what changed, in words."""
    out: list[Fact] = []
    notes = []
    for f in facts:
        if f.pred in relations.irreflexive and len(f.args) == 2 and f.args[0] == f.args[1]:
            notes.append(f"{f} dropped: the example never relates an object to itself by {f.pred}")
            continue
        out.append(f)
    converse = dict(relations.converse)
    added = []
    have = set(out)
    for f in out:
        if f.negated or f.value is not None or len(f.args) != 2:
            continue
        pred = f.pred if f.pred in relations.symmetric else converse.get(f.pred)
        if pred is None:
            continue
        other = Fact(pred, (f.args[1], f.args[0]))
        if other not in have:
            have.add(other)
            added.append(other)
    if added:
        notes.append("added as the example states them both ways: " + " ".join(map(str, added)))
    return out + added, notes
