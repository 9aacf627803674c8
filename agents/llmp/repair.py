"""Sound rewrites of a model's problem PDDL before it is parsed: repeats dropped, text-named objects declared, a cut-off :goal closed.

A small model under the problem grammar (grammar.problem_grammar) makes three mistakes that
lose a translation without its facts being wrong, each seen in the LLM+P runs with Qwen2.5-0.5B:
- it repeats a fact, often until the token limit (grippers: `(at ball1 room1)` forty times);
- it uses an object that the English text names but leaves it out of `:objects` (barman's
  cocktail2, termes' pos-0-0: the parser rejects the whole problem);
- it is cut off while listing goal literals (because of the repeats), so the problem never closes.
Each rewrite says what it did (`Translation.repairs`). The first two keep the model's meaning
exactly; the third assumes that a model repeating goal literals had written all it meant to. A fact
stated twice (at the top level of :init or of the goal's conjunction) is stated once;
an object is declared only if it is one of the text's candidate names (its words, and the example's
numbered names within the text's counts: grammar.candidate_objects), with the one type its
uses agree on (the most specific of the predicates' parameter types); a cut-off problem is closed
after its last complete goal literal, and only when it was cut inside `:goal` while repeating goal
literals (cut earlier it has no goal; cut without repeats, literals it meant to write may be lost). No
library does this: it is about the layout our grammar produces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ratiocinator.agents.llmp.domain import PlanningDomain, Vocabulary
from ratiocinator.agents.llmp.grammar import candidate_objects
from ratiocinator.agents.llmp.objects import dedupe_objects, section_span

_ATOM = re.compile(r"\(\s*([^\s()]+)((?:\s+[^\s()]+)*)\s*\)")
_GOAL_OPEN = "(:goal\n(and\n"


@dataclass(frozen=True)
class Repaired:
    """The rewritten problem and one line per rewrite made (empty: unchanged)."""

    pddl: str
    repairs: tuple[str, ...] = ()


def _fact(line: str) -> str | None:
    """A line that is one whole parenthesized fact, normalised (spaces, case) for comparison; else None."""
    key = " ".join(line.split()).lower()
    whole = key.startswith("(") and key.endswith(")") and key.count("(") == key.count(")")
    return key if whole else None


def drop_repeated_facts(problem: str) -> tuple[str, int]:
    """Each fact of :init and of the goal's top-level `(and` kept once (a conjunction of facts is a
    set); how many were dropped. Lines inside a nested `(or ...)` or `(not ...)` are left alone."""
    dropped = 0
    for name, depth in ((":init", 1), (":goal", 2)):
        span = section_span(problem, name)
        if span is None:
            continue
        kept, seen, level = [], set(), 0
        for line in problem[span[0] : span[1]].split("\n"):
            key = _fact(line)
            if key is not None and level == depth:
                if key in seen:
                    dropped += 1
                    continue
                seen.add(key)
            kept.append(line)
            level += line.count("(") - line.count(")")
        problem = problem[: span[0]] + "\n".join(kept) + problem[span[1] :]
    return problem, dropped


def close_cut_goal(problem: str, vocab: Vocabulary) -> tuple[str, int] | None:
    """A problem cut off while repeating goal literals, closed after its last complete literal, with
    the number of literals kept; None when it was cut before its goal, kept no literal, or repeated
    none (then the cut may have dropped literals the model still meant to write)."""
    at = problem.find(_GOAL_OPEN)
    if at < 0:
        return None
    literals, keys = [], set()
    for line in problem[at + len(_GOAL_OPEN) :].split("\n"):
        key = _fact(line)
        if key is None:
            break
        literals.append(line.strip())
        keys.add(key)
    if not literals or len(keys) == len(literals):
        return None
    metric = "(:metric minimize (total-cost))\n" if vocab.action_costs else ""
    closed = problem[: at + len(_GOAL_OPEN)] + "\n".join(literals) + "\n))\n" + metric + ")"
    return closed, len(literals)


def _declared(problem: str) -> dict[str, str | None]:
    from ratiocinator.solvers.pddl_compat import problem_objects

    return {name.lower(): kind for name, kind in problem_objects(problem)}


def _most_specific(kinds: set[str], parents: dict[str, str | None]) -> str | None:
    """The one type in `kinds` that is a subtype of (or equal to) every other, else None."""

    def ancestors(t: str) -> set[str]:
        seen = {t}
        while parents.get(t) is not None and parents[t] not in seen:
            t = parents[t]  # type: ignore[assignment]
            seen.add(t)
        return seen

    for k in kinds:
        if kinds <= ancestors(k):
            return k
    return None


def declare_text_objects(
    problem: str, text: str, vocab: Vocabulary, domain: PlanningDomain
) -> tuple[str, list[str]]:
    """Objects used in facts, among the text's candidate names, but missing from `:objects`, declared
    with the type their uses agree on; the names declared. Names whose uses disagree are left alone."""
    declared = _declared(problem)
    signatures = dict(vocab.signatures)
    parents = dict(vocab.parents)
    allowed = set(candidate_objects(text, domain))
    uses: dict[str, set[str]] = {}
    for name in (":init", ":goal"):
        span = section_span(problem, name)
        if span is None:
            continue
        for m in _ATOM.finditer(problem[span[0] : span[1]]):
            kinds = signatures.get(m.group(1).lower())
            args = m.group(2).split()
            if kinds is None or len(kinds) != len(args):
                continue
            for arg, kind in zip(args, kinds, strict=True):
                key = arg.lower()
                if key not in declared and key not in vocab.constants and key in allowed:
                    uses.setdefault(key, set()).add(kind)
    add: dict[str, str] = {}
    for name, kinds in uses.items():
        if vocab.types:
            kind = _most_specific(kinds - {""}, parents) if kinds - {""} else None
            if kind is not None:
                add[name] = kind
        else:
            add[name] = ""
    if not add:
        return problem, []
    span = section_span(problem, ":objects")
    if span is None:
        return problem, []
    lines = [
        " ".join(n for n in add if add[n] == k) + (f" - {k}" if k else "")
        for k in dict.fromkeys(add.values())
    ]
    # first in the block: appended last, `name - type` would also type the untyped names before it
    head = span[0] + len("(:objects")
    block = "\n" + "\n".join(lines) + problem[head : span[1]]
    return problem[:head] + block + problem[span[1] :], list(add)


def repair(
    problem: str, text: str, vocab: Vocabulary, domain: PlanningDomain, *, truncated: bool = False
) -> Repaired | None:
    """All rewrites, in order; None when the problem was cut off before its goal (not repairable)."""
    notes = []
    if truncated:
        closed = close_cut_goal(problem, vocab)
        if closed is None:
            return None
        problem = closed[0]
        notes.append(
            f"cut off at the token limit: closed after its {closed[1]} complete goal literal(s)"
        )
    problem, repeated = dedupe_objects(problem)
    if repeated:
        notes.append(f"objects declared twice merged: {', '.join(repeated)}")
    problem, dropped = drop_repeated_facts(problem)
    if dropped:
        notes.append(f"{dropped} repeated fact(s) dropped")
    problem, added = declare_text_objects(problem, text, vocab, domain)
    if added:
        notes.append(f"objects the text names, used but not declared, declared: {', '.join(added)}")
    return Repaired(problem, tuple(notes))
