"""The built-in tools that compare their result with the user's own text (`optimize`, `plan`), bound to the chat's request.

The model does not copy the request into the call (a 0.5B caller would not copy it faithfully, and a
copy could differ from what the user wrote): the chat passes its request as `problem_text` itself, and
the tool's schema, as the planner and caller see it, leaves that parameter out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pydantic import create_model

from ratiocinator.agents.tools import Tool

#: the parameter through which a built-in tool takes the user's own text
TEXT_PARAMETER = "problem_text"


def bound_to_request(tool: Tool, request: Callable[[], str]) -> Tool:
    """The same tool with `problem_text` filled from `request()` at call time and hidden from its schema."""
    fields = tool.args_model.model_fields
    if TEXT_PARAMETER not in fields:
        return tool
    kept: dict[str, Any] = {k: (f.annotation, f) for k, f in fields.items() if k != TEXT_PARAMETER}
    model = create_model(tool.args_model.__name__, **kept)
    original = tool.fn

    def call(**arguments: Any) -> Any:
        return original(**arguments, **{TEXT_PARAMETER: request()})

    return dataclasses.replace(tool, fn=call, args_model=model)
