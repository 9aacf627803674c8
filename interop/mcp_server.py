"""The MCP server over the exact engines (`ratiocinator mcp serve`): typed tools over stdio or streamable HTTP on 127.0.0.1.

    serve(transport="stdio")                       # what a desktop assistant starts
    serve(transport="http", port=8765)             # http://127.0.0.1:8765/mcp
    build_server(server_tools())                   # the low-level mcp.server.Server, for tests

Each `Tool` (agents/tools.py: a pydantic argument model, a time limit) is listed with its JSON
schema and called through `Tool.run`, which validates the arguments and stops waiting at the tool's
limit; a call runs in a worker thread, so the server keeps answering while an engine works. A result
comes back as JSON, `{"result": …, "verified": true|false, "how": "…"}`, both as text and as
structured content. Anything that goes wrong (bad arguments, malformed PDDL, an infeasible model, code
that fails in the sandbox, the time limit) is an MCP tool error (`isError`) whose one line says what
and, where it can, how to fix it; never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from typing import Any, Literal

from ratiocinator.agents.tools import Tool, ToolResult
from ratiocinator.errors import InvalidInput, RatiocinatorError
from ratiocinator.solvers.cli import finite, one_line

SERVER_NAME = "ratiocinator"
INSTRUCTIONS = (
    "Exact engines whose answers are checked: plan and validate_plan (PDDL planning, every plan validated "
    "step by step), optimize (a five-element formulation, or LP / MPS text; the optimum re-checked from its "
    "values), check_derivation / check_math and solve_equation (sympy), run_python (a sandbox without "
    "network), select_code (B4 over candidate solutions and tests). Each result says whether and how it was "
    "verified."
)


def error_line(result: ToolResult) -> str:
    """The one line a user needs for a failed call: the tool's own words, never a traceback."""
    exc = result.error
    if exc is None:  # invalid arguments, a time limit: the tool wrapper's sentence
        return one_line(result.content)
    if isinstance(exc, RatiocinatorError | RuntimeError | TimeoutError):
        return one_line(f"{result.name}: {exc}")
    return one_line(f"{result.name}: unexpected {type(exc).__name__}: {exc} (please report it)")


def payload(result: ToolResult) -> dict[str, Any]:
    """What an answered call returns: the value, whether its check held, and how it was checked."""
    verified = result.verified is not None and result.checked
    how = result.verified or "not checked by an engine"
    return json.loads(json.dumps(finite({"result": result.value, "verified": verified, "how": how}),
                                 ensure_ascii=False, default=str, allow_nan=False))


def as_call_result(result: ToolResult) -> Any:
    """A `ToolResult` as MCP's `CallToolResult`: the JSON payload, or a tool error in one line."""
    from mcp.types import CallToolResult, TextContent

    if not result.ok:
        return CallToolResult(content=[TextContent(type="text", text=error_line(result))], is_error=True)
    data = payload(result)
    text = json.dumps(data, ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def build_server(tools: Sequence[Tool], *, name: str = SERVER_NAME) -> Any:
    """A low-level `mcp.server.Server` that lists `tools` with their JSON schemas and calls them within their limits."""
    import anyio.to_thread
    from mcp.server import Server
    from mcp.types import CallToolResult, ListToolsResult, TextContent, ToolAnnotations
    from mcp.types import Tool as McpTool

    from ratiocinator import __version__

    by_name = {t.name: t for t in tools}
    listing = [
        McpTool(name=t.name, description=t.description, input_schema=t.parameters,
                annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
        for t in tools
    ]

    async def list_tools(ctx: Any, params: Any) -> Any:
        return ListToolsResult(tools=listing)

    async def call_tool(ctx: Any, params: Any) -> Any:
        tool = by_name.get(params.name)
        if tool is None:
            text = f"unknown tool {params.name!r}; this server offers {', '.join(sorted(by_name))}"
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        run = functools.partial(tool.run, dict(params.arguments or {}))
        return as_call_result(await anyio.to_thread.run_sync(run, abandon_on_cancel=True))

    return Server(name, version=__version__, instructions=INSTRUCTIONS, on_list_tools=list_tools,
                  on_call_tool=call_tool)


def serve(transport: Literal["stdio", "http"] = "stdio", *, port: int = 8765, host: str = "127.0.0.1",
          model: str | None = None) -> None:
    """Serve the engines' tools until the client goes (stdio) or the process is stopped (http)."""
    import anyio

    from ratiocinator.interop.engine_tools import server_tools

    if transport not in ("stdio", "http"):
        raise InvalidInput(f"transport {transport!r}: expected stdio or http")
    if not 0 < port < 65536:
        raise InvalidInput(f"port {port}: expected a TCP port, 1 to 65535")
    if model is not None:
        _check_model(model)
    logging.getLogger("mcp").setLevel(logging.WARNING)
    server = build_server(server_tools(model))
    if transport == "stdio":
        anyio.run(_serve_stdio, server)
    else:
        anyio.run(functools.partial(_serve_http, server, host=host, port=port))


def _check_model(model: str) -> None:
    """A model spec that cannot load is refused before serving (the model itself loads on the first call)."""
    from ratiocinator.models import catalog
    from ratiocinator.models.loading import split_spec

    kind, name = split_spec(model)
    if kind == "embedded":
        catalog.get(name)


async def _serve_stdio(server: Any) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def _serve_http(server: Any, *, host: str, port: int) -> None:
    import uvicorn

    app = server.streamable_http_app(host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning")
    await uvicorn.Server(config).serve()
