"""Tools over the registered methods (ratiocinator.methods): each method whose `chat_kind` is a request's kind.

Such a tool takes no arguments (the method reads the user's request itself), runs
`method.run(request, backend=...)` and returns the result's `report()`; its check holds only when
the result's verdict is `verified`, and the sentence says the verdict in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ratiocinator.agents.tools import Tool, Verified, make_tool

#: seconds one method run may take inside the chat
METHOD_TIMEOUT = 300.0


def methods_for_chat() -> list[Any]:
    """The registered methods that answer a kind of chat request (read at call time)."""
    from ratiocinator import methods

    return [m for m in methods.METHODS if m.chat_kind]


def tool_name(method: Any) -> str:
    """A tool name (an identifier) for a method: its registry name with `_` for other characters."""
    return re.sub(r"\W", "_", method.name)


def method_tool(method: Any, request: Callable[[], str], backend: Callable[[], Any]) -> Tool:
    """A tool that runs `method` on the current request (`request()`) and backend (`backend()`).

    The method's kit is imported here, so that a kit that does not import is an error at once, not
    a tool that fails (or is missing) later.
    """
    method.module()

    def run_method() -> Verified:
        """Run the method on the user's request."""
        result = method.run(request(), backend=backend())
        verdict = result.verdict
        how = verdict.reason if verdict.verified else str(verdict)
        return Verified(value=result.report(), how=how, checked=verdict.verified)

    description = f"{method.description} (it reads the user's request itself)"
    return make_tool(run_method, name=tool_name(method), description=description, timeout=METHOD_TIMEOUT)
