"""Numbers of an ODE the model wrote that come from the prompt's worked example, not from the problem (a copy check).

The Mamo ODE prompt shows one worked example (a brine tank: 200 L, 10 kg, 0.5 kg/L, 4 L/min, 30 min). On the
core suite the 0.5B carried the example's 200 into the ODE of 20 of 40 problems that never state it
(BENCHMARKS-suite.md, "mamo-ode"). An ODE whose constants include the example's numbers that the problem does
not state models the example, not the problem; the error goes back to the model like a solver's. Numbers are
the example's as written; the problem's as agents/llmopt/numbers.py reads them (a percentage also as its
fraction, numbers in words), so that a number the problem states in any form is never flagged; 0 and 1 ignored.
"""

from __future__ import annotations

import re

from ratiocinator.agents.llmopt.numbers import text_numbers
from ratiocinator.agents.ode.prompts import EXAMPLE, EXAMPLE_SPEC
from ratiocinator.agents.ode.spec import ODESpec

_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?|(?<![\w.])\.\d+")
_IGNORED = {0.0, 1.0}


def spec_numbers(spec: ODESpec) -> set[float]:
    """The constants written in an ODE's equations, initial conditions, quantity and point (names' digits aside)."""
    texts = [*spec.equations, *spec.initial_conditions, spec.quantity]
    found = {float(m) for text in texts for m in _NUMBER.findall(text)}
    return {abs(x) for x in found | {spec.at}} - _IGNORED


def example_numbers() -> set[float]:
    """The numbers the worked example writes (its text and its ODE), as written: a copy is a literal one."""
    written = ODESpec.model_validate(EXAMPLE_SPEC)
    return ({float(m) for m in _NUMBER.findall(EXAMPLE)} | spec_numbers(written)) - _IGNORED


def copied_from_example(spec: ODESpec, problem: str) -> list[float]:
    """The ODE's constants that the worked example has and the problem does not state, in ascending order."""
    stated = text_numbers(problem)
    return sorted(x for x in spec_numbers(spec) & example_numbers()
                  if not any(abs(x - s) <= 1e-9 * max(1.0, abs(s)) for s in stated))
