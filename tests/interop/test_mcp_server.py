"""`ratiocinator mcp serve` in a real subprocess, driven by the MCP SDK's own client over stdio and over HTTP on 127.0.0.1.

Each transport's server is started once per module; the calls of a transport run in one session
(`_calls`), and each test reads the answer it checks. Limits are generous: nothing here depends on
how fast the machine is.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import ratiocinator


def _example():
    """examples/mcp_client.py as a module: its blocksworld problem and LP model are the ones asked here too."""
    path = Path(ratiocinator.__file__).parent / "examples" / "mcp_client.py"
    spec = importlib.util.spec_from_file_location("mcp_client_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE = _example()
BLOCKS, LP = EXAMPLE.PROBLEM, EXAMPLE.LP

#: generous: a cold start imports the SDK, the planners and pyomo on a loaded 2-core machine
TIMEOUT = 240.0

CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "plan": ("plan", {"domain": "blocksworld", "problem": BLOCKS}),
    "lp": ("optimize", {"model_text": LP, "model_format": "lp"}),
    "malformed_pddl": ("plan", {"domain": "blocksworld", "problem": BLOCKS.replace("(on b a)", "(on b a")}),
    "infeasible": ("optimize", {"model_text": LP.replace("table >= 0", "table >= 0\n chair >= 100")}),
    "socket": ("run_python", {"code": "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=5)"}),
    "validate": ("validate_plan", {"domain": "blocksworld", "problem": BLOCKS,
                                   "plan": ["(unstack b a)", "(stack b c)", "(pickup a)", "(stack a b)"]}),
    "invalid_plan": ("validate_plan", {"domain": "blocksworld", "problem": BLOCKS, "plan": ["(pickup a)"]}),
    "derivation": ("check_derivation", {"steps": ["(x + 1)^2", "x^2 + 2x + 2"]}),
    "check_math": ("check_math", {"before": "(x + 1)^2", "after": "x^2 + 2x + 1"}),
    "solve": ("solve_equation", {"equations": ["x^2 = 4"]}),
    "python": ("run_python", {"code": "print(6 * 7)", "tests": ["assert 6 * 7 == 42"]}),
    "select": ("select_code", {"prompt": "def add(a, b):\n", "entry_point": "add",
                               "candidates": ["    return a - b\n", "    return a + b\n"],
                               "tests": ["assert add(1, 2) == 3", "assert add(2, 2) == 4"]}),
    "bad_arguments": ("optimize", {"model_text": LP, "model_format": "xlsx"}),
}
HTTP_CALLS = ("plan", "lp", "malformed_pddl", "infeasible", "socket")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


async def _calls(client: Any, names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"tools": {t.name: t for t in (await client.list_tools()).tools}}
    for name in names:
        tool, arguments = CALLS[name]
        out[name] = await client.call_tool(tool, arguments, read_timeout_seconds=TIMEOUT)
    return out


@pytest.fixture(scope="module")
def over_stdio() -> dict[str, Any]:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "ratiocinator.cli", "mcp", "serve"],
                                   env=_env())

    async def session() -> dict[str, Any]:
        async with Client(params, read_timeout_seconds=TIMEOUT) as client:
            return await _calls(client, tuple(CALLS))

    return asyncio.run(asyncio.wait_for(session(), 4 * TIMEOUT))


@pytest.fixture(scope="module")
def over_http(http_server_url) -> dict[str, Any]:
    from mcp import Client

    async def session() -> dict[str, Any]:
        async with Client(http_server_url, read_timeout_seconds=TIMEOUT) as client:
            return await _calls(client, HTTP_CALLS)

    return asyncio.run(asyncio.wait_for(session(), 4 * TIMEOUT))


@pytest.fixture(params=["stdio", "http"])
def answers(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.getfixturevalue(f"over_{request.param}")


def _ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    data = result.structured_content
    assert json.loads(result.content[0].text) == data  # the same JSON for clients that read only text
    return data


def _error(result: Any) -> str:
    assert result.is_error
    (content,) = result.content
    text = content.text
    assert "\n" not in text and "Traceback" not in text
    return text


def test_every_tool_is_listed_with_a_described_json_schema(over_stdio):
    tools = over_stdio["tools"]
    assert set(tools) == {"plan", "validate_plan", "optimize", "check_derivation", "check_math",
                          "solve_equation", "run_python", "select_code"}  # no model: no *_from_text tools
    for tool in tools.values():
        assert tool.description and tool.input_schema["type"] == "object"
        for name, prop in tool.input_schema["properties"].items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
    assert tools["plan"].input_schema["required"] == ["domain", "problem"]


def test_a_blocksworld_plan_comes_back_validated(answers):
    data = _ok(answers["plan"])
    assert data["verified"] is True and data["result"]["validated"] is True
    # any valid plan (LPG may join Fast Downward on a slow machine): b goes onto c before a goes onto b
    assert data["result"]["plan"][-1] == "(stack a b)" and data["result"]["steps"] >= 4
    assert "validator" in data["how"]


def test_an_lp_optimum_comes_back_verified(answers):
    data = _ok(answers["lp"])
    assert data["verified"] is True and data["result"]["status"] == "optimal"
    assert data["result"]["objective"] == pytest.approx(1100.0)
    assert data["result"]["values"] == pytest.approx({"chair": 20.0, "table": 10.0})
    assert "re-checked" in data["how"]


def test_malformed_pddl_is_a_tool_error_that_says_where(answers):
    text = _error(answers["malformed_pddl"])
    assert text.startswith("plan: problem, line 4, column 35: Expected ')'")


def test_an_infeasible_model_is_a_tool_error_that_says_so(answers):
    text = _error(answers["infeasible"])
    assert text.startswith("optimize: infeasible: no values satisfy every constraint")


def test_code_that_opens_a_socket_is_a_tool_error(answers):
    text = _error(answers["socket"])
    assert text.startswith("run_python: the code raised OSError") and "the sandbox has no network" in text


def test_bad_arguments_are_a_tool_error_naming_the_argument(over_stdio):
    text = _error(over_stdio["bad_arguments"])
    assert text.startswith("invalid arguments for optimize: model_format:") and "'lp' or 'mps'" in text


def test_validate_plan_checks_a_plan_and_names_the_failing_step(over_stdio):
    assert _ok(over_stdio["validate"])["result"]["valid"] is True
    bad = _ok(over_stdio["invalid_plan"])["result"]
    assert (bad["valid"], bad["failed_step"]) == (False, 1) and "clear(a)" in bad["reason"]


def test_the_sympy_tools(over_stdio):
    derivation = _ok(over_stdio["derivation"])["result"]
    assert (derivation["valid"], derivation["first_invalid_step"]) == (False, 2)
    assert _ok(over_stdio["check_math"])["result"]["kind"] == "equivalent"
    assert _ok(over_stdio["solve"])["result"]["solutions"] == [{"x": "-2"}, {"x": "2"}]


def test_run_python_runs_in_the_sandbox(over_stdio):
    data = _ok(over_stdio["python"])
    assert data["result"]["stdout"] == "42\n" and data["result"]["tests"] == ["pass"] and data["verified"]


def test_select_code_chooses_by_b4_and_says_the_tests_were_not_trusted(over_stdio):
    data = _ok(over_stdio["select"])
    assert data["result"]["solution"] == "    return a + b\n" and data["result"]["strategy"].startswith("b4")
    assert data["verified"] is False and "not known to be right" in data["how"]
