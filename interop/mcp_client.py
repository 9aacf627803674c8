"""MCP servers' tools for the tool agent: `mcp_tools("command …")` connects once and returns the server's tools as `Tool`s.

    import ratiocinator as rc
    tools = rc.mcp_tools("ratiocinator mcp serve")          # a command, started and spoken to over stdio
    tools = rc.mcp_tools("http://127.0.0.1:8765/mcp")       # or a streamable-HTTP server's URL
    agent = rc.tool_agent(tools=[add, *tools])              # offered to the planner and the caller

Each tool keeps the server's JSON schema as its argument schema: the tool agent's caller is
constrained to it, and arguments are checked against it (jsonschema) before the server is called.
A call waits at most the tool's `timeout`; an MCP tool error comes back as the tool's error, in the
server's words. A result in ratiocinator's own shape (`{"result", "verified", "how"}`, from
`ratiocinator mcp serve`) keeps its check, marked as reported by the server; any other server's result
is its structured content, else its text, and is not a check.

The connection (the server's process, for a command) lives in a background thread with its own
event loop, shared by the tools of one `mcp_tools` call; it ends with the process, or at
`connection_of(tool).close()`.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import copy
import os
import re
import shlex
import tempfile
import threading
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from ratiocinator.agents.tools import MARGIN, Tool, Verified, call_limit
from ratiocinator.errors import InvalidInput, RatiocinatorError
from ratiocinator.solvers.cli import one_line

#: seconds a server has to start and list its tools, and (by default) each call
CONNECT_TIMEOUT = 120.0
CALL_TIMEOUT = 150.0


class McpToolError(RatiocinatorError):
    """The MCP server answered a call with a tool error; the message is the server's."""


def _root_cause(exc: BaseException) -> BaseException:
    """The first leaf of an exception group (anyio's task groups wrap what went wrong)."""
    while getattr(exc, "exceptions", None):  # an ExceptionGroup (a builtin from Python 3.11 only)
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    return exc


class McpConnection:
    """One MCP server, connected once, in a background thread with its own event loop."""

    def __init__(self, server: str, *, timeout: float = CONNECT_TIMEOUT, env: Mapping[str, str] | None = None,
                 cwd: str | None = None) -> None:
        if not isinstance(server, str) or not server.strip():
            raise InvalidInput(f"MCP server: expected a command or an http(s):// URL, got {server!r}")
        self.server = server.strip()
        self._log = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # the server's stderr
        self._target = self._transport(env, cwd)
        self._client: Any = None
        self._closing: asyncio.Event | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ratiocinator-mcp", daemon=True)
        self._thread.start()
        ready: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()
        self._main = asyncio.run_coroutine_threadsafe(self._serve(ready), self._loop)
        try:
            self.tools: list[Any] = ready.result(timeout)
        except concurrent.futures.TimeoutError:
            tail = self._stderr_tail()
            self.close()
            raise InvalidInput(f"MCP server {self.server!r}: no list of tools within {timeout:g} s{tail}") from None
        except Exception as exc:
            tail, why = self._stderr_tail(), _root_cause(exc)
            self.close()
            raise InvalidInput(f"MCP server {self.server!r} could not be started or asked for its tools: "
                               f"{type(why).__name__}: {why}{tail}") from None
        atexit.register(self.close)

    def _transport(self, env: Mapping[str, str] | None, cwd: str | None) -> Any:
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client

        if re.match(r"https?://", self.server):
            return self.server
        words = shlex.split(self.server)
        # the command sees this process's environment, as it would from a shell (the SDK passes only a few)
        params = StdioServerParameters(command=words[0], args=words[1:], env={**os.environ, **(env or {})}, cwd=cwd)
        return stdio_client(params, errlog=self._log)

    async def _serve(self, ready: concurrent.futures.Future[list[Any]]) -> None:
        from mcp import Client

        self._closing = asyncio.Event()
        try:
            async with Client(self._target) as client:
                tools, cursor = [], None
                while True:
                    page = await client.list_tools(cursor=cursor)
                    tools += page.tools
                    cursor = page.next_cursor
                    if not cursor:
                        break
                self._client = client
                ready.set_result(tools)
                await self._closing.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            else:
                raise

    def _stderr_tail(self) -> str:
        try:
            self._log.seek(0)
            lines = [ln.strip() for ln in self._log.read().splitlines() if ln.strip()]
        except (OSError, ValueError):
            return ""
        return f" (its last words: {one_line(lines[-1])[:300]})" if lines else ""

    def call(self, name: str, arguments: Mapping[str, Any], timeout: float) -> Any:
        """The server's `CallToolResult` for one call, within `timeout` seconds (else TimeoutError)."""
        if self._client is None or self._main.done():
            raise McpToolError(f"the MCP server {self.server!r} is no longer connected{self._stderr_tail()}")
        job = self._client.call_tool(name, dict(arguments), read_timeout_seconds=timeout)
        future = asyncio.run_coroutine_threadsafe(job, self._loop)
        try:
            return future.result(timeout + MARGIN)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise McpToolError(f"{name}: no answer from the MCP server within {timeout:g} s") from None
        except Exception as exc:  # the session's own errors (its read timeout, a lost connection): one line
            if "timed out" in str(exc).lower():
                raise McpToolError(f"{name}: no answer from the MCP server within {timeout:g} s") from None
            raise McpToolError(f"{name}: {one_line(str(exc)) or type(exc).__name__}") from None

    def answer(self, name: str, arguments: Mapping[str, Any], timeout: float) -> Any:
        """What a tool returns: ratiocinator's checked result, else the structured content, else the text."""
        result = self.call(name, arguments, timeout)
        text = "\n".join(c.text for c in result.content if getattr(c, "type", None) == "text")
        if result.is_error:
            raise McpToolError(one_line(text) or f"{name} failed (the server gave no message)")
        data = result.structured_content
        if isinstance(data, dict) and {"result", "verified", "how"} <= set(data):
            return Verified(value=data["result"], how=f"{data['how']} (as reported by the MCP server {self.server!r})",
                            checked=bool(data["verified"]))
        return data if data is not None else text

    def close(self) -> None:
        """End the session (and the server's process, for a command); idempotent."""
        if self._loop.is_closed():
            return
        if self._closing is not None:
            self._loop.call_soon_threadsafe(self._closing.set)
        try:
            self._main.result(15)
        except BaseException:  # ending anyway: whatever the session raised on the way out
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()
        self._log.close()


def schema_model(name: str, schema: Mapping[str, Any]) -> type[BaseModel]:
    """An argument model whose JSON schema is `schema` exactly and whose validation is jsonschema's against it."""
    import jsonschema

    schema = copy.deepcopy(dict(schema))
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InvalidInput(f"MCP tool {name}: its input schema is not a valid JSON schema ({exc.message})") from None
    validator = cls(schema)

    class Arguments(BaseModel):
        model_config = ConfigDict(extra="allow")

        @model_validator(mode="before")
        @classmethod
        def _valid(cls, data: Any) -> Any:
            errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path])
            if errors:
                where = ".".join(map(str, errors[0].path)) or "arguments"
                raise PydanticCustomError("json_schema", "{where}: {message}",
                                          {"where": where, "message": errors[0].message})
            return data

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return copy.deepcopy(schema)

    Arguments.__name__ = Arguments.__qualname__ = f"{name}_arguments"
    return Arguments


def _as_tool(connection: McpConnection, listed: Any, prefix: str, timeout: float) -> Tool:
    name = prefix + re.sub(r"\W", "_", listed.name)
    remote = listed.name

    def call(**arguments: Any) -> Any:
        limit = call_limit.get() or timeout  # this call's limit, when Tool.run set one
        return connection.answer(remote, arguments, max(limit - MARGIN, limit / 2))  # gives up first: its words

    description = " ".join((listed.description or "").split("\n\n", 1)[0].split())
    return Tool(name=name, description=description or f"the tool {remote} of the MCP server {connection.server!r}",
                fn=call, args_model=schema_model(name, listed.input_schema), timeout=timeout,
                extra={"mcp_server": connection.server, "mcp_tool": remote, "mcp_connection": connection})


def mcp_tools(server: str, *, prefix: str = "", timeout: float = CALL_TIMEOUT, env: Mapping[str, str] | None = None,
              cwd: str | None = None, connect_timeout: float = CONNECT_TIMEOUT) -> list[Tool]:
    """The tools of the MCP server `server` (a command line, or an http(s):// URL) as the tool agent's tools.

    `prefix` goes before every name (to keep two servers' tools apart); `timeout` bounds each call;
    `env` adds to the environment a command is started with; the server must list its tools within
    `connect_timeout` seconds.
    """
    if not (isinstance(timeout, int | float) and timeout > 0):
        raise InvalidInput(f"timeout: expected positive seconds, got {timeout!r}")
    if prefix and not re.fullmatch(r"\w+", prefix):
        raise InvalidInput(f"prefix {prefix!r}: expected letters, digits or _")
    connection = McpConnection(server, timeout=connect_timeout, env=env, cwd=cwd)
    tools = [_as_tool(connection, t, prefix, timeout) for t in connection.tools]
    names = [t.name for t in tools]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        connection.close()
        raise InvalidInput(f"MCP server {server!r}: tool names {clashes} clash once made identifiers")
    return tools


def connection_of(tool: Tool) -> McpConnection:
    """The connection an MCP tool calls through (to close it early)."""
    connection = tool.extra.get("mcp_connection")
    if connection is None:
        raise InvalidInput(f"tool {tool.name} is not an MCP server's tool")
    return connection
