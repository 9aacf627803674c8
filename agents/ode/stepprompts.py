"""Stepwise ODE translation's prompts and grammars: one shared prefix (rules, two worked examples), one short turn per decision.

Every request starts with the same system turn and the same worked examples, so an engine that reuses
a prompt's prefix computes them once for every call on every problem; then the problem with its
numbers (found in code, agents/llmopt/table.py) and the unknown it names, then one question: what a
sentence adds to the rate of change, which value of the unknown a number states, what is asked. The
grammars (xgrammar EBNF) admit only the unknown's name, t, one unknown constant k and the problem's
own numbers (with 0, 1 and its number words; a time asked may also use unit factors such as 60), so
no number of the examples can be copied.

With `rate="forms"` the rate is not written whole: the model first picks one of a few general forms of a
first-order rate (FORMS: in proportion to the unknown plus a fixed amount, toward a level, growth limited
by a capacity, or another), then fills each of the form's parameters with the problem's numbers or `k`
(one short decision each). Two more worked examples (a level, a capacity) show those forms, so every form
has been seen once; the forms are mathematics, not any problem's domain.
"""

from __future__ import annotations

import functools
import re

from ratiocinator.agents.llmopt.stepgrammar import alternatives
from ratiocinator.agents.llmopt.table import Number, numbers, sentences, show
from ratiocinator.models.types import Message

#: the unknown constant a term may name, fitted to the conditions (agents/ode/fit.py)
CONSTANT = "k"
NONE = "none"
#: factors that convert a time the text states into the unit of its rates (hours, days, weeks, months, years)
UNIT_FACTORS = (60.0, 24.0, 7.0, 12.0, 365.0)

SYSTEM = """You model a word problem as a differential equation, one small step at a time.
1. Unknown: one capital letter for the quantity that changes over time t, and what it is.
2. For each sentence: what it adds to the rate of change of the unknown, as terms with + or -, or none. \
A rate proportional to the unknown whose constant the problem does not give is k times it. Use the \
problem's numbers; a percentage is a fraction.
3. For each number: the value of the unknown it states at a time, as P(time) = value, or none. \
"initially" is time 0.
4. Asked: the expression of the unknown whose value is asked, and the time t it is asked at \
(infinity for "in the long run")."""

EXAMPLES = (
    {
        "problem": "A town has 2000 people. Its population grows at a rate proportional to its size, and 30 "
        "people leave the town every year. After 2 years the town has 2300 people. How many people live in "
        "the town after 5 years?",
        "unknown": "P: the number of people in the town",
        "rate": "k*P - 30",
        "sentences": ("none", "k*P - 30", "none", "none"),
        "numbers": ("P(0) = 2000", "none", "none", "P(2) = 2300", "none"),
        "asked": "P at t = 5",
    },
    {
        "problem": "A tank holds 400 L of water with 8 kg of salt. Water with 0.2 kg/L of salt flows in at "
        "5 L/min, and the mixed water flows out at 5 L/min. How much salt is in the tank after 30 minutes?",
        "unknown": "S: the salt in the tank in kg",
        "rate": "0.2*5 - 5*S/400",
        "sentences": ("none", "0.2*5 - 5*S/400", "none"),
        "numbers": ("none", "S(0) = 8", "none", "none", "none", "none"),
        "asked": "S at t = 30",
    },
)


#: the forms a first-order rate may take (`X` stands for the unknown): a label, what it means, the template,
#: and each parameter with what it is; "other" writes the rate whole (rate_turn)
FORMS = {
    "in proportion plus a fixed amount": (
        "the unknown grows or shrinks in proportion to itself (rate r, negative when it shrinks), plus or minus a "
        "fixed amount c per unit of time (c = 0 when there is none)",
        "r*X + c", (("r", "the rate per unit of time in proportion to the unknown"),
                    ("c", "the fixed amount added per unit of time, negative when taken away"))),
    "toward a level": (
        "the unknown moves toward a level L (a surrounding value, a limit it settles at) at a rate r times the gap",
        "r*(L - X)", (("r", "the rate per unit of time at which the gap closes"),
                      ("L", "the level the unknown moves toward"))),
    "growth limited by a capacity": (
        "the unknown grows in proportion to itself at rate r, slowing down as it nears a capacity L",
        "r*X*(1 - X/L)", (("r", "the growth rate per unit of time"), ("L", "the capacity"))),
    "other": ("any other rate, written whole", "", ()),
}

EXAMPLES_FORMS = (
    {
        "problem": "A cup of tea at 90 degrees is left in a room kept at 20 degrees. After 5 minutes the tea is at "
        "70 degrees. What is the temperature of the tea after 15 minutes?",
        "unknown": "T: the temperature of the tea in degrees",
        "form": "toward a level",
        "params": ("k", "20"),
        "numbers": ("T(0) = 90", "none", "none", "T(5) = 70", "none"),
        "asked": "T at t = 15",
    },
    {
        "problem": "A lake holds 300 fish and can hold at most 6000 fish. The fish grow at a rate of 0.4 per year, "
        "slowed by what the lake can hold. How many fish are in the lake after 3 years?",
        "unknown": "F: the number of fish in the lake",
        "form": "growth limited by a capacity",
        "params": ("0.4", "6000"),
        "numbers": ("F(0) = 300", "none", "none", "none"),
        "asked": "F at t = 3",
    },
)
#: the forms of the two first examples' rates: the town's `k*P - 30`, the tank's `0.2*5 - 5*S/400`
_FIRST_FORMS = (("in proportion plus a fixed amount", ("k", "-30")),
                ("in proportion plus a fixed amount", ("-5/400", "0.2*5")))


def numbers_list(table: list[Number]) -> str:
    """The problem's numbers, each with the words it comes from."""
    return "\n".join(f'{k}. {n.written} in "{n.words}"' for k, n in enumerate(table, 1)) or "(none)"


def problem_turn(problem: str) -> str:
    """The first question: the problem, its numbers, its unknown."""
    return f"Problem:\n{problem.strip()}\n\nNumbers:\n{numbers_list(numbers(problem))}\n\nUnknown:"


def sentence_turn(sentence: str, name: str) -> str:
    """What one sentence adds to the unknown's rate of change."""
    return f"Sentence: \"{sentence}\"\nAdds to {name}' (the rate of change of {name}), or none:"


def rate_turn(name: str) -> str:
    """The whole rate at once (asked when no sentence's draws add a term)."""
    return f"The rate of change {name}' of {name}, as terms with + or -:"


def form_turn(name: str) -> str:
    """Which form the rate of change takes (FORMS)."""
    listed = "\n".join(f"- {label}: {meaning}" for label, (meaning, _, _) in FORMS.items())
    return f"Forms of the rate of change {name}':\n{listed}\nThe form of {name}':"


def parameter_turn(name: str, form: str, parameter: str) -> str:
    """One parameter of a form, e.g. r in `r*(L - T)`."""
    _, template, params = FORMS[form]
    meaning = dict(params)[parameter]
    shown = template if name in dict(params) else template.replace("X", name)  # no `L - L` for an unknown L
    return f"In {name}' = {shown}, {parameter} ({meaning}):"


def rate_of(name: str, form: str, values: list[str]) -> str:
    """The rate a form gives with its parameters' values: `r*(L - T)` with r = k, L = 20 is `(k)*((20) - T)`."""
    _, template, params = FORMS[form]
    put = {"X": name} | {param: f"({value})" for (param, _), value in zip(params, values, strict=True)}
    return re.sub(r"\b[A-Za-z]\b", lambda m: put.get(m.group(0), m.group(0)), template)


def number_turn(number: Number, name: str) -> str:
    """The value of the unknown one number states."""
    return f'Number {number.written} in "{number.words}"\nValue of {name} it states, as {name}(time) = value, or none:'


def asked_turn(question: str, name: str) -> str:
    """What is asked, and when."""
    return f'Question: "{question}"\nAsked (an expression of {name}, at t =):'


def _form_asks(name: str, form: str, values: tuple[str, ...]) -> list[tuple[str, str]]:
    """A worked example's form decision and its parameters' decisions, as (question, answer)."""
    params = [param for param, _ in FORMS[form][2]]
    return [(form_turn(name), form), *((parameter_turn(name, form, q), v) for q, v in zip(params, values, strict=True))]


@functools.cache
def _example_turns(forms: bool = False) -> tuple[Message, ...]:
    """The worked examples as conversation turns (built once: every request of every problem starts with them);
    with `forms`, each rate as its form and parameters, and the two examples of the other forms."""
    turns: list[Message] = []
    examples = [*EXAMPLES, *EXAMPLES_FORMS] if forms else list(EXAMPLES)
    for k, ex in enumerate(examples):
        name = ex["unknown"][0]
        said = sentences(ex["problem"])
        table = numbers(ex["problem"])
        asks = [(problem_turn(ex["problem"]), ex["unknown"])]
        if forms:
            form, values = (ex["form"], ex["params"]) if "form" in ex else _FIRST_FORMS[k]
            asks += _form_asks(name, form, values)
        else:
            asks.append((rate_turn(name), ex["rate"]))
            asks += [(sentence_turn(s, name), a) for s, a in zip(said, ex["sentences"], strict=True)]
        asks += [(number_turn(n, name), a) for n, a in zip(table, ex["numbers"], strict=True)]
        asks.append((asked_turn(said[-1], name), ex["asked"]))
        for question, answer in asks:
            turns += [Message(role="user", content=question), Message(role="assistant", content=answer)]
    return tuple(turns)


def prefix(problem: str, unknown: str | None = None, forms: bool = False) -> list[Message]:
    """The shared prefix (`forms`: the rate's turns as forms), the problem's first question, and (once
    decided) the unknown it names."""
    messages = [Message(role="system", content=SYSTEM), *_example_turns(forms),
                Message(role="user", content=problem_turn(problem))]
    return messages if unknown is None else [*messages, Message(role="assistant", content=unknown)]


def _expression(names: list[str], literals: list[float]) -> list[str]:
    rules = [
        'expr ::= term ((" + " | " - ") term){0,5}',
        'term ::= "-"? factor ("*" factor){0,3} ("/" factor)?',
        'factor ::= number | "(" expr ")" | ("sqrt(" | "exp(") expr ")"' + (" | name" if names else ""),
        f"number ::= {alternatives(show(x) for x in literals)}",
    ]
    return rules + ([f"name ::= {alternatives(names)}"] if names else [])


def unknown_grammar() -> str:
    """`P: what it is`: one capital letter (not E, sympy's e), then a few plain words."""
    return "\n".join([
        'root ::= [A-DF-Z] ": " [a-z] [a-z0-9 ,()/%-]{2,60}',
    ])


def terms_grammar(name: str, literals: list[float], allow_none: bool = True, constant: bool = True) -> str:
    """`none` (when allowed), or an expression of the unknown, t and (with `constant`) k over the problem's numbers."""
    root = 'root ::= "none" | expr' if allow_none else "root ::= expr"
    return "\n".join([root, *_expression([name, "t", *([CONSTANT] if constant else [])], literals)])


def form_grammar() -> str:
    """One of the forms' labels."""
    return f"root ::= {alternatives(FORMS)}"


def parameter_grammar(literals: list[float], constant: bool = True) -> str:
    """A parameter's value: an expression over the problem's numbers and (with `constant`) the unknown constant k
    (not the unknown itself, nor t: the form places them)."""
    return "\n".join(["root ::= expr", *_expression([CONSTANT] if constant else [], literals)])


def condition_grammar(name: str, literals: list[float]) -> str:
    """`none`, or `P(time) = value` with the problem's numbers."""
    return "\n".join([f'root ::= "none" | "{name}(" expr ") = " expr', *_expression([], literals)])


def asked_grammar(name: str, literals: list[float], times: list[float]) -> str:
    """`expression at t = time` (or `infinity`): the time from the question's numbers (`times`), which may
    convert units (60 minutes an hour, ...); the expression divides or multiplies the unknown by the problem's."""
    times = sorted({0.0, *times, *UNIT_FACTORS})
    return "\n".join([
        'root ::= expr " at t = " ("infinity" | time)',
        *_expression([name, "t"], literals),
        'time ::= tfactor ("*" tfactor){0,2} ("/" tfactor)?',
        f"tfactor ::= {alternatives(show(x) for x in times)}",
    ])
