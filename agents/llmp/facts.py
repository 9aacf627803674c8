"""Facts of a problem PDDL as values: read from a problem's :init and :goal, written back, and a problem assembled from objects and facts.

The stepwise translation (stepwise.py) works on facts, not on whole problems: the one-shot
example's facts are read here to be aligned with its sentences, the model's answer for one sentence
is read here as a list of facts, and the problem handed to the planner is assembled here from the
declared objects and the facts of every sentence, in one canonical layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ratiocinator.agents.llmp.domain import Vocabulary

_TOKEN = re.compile(r"\(|\)|[^\s()]+")


@dataclass(frozen=True, order=True)
class Fact:
    """One literal: `(pred a b)`, negated (`(not (pred a b))`), or a numeric value `(= (f a b) 3)`."""

    pred: str
    args: tuple[str, ...] = ()
    negated: bool = False
    value: str | None = None  # a numeric function's value

    def __str__(self) -> str:
        atom = "(" + " ".join((self.pred, *self.args)) + ")"
        if self.value is not None:
            return f"(= {atom} {self.value})"
        return f"(not {atom})" if self.negated else atom

    @property
    def atom(self) -> Fact:
        """The fact without its negation."""
        return Fact(self.pred, self.args, value=self.value)


def _tree(text: str) -> list:
    """The s-expressions of `text` as nested lists of lower-case words (comments dropped, unclosed lists closed)."""
    text = re.sub(r";[^\n]*", "", text)
    stack: list[list] = [[]]
    for tok in _TOKEN.findall(text):
        if tok == "(":
            stack.append([])
        elif tok == ")":
            if len(stack) > 1:
                done = stack.pop()
                stack[-1].append(done)
        else:
            stack[-1].append(tok.lower())
    while len(stack) > 1:
        done = stack.pop()
        stack[-1].append(done)
    return stack[0]


def _literal(node: object) -> Fact | None:
    """A Fact from one s-expression, or None when it is not a literal (a word, `(and ...)`, total-cost)."""
    if not isinstance(node, list) or not node or not isinstance(node[0], str):
        return None
    words = [w for w in node[1:] if isinstance(w, str)]
    if node[0] == "not" and len(node) == 2:
        inner = _literal(node[1])
        return Fact(inner.pred, inner.args, negated=True) if inner and inner.value is None else None
    if node[0] == "=" and len(node) == 3 and isinstance(node[1], list) and isinstance(node[2], str):
        head = _literal(node[1])
        if head is None or head.pred == "total-cost":
            return None
        return Fact(head.pred, head.args, value=node[2])
    if node[0] in ("and", "or", "imply", "forall", "exists") or len(words) != len(node) - 1:
        return None
    return Fact(node[0], tuple(words))


def _section(tree: list, name: str) -> list | None:
    for node in tree:
        if isinstance(node, list):
            if node and node[0] == name:
                return node
            found = _section(node, name)
            if found is not None:
                return found
    return None


def read_facts(text: str) -> list[Fact]:
    """The literals of a piece of PDDL, in order: every top-level `(...)`, an `(and ...)` opened."""
    out: list[Fact] = []
    for node in _tree(text):
        if isinstance(node, list) and node and node[0] == "and":
            out += [f for n in node[1:] if (f := _literal(n)) is not None]
        elif (fact := _literal(node)) is not None:
            out.append(fact)
    return out


def problem_facts(problem: str) -> tuple[list[Fact], list[Fact]]:
    """The :init facts and the :goal literals of a problem PDDL (the goal's `(and ...)` opened)."""
    tree = _tree(problem)
    init = _section(tree, ":init") or [":init"]
    goal = _section(tree, ":goal") or [":goal"]
    facts = [f for n in init[1:] if (f := _literal(n)) is not None]
    goals: list[Fact] = []
    for node in goal[1:]:
        if isinstance(node, list) and node and node[0] == "and":
            goals += [f for n in node[1:] if (f := _literal(n)) is not None]
        elif (fact := _literal(node)) is not None:
            goals.append(fact)
    return facts, goals


def assemble(
    vocab: Vocabulary,
    objects: list[tuple[str, str | None]],
    init: list[Fact],
    goal: list[Fact],
    name: str = "translated",
) -> str:
    """A problem PDDL in the canonical layout: each object once (by type), each fact once, in order."""
    by_type: dict[str | None, list[str]] = {}
    for obj, kind in dict(objects).items():
        by_type.setdefault(kind, []).append(obj)
    lines = [" ".join(names) + (f" - {kind}" if kind else "") for kind, names in by_type.items()]
    facts = [str(f) for f in dict.fromkeys(init)]
    if vocab.action_costs:
        facts.insert(0, "(= (total-cost) 0)")
    goals = [str(f) for f in dict.fromkeys(goal)]
    metric = "(:metric minimize (total-cost))\n" if vocab.action_costs else ""
    return (
        f"(define (problem {name})\n(:domain {vocab.domain})\n(:objects\n"
        + "".join(line + "\n" for line in lines)
        + ")\n(:init\n"
        + "".join(f + "\n" for f in facts)
        + ")\n(:goal\n(and\n"
        + "".join(g + "\n" for g in goals)
        + "))\n"
        + metric
        + ")"
    )
