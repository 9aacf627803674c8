"""The prompts of stepwise translation: one shared prefix (rules and a worked example), then one short turn per decision.

Every request starts with the same system turn and the same worked example, so engines that reuse a
prompt's prefix (models/prefix.py) compute it once for all the calls of all problems. A request is
that prefix, the problem's earlier decisions as turns of the conversation, and the question of the
decision at hand (`turns`); a repair adds the model's earlier answer and what was wrong with it.
"""

from __future__ import annotations

from ratiocinator.agents.llmopt.table import Number, numbers, sentences
from ratiocinator.models.types import Message

SYSTEM = """You are an expert in operations research. You write the optimization model of a problem one \
small step at a time:
1. declare the decision variables: the quantities the problem asks to decide (how many of each, how much of each), never its data, each continuous, integer or binary (integer when it counts whole things: \
people, trips, items, vehicles, machines; continuous for amounts: kilograms, litres, dollars, hours, acres);
2. write the objective: minimize or maximize an expression of the variables;
3. for each sentence of the problem, write the constraints it states, one a line, or none.
Expressions use the variables and the numbers of the problem, * for every product, and <=, >= or ==. \
"at least" is >=; "at most", "no more than", "cannot exceed" and "available" are <=. A percentage is a \
fraction: "at least 60% of the units are A" is A >= 0.6*(A + B)."""

EXAMPLE = (
    "A bakery makes bread and cakes. A loaf of bread needs 2 hours of oven time and earns $5 profit; a cake "
    "needs 3 hours of oven time and earns $8 profit. The oven is available for at most 60 hours a week. The "
    "bakery must make at least 4 cakes, and at least 25% of the items it makes must be loaves. How many of "
    "each should it make to maximize profit?"
)
EXAMPLE_VARIABLES = "bread: integer\ncake: integer"
EXAMPLE_OBJECTIVE = "maximize 5*bread + 8*cake"
EXAMPLE_ROWS = (
    "none",
    "none",
    "2*bread + 3*cake <= 60",
    "cake >= 4\nbread >= 0.25*(bread + cake)",
    "none",
)
#: the example's follow-up questions about single numbers: (its index in the table, the answer)
EXAMPLE_NUMBERS = ((4, "2*bread + 3*cake <= 60"), (1, "none"))

VARIABLES = "Decision variables (name: continuous, integer or binary), one a line:"
OBJECTIVE = "Objective:"


def numbers_turn(problem: str, table: list[Number]) -> str:
    """The first question: the problem, its numbers (each with the words it comes from), its decision variables."""
    listed = "\n".join(f'{k}. {n.written} in "{n.words}"' for k, n in enumerate(table, 1)) or "(none)"
    return f"Problem:\n{problem.strip()}\n\nNumbers:\n{listed}\n\n{VARIABLES}"


def sentence_turn(sentence: str) -> str:
    """The question of one sentence's constraints."""
    return f'Sentence: "{sentence}"\nConstraints:'


def number_turn(number: Number) -> str:
    """The question of the constraint one number states (asked for a number no constraint uses)."""
    return f'Number {number.written} in "{number.words}"\nConstraint that uses it, or none:'


def repair_turn(feedback: str) -> str:
    """What was wrong with an answer, and the request to write it again."""
    return f"{feedback}\nWrite it again."


def turns(problem: str, table: list[Number], replies: dict[str, str], upto: str) -> list[Message]:
    """The problem's conversation up to the question of `upto` (variables, objective, sN: sentence N, nK: number K)."""
    order = [("variables", numbers_turn(problem, table)), ("objective", OBJECTIVE)]
    messages: list[Message] = []
    for piece, question in order:
        messages.append(Message(role="user", content=question))
        if piece == upto:
            return messages
        messages.append(Message(role="assistant", content=replies[piece]))
    question = sentence_turn(sentences(problem)[int(upto[1:])]) if upto[0] == "s" else number_turn(table[int(upto[1:])])
    messages.append(Message(role="user", content=question))
    return messages


def _example() -> list[Message]:
    """The worked example as turns: every step of the bakery problem, answered."""
    table = numbers(EXAMPLE)
    replies = {"variables": EXAMPLE_VARIABLES, "objective": EXAMPLE_OBJECTIVE}
    messages = turns(EXAMPLE, table, replies, "objective")
    messages.append(Message(role="assistant", content=EXAMPLE_OBJECTIVE))
    for sentence, rows in zip(sentences(EXAMPLE), EXAMPLE_ROWS, strict=True):
        messages += [Message(role="user", content=sentence_turn(sentence)), Message(role="assistant", content=rows)]
    for k, rows in EXAMPLE_NUMBERS:
        messages += [Message(role="user", content=number_turn(table[k])), Message(role="assistant", content=rows)]
    return messages


PREFIX = [Message(role="system", content=SYSTEM), *_example()]


def conversation(problem: str, table: list[Number], replies: dict[str, str], piece: str,
                 repair: tuple[str, str] | None = None) -> list[Message]:
    """The request for one piece: the shared prefix, the problem's turns, and (repair) the old answer and its fault."""
    messages = [*PREFIX, *turns(problem, table, replies, piece)]
    if repair is not None:
        messages += [Message(role="assistant", content=repair[0]), Message(role="user", content=repair_turn(repair[1]))]
    return messages
