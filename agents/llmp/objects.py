"""Objects of an LLM+P translation against the English text: names the text uses, what a translation lacks or invents, repeated declarations.

`object_errors` says which objects the English text names that the translation lacks, and which it
declares that the text does not name; `dedupe_objects` merges an object declared twice (a sound
rewrite); `section_span` finds a `(:section ...)` block of a problem.
"""

from __future__ import annotations

import re

#: Objects in the English text: identifiers that contain a digit (b1, tile_0-1, pos-2-0, robot2).
_NAMED = re.compile(r"(?<![\w-])([A-Za-z][A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)(?![\w-])")


def section_span(problem: str, name: str) -> tuple[int, int] | None:
    """[start, end) of the first `(name ...)` block (end past its closing parenthesis); None if absent or unclosed."""
    start = problem.lower().find("(" + name)
    if start < 0:
        return None
    level = 0
    for i in range(start, len(problem)):
        level += {"(": 1, ")": -1}.get(problem[i], 0)
        if level == 0:
            return start, i + 1
    return None


def dedupe_objects(problem: str) -> tuple[str, list[str]]:
    """The problem with each object declared once, and the names that were repeated.

    A sound rewrite (cf. solvers/pddl_compat): `b1 b2 b1` declares the same object twice, which UP
    rejects ("Name b1 already defined"); a small model under the grammar repeats names often. Names
    repeated with different types are left alone for the parser to report.
    """
    from ratiocinator.solvers.pddl_compat import problem_objects

    pairs = problem_objects(problem)
    seen: dict[str, str | None] = {}
    repeated = []
    for name, kind in pairs:
        key = name.lower()
        if key in seen:
            if seen[key] != kind:
                return problem, []
            repeated.append(name)
        else:
            seen[key] = kind
    if not repeated:
        return problem, []
    span = section_span(problem, ":objects")
    if span is None:
        return problem, []
    by_kind: dict[str | None, list[str]] = {}
    for name, kind in seen.items():
        by_kind.setdefault(kind, []).append(name)
    lines = [" ".join(names) + (f" - {kind}" if kind else "") for kind, names in by_kind.items()]
    block = "(:objects\n" + "\n".join(lines) + "\n)"
    return problem[: span[0]] + block + problem[span[1] :], list(dict.fromkeys(repeated))


def stem(name: str) -> str:
    """The kind of an object name: its letters without digits, `_` and `-` (b12 -> b, tile_0-1 -> tile)."""
    return re.sub(r"[\d_-]+", "", name.lower())


def named_objects(text: str) -> list[str]:
    """Object names in English text: identifiers with a digit (b1, tile_0-1), in order, without repeats."""
    return list(dict.fromkeys(m.lower() for m in _NAMED.findall(text)))


def text_counts(text: str) -> list[int]:
    """The numbers of one to three digits the text states on their own (`You have 3 blocks` -> 3)."""
    return [int(n) for n in re.findall(r"(?<![\w-])(\d{1,3})(?![\w-])", text)]


def object_errors(text: str, declared: list[str]) -> str:
    """'' when the declared objects agree with the text, else what is missing and what is invented.

    Missing: a name the text uses (b4) that :objects lacks. Invented: an object of a kind the text
    names (stem `b` of b1), not named itself, numbered beyond every count in the text (`You have 3
    blocks` and b5, copied from the example); a text may well leave some objects unnamed (barman's
    fourth shot glass), and kinds it never names (barman's levels l0 l1) are not judged.
    """
    named = named_objects(text)
    have = {d.lower() for d in declared}
    missing = [n for n in named if n not in have]
    stems = {stem(n) for n in named}
    top = max(text_counts(text), default=None)
    invented = []
    for d in declared:
        number = re.search(r"(\d+)$", d)
        if (
            top is not None
            and number
            and d.lower() not in named
            and stem(d) in stems
            and int(number.group(1)) > top
        ):
            invented.append(d)
    parts = []
    if missing:
        parts.append(
            f"the text names {', '.join(missing)} but :objects does not declare "
            f"{'it' if len(missing) == 1 else 'them'}"
        )
    if invented:
        parts.append(f":objects declares {', '.join(invented)}, which the text does not mention")
    return "; ".join(parts)
