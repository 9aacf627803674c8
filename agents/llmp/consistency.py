"""Checks of an assembled stepwise translation before it is planned: counts against the text, contradictions, unused objects, a goal that already holds.

Each check is learned from the domain's one-shot example, never written for a domain:
- `functional`: a predicate argument that determines another in every example fact (a block is on
  one thing at a time) — inferred only where the example shows it on three or more facts, or on
  every object of the key's kind; `contradictions` are two facts that break it;
- `count_words`: which word the example's English counts a kind of object with (`5 blocks` for
  b1..b5); `count_errors` compares the objects declared with the number the text gives that word;
- `unused_objects`: declared objects that no fact names; `goal_holds`: a goal already true at the
  start (the plan would be empty).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from ratiocinator.agents.llmp.facts import Fact
from ratiocinator.agents.llmp.objects import text_counts
from ratiocinator.agents.llmp.sentences import Aligned, kind_words, norm, split_sentences, words

_COUNTED = re.compile(r"(?<![\w-])(\d{1,3})\s+([a-z][a-z0-9_-]*)", re.I)


def pattern(name: str) -> str:
    """A name with its numbers replaced by `#` (the-hub12 -> the-hub#, pos-0-1 -> pos-#-#)."""
    return re.sub(r"\d+", "#", name.lower())


def functional(
    init: list[Fact], objects: dict[str, str | None]
) -> set[tuple[str, int]]:
    """(predicate, position) pairs whose value the other arguments determine in the example's :init.

    Inferred where the example gives evidence: three facts or more of the predicate, or facts whose
    keys (the other arguments) cover every example object of the key's kind (one key argument).
    """
    by_pred: dict[str, list[Fact]] = defaultdict(list)
    for f in init:
        if not f.negated and f.value is None and len(f.args) >= 2:
            by_pred[f.pred].append(f)
    out = set()
    for pred, facts in by_pred.items():
        for j in range(len(facts[0].args)):
            values: dict[tuple[str, ...], set[str]] = defaultdict(set)
            for f in facts:
                values[f.args[:j] + f.args[j + 1 :]].add(f.args[j])
            if any(len(v) > 1 for v in values.values()):
                continue
            if len(facts) >= 3 or _covers(list(values), objects):
                out.add((pred, j))
    return out


def _covers(keys: list[tuple[str, ...]], objects: dict[str, str | None]) -> bool:
    """Whether one-argument keys name every example object of their kind (type, or name pattern)."""
    if not keys or len(keys[0]) != 1:
        return False
    named = {k[0] for k in keys}
    kinds = {(objects.get(n), pattern(n)) for n in named}
    if len(kinds) != 1:
        return False
    ((kind, pat),) = kinds
    same = {n for n, t in objects.items() if (t == kind if kind else pattern(n) == pat)}
    return same <= named


def contradictions(facts: list[Fact], rules: set[tuple[str, int]]) -> list[tuple[Fact, Fact]]:
    """Pairs of facts that give one key two values on a functional (predicate, position)."""
    seen: dict[tuple[str, int, tuple[str, ...]], Fact] = {}
    out = []
    for f in dict.fromkeys(facts):
        for pred, j in rules:
            if f.pred != pred or f.negated or len(f.args) <= j:
                continue
            key = (pred, j, f.args[:j] + f.args[j + 1 :])
            if key in seen and seen[key].args[j] != f.args[j]:
                out.append((seen[key], f))
            seen.setdefault(key, f)
    return out


def unused_objects(objects: list[str], facts: list[Fact]) -> list[str]:
    """Declared objects that no fact names, in order."""
    named = {a for f in facts for a in f.args}
    return [o for o in objects if o not in named]


def goal_holds(init: list[Fact], goal: list[Fact]) -> bool:
    """Whether a non-empty goal already holds in the initial state (closed world)."""
    have = {f for f in init if not f.negated}
    return bool(goal) and all((g.atom in have) != g.negated for g in goal)


def count_words(
    example_nl: str, objects: dict[str, str | None], aligned: Sequence[Aligned] = ()
) -> dict[str, str]:
    """For each name pattern of the example's objects, the word its English counts them with before
    the goal: a word after a number equal to how many there are (`make 7 cocktails` in a goal counts
    what to make, not objects) that names their kind (`5 blocks` -> b#: blocks) or, among several
    such numbers, is the one most found in the sentences that state facts of those objects (`2 flat
    tyres` -> w#, as `The flat tyres are on the hubs` states `(on w1 the-hub1)`)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in objects:
        groups[pattern(name)].append(name)
    before_goal = " ".join(s.text for s in split_sentences(example_nl) if not s.goal)
    counted = [(int(n), w.lower()) for n, w in _COUNTED.findall(before_goal)]
    out = {}
    for pat, names in groups.items():
        kinds = kind_words(names[0], objects[names[0]])
        letters = re.match(r"[a-z]*", pat).group(0)  # type: ignore[union-attr]
        same = [w for n, w in counted if n == len(names)]
        named = [w for w in same if norm(w) in kinds or (letters and w.startswith(letters))]
        if named:
            out[pat] = named[0]
    for pat, names in groups.items():
        taken = set(out.values())
        same = [w for n, w in dict.fromkeys(counted) if n == len(names) and w not in taken]
        if pat in out or not same:
            continue
        stating = [set(words(a.sentence.text)) for a in aligned
                   if any(pattern(x) == pat for f in a.facts for x in f.args)]
        hits = sorted(((sum(w in s for s in stating), w) for w in same), reverse=True)
        if hits[0][0] > 0 and (len(hits) == 1 or hits[0][0] > hits[1][0]):
            out[pat] = hits[0][1]
    return out


def _key(text: str) -> str:
    """A sentence with its numbers as `#` (`The maximum height of blocks is 3.` -> `... is #.`)."""
    return re.sub(r"\d+", "#", " ".join(words(text)))


def highest_numbers(
    example_nl: str, objects: dict[str, str | None], counted: set[str]
) -> dict[str, tuple[str, int]]:
    """For each numbered name pattern not counted by a word (n# of n0 n1), the sentence of the
    example's part before the goal that states its highest number alone, once (`The maximum height of
    blocks is 1.`), as a key with its numbers as `#`, and the lowest number: a text whose sentence of
    that key states 3 has n0..n3."""
    numbers: dict[str, list[int]] = defaultdict(list)
    for name in objects:
        pat = pattern(name)
        if pat.count("#") == 1 and pat not in counted:
            numbers[pat].append(int(re.search(r"\d+", name).group(0)))  # type: ignore[union-attr]
    sentences = [s for s in split_sentences(example_nl) if not s.goal]
    out = {}
    for pat, nums in numbers.items():
        top = max(nums)
        if sorted(nums) != list(range(min(nums), top + 1)) or len(nums) < 2:
            continue
        stating = [s for s in sentences if _COUNTED.search(s.text) is None
                   and text_counts(s.text) == [top]]
        if len(stating) == 1:
            out[pat] = (_key(stating[0].text), min(nums))
    return out


def stated_highest(text: str, highest: dict[str, tuple[str, int]]) -> dict[str, list[int]]:
    """The numbers each pattern of `highest` takes in a text: lowest..N, N as the text's sentence of
    the same key states it (patterns the text has no such sentence for are left out)."""
    keys = {_key(s.text): s.text for s in split_sentences(text) if not s.goal}
    out = {}
    for pat, (key, low) in highest.items():
        if key in keys:
            (top,) = text_counts(keys[key])
            out[pat] = list(range(low, top + 1))
    return out


def said_counts(text: str) -> dict[str, int]:
    """The number before each word in the text's part before the goal (`5 blocks` -> blocks: 5; the first wins)."""
    before_goal = " ".join(s.text for s in split_sentences(text) if not s.goal)
    return {w.lower(): int(n) for n, w in reversed(_COUNTED.findall(before_goal))}


def count_errors(text: str, declared: list[str], words: dict[str, str]) -> list[str]:
    """Where the declared objects of a counted pattern are not as many as the text's number says."""
    said = said_counts(text)
    groups: dict[str, list[str]] = defaultdict(list)
    for name in declared:
        groups[pattern(name)].append(name)
    errors = []
    for pat, word in words.items():
        if word in said and len(groups.get(pat, [])) != said[word]:
            have = groups.get(pat, [])
            errors.append(
                f"the text says {said[word]} {word}, but {len(have)} are declared"
                + (f" ({' '.join(have)})" if have else "")
            )
    return errors
