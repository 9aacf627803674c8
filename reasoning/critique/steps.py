"""The text of a step-wise solution: strip and number its steps, split a generated one, read a critique's judgement."""

from __future__ import annotations

import re
from collections.abc import Sequence

# the boxed form of the format, or its words without the box (small models drop \boxed)
_BOXED = re.compile(r"\\boxed\{\s*(-?1)\s*\}|correctness of Step \d+ is:?\s*\**\s*(-?1)(?![\d.])")
_STEP_PREFIX = re.compile(r"^\s*\**\s*Step\s*\d+\s*\**\s*[:.]\s*\**\s*", re.IGNORECASE)


def strip_step(text: str) -> str:
    """A step without its "Step i:" prefix."""
    return _STEP_PREFIX.sub("", text, count=1).strip()


def format_solution(steps: Sequence[str]) -> str:
    """The steps as the prompts show them: "Step i: ..." one per line, from 1."""
    return "\n".join(f"Step {i}: {strip_step(s)}" for i, s in enumerate(steps, 1))


_HEADING = re.compile(r"(?im)^\s*\**\s*Step\s*(\d+)\s*\**\s*[:.]")


def numbered_steps(text: str) -> list[tuple[int, str]]:
    """The "Step i:" paragraphs of a generated solution with their numbers, as written (empty ones dropped)."""
    marks = list(_HEADING.finditer(text))
    ends = [m.start() for m in marks[1:]] + [len(text)] if marks else []
    pieces = [(int(m.group(1)), text[m.end():end].strip()) for m, end in zip(marks, ends, strict=True)]
    return [(n, s) for n, s in pieces if s]


def parse_steps(text: str) -> list[str]:
    """Steps of a generated solution: the "Step i:" paragraphs, else the non-empty lines."""
    steps = [s for _, s in numbered_steps(text)]
    return steps or [line.strip() for line in text.splitlines() if line.strip()]


def parse_judgement(text: str) -> int:
    """1 or -1 from the last judgement of a critique (boxed, or in the format's words); 0 when there is none."""
    found = _BOXED.findall(text)
    return int(found[-1][0] or found[-1][1]) if found else 0
