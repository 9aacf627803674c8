"""The objects the model declared, grounded in the text: every name the text uses declared, every kind the text counts as many as it says, each name typed as the example types its kind.

The objects step's answer is the model's decision where the text leaves it open (barman's hands,
grippers' grippers); where the text is explicit it is corrected, and each correction said:
- a name the text uses (b4, room3) and the answer lacks is declared; so is a word the text joins by
  `or`/`and` to a declared object (`white or black`: black is a color too);
- a kind the example's English counts (`5 blocks` for b1..b5, `2 flat tyres` for w1 w2; learned
  by consistency.count_words) gets as many objects as the text's number before that word: the ones
  the text names first, then those the model declared, then new ones numbered as the example
  numbers them (from 0 or 1); extra ones are dropped;
- a name of a kind that the example declares with one type gets that type (`room4 - robot` is a room);
- a name that neither the example's kinds nor the text has (`robot` beside robot1 robot2) is dropped
  (the text has `black` of `white or black`, and `soup can` for soup-can), and so is one of a kind
  the example's English lists every object of by name (tile_0-5 where the text lists tile_0-1 ..
  tile_5-4);
- a kind numbered up to a number the example states in a sentence of its own (n0 n1 for `The maximum
  height of blocks is 1.`) gets the numbers up to the one the text's sentence of that shape states;
- a kind the text does not count but whose numbers in the example are those of a counted kind
  (rgripper1 rgripper2 beside robot1 robot2) gets the counted kind's numbers, when the model
  declared one of it (`linked`).
"""

from __future__ import annotations

import re

from ratiocinator.agents.llmp.consistency import pattern, said_counts
from ratiocinator.agents.llmp.objects import named_objects


def _index(name: str) -> int:
    found = re.search(r"\d+", name)
    return int(found.group(0)) if found else -1


def said_in(name: str, text: str) -> bool:
    """Whether the text uses the name as a word (`black`) or spaced (`soup-can` as `soup can`)."""
    spaced = re.escape(re.sub(r"[-_]+", " ", name)).replace(r"\ ", r"[\s_-]+")
    return re.search(rf"(?<![\w-]){spaced}(?![\w-])", text, re.I) is not None


_WORDS = r"[a-z][a-z0-9_-]*"


def coordinated(
    text: str, declared: dict[str, str | None], kind_names: set[str]
) -> dict[str, tuple[str, str | None]]:
    """Words the text joins by `or`/`and` to a declared object without a number, ending a clause
    (`white or black.`), that are not declared, not a kind's word and not numbered: each with the
    object it stands beside and that object's type (`black`: a color like `white`). A word followed
    by a noun (`wrench and intact tyres`) is not taken: it describes the noun."""
    plain = {n: k for n, k in declared.items() if not re.search(r"\d", n)}
    out: dict[str, tuple[str, str | None]] = {}
    low = text.lower()
    for name, kind in plain.items():
        spaced = re.escape(name)
        after = re.finditer(rf"(?<![\w-]){spaced}\s+(?:or|and)\s+({_WORDS})(?=\s*(?:[.,;:]|$))", low, re.M)
        before = re.finditer(rf"(?<![\w-])({_WORDS})\s+(?:or|and)\s+{spaced}(?=\s*(?:[.,;:]|$))", low, re.M)
        for found in [*after, *before]:
            word = found.group(1)
            if (word not in declared and word not in kind_names and not re.search(r"\d", word)
                    and word not in _NOT_OBJECTS):
                out.setdefault(word, (name, kind))
    return out


#: words that join or qualify, never objects
_NOT_OBJECTS = frozenset("a an the all each every both either neither not no none some any it them".split())


def _counted(
    pat: str, want: int, have: list[str], named: list[str], example: list[str]
) -> list[str]:
    """`want` names of pattern `pat` (in number order): the text's first, then the model's (by
    number), then new ones; where the text names none of them, numbered from the example's first
    number on (the 1.5B declared r1 r2 r3 r5 ... r10 for 9 intact tyres)."""
    out = [n for n in named if pattern(n) == pat]
    if out or pat.count("#") != 1:  # the text names none: numbered as the example numbers them
        out += sorted((n for n in have if n not in out), key=_index)
    if pat.count("#") == 1:
        start = min((_index(n) for n in example), default=1)
        i = start
        while len(out) < want:
            name = pat.replace("#", str(i))
            if name not in out:
                out.append(name)
            i += 1
    return sorted(out[:want], key=_index)


def linked(
    example: list[tuple[str, str | None]], counted: set[str], named: tuple[str, ...] | list[str] = ()
) -> dict[str, str]:
    """Each uncounted name pattern of the example whose numbers (two or more) are exactly those of
    one counted pattern (rgripper# -> robot#: rgripper1 rgripper2 beside robot1 robot2), unless the
    text names objects of it (then the text says which there are)."""
    numbers: dict[str, set[int]] = {}
    for name, _ in example:
        numbers.setdefault(pattern(name), set()).add(_index(name))
    said = {pattern(n) for n in named}
    out = {}
    for pat, nums in numbers.items():
        if pat in counted or pat in said or pat.count("#") != 1 or len(nums) < 2:
            continue
        same = [q for q in counted if numbers.get(q) == nums and q.count("#") == 1]
        if len(same) == 1:
            out[pat] = same[0]
    return out


def _follow(out: dict[str, str | None], links: dict[str, str], notes: list[str]) -> None:
    """Give each linked pattern the numbers its counted pattern now has (in place)."""
    for pat, source in links.items():
        have = [n for n in out if pattern(n) == pat]
        if not have:
            continue
        kind = out[have[0]]
        keep = [pat.replace("#", str(_index(n))) for n in out if pattern(n) == source]
        if sorted(keep) != sorted(have):
            notes.append(f"{pat} numbered as {source}: {' '.join(keep)}")
            for name in have:
                del out[name]
            out.update({n: kind for n in keep})


def ground_objects(
    text: str,
    declared: list[tuple[str, str | None]],
    example: list[tuple[str, str | None]],
    count_words: dict[str, str],
    numbered: dict[str, list[int]] | None = None,
    listed: frozenset[str] = frozenset(),
) -> tuple[list[tuple[str, str | None]], list[str]]:
    """The declared objects corrected by the text's names and counts and the example's types, and
    (`numbered`: consistency.stated_highest) the numbers the text states a kind up to; a name of a
    kind the example's English names every object of (`listed`) that this text does not name is
    dropped; the corrections, in words."""
    types: dict[str, set[str | None]] = {}
    for name, kind in example:
        types.setdefault(pattern(name), set()).add(kind)
    typed = {p: next(iter(ts)) for p, ts in types.items() if len(ts) == 1}
    named = named_objects(text)
    # words for a kind (robot beside robot1, a type's name) are not objects however the text uses them
    kind_names = {re.sub(r"[#_-]+", "", p) for p in types if "#" in p} | {k for ts in types.values() for k in ts if k}
    out = {n: k for n, k in declared
           if (pattern(n) in types and (pattern(n) not in listed or said_in(n, text))) or n in named
           or (n not in kind_names and said_in(n, text))}
    notes = [f"{n} dropped: " + ("the text lists every such object, and not this one" if pattern(n) in listed
                                 else "neither the text nor the example names such an object")
             for n, _ in declared if n not in out]
    for name, kind in list(out.items()):
        want = typed.get(pattern(name), kind)
        if want != kind:
            out[name] = want
            notes.append(f"{name} typed {want} as in the example")
    for name in named:
        if name not in out and pattern(name) in typed:
            out[name] = typed[pattern(name)]
            notes.append(f"{name} declared: the text names it")
    for word, (other, kind) in coordinated(text, out, kind_names).items():
        out[word] = kind
        notes.append(f"{word} declared {kind}: the text names it beside {other}")
    said = said_counts(text)
    for pat, word in count_words.items():
        if word not in said or pat not in typed:
            continue
        have = [n for n in out if pattern(n) == pat]
        keep = _counted(pat, said[word], have, named, [n for n, _ in example if pattern(n) == pat])
        if sorted(keep) != sorted(have):
            notes.append(f"{said[word]} {word}: {' '.join(keep)}")
            for name in have:
                del out[name]
            out.update({n: typed[pat] for n in keep})
    for pat, numbers in (numbered or {}).items():
        have = [n for n in out if pattern(n) == pat]
        keep = [pat.replace("#", str(i)) for i in numbers]
        if pat in typed and sorted(keep) != sorted(have):
            notes.append(f"{pat} up to {numbers[-1]} as the text states: {' '.join(keep)}")
            for name in have:
                del out[name]
            out.update({n: typed[pat] for n in keep})
    _follow(out, linked(example, {p for p, w in count_words.items() if w in said}, named), notes)
    return list(out.items()), notes
