"""The MCP server's tools in process: the from-text tools with a model (scripted), and results and errors as MCP sends them."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path

import pytest

from ratiocinator.interop import engine_tools
from ratiocinator.interop.engine_tools import server_tools
from ratiocinator.interop.mcp_server import as_call_result, build_server

KITS = Path(__file__).parent.parent / "kits"


def _case(name: str):
    """A method's registry case (tests/kits/case_<name>.py): its input and a scripted backend that solves it."""
    spec = importlib.util.spec_from_file_location(f"case_{name}", KITS / f"case_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with_model(monkeypatch, case) -> dict:
    monkeypatch.setattr(engine_tools, "_backend", lambda model: case.make_backend())
    return {t.name: t for t in server_tools("embedded:scripted")}


def test_the_from_text_tools_are_offered_only_with_a_model():
    assert not {"plan_from_text", "optimize_from_text"} & {t.name for t in server_tools()}
    tools = {t.name: t for t in server_tools("embedded:any")}
    assert tools["plan_from_text"].parameters["required"] == ["text"]
    assert tools["plan_from_text"].parameters["properties"]["domain"]["description"].startswith("a built-in domain")
    assert tools["optimize_from_text"].timeout == engine_tools.FROM_TEXT_LIMIT


def test_plan_from_text_runs_llmp_and_keeps_its_verdict(monkeypatch):
    case = _case("llmp")
    tools = _with_model(monkeypatch, case)
    result = tools["plan_from_text"].run({"text": case.make_input(), "domain": "blocksworld"})
    assert result.ok and result.checked and "as translated" in result.verified
    data = as_call_result(result).structured_content
    assert data["verified"] is True and "(stack b1 b2)" in data["result"]


def test_optimize_from_text_runs_llmopt_and_keeps_its_verdict(monkeypatch):
    case = _case("llmopt")
    tools = _with_model(monkeypatch, case)
    data = as_call_result(tools["optimize_from_text"].run({"text": case.make_input()})).structured_content
    assert data["verified"] is True and "11" in data["result"]


def test_a_model_that_does_not_load_is_a_tool_error_in_one_line(monkeypatch):
    tools = {t.name: t for t in server_tools("embedded:no-such-model")}
    sent = as_call_result(tools["optimize_from_text"].run({"text": "Maximize x with x <= 3."}))
    assert sent.is_error and sent.content[0].text.startswith("optimize_from_text: ")
    assert "no-such-model" in sent.content[0].text and "\n" not in sent.content[0].text


def test_an_unexpected_exception_is_named_and_asked_to_be_reported(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("x")

    tool = {t.name: t for t in server_tools()}["select_code"]
    monkeypatch.setattr("ratiocinator.agents.code_selection.run", broken)
    sent = as_call_result(tool.run({"prompt": "def f():\n", "entry_point": "f", "candidates": ["    return 1\n"]}))
    assert sent.is_error and sent.content[0].text == "select_code: unexpected KeyError: 'x' (please report it)"


def test_the_in_process_server_lists_and_calls_through_the_sdk():
    from mcp import Client

    async def session():
        async with Client(build_server(server_tools())) as client:
            listed = [t.name for t in (await client.list_tools()).tools]
            solved = await client.call_tool("solve_equation", {"equations": ["2x = 6"]})
            unknown = await client.call_tool("no_such_tool", {})
            return listed, solved, unknown

    listed, solved, unknown = asyncio.run(session())
    assert listed[:3] == ["plan", "validate_plan", "optimize"]
    assert solved.structured_content["result"] == {"solutions": [{"x": "3"}]}
    assert unknown.is_error and unknown.content[0].text.startswith("unknown tool 'no_such_tool'; this server offers")


@pytest.mark.parametrize("bad", [{"formulation": None, "model_text": None}, {}])
def test_optimize_wants_exactly_one_model(bad):
    tool = {t.name: t for t in server_tools()}["optimize"]
    sent = as_call_result(tool.run(bad))
    assert sent.content[0].text == ("optimize: give exactly one of formulation (a five-element model) or model_text "
                                    "(LP or MPS text)")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--transport", "carrier-pigeon"], "error: --transport carrier-pigeon: expected stdio or http"),
        (["--port", "0", "--transport", "http"], "error: port 0: expected a TCP port, 1 to 65535"),
        (["--model", "embedded:no-such-model"], "error: unknown embedded model 'no-such-model'"),
        (["--model", "carrier:pigeon"], "error: model spec 'carrier:pigeon': unknown backend 'carrier'"),
    ],
)
def test_mcp_serve_refuses_bad_options_before_serving(args, said):
    from typer.testing import CliRunner

    from ratiocinator import cli

    result = CliRunner().invoke(cli.app, ["mcp", "serve", *args])
    assert result.exit_code == 2 and result.stderr.startswith(said), result.output


def test_every_served_schema_compiles_to_a_grammar():
    """A tool agent on our server constrains its caller to each tool's schema: each must compile (xgrammar)."""
    import xgrammar as xgr

    for tool in server_tools("embedded:any"):
        xgr.Grammar.from_json_schema(json.dumps(tool.parameters), any_whitespace=False, strict_mode=True)


def test_lp_text_that_does_not_parse_is_named_by_its_argument():
    tool = {t.name: t for t in server_tools()}["optimize"]
    sent = as_call_result(tool.run({"model_text": "Maximize\n obj: 3 x +\nSubject To\n c: x <=\nEnd\n"}))
    assert sent.is_error and sent.content[0].text.startswith("optimize: model_text (LP): HiGHS cannot read it as LP")
