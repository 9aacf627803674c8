"""What LLMOPT's formulation is decoded under: the formulation's JSON schema, and declare-then-relate decoding.

`formulation_schema` is `solvers.formulation.Formulation`'s schema narrowed for a small model.

Declare-then-relate: the objective and constraints may name only what was declared. A small model
often writes `10*boat + 8*canoe` after declaring only `ducks`. With `declare_first` the formulation is written in two constrained steps: the sets, parameters and variables under a JSON
schema, then the objective and constraints under an EBNF grammar (xgrammar dialect) built from those
declarations, whose only identifiers are the declared names. So every expression parses and names only
declared symbols. Indexed problems (sets declared) keep the JSON schema for the second step: their
expressions (`sum(c[i]*x[i] for i in I)`) are checked by the solvers layer instead.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ratiocinator.agents.llmopt.config import LLMOPTConfig
from ratiocinator.models.types import Message
from ratiocinator.solvers.formulation import Formulation

RELATIONS_REQUEST = (
    "Now write the objective and the constraints, using only the names declared above."
)
_PARTS = ("sets", "parameters", "variables")


def formulation_schema(config: LLMOPTConfig | None = None) -> dict[str, Any]:
    """The JSON schema of `solvers.formulation.Formulation`, narrowed for decoding by a small model.

    Every element is required (an empty list is allowed), parameter values are numbers or lists of
    them, variables state their domain, and strings and lists are bounded so that a degenerate output
    ends instead of running to max_tokens. Everything it admits is a valid Formulation.
    """
    config = config or LLMOPTConfig()
    schema = copy.deepcopy(Formulation.model_json_schema())
    defs = schema["$defs"]
    number = {"type": "number"}
    row = {"type": "array", "items": number, "maxItems": config.max_items}
    defs["ParameterSpec"]["properties"]["value"] = {
        "anyOf": [number, row, {"type": "array", "items": row, "maxItems": config.max_items}]
    }
    defs["VariableSpec"]["required"] = ["name", "domain"]
    for spec in defs.values():
        for prop in spec["properties"].values():
            if prop.get("type") == "string" and "enum" not in prop:
                prop["maxLength"] = config.max_string
            if prop.get("type") == "array" and "maxItems" not in prop:
                prop["maxItems"] = config.max_items
    schema["properties"].pop("name", None)
    for key in ("sets", "parameters", "variables", "constraints"):
        schema["properties"][key]["maxItems"] = config.max_items
    schema["required"] = ["sets", "parameters", "variables", "objective", "constraints"]
    return schema


def declarations_schema(full: dict[str, Any]) -> dict[str, Any]:
    """The formulation schema cut to its first three elements (sets, parameters, variables)."""
    schema = copy.deepcopy(full)
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k in _PARTS}
    schema["required"] = list(_PARTS)
    return schema


def relations_schema(full: dict[str, Any]) -> dict[str, Any]:
    """The formulation schema cut to its last two elements (objective, constraints)."""
    schema = copy.deepcopy(full)
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in _PARTS}
    schema["required"] = ["objective", "constraints"]
    return schema


def _literal(text: str) -> str:
    return json.dumps(text)


def relations_grammar(declarations: dict[str, Any], max_constraints: int = 30) -> str | None:
    """EBNF for `{"objective": ..., "constraints": [...]}` over the declared scalar names; None if indexed."""
    if declarations.get("sets") or any(
        item.get("index")
        for part in ("parameters", "variables")
        for item in declarations.get(part, [])
    ):
        return None
    names = [
        item["name"] for part in ("parameters", "variables") for item in declarations.get(part, [])
    ]
    if not names:
        return None
    # longest first: an alternative that is a prefix of another must not win too early
    name_rule = " | ".join(_literal(n) for n in sorted(set(names), key=lambda n: (-len(n), n)))
    return "\n".join(
        [
            'root ::= "{\\"objective\\": {\\"sense\\": \\"" sense "\\", \\"expression\\": \\"" expr "\\"}, '
            f'\\"constraints\\": [" (constraint (", " constraint){{0,{max_constraints - 1}}})? "]}}"',
            'sense ::= "minimize" | "maximize"',
            'constraint ::= "{\\"name\\": \\"" [a-z_0-9]{1,24} "\\", \\"expression\\": \\"" expr " " '
            '("<=" | ">=" | "==") " " expr "\\"}"',
            'expr ::= term ((" + " | " - ") term){0,24}',
            'term ::= "-"? factor ("*" factor){0,3} ("/" factor)?',
            'factor ::= number | name | "(" expr ")"',
            'number ::= [0-9]{1,12} ("." [0-9]{1,8})?',
            f"name ::= {name_rule}",
        ]
    )


def relation_messages(conversation: list[Message], declarations_json: str) -> list[Message]:
    """The second step's request: the first step's conversation, its declarations, the request for the rest."""
    return [
        *conversation,
        Message(role="assistant", content=declarations_json),
        Message(role="user", content=RELATIONS_REQUEST),
    ]


def merge(declarations_json: str, relations_json: str) -> str:
    """One formulation JSON from the two steps; repeated constraint labels get a suffix (labels carry no meaning)."""
    declared, related = json.loads(declarations_json), json.loads(relations_json)
    seen: dict[str, int] = {}
    for c in related.get("constraints", []):
        seen[c["name"]] = seen.get(c["name"], 0) + 1
        if seen[c["name"]] > 1:
            c["name"] = f"{c['name']}_{seen[c['name']]}"
    return json.dumps({**{k: declared[k] for k in _PARTS}, **related}, separators=(", ", ": "))
