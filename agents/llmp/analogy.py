"""A sentence that is one of the example's sentences with other names is translated by renaming the example's facts: a translation memory for the stepwise translation, no model call.

"The first ingredient of cocktail2 is ingredient2." has the words of the example's "The first
ingredient of cocktail1 is ingredient3." with other numbers; the example states
`(cocktail-part1 cocktail1 ingredient3)` there, so this sentence states
`(cocktail-part1 cocktail2 ingredient2)`: each name the example sentence uses is replaced by the name
in the same place of this one. A sentence whose example states its facts by a rule (a loop,
programs.py) gets the example's program run over this problem's objects, its named constants
renamed the same way. The transfer is taken only when it is exact:
- the two sentences have the same words once numbers are `#` and a run of one word is one (same
  part: init or goal);
- the names map one to one (a rule that names none of its sentence's objects needs no map: a grid
  of another size, and a sentence that states no fact needs none; a list of another length whose
  example states one fact per name gets that fact per name), and for facts stated one by one the
  sentences' other numbers are equal
  (`the height at pos-1-2 is 3` is not `... is 1` with other names: its facts name n3, not n1);
- every fact's objects are declared and fit their parameter's type.
Anything else (another wording, a paraphrase, a problem the example's English does not cover) is
the model's decision, as before. Nothing here names a domain: the example is the domain's one input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ratiocinator.agents.llmp.consistency import contradictions, pattern
from ratiocinator.agents.llmp.domain import Vocabulary
from ratiocinator.agents.llmp.example import Example
from ratiocinator.agents.llmp.facts import Fact
from ratiocinator.agents.llmp.grammar import fitting
from ratiocinator.agents.llmp.programs import object_lists, program_errors, run_program
from ratiocinator.agents.llmp.sentences import Aligned, Sentence, words

_NUMBER = re.compile(r"(?<![\w-])\d+(?![\w-])")


@dataclass(frozen=True)
class Transfer:
    """The facts a sentence states by analogy, and the example sentence they were renamed from."""

    facts: tuple[Fact, ...]
    source: str  # the example sentence
    renamed: tuple[tuple[str, str], ...]  # (the example's name, this sentence's name)
    program: str = ""  # the example's rule as run for this problem ('' when its facts were renamed)


def _key(text: str, kinds: dict[str, str | None]) -> tuple[str, ...]:
    """The sentence's words with numbers as `#` and a name with no number as its type (`tile_1-2 is
    black` is `tile_#-# is white` with other names), a run of the same word once (a grid's rows of any
    size, a list of names of any length)."""
    out: list[str] = []
    for w in words(text):
        w = f"<{kinds[w]}>" if w in kinds and not re.search(r"\d", w) else re.sub(r"\d+", "#", w)
        if not out or out[-1] != w:
            out.append(w)
    return tuple(out)


def _mapping(theirs: list[str], mine: list[str]) -> dict[str, str] | None:
    """The example's names onto this sentence's, place by place; None unless one to one."""
    if len(theirs) != len(mine):
        return None
    out: dict[str, str] = {}
    for a, b in zip(theirs, mine, strict=True):
        if out.setdefault(a, b) != b:
            return None
    return out if len(set(out.values())) == len(out) else None


def _per_name(facts: tuple[Fact, ...], theirs: list[str], mine: list[str]) -> list[Fact] | None:
    """For a list of names of another length (`a b c are clear` beside `d e are clear`): when the
    example's facts are one fact per name of its sentence, each with that name in one place and the
    same other arguments, the same fact for each name of this sentence; else None."""
    if not facts or not mine or len(set(theirs)) != len(theirs) or len(set(mine)) != len(mine):
        return None
    first = facts[0]
    for place in range(len(first.args)):
        rest = first.args[:place] + first.args[place + 1 :]
        same = all(f.pred == first.pred and f.negated == first.negated and f.value == first.value
                   and f.args[:place] + f.args[place + 1 :] == rest for f in facts)
        if same and sorted(f.args[place] for f in facts) == sorted(theirs) and not set(rest) & set(theirs):
            return [Fact(first.pred, (*first.args[:place], n, *first.args[place + 1 :]), first.negated, first.value)
                    for n in mine]
    return None


def _fits(facts: list[Fact], vocab: Vocabulary, objects: list[tuple[str, str | None]]) -> bool:
    """Every fact a predicate of the domain over declared objects of its parameters' types."""
    if program_errors(facts, vocab, [n for n, _ in objects]):
        return False
    signatures = dict(vocab.signatures)
    for fact in facts:
        kinds = signatures.get(fact.pred, ("",) * len(fact.args))
        if any(a not in fitting(vocab, objects, k) for a, k in zip(fact.args, kinds, strict=True)):
            return False
    return True


def _values(
    constants: set[str], theirs: list[str], mine: list[str], values: set[str], declared: set[str]
) -> dict[str, str] | None:
    """The example's named values onto this sentence's: a constant whose number is the example
    sentence's k-th stated number (`n1` for `... is 1`) becomes the name of its kind with this
    sentence's k-th number (`n3` for `... is 3`), where that name is declared; {} when no constant is
    a stated number; None where one is and has no such counterpart (another count of numbers, a
    number stated twice with two counterparts, an undeclared name)."""
    out: dict[str, str] = {}
    for c in constants:
        digits = re.findall(r"\d+", c)
        if pattern(c) not in values or not set(digits) & set(theirs):
            continue
        if len(theirs) != len(mine) or len(digits) != 1:
            return None
        new = {mine[k] for k, n in enumerate(theirs) if n == digits[0]}
        name = pattern(c).replace("#", new.pop()) if len(new) == 1 else ""
        if name not in declared:
            return None
        out[c] = name
    return out if len(set(out.values())) == len(out) else None


def transfer(
    sentence: Sentence, example: Example, objects: list[tuple[str, str | None]], vocab: Vocabulary
) -> Transfer | None:
    """The sentence's facts renamed from the example sentence of the same words, or None (see the
    module's conditions); a sentence that repeats the clause of such an example sentence (`the height
    at pos-2-1 is 3, the height at pos-3-0 is 3`) takes each clause's facts, merged (`_clauses`)."""
    found = _one(sentence.text, sentence.goal, example, objects, vocab)
    return found if found is not None else _clauses(sentence, example, objects, vocab)


def _one(
    text: str, goal: bool, example: Example, objects: list[tuple[str, str | None]], vocab: Vocabulary
) -> Transfer | None:
    """One sentence's transfer from the example sentence with its words, or None."""
    key, theirs_kinds = _key(text, dict(objects)), dict(example.objects)
    match: Aligned | None = next(
        (a for a in example.aligned if a.sentence.goal == goal and _key(a.sentence.text, theirs_kinds) == key),
        None,
    )
    if match is None:
        return None
    theirs = {n for n, _ in example.objects}
    declared = {n for n, _ in objects}
    named = [w for w in words(match.sentence.text) if w in theirs]
    renamed = _mapping(named, [w for w in words(text) if w in declared])
    program, loops = dict(zip(example.aligned, example.programs, strict=True)).get(match, ("", False))
    if renamed is None and (not match.facts or (loops and not any(repr(n) in program for n in named))):
        # no fact to rename (a map's header), or a rule over lists that names nothing of its sentence
        # (a grid of another size): no map is needed
        renamed = {}
    if renamed is None:
        listed = _per_name(match.facts, named, [w for w in words(text) if w in declared])
        if listed is None or not _fits(listed, vocab, objects):
            return None
        return Transfer(tuple(dict.fromkeys(listed)), match.sentence.text, ())
    stated, mine = _NUMBER.findall(match.sentence.text), _NUMBER.findall(text)
    values = {p for p, _, _ in example.highest}  # kinds whose numbers are values the text states
    if loops:
        constants = set(re.findall(r"'([^']*)'", program)) - set(renamed)
    else:
        constants = {a for f in match.facts for a in f.args} - set(renamed)
    valued = _values(constants, stated, mine, values, declared) if stated != mine else {}
    if valued is None or (not loops and match.facts and stated != mine and not valued):
        return None  # a stated number with no counterpart here (`is 1` named n1: which is `is 3`'s?)
    renamed = {**renamed, **valued}
    if loops:
        code = program
        for a, b in renamed.items():
            code = code.replace(repr(a), repr(b))
        facts, error = run_program(code, object_lists(objects))
        if error:
            return None
    else:
        facts = [Fact(f.pred, tuple(renamed.get(a, a) for a in f.args), f.negated, f.value) for f in match.facts]
        code = ""
    if not _fits(facts, vocab, objects):
        return None
    return Transfer(tuple(dict.fromkeys(facts)), match.sentence.text, tuple(renamed.items()), code)


_CLAUSE = re.compile(r"\s*[,;]\s*(?:and\s+)?|\s+and\s+")


def _clauses(
    sentence: Sentence, example: Example, objects: list[tuple[str, str | None]], vocab: Vocabulary
) -> Transfer | None:
    """A sentence that is an example sentence followed by more of its last clause ("so that the
    height at pos-2-1 is 3, the height at pos-3-0 is 3" beside the example's "so that the height at
    pos-1-1 is 1"): each clause, read with the first clause's words before it, transfers from the
    same example sentence; the facts all clauses share, and each clause's own facts (those naming
    what only its own map names: `(height pos-2-1 n3)`, not the rule's default for pos-2-1 that the
    other clause states), are the sentence's. None unless every clause transfers and no two facts give
    a function-like predicate two values."""
    parts = [p for p in _CLAUSE.split(sentence.text.strip().rstrip(".")) if p]
    head = words(parts[0])
    copies: list[Transfer] = []
    for part in parts[1:] if len(parts) > 1 else []:
        tail = words(part)
        if not 0 < len(tail) < len(head):
            return None
        found = _one(" ".join(head[: len(head) - len(tail)] + tail), sentence.goal, example, objects, vocab)
        if found is None:
            return None
        copies.append(found)
    first = _one(parts[0], sentence.goal, example, objects, vocab) if copies else None
    if first is None or any(c.source != first.source for c in copies):
        return None
    copies.insert(0, first)
    common = set.intersection(*(set(c.facts) for c in copies))
    shared = set.intersection(*({b for _, b in c.renamed} for c in copies))
    facts = [f for f in first.facts if f in common]
    for c in copies:
        own = {b for _, b in c.renamed} - shared
        facts += [f for f in c.facts if f not in common and set(f.args) & own]
    if contradictions(facts, set(example.functional)):
        return None
    return Transfer(tuple(dict.fromkeys(facts)), first.source, tuple(p for c in copies for p in c.renamed))
