"""The EBNF grammars an LLM+P model writes under: a problem of the domain, a plan of its actions; their bounds and token budgets.

`problem_grammar(vocab)` is an EBNF grammar (xgrammar dialect, start symbol `root`) of
`(define (problem ..) (:domain ..) (:objects ..) (:init ..) (:goal (and ..)) [(:metric ..)])` in
which every atom is a predicate of the domain with exactly its arity, and every object list is
typed with the domain's types, so a constrained output always parses as PDDL; whether its atoms
name declared objects is what the parser then checks. `candidate_objects` are the names an object
may have (from the text and the example), `bounds` and `token_budget` keep a weak model's output
finite; `plan_grammar` is the LLM-as-planner baseline's grammar of a plan.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ratiocinator.agents.llmp.domain import PlanningDomain, Vocabulary
from ratiocinator.agents.llmp.objects import named_objects, stem, text_counts


def _lit(text: str) -> str:
    return json.dumps(text)  # an EBNF string literal (xgrammar reads JSON-style escapes)


def _alt(items: list[str]) -> str:
    return " | ".join(items)


def candidate_objects(text: str, domain: PlanningDomain) -> list[str]:
    """Names an object of this problem may have: the text's words, its runs of two or three words joined
    by `-` (coffee table -> coffee-table), and the example problem's objects with their numbers run on
    (l0 -> l0 .. l20, or up to the largest count in the text). A kind the text names (b1 -> `b`)
    runs only up to the largest count in the text, as `object_errors` judges: with `You have 3
    blocks`, the example's b4 and b5 cannot be copied."""
    from ratiocinator.solvers.pddl_compat import problem_objects

    names: list[str] = []
    for line in text.lower().splitlines():
        words = re.findall(r"[a-z][a-z0-9_]*(?:-[a-z0-9_]+)*", line)
        names += words
        names += ["-".join(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1)]
    counts = text_counts(text)
    top = max([20, *(c + 1 for c in counts)])
    named = {stem(n) for n in named_objects(text)}
    for name, _ in problem_objects(domain.example_pddl) if domain.example_pddl else []:
        numbered = re.fullmatch(r"(.*?[a-z_-])(\d+)", name.lower())
        if numbered is None:
            names.append(name.lower())
            continue
        last = max(counts) if counts and stem(name) in named else top
        names += [f"{numbered.group(1)}{i}" for i in range(last + 1)]
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Bounds:
    """How many objects, :init facts and :goal literals a translation may have (None: unbounded)."""

    objects: int | None = None
    init: int | None = None
    goal: int | None = None


def _groups(problem: str, section: str, depth: int) -> int:
    """How many parenthesized groups sit `depth` levels inside the `(section` block of a problem."""
    start = problem.lower().find("(" + section)
    if start < 0:
        return 0
    level, count = 0, 0
    for ch in problem[start:]:
        if ch == "(":
            level += 1
            count += level == depth + 1
        elif ch == ")":
            level -= 1
            if level == 0:
                break
    return count


def _scale(text: str, domain: PlanningDomain, factor: float) -> float:
    # longer English, or larger counts ("4 hubs" where the example had 1), mean more facts
    count_ratio = max(text_counts(text), default=1) / max(1, max(text_counts(domain.example_nl), default=1))
    return factor * max(1.0, len(text) / len(domain.example_nl), count_ratio)


def plan_bound(text: str, domain: PlanningDomain, example_steps: int, factor: float) -> int | None:
    """At most this many plan steps: the example's plan length, scaled as in `bounds`."""
    if not (domain.example_nl and example_steps):
        return None
    return int(_scale(text, domain, factor) * example_steps) + 4


def bounds(text: str, domain: PlanningDomain, factor: float) -> Bounds:
    """`factor` times what the example has, scaled by the English's length against the example's.

    A weak model under a grammar with unbounded repetition can list facts until max_tokens and never
    close the problem; bounded, every output ends and parses (and the bound is loose: `factor`).
    """
    if not (domain.example_nl and domain.example_pddl):
        return Bounds()
    from ratiocinator.solvers.pddl_compat import problem_objects

    scale = _scale(text, domain, factor)
    example = domain.example_pddl
    n_init, n_goal = (
        _groups(example, ":init", 1),
        _groups(example, ":goal", 2) or _groups(example, ":goal", 1),
    )
    n_obj = len(problem_objects(example)) + len(named_objects(text))
    return Bounds(
        objects=int(scale * n_obj) + 4,
        init=int(scale * n_init) + 8,
        goal=int(scale * max(1, n_goal)) + len(named_objects(text)) + 4,
    )


def _upto(item: str, n: int | None, least: int = 0) -> str:
    return f"({item}){{{least},{n}}}" if n is not None else f"({item}){'+' if least else '*'}"


def problem_grammar(
    vocab: Vocabulary, objects: list[str] | None = None, limit: Bounds = Bounds()
) -> str:
    """EBNF of a problem of this domain in one canonical layout (one fact per line).

    `objects`: the only names an object may have (see `candidate_objects`); None allows any identifier.
    `limit`: at most so many objects per type line, :init facts and :goal literals.
    """
    # xgrammar has no PDDL grammar; this one is written from the domain because the point is the
    # domain-specific part (predicate names with their arities), which no generic grammar carries.
    atoms = []
    for name, arity in vocab.predicates:
        atoms.append(_lit("(" + name) + ' " " obj' * arity + ' ")"')
    rules = [
        'root ::= "(define (problem " ident ")\\n(:domain " '
        + _lit(vocab.domain)
        + ' ")\\n(:objects\\n" objects'
        ' ")\\n(:init\\n" init ")\\n(:goal\\n(and\\n" goal "))\\n" metric ")"',
        "ident ::= [a-zA-Z] [a-zA-Z0-9_-]*",
        f"obj ::= {_alt([_lit(o) for o in objects])}" if objects else "obj ::= ident",
        f"atom ::= {_alt(atoms)}",
        "goal ::= " + _upto('literal "\\n"', limit.goal, least=1),
        'literal ::= atom | "(not " atom ")"',  # termes: no block may be left held
        "metric ::= " + (_lit("(:metric minimize (total-cost))\n") if vocab.action_costs else '""'),
    ]
    if vocab.types:
        line = "obj " + _upto('" " obj', limit.objects) + ' " - " type "\\n"'
        rules.append("objects ::= " + _upto(line, len(vocab.types), least=1))
        rules.append(f"type ::= {_alt([_lit(t) for t in vocab.types])}")
    else:
        rules.append("objects ::= obj " + _upto('" " obj', limit.objects) + ' "\\n"')
    facts = ["atom"]
    if vocab.functions:
        values = [
            _lit("(= (" + name) + ' " " obj' * arity + ' ") " number ")"'
            for name, arity in vocab.functions
        ]
        rules.append(f"value ::= {_alt(values)}")
        rules.append('number ::= "0" | [1-9] [0-9]* ("." [0-9]+)?')
        facts.append("value")
    start = _lit("(= (total-cost) 0)\n") + " " if vocab.action_costs else ""
    rules.append(f"init ::= {start}" + _upto(f'({_alt(facts)}) "\\n"', limit.init))
    return "\n".join(rules) + "\n"


def plan_grammar(
    vocab: Vocabulary, objects: list[str] | None = None, steps: int | None = None
) -> str:
    """EBNF of a plan: `(action arg ...)` lines (at most `steps`), each a domain action with its arity."""
    actions = [_lit("(" + name) + ' " " obj' * arity + ' ")"' for name, arity in vocab.actions]
    obj = _alt([_lit(o) for o in objects]) if objects else "[a-zA-Z] [a-zA-Z0-9_-]*"
    root = "root ::= " + _upto('step "\\n"', steps, least=1)
    return f"{root}\nstep ::= {_alt(actions)}\nobj ::= {obj}\n"


def token_budget(text: str, domain: PlanningDomain, factor: float, cap: int) -> int:
    """Tokens a translation of `text` may take: `factor` times the example's PDDL-to-English length
    ratio, at ~2.5 characters per PDDL token, plus 64; at most `cap` (without an example: `cap`)."""
    if not (domain.example_nl and domain.example_pddl):
        return cap
    ratio = len(domain.example_pddl) / len(domain.example_nl)
    return max(64, min(cap, int(factor * ratio * len(text) / 2.5) + 64))


# ---------------------------------------------------------------- the stepwise translation's grammars


def _ancestors(kind: str | None, parents: dict[str, str | None], root: bool = True) -> set[str]:
    """The type and its ancestors; with `root`, PDDL's `object` too (off where the domain declares a
    type named `object` of its own: grippers' balls, which a robot is not)."""
    seen: set[str] = {"object"} if root else set()
    while kind is not None and kind not in seen:
        seen.add(kind)
        kind = parents.get(kind)
    return seen


def fitting(vocab: Vocabulary, objects: list[tuple[str, str | None]], kind: str) -> list[str]:
    """The objects (and the domain's constants) an argument of type `kind` may take ('' untyped: all)."""
    parents = dict(vocab.parents)
    root = "object" not in parents  # grippers declares `object` as one of its types
    fit = [
        name
        for name, own in objects
        if not kind or own is None or kind in _ancestors(own.lower(), parents, root)
    ]
    return list(dict.fromkeys([*fit, *vocab.constants]))


def fact_grammar(
    vocab: Vocabulary,
    objects: list[tuple[str, str | None]],
    most: int,
    *,
    negation: bool = False,
    numbers: tuple[str, ...] = (),
) -> str:
    """EBNF of the facts one sentence states: `none`, or 1..`most` facts, one per line, each a
    predicate of the domain whose arguments are declared objects of the parameter's type (and, with
    `negation`, `(not ...)` of one; with `numbers`, the numeric functions set to one of them)."""
    rules, atoms, names = [], [], {}
    signatures = dict(vocab.signatures)
    for pred, arity in vocab.predicates:
        kinds = signatures.get(pred, ("",) * arity)
        parts = []
        for kind in kinds:
            fit = fitting(vocab, objects, kind)
            if not fit:
                break
            parts.append(names.setdefault(tuple(fit), f"o{len(names)}"))
        else:
            atoms.append(_lit("(" + pred) + "".join(f' " " {p}' for p in parts) + ' ")"')
    everyone = [name for name, _ in objects] + list(vocab.constants)
    if numbers and everyone and vocab.functions:
        any_obj = names.setdefault(tuple(dict.fromkeys(everyone)), f"o{len(names)}")
        rules.append(f"number ::= {_alt([_lit(n) for n in numbers])}")
        for name, arity in vocab.functions:
            atoms.append(_lit("(= (" + name) + f' " " {any_obj}' * arity + ' ") " number ")"')
    if not atoms:
        return 'root ::= "none"\n'
    rules += [f"{rule} ::= {_alt([_lit(o) for o in fit])}" for fit, rule in names.items()]
    rules.append(f"atom ::= {_alt(atoms)}")
    fact = 'atom | "(not " atom ")"' if negation else "atom"
    head = f'root ::= "none" | fact ("\\n" fact){{0,{max(0, most - 1)}}}\nfact ::= {fact}'
    return head + "\n" + "\n".join(rules) + "\n"


def objects_grammar(kinds: list[str | None], candidates: list[str], most: int) -> str:
    """EBNF of a problem's objects: one line per type in `kinds` (None: untyped), each 1..`most`
    names among `candidates` then ` - type`."""
    obj = _alt([_lit(c) for c in candidates])
    lines = []
    for kind in kinds:
        tail = f' " - " {_lit(kind)}' if kind else ""
        lines.append(f'obj (" " obj){{0,{max(0, most - 1)}}}{tail}')
    root = ' "\\n" '.join(f"({line})" for line in lines)
    return f"root ::= {root}\nobj ::= {obj}\n"
