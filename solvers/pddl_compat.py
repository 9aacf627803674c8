"""Sound rewrites of PDDL that Fast Downward accepts but unified-planning's reader does not.

Only rewrites that keep the planning task the same are made, and each is reported in a note:

- `(either A B)` as the type of a *predicate* argument becomes `object`: predicate argument types
  only constrain how the file is written, not which plans are valid. (In action parameters it would
  widen the set of groundings, so it is left alone and the parser's error stands.)
- A type declared twice (storage: `area - object` then `area - surface`) keeps its specific parent,
  as Fast Downward reads it.
- A name that the domain uses but only the problem declares (tyreworld's `wrench`, LLM+P's files)
  becomes a domain constant of the same type, and leaves the problem's `:objects`.
"""

from __future__ import annotations

import re

_PREDICATES = re.compile(r"\(\s*:predicates\b", re.I)
_EITHER = re.compile(r"\(\s*either(\s+[^\s()]+)+\s*\)", re.I)


def _block_end(text: str, start: int) -> int:
    """Index just past the parenthesis that closes the one opened at `start`."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def either_in_predicates(domain: str) -> tuple[str, list[str]]:
    """Replace `(either ...)` argument types inside `(:predicates ...)` with `object`."""
    found = _PREDICATES.search(domain)
    if not found:
        return domain, []
    end = _block_end(domain, found.start())
    block = domain[found.start():end]
    new_block, count = _EITHER.subn("object", block)
    if not count:
        return domain, []
    note = f"{count} '(either ...)' predicate argument type(s) read as 'object' (same task)"
    return domain[: found.start()] + new_block + domain[end:], [note]


def duplicate_types(domain: str) -> tuple[str, list[str]]:
    """Declare each type once in `(:types ...)`, keeping a parent other than `object` when there is one."""
    found = re.search(r"\(\s*:types\b", domain, re.I)
    if not found:
        return domain, []
    end = _block_end(domain, found.start())
    pairs = _typed_list(re.sub(r";[^\n]*", "", domain[found.end():end - 1]))
    names = [n.lower() for n, _ in pairs]
    if len(set(names)) == len(names) or any("(" in n for n in names):
        return domain, []
    parents: dict[str, str | None] = {}
    for name, parent in pairs:
        known = parents.get(name)
        if name not in parents or known is None or known.lower() == "object":
            parents[name] = parent
    body = " ".join(n + (f" - {t}" if t else "") for n, t in parents.items())
    note = "types declared twice: " + ", ".join(sorted({n for n in names if names.count(n) > 1}))
    return f"{domain[:found.start()]}(:types {body})\n{domain[end:]}", [note]


def normalize(domain: str) -> tuple[str, list[str]]:
    """The text rewrites of a domain that need no parse (either in predicates, duplicate types)."""
    domain, notes = either_in_predicates(domain)
    domain, more = duplicate_types(domain)
    return domain, notes + more


def _typed_list(body: str) -> list[tuple[str, str | None]]:
    """`a b - t c - u d` -> [(a, t), (b, t), (c, u), (d, None)]."""
    tokens, out, pending = body.split(), [], []
    i = 0
    while i < len(tokens):
        if tokens[i] == "-" and i + 1 < len(tokens):
            out += [(name, tokens[i + 1]) for name in pending]
            pending = []
            i += 2
            continue
        pending.append(tokens[i])
        i += 1
    return out + [(name, None) for name in pending]


def problem_objects(problem: str) -> list[tuple[str, str | None]]:
    """The (name, type) pairs of the problem's `(:objects ...)`, in order."""
    found = re.search(r"\(\s*:objects\b", problem, re.I)
    if not found:
        return []
    end = _block_end(problem, found.start())
    body = re.sub(r";[^\n]*", "", problem[found.end():end - 1])
    return _typed_list(body)


def promote_to_constant(domain: str, problem: str, name: str) -> tuple[str, str, list[str]] | None:
    """Move the problem object `name` into the domain's constants; None if the problem lacks it."""
    objects = problem_objects(problem)
    match = [(n, t) for n, t in objects if n.lower() == name.lower()]
    if not match:
        return None
    decl = match[0][0] + (f" - {match[0][1]}" if match[0][1] else "")
    consts = re.search(r"\(\s*:constants\b", domain, re.I)
    if consts:
        domain = f"{domain[:consts.end()]} {decl}{domain[consts.end():]}"
    else:
        anchor = _PREDICATES.search(domain)
        if anchor is None:
            return None
        domain = f"{domain[:anchor.start()]}(:constants {decl})\n{domain[anchor.start():]}"
    kept = [(n, t) for n, t in objects if n.lower() != name.lower()]
    found = re.search(r"\(\s*:objects\b", problem, re.I)
    assert found is not None
    end = _block_end(problem, found.start())
    body = " ".join(n + (f" - {t}" if t else "") for n, t in kept)
    problem = f"{problem[:found.start()]}(:objects {body})\n{problem[end:]}"
    return domain, problem, [f"'{name}' is used by the domain but declared in the problem: read as a domain constant"]
