"""The prompts of LLMOPT: five-element formulation, one-shot example, self-correction feedback."""

from __future__ import annotations

import json

from ratiocinator.models.types import Message

SYSTEM = """You are an expert in operations research. Define the optimization problem the user describes \
as a five-element formulation (LLMOPT): Sets, Parameters, Variables, Objective, Constraints, written as JSON.

Rules:
- sets: index sets, e.g. {"name": "P", "elements": ["bread", "cake"]}. Use no sets for a small problem.
- parameters: named data, a number or a list over an index set; small problems write the numbers inline \
and leave parameters empty. A parameter and a variable never share a name.
- variables: the decisions. domain is one of nonnegative, nonnegative_integer, binary, integer, real. \
Use nonnegative_integer when the decision counts whole things (people, trips, items, vehicles).
- objective: sense is minimize or maximize; expression uses parameters and variables.
- constraints: each a relation with <=, >= or == that contains a variable, e.g. "2*x + 3*y <= 100". \
Write sums as sum(c[i]*x[i] for i in P); forall {"i": "P"} writes one row per element.
- Use * for every product. Percentages become fractions (60% -> 0.6). Put every number of the text in.
"""

EXAMPLE_PROBLEM = (
    "A bakery makes bread and cakes. A loaf of bread needs 2 hours of oven time and earns $5 profit; a cake "
    "needs 3 hours of oven time and earns $8. The oven is available for at most 60 hours a week. The bakery "
    "must make at least 5 cakes, and at most twice as many cakes as loaves. How many of each should it make "
    "to maximize profit?"
)

EXAMPLE_FORMULATION = {
    "sets": [],
    "parameters": [],
    "variables": [
        {"name": "bread", "domain": "nonnegative_integer"},
        {"name": "cake", "domain": "nonnegative_integer"},
    ],
    "objective": {"sense": "maximize", "expression": "5*bread + 8*cake"},
    "constraints": [
        {"name": "oven", "expression": "2*bread + 3*cake <= 60"},
        {"name": "min_cakes", "expression": "cake >= 5"},
        {"name": "ratio", "expression": "cake <= 2*bread"},
    ],
}


def compact(value: object) -> str:
    """JSON in the layout constrained decoding produces (", " and ": " separators, one line)."""
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)


def formulation_messages(problem: str) -> list[Message]:
    """The first request: the system rules, the one-shot example, the problem."""
    return [
        Message(role="system", content=SYSTEM),
        Message(role="user", content=f"Problem:\n{EXAMPLE_PROBLEM}"),
        Message(role="assistant", content=compact(EXAMPLE_FORMULATION)),
        Message(role="user", content=f"Problem:\n{problem.strip()}"),
    ]


def correction_messages(problem: str, formulation_json: str, feedback: str) -> list[Message]:
    """A self-correction request: the problem, the model's formulation and what the solver said about it."""
    return [
        *formulation_messages(problem),
        Message(role="assistant", content=formulation_json),
        Message(
            role="user",
            content=(
                f"The solver reports a problem with this formulation:\n{feedback}\n\n"
                "Check every element against the problem text (missing or wrong constraints, wrong sense, wrong "
                "numbers, wrong variable domains) and write the complete corrected formulation."
            ),
        ),
    ]
