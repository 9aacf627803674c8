"""Mamo ODE's prompts: the instruction, the one-shot tank example, and the correction request."""

from __future__ import annotations

from ratiocinator.agents.llmopt.prompts import compact
from ratiocinator.models.types import Message

SYSTEM = """Model the word problem as an ordinary differential equation. Write JSON with: functions (the \
unknown functions), variable (the independent variable), equations (use y' and y'' for derivatives, * for \
products), initial_conditions (like y(0) = 5 or y'(0) = 0), quantity (an expression of the functions and the \
variable whose value is asked, e.g. y or y/(100 + 2*t)) and at (the value of the variable where it is asked). \
Use numbers for every constant and consistent units."""
EXAMPLE = (
    "A tank holds 200 L of water with 10 kg of salt dissolved. Brine with 0.5 kg/L of salt flows in at 4 "
    "L/min and the mixed solution flows out at 4 L/min. How much salt is in the tank after 30 minutes?"
)
EXAMPLE_SPEC = {
    "functions": ["S"],
    "variable": "t",
    "equations": ["S' = 0.5*4 - 4*S/200"],
    "initial_conditions": ["S(0) = 10"],
    "quantity": "S",
    "at": 30,
}


def messages(problem: str) -> list[Message]:
    """The first request: the instruction, the one-shot example, the problem."""
    return [
        Message(role="system", content=SYSTEM),
        Message(role="user", content=EXAMPLE),
        Message(role="assistant", content=compact(EXAMPLE_SPEC)),
        Message(role="user", content=problem.strip()),
    ]


def fix_messages(problem: str, spec: str, error: str) -> list[Message]:
    """A correction request: the problem, the model's ODE and what went wrong with it."""
    return [
        *messages(problem),
        Message(role="assistant", content=spec),
        Message(role="user", content=f"This fails: {error}\nWrite the corrected JSON."),
    ]
