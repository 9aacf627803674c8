"""Schemas of constrained output without torch: a schema as a JSON-schema dict, and parsing an output under it.

models/structured.py turns these schemas into token masks; `Completion.parsed` and the server
backends only need to read and check outputs, so they import this module and not the decoder side.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from ratiocinator.errors import InvalidInput, ModelOutputError


def schema_dict(schema: Any) -> dict[str, Any]:
    """A JSON-schema dict from a pydantic model class or a dict."""
    if isinstance(schema, dict):
        return schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    raise InvalidInput(f"schema must be a pydantic model class or a JSON-schema dict, got {schema!r}")


def parse_output(text: str, schema: Any) -> Any:
    """Parse `text` under `schema`: a pydantic instance for a model class, validated JSON for a dict."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        try:
            return schema.model_validate_json(text)
        except ValidationError as exc:
            raise ModelOutputError(f"output does not validate as {schema.__name__}: {exc}", text=text) from exc
    import jsonschema

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ModelOutputError(f"output is not JSON: {exc}", text=text) from exc
    try:
        jsonschema.validate(value, schema_dict(schema))
    except jsonschema.ValidationError as exc:
        raise ModelOutputError(f"output does not match the schema: {exc.message}", text=text) from exc
    return value
