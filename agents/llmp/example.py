"""What the stepwise translation learns from a domain's one-shot example: its objects by type, its sentences aligned with its facts, the rules its facts obey (function-like and symmetric predicates).

The example (`p_example.nl` / `p_example.pddl`) is the only per-domain input besides the domain
PDDL; `learn` reads it once per domain and everything the stepwise translation shows the model or
checks a translation against comes from here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from ratiocinator.agents.llmp.consistency import count_words, functional, highest_numbers, pattern
from ratiocinator.agents.llmp.domain import PlanningDomain, Vocabulary, vocabulary
from ratiocinator.agents.llmp.facts import Fact, problem_facts
from ratiocinator.agents.llmp.grounding import said_in
from ratiocinator.agents.llmp.programs import object_lists, synthesize
from ratiocinator.agents.llmp.relations import Relations, learn_relations
from ratiocinator.agents.llmp.sentences import Aligned, align, words
from ratiocinator.errors import InvalidInput


@dataclass(frozen=True)
class Example:
    """The one-shot example as the stepwise translation uses it."""

    objects: tuple[tuple[str, str | None], ...]  # (name, type) in the example's order
    kinds: tuple[str | None, ...]  # the types its objects have, in order of first use (None: untyped)
    aligned: tuple[Aligned, ...]  # each sentence with the facts it states
    functional: frozenset[tuple[str, int]]  # (predicate, position) determined by the other arguments
    count_words: tuple[tuple[str, str], ...]  # (name pattern, the word the English counts them with)
    negated_goal: bool  # its goal has a `(not ...)` literal
    programs: tuple[tuple[str, bool], ...] = ()  # each aligned sentence's facts as a program, and whether it loops
    relations: Relations = field(default_factory=Relations)  # symmetric, converse and irreflexive two-place predicates
    #: (name pattern, key of the sentence that states its highest number, its lowest number): n0..n3
    highest: tuple[tuple[str, str, int], ...] = ()
    #: name patterns (tile_#-#) whose every object the example's English names, of a kind it does not count
    listed: frozenset[str] = frozenset()

    @property
    def most_facts(self) -> int:
        """The most facts one example sentence states."""
        return max((len(a.facts) for a in self.aligned), default=1)

    def object_lines(self) -> str:
        """Its objects as the objects step answers: one `names - type` line per type."""
        return object_lines(list(self.objects), list(self.kinds))


def _undeclared(
    declared: list[tuple[str, str | None]], facts: list[Fact], vocab: Vocabulary
) -> list[tuple[str, str | None]]:
    """The names the example's facts use that its `:objects` leave out (floortile's example uses
    robot2 and black undeclared), each typed by the first predicate place it fills; the domain's
    constants are not objects."""
    known = {n for n, _ in declared} | {c.lower() for c in vocab.constants}
    signatures = dict(vocab.signatures)
    found: dict[str, str | None] = {}
    for fact in facts:
        for name, kind in zip(fact.args, signatures.get(fact.pred, ()), strict=False):
            if name not in known and name not in found:
                found[name] = kind.lower() or None
    return list(found.items())


def _listed(text: str, objects: tuple[tuple[str, str | None], ...], counted: set[str]) -> frozenset[str]:
    """The numbered name patterns of two or more objects, all named in the example's English, that it does
    not count (`tile_0-1 tile_0-2 ...` listed row by row; not `5 blocks`, which the count decides)."""
    by: dict[str, list[str]] = {}
    for name, _ in objects:
        if "#" in pattern(name):
            by.setdefault(pattern(name), []).append(name)
    return frozenset(p for p, names in by.items()
                     if len(names) > 1 and p not in counted and all(said_in(n, text) for n in names))


def object_lines(objects: list[tuple[str, str | None]], kinds: list[str | None]) -> str:
    """`names - type` lines, one per kind in `kinds` (untyped: the names alone)."""
    lines = []
    for kind in kinds:
        names = [n for n, t in objects if t == kind]
        lines.append(" ".join(names) + (f" - {kind}" if kind else ""))
    return "\n".join(lines)


@functools.lru_cache(maxsize=64)
def learn(domain: PlanningDomain) -> Example:
    """Read the domain's one-shot example (once per domain)."""
    from ratiocinator.solvers.pddl_compat import problem_objects

    if not (domain.example_nl and domain.example_pddl):
        raise InvalidInput(
            f"domain {domain.name!r}: the stepwise translation needs the one-shot example "
            "(p_example.nl and p_example.pddl); use translation='whole' without one"
        )
    init, goal = problem_facts(domain.example_pddl)
    declared = [(n.lower(), t.lower() if t else None) for n, t in problem_objects(domain.example_pddl)]
    objects = tuple(declared + _undeclared(declared, [*init, *goal], vocabulary(domain)))
    kinds = dict(objects)
    relations = learn_relations(init, kinds)
    ruled = {p for p, *_ in relations.complements}  # stated by the rule, not by a sentence
    aligned = tuple(
        a if a.sentence.goal else Aligned(a.sentence, tuple(f for f in a.facts if f.pred not in ruled))
        for a in align(domain.example_nl, domain.example_pddl, kinds)
    )
    lists = object_lists(list(objects))
    counted = count_words(domain.example_nl, kinds, aligned)
    return Example(
        objects=objects,
        kinds=tuple(dict.fromkeys(t for _, t in objects)),
        aligned=aligned,
        functional=frozenset(functional(init, kinds)),
        count_words=tuple(counted.items()),
        negated_goal=any(g.negated for g in goal),
        programs=tuple(synthesize(a.facts, lists, frozenset(words(a.sentence.text))) for a in aligned),
        relations=relations,
        listed=_listed(domain.example_nl, objects, set(counted)),
        highest=tuple((p, k, low) for p, (k, low) in highest_numbers(domain.example_nl, kinds, set(counted)).items()),
    )
