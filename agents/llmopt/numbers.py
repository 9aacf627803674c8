"""Which numbers of a five-element formulation occur in the problem text (a check against copied examples).

A small model asked to formulate a problem sometimes writes a correct model of the prompt's worked
example instead; the solver then verifies a right answer to the wrong question. The numbers give it
away: most of the formulation's constants are not in the problem. Written by hand because no library
matches the numbers of a word problem against a model's constants; the rules are deliberately loose
(a percentage matches its fraction, numbers spelled as words count, 0 and 1 are ignored) so that only a
formulation whose numbers mostly come from elsewhere is flagged.
"""

from __future__ import annotations

import json
import re
from typing import Any

_NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?|(?<![\w.])\.\d+")
_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
          "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "fifty": 50, "hundred": 100,
          "thousand": 1000, "million": 1_000_000, "half": 0.5, "twice": 2, "double": 2, "triple": 3,
          "dozen": 12, "quarter": 0.25}
_TRIVIAL = {0.0, 1.0}


def text_numbers(text: str) -> set[float]:
    """The numbers a problem states, with each one's /100 (a percentage as a fraction)."""
    found = {float(m.replace(",", "")) for m in _NUMBER.findall(text)}
    found |= {float(v) for w, v in _WORDS.items() if re.search(rf"\b{w}\b", text, re.IGNORECASE)}
    found |= {round(float(n.replace(",", "")) * _WORDS[w.lower()], 6)  # "$1.6 million": 1600000
              for n, w in re.findall(r"(\d[\d,]*(?:\.\d+)?)\s+(thousand|million)\b", text, re.IGNORECASE)}
    return found | {x / 100 for x in found}


def _leaves(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    return []


def formulation_numbers(formulation_json: str) -> set[float]:
    """The distinct non-trivial constants of a formulation: parameter values and literals in expressions."""
    data = json.loads(formulation_json)
    numbers = {x for p in data.get("parameters", []) for x in _leaves(p.get("value"))}
    expressions = [data.get("objective", {}).get("expression", "")]
    expressions += [c.get("expression", "") for c in data.get("constraints", [])]
    for expr in expressions:
        numbers |= {float(m.replace(",", "")) for m in _NUMBER.findall(str(expr))}
    return {abs(x) for x in numbers} - _TRIVIAL


def share_from_text(formulation_json: str, problem: str) -> tuple[float, list[float]]:
    """(share of the formulation's constants that the problem states, the constants it does not)."""
    numbers = formulation_numbers(formulation_json)
    stated = text_numbers(problem)
    if not numbers or not stated:  # a problem that states no number cannot be checked this way
        return 1.0, []
    foreign = sorted(x for x in numbers if not any(abs(x - s) <= 1e-9 * max(1.0, abs(s)) for s in stated))
    return 1 - len(foreign) / len(numbers), foreign
