"""Sentences that state many facts (the grippers are free, the hubs are fastened, a grid's adjacency) as short programs: the example's written as loops, the model's run in the sandbox, what they print read as facts and checked.

A 0.5B model copies a list of facts badly when the new problem has more objects than the example,
and often answers `none` to a sentence that names no object. A coder model copies a loop well. So:
- `synthesize` writes each example sentence's facts as a program over the example's object lists
  (`for a in robot: for b in gripper: if same(a, b): fact("free", a, b)`), by trying, per predicate,
  each argument constant or ranging over a list of objects (a type, or a name pattern: `depotN_N_N`
  for depot48-1-1) and a filter among the helpers (none, `same` numbers, `next_to` on a grid,
  numbers at an `offset` (1 for successive levels), `differ`ent); a rule is kept only when it prints exactly the example's facts
  (else the facts are written one `fact(...)` line each);
- `object_lists` are the lists a program sees, for the example's objects or the problem's;
- `run_program` runs the model's program after the lists and helpers, in the sandbox
  (selection/sandbox.py; generated code runs nowhere else), and reads what it prints as facts;
  `program_errors` checks them against the domain (predicates, arities, declared objects).
Nothing here knows a domain: the lists, rules and helpers come from the example and the names.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

from ratiocinator.agents.llmp.consistency import pattern
from ratiocinator.agents.llmp.domain import Vocabulary
from ratiocinator.agents.llmp.facts import Fact, read_facts

#: the helpers every program may use, defined before it (shown to the model through the examples)
PRELUDE = '''import re
def num(x):
    return tuple(int(n) for n in re.findall(r"\\d+", x))
def same(a, b):
    return num(a) == num(b)
def next_to(a, b):
    p, q = num(a), num(b)
    return len(p) == len(q) and sorted(abs(i - j) for i, j in zip(p, q))[-1:] == [1] and sum(abs(i - j) for i, j in zip(p, q)) == 1
def offset(a, b):
    return tuple(j - i for i, j in zip(num(a), num(b)))
def differ(a, b):
    return a != b
def fact(*words):
    print("(" + " ".join(words) + ")")
'''
FILTERS = ("same", "next_to", "offset", "differ")
#: loops over more ranging arguments than this are not tried
MOST_RANGING = 2


def _num(x: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", x))


def _offset(a: str, b: str) -> tuple[int, ...]:
    return tuple(j - i for i, j in zip(_num(a), _num(b), strict=False))


def _holds(name: str, a: str, b: str, step: tuple[int, ...]) -> bool:
    """The PRELUDE helper `name` on a and b, in process (for synthesis over the example's own names)."""
    p, q = _num(a), _num(b)
    if name == "same":
        return p == q
    if name == "next_to":
        return len(p) == len(q) and sum(abs(i - j) for i, j in zip(p, q, strict=True)) == 1
    if name == "offset":
        return len(p) == len(q) > 0 and _offset(a, b) == step
    return a != b


def _ident(text: str) -> str:
    name = re.sub(r"\W+", "_", text.replace("#", "N")).strip("_") or "objects"
    return name if name[0].isalpha() else "o_" + name


def object_lists(objects: list[tuple[str, str | None]]) -> dict[str, list[str]]:
    """The lists a program sees: one per type, and one per numbered name pattern (`depotN_N_N`)."""
    out: dict[str, list[str]] = {}
    for name, kind in objects:
        if kind:
            out.setdefault(_ident(kind), []).append(name)
    for name, _ in objects:
        pat = pattern(name)
        if "#" in pat and _ident(pat) not in out:
            out.setdefault("_" + _ident(pat), []).append(name)
    # pattern lists after the types; a pattern list equal to a type list is left out
    types = [v for k, v in out.items() if not k.startswith("_")]
    return {k.lstrip("_"): v for k, v in out.items() if not (k.startswith("_") and v in types)}


def lists_text(lists: dict[str, list[str]]) -> str:
    """The lists as Python assignments, one per line."""
    return "\n".join(f"{k} = {v!r}" for k, v in lists.items())


def _list_for(values: set[str], lists: dict[str, list[str]]) -> str | None:
    """The smallest list holding all `values` (one equal to them first), or two lists that together
    are exactly them (`crate + container_N_N`)."""
    holding = [k for k, v in lists.items() if values <= set(v)]
    if holding:
        return min(holding, key=lambda k: (set(lists[k]) != values, len(lists[k])))
    inside = [k for k, v in lists.items() if set(v) <= values]
    pairs = [f"{a} + {b}" for a, b in itertools.combinations(inside, 2)
             if set(lists[a]) | set(lists[b]) == values and not set(lists[a]) & set(lists[b])]
    return pairs[0] if pairs else None


def _members(name: str, lists: dict[str, list[str]]) -> list[str]:
    return [x for part in name.split(" + ") for x in lists[part]]


def _except(group: list[Fact], lists: dict[str, list[str]]) -> str | None:
    """A loop over a whole list that gives each object one value but one object another (every
    height n0 but pos-1-1's n1), for two-place facts of one predicate; None when the group is not so."""
    if len(group[0].args) != 2 or len(group) < 3:
        return None
    keys = [f.args[0] for f in group]
    over = _list_for(set(keys), lists)
    if over is None or " + " in over or sorted(lists[over]) != sorted(keys):
        return None
    values = [f.args[1] for f in group]
    common = max(set(values), key=values.count)
    odd = [f for f in group if f.args[1] != common]
    if len(odd) != 1:
        return None
    (one,) = odd
    return (f"for a in {over}:\n    fact({group[0].pred!r}, a, {one.args[1]!r} if a == {one.args[0]!r} "
            f"else {common!r})")


def _rule(group: list[Fact], lists: dict[str, list[str]]) -> str | None:
    """A loop that prints exactly this group's facts (one predicate), or None."""
    arity = len(group[0].args)
    columns = [{f.args[j] for f in group} for j in range(arity)]
    ranging = [j for j in range(arity) if len(columns[j]) > 1]
    if not ranging or len(ranging) > MOST_RANGING:
        return None
    over = [_list_for(columns[j], lists) for j in ranging]
    if None in over:
        return None
    want = {f.args for f in group}
    variables = "abcd"
    first = [group[0].args[j] for j in ranging]
    step = _offset(*first) if len(first) == 2 else ()
    for filt in (None, *FILTERS):
        if filt is not None and len(ranging) != 2:
            continue
        made = set()
        for combo in itertools.product(*(_members(k, lists) for k in over)):  # type: ignore[arg-type]
            if filt is not None and not _holds(filt, *combo, step):
                continue
            args = [next(iter(columns[j])) for j in range(arity)]
            for j, value in zip(ranging, combo, strict=True):
                args[j] = value
            made.add(tuple(args))
        if made == want:
            test = f"offset(a, b) == {step!r}" if filt == "offset" else filt and f"{filt}(a, b)"
            return _loop(group[0].pred, arity, ranging, over, test, columns, variables)  # type: ignore[arg-type]
    return None


def _loop(pred: str, arity: int, ranging: list[int], over: list[str], filt: str | None,
          columns: list[set[str]], variables: str) -> str:
    lines, indent = [], ""
    for n, name in enumerate(over):
        lines.append(f"{indent}for {variables[n]} in {name}:")
        indent += "    "
    if filt is not None:
        lines.append(f"{indent}if {filt}:")
        indent += "    "
    args = [variables[ranging.index(j)] if j in ranging else repr(next(iter(columns[j])))
            for j in range(arity)]
    lines.append(f"{indent}fact({', '.join([repr(pred), *args])})")
    return "\n".join(lines)


def _literal(fact: Fact) -> str:
    return f"fact({', '.join(repr(w) for w in (fact.pred, *fact.args))})"


def synthesize(
    facts: tuple[Fact, ...], lists: dict[str, list[str]], said: frozenset[str] = frozenset()
) -> tuple[str, bool]:
    """The program of one example sentence's facts, and whether it loops (True: a rule was found);
    `said`: the sentence's words (a fact naming them is a statement, never a one-fact rule)."""
    groups: dict[str, list[Fact]] = {}
    negated = []
    for fact in facts:
        if fact.value is not None:
            return "", False
        if fact.negated:  # written as it is: a goal's `(not (has-block))`
            negated.append(f"print({str(fact)!r})")
            continue
        groups.setdefault(fact.pred, []).append(fact)
    parts, loops = [], False
    for whole in groups.values():
        alone = len(whole) == 1 and not said & set(whole[0].args)
        rule = _rule(whole, lists) if len(whole) > 1 else _successor(whole[0], lists) if alone else None
        rule = rule or _except(whole, lists)
        # else by the shapes of the arguments (loadarea to container-0-0, and back)
        split = [whole] if rule else _by_shape(whole)
        for group in split:
            rule = rule or (_rule(group, lists) if len(group) > 1 and len(split) > 1 else None)
            loops |= rule is not None
            parts.append(rule if rule else "\n".join(_literal(f) for f in group))
            rule = None
    return "\n".join(parts + negated), loops


def _successor(fact: Fact, lists: dict[str, list[str]]) -> str | None:
    """A loop for one fact relating two numbered objects of one list by a step (`(succ n1 n0)` over
    n0 n1: each number and the one before it), kept only when over the example's list it prints
    exactly that fact; else None. One fact is a rule only so: a chain of successors is what a
    one-shot example of two levels can show of a chain of any length."""
    if len(fact.args) != 2 or fact.args[0] == fact.args[1]:
        return None
    a, b = fact.args
    if pattern(a) != pattern(b) or pattern(a).count("#") != 1:
        return None
    over = _list_for({a, b}, lists)
    if over is None or " + " in over or len(lists[over]) < 2:
        return None
    step = _offset(a, b)
    made = {(x, y) for x in lists[over] for y in lists[over] if _offset(x, y) == step}
    if made != {(a, b)} or sorted(map(abs, step)) != [1]:
        return None
    return _loop(fact.pred, 2, [0, 1], [over, over], f"offset(a, b) == {step!r}", [{a}, {b}], "abcd")


def _by_shape(group: list[Fact]) -> list[list[Fact]]:
    """A predicate's facts grouped by the name patterns of their arguments."""
    out: dict[tuple[str, ...], list[Fact]] = {}
    for fact in group:
        out.setdefault(tuple(map(pattern, fact.args)), []).append(fact)
    return list(out.values())


def strip_fence(text: str) -> str:
    """A program without the Markdown fence a chat model may put around it."""
    found = re.search(r"```(?:python)?\n(.*?)(?:```|$)", text, re.S)
    return (found.group(1) if found else text).strip()


@functools.cache
def _sandbox() -> Any:
    from ratiocinator.selection.sandbox import Sandbox

    return Sandbox()


def run_program(code: str, lists: dict[str, list[str]], timeout: float = 5.0) -> tuple[list[Fact], str]:
    """Run a program in the sandbox after the helpers and the lists: the facts it printed, or ''
    and the error in one line."""
    from ratiocinator.selection.sandbox import Job

    source = PRELUDE + lists_text(lists) + "\n" + code
    (result,) = _sandbox().run_batch([Job(setup=source, timeout=timeout)])
    if not result.ok:
        why = (result.setup_error or result.stderr or "it did not finish").strip().splitlines()
        return [], "the program failed: " + (why[-1] if why else "timeout")
    return list(dict.fromkeys(read_facts(result.stdout))), ""


def program_errors(facts: list[Fact], vocab: Vocabulary, objects: list[str]) -> str:
    """What is wrong with a program's facts: an unknown predicate, a wrong arity, an undeclared object."""
    arity = dict(vocab.predicates)
    declared = set(objects)
    for fact in facts:
        if fact.pred not in arity:
            return f"{fact} uses {fact.pred}, which is no predicate of the domain"
        if arity[fact.pred] != len(fact.args):
            return f"{fact} gives {fact.pred} {len(fact.args)} objects, not {arity[fact.pred]}"
        unknown = [a for a in fact.args if a not in declared]
        if unknown:
            return f"{fact} names {unknown[0]}, which is not an object of the problem"
    return ""
