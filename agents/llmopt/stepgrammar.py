"""The EBNF grammars (xgrammar dialect) of stepwise translation: each small decision can only be written well-formed.

- variables: `name: continuous | integer | binary` lines, each name made of words of the text;
- objective: `minimize|maximize expression`, and constraints: `none` or up to a few relations, one a line;
  a number's constraint must contain that number;
  an expression names only declared variables and writes only numbers of the text (grounded by construction).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ratiocinator.agents.llmopt.table import show

DOMAINS = ("continuous", "integer", "binary")
NONE = "none"
_EXPRESSION = [
    'expr ::= term ((" + " | " - ") term){0,24}',
    'term ::= "-"? factor ("*" factor){0,3} ("/" factor)?',
    'factor ::= number | name | "(" expr ")"',
]


def alternatives(words: Iterable[str]) -> str:
    """Literal alternatives, longest first (an alternative that prefixes another must not win early)."""
    return " | ".join(json.dumps(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


def variables_grammar(words: list[str], most: int) -> str:
    """One to `most` lines `name: domain`, each name made of one to three words of the text (`boat_trips`)."""
    first = [w for w in words if w[:1].isalpha()] or ["x"]  # a name starts with a letter: `project_2`, not `2`
    return "\n".join([
        f'root ::= var ("\\n" var){{0,{most - 1}}}',
        f'var ::= first ("_" word){{0,2}} ": " ({alternatives(DOMAINS)})',
        f"first ::= {alternatives(first)}",
        f"word ::= {alternatives(words)}",
    ])


def _expression_rules(names: list[str], literals: list[float]) -> list[str]:
    rules = list(_EXPRESSION)
    rules.append(f"number ::= {alternatives(show(x) for x in literals)}")
    rules.append(f"name ::= {alternatives(names)}" if names else 'name ::= "(" expr ")"')
    return rules


def objective_grammar(names: list[str], literals: list[float], sense: str | None = None) -> str:
    """`minimize EXPR` or `maximize EXPR` (only `sense`, when given) over the declared names and the text's numbers."""
    senses = json.dumps(sense) if sense else '("minimize" | "maximize")'
    return "\n".join([f'root ::= {senses} " " expr', *_expression_rules(names, literals)])


def constraints_grammar(names: list[str], literals: list[float], most: int) -> str:
    """`none`, or one to `most` relations (`EXPR <= EXPR`, `>=`, `==`), one a line."""
    return "\n".join([
        f'root ::= "{NONE}" | relation ("\\n" relation){{0,{most - 1}}}',
        'relation ::= expr " " ("<=" | ">=" | "==") " " expr',
        *_expression_rules(names, literals),
    ])


def number_grammar(names: list[str], literals: list[float], value: float) -> str:
    """`none`, or one relation in which the number `value` is a factor (the constraint that number states)."""
    x = json.dumps(show(value))
    return "\n".join([
        f'root ::= "{NONE}" | withx op expr | expr op withx',
        'op ::= " <= " | " >= " | " == "',
        'sign ::= " + " | " - "',
        "withx ::= (term sign){0,8} termx (sign term){0,8}",
        f'termx ::= "-"? (factor "*"){{0,3}} {x} ("*" factor){{0,3}} ("/" factor)? '
        '| "-"? (factor "*"){0,3} "(" withx ")" ("*" factor){0,3}',
        *_expression_rules(names, literals),
    ])
