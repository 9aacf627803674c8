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

from ratiocinator.agents.llmp.consistency import pattern
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


def _key(text: str) -> tuple[str, ...]:
    """The sentence's words with numbers as `#`, a run of the same word once (a grid's rows of any
    size, a list of names of any length)."""
    out: list[str] = []
    for w in words(text):
        w = re.sub(r"\d+", "#", w)
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


def transfer(
    sentence: Sentence, example: Example, objects: list[tuple[str, str | None]], vocab: Vocabulary
) -> Transfer | None:
    """The sentence's facts renamed from the example sentence of the same words, or None (see the
    module's conditions)."""
    key = _key(sentence.text)
    match: Aligned | None = next(
        (a for a in example.aligned if a.sentence.goal == sentence.goal and _key(a.sentence.text) == key), None
    )
    if match is None:
        return None
    theirs = {n for n, _ in example.objects}
    declared = {n for n, _ in objects}
    named = [w for w in words(match.sentence.text) if w in theirs]
    renamed = _mapping(named, [w for w in words(sentence.text) if w in declared])
    program, loops = dict(zip(example.aligned, example.programs, strict=True)).get(match, ("", False))
    if renamed is None and (not match.facts or (loops and not any(repr(n) in program for n in named))):
        # no fact to rename (a map's header), or a rule over lists that names nothing of its sentence
        # (a grid of another size): no map is needed
        renamed = {}
    if renamed is None:
        listed = _per_name(match.facts, named, [w for w in words(sentence.text) if w in declared])
        if listed is None or not _fits(listed, vocab, objects):
            return None
        return Transfer(tuple(dict.fromkeys(listed)), match.sentence.text, ())
    if loops:
        stated = set(_NUMBER.findall(match.sentence.text))
        values = {p for p, _, _ in example.highest}  # kinds whose numbers are values the text states
        constants = {n for n in re.findall(r"'([^']*)'", program) if pattern(n) in values} - set(renamed)
        if stated != set(_NUMBER.findall(sentence.text)) and any(
            set(re.findall(r"\d+", c)) & stated for c in constants
        ):
            return None  # a constant is the value the sentence states (n1 for `is 1`): not this one's
        code = program
        for a, b in renamed.items():
            code = code.replace(repr(a), repr(b))
        facts, error = run_program(code, object_lists(objects))
        if error:
            return None
    else:
        if match.facts and _NUMBER.findall(match.sentence.text) != _NUMBER.findall(sentence.text):
            return None
        facts = [Fact(f.pred, tuple(renamed.get(a, a) for a in f.args), f.negated, f.value) for f in match.facts]
        code = ""
    if not _fits(facts, vocab, objects):
        return None
    return Transfer(tuple(dict.fromkeys(facts)), match.sentence.text, tuple(renamed.items()), code)
