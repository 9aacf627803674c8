"""Tool arguments against the tool's JSON schema: coerce what the model meant ("3" -> 3), validate, explain.

Coercion follows the schema's declared types only (through $ref, anyOf/oneOf, nested objects and
arrays); validation is jsonschema's. The feedback text shows a model the tools as short signatures.
"""

from __future__ import annotations

import ast
import json
import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import jsonschema
from json_repair import repair_json

from ratiocinator.errors import InvalidInput
from ratiocinator.models.types import ToolSpec


class Unreadable:
    """Arguments that no loader could read: the source text, kept for the error message."""

    def __init__(self, source: str) -> None:
        self.source = source


def load_value(source: str) -> Any:
    """A JSON value from JSON, a Python literal, or broken/half JSON (repaired); Unreadable if none."""
    source = source.strip()
    try:
        return json.loads(source)
    except Exception:  # json raises ValueError, RecursionError on deep nesting
        pass
    try:
        with (
            warnings.catch_warnings()
        ):  # "invalid escape sequence" in model text is not our concern
            warnings.simplefilter("ignore")
            return ast.literal_eval(
                source
            )  # Python dict reprs; evaluates literals only, never code
    except Exception:  # SyntaxError, ValueError, RecursionError, MemoryError-free by MAX_SCAN_CHARS
        pass
    try:
        value = repair_json(source, return_objects=True)
    except Exception:  # a third-party repairer: any failure means "unreadable", never a crash
        return Unreadable(source)
    if value == "" and source not in ('""', "''"):
        return Unreadable(source)
    return value


def _with_defs(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    defs = {k: root[k] for k in ("$defs", "definitions") if k in root and k not in schema}
    return {**schema, **defs} if defs else schema


def _deref(schema: Any, root: dict[str, Any]) -> Any:
    for _ in range(8):
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        schema = node if isinstance(node, dict) else {}
    return schema


def _valid(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    try:
        return jsonschema.validators.validator_for(root)(_with_defs(schema, root)).is_valid(value)
    except Exception:  # an unresolvable $ref in a sub-schema: treat that branch as not matching
        return False


def _coerce(value: Any, schema: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """`value` converted where the schema's type says what the model meant ("3" -> 3, "true" -> True)."""
    schema = _deref(schema, root)
    if depth > 16 or not isinstance(schema, dict):
        return value
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            if _valid(value, schema, root):
                return value
            for sub in schema[key]:
                fixed = _coerce(value, sub, root, depth + 1)
                if isinstance(sub, dict) and _valid(fixed, sub, root):
                    return fixed
            return value
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "properties" in schema:
        kinds.add("object")
    try:
        if isinstance(value, str):
            s = value.strip()
            if "integer" in kinds and re.fullmatch(r"[+-]?\d{1,18}(\.0*)?", s):
                return int(float(s)) if "." in s else int(s)
            if "number" in kinds and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
                number = float(s)
                return (
                    int(number)
                    if number.is_integer() and "." not in s and "e" not in s.lower()
                    else number
                )
            if "boolean" in kinds and s.lower() in ("true", "false", "yes", "no"):
                return s.lower() in ("true", "yes")
            if "null" in kinds and s.lower() in ("null", "none", ""):
                return None
            if kinds & {"array", "object"} and s[:1] in "[{" and s:
                loaded = load_value(s)
                if not isinstance(loaded, Unreadable):
                    return _coerce(loaded, schema, root, depth + 1)
            if isinstance(schema.get("enum"), list) and value not in schema["enum"]:
                same = [e for e in schema["enum"] if isinstance(e, str) and e.lower() == s.lower()]
                return same[0] if len(same) == 1 else value
        if (
            isinstance(value, float)
            and "integer" in kinds
            and math.isfinite(value)
            and value.is_integer()
        ):
            return int(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and kinds == {"string"}:
            return str(value)
    except (ValueError, OverflowError):
        return value
    if isinstance(value, dict) and "object" in kinds:
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        extra = schema.get("additionalProperties", {})
        return {k: _coerce(v, props.get(k, extra), root, depth + 1) for k, v in value.items()}
    if "array" in kinds:
        items = schema.get("items", {})
        if isinstance(value, list):
            return [_coerce(v, items, root, depth + 1) for v in value]
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return [_coerce(value, items, root, depth + 1)]  # one item where a list was asked for
    return value


def _validator(tool: ToolSpec) -> Any:
    cls = jsonschema.validators.validator_for(tool.parameters)
    try:
        cls.check_schema(tool.parameters)
    except jsonschema.SchemaError as exc:
        raise InvalidInput(
            f"tool {tool.name!r}: parameters is not a valid JSON schema: {exc.message}"
        ) from None
    return cls(tool.parameters)


def check_arguments(args: Any, tool: ToolSpec) -> tuple[dict[str, Any] | None, str]:
    """(arguments coerced and validated against the tool's schema, "") or (None, what is wrong)."""
    schema = tool.parameters
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    order = list(props)
    if isinstance(args, Unreadable):
        return (
            None,
            f"the arguments of {tool.name!r} could not be read as JSON: {args.source[:120]!r}",
        )
    if args is None:
        args = {}
    if isinstance(args, str):
        loaded = load_value(args) if args.strip() else {}
        args = loaded if isinstance(loaded, dict) else args
    if not isinstance(args, dict):
        if len(order) != 1:
            return (
                None,
                f"the arguments of {tool.name!r} must be a JSON object, got {json.dumps(args, default=str)[:80]}",
            )
        args = {order[0]: args}
    args = {str(k): v for k, v in args.items()}
    positional = sorted(k for k in args if k.startswith("*") and k[1:].isdigit())
    for k in positional:
        index = int(k[1:])
        if index >= len(order) or order[index] in args:
            return None, f"{tool.name!r} takes its arguments by name ({', '.join(order) or 'none'})"
        args[order[index]] = args.pop(k)
    required = set(schema.get("required", []))
    for k in [k for k, v in args.items() if v is None and k not in required]:
        if not _valid(None, props.get(k, {}), schema):
            del args[k]  # `"unit": null` for an optional argument means "not given"
    args = _coerce(args, schema, schema)
    error = jsonschema.exceptions.best_match(_validator(tool).iter_errors(args))
    if error is None:
        return args, ""
    where = "/".join(str(p) for p in error.absolute_path)
    return (
        None,
        f"the arguments of {tool.name!r} do not match its schema: {where + ': ' if where else ''}{error.message}",
    )


def _signature(tool: ToolSpec) -> str:
    props = tool.parameters.get("properties") or {}
    required = set(tool.parameters.get("required", []))
    parts = []
    for k, v in props.items():
        v = _deref(v, tool.parameters)
        kind = v.get("type", "any") if isinstance(v, dict) else "any"
        if isinstance(v, dict) and isinstance(v.get("enum"), list):
            kind = "|".join(json.dumps(e) for e in v["enum"])
        parts.append(f"{k}{'' if k in required else '?'}: {kind}")
    return f"{tool.name}({', '.join(parts)})"


def feedback_for(problem: str, tools: Sequence[ToolSpec]) -> str:
    """What to tell a model whose tool call had `problem`: the problem, the tools, the format."""
    listing = "\n".join(f"- {_signature(t)}" for t in tools)
    return (
        f"Your tool call could not be used: {problem}{'' if problem.endswith(('.', '?')) else '.'}\nThe tools are:\n{listing}\n"
        "Reply with exactly one tool call and nothing else, in this form:\n"
        '<tool_call>\n{"name": "<tool name>", "arguments": {<the arguments as JSON>}}\n</tool_call>'
    )
