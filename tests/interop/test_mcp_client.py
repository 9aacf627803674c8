"""MCP tools in the tool agent and the chat: `rc.mcp_tools` against our own server and a small server written here.

The agents run on the scripted backend; the servers are real subprocesses spoken to over stdio.
Limits are generous, and the one time limit tested is far below what its call would take.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time

import pytest
from typer.testing import CliRunner

import ratiocinator as rc
from ratiocinator.agents.chat import ChatAgent
from ratiocinator.agents.tool_agent import ToolAgent, ToolAgentConfig
from ratiocinator.errors import InvalidInput
from ratiocinator.interop.mcp_client import connection_of, schema_model
from ratiocinator.models.scripted import ScriptedBackend

SMALL_SERVER = '''"""A small MCP server for the tests, on the SDK's MCPServer."""
import time

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("words")


@server.tool()
def word_count(text: str) -> int:
    """Count the words of a text.

    More about it, which a prompt does not need.
    """
    return len(text.split())


@server.tool()
def sleepy(seconds: float) -> str:
    """Sleep for a while, then say so."""
    time.sleep(seconds)
    return "awake"


@server.tool()
def refuse(reason: str) -> str:
    """Always fails, with the reason given."""
    raise ToolError(reason)


server.run()
'''
BLOCKS = """(define (problem two) (:domain blocksworld) (:objects a b)
  (:init (arm-empty) (on-table a) (on b a) (clear b)) (:goal (on a b)))"""
OURS = f"{sys.executable} -m ratiocinator.cli mcp serve"
CONFIG = ToolAgentConfig(stream_tokens=False)


@pytest.fixture(scope="module")
def small_server(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("mcp") / "words_server.py"
    path.write_text(SMALL_SERVER)
    return f"{sys.executable} {path}"


@pytest.fixture(scope="module")
def words(small_server):
    tools = rc.mcp_tools(small_server, timeout=120)
    yield {t.name: t for t in tools}
    connection_of(tools[0]).close()


@pytest.fixture(scope="module")
def ours():
    tools = rc.mcp_tools(OURS)
    yield {t.name: t for t in tools}
    connection_of(tools[0]).close()


def test_a_servers_tools_keep_their_names_schemas_and_first_paragraph(words):
    assert set(words) == {"word_count", "sleepy", "refuse"}
    listed = {t.name: t for t in connection_of(words["word_count"]).tools}
    assert words["word_count"].parameters == {k: v for k, v in listed["word_count"].input_schema.items()
                                              if k not in ("title", "description")}
    assert words["word_count"].description == "Count the words of a text."
    assert words["word_count"].signature() == "word_count(text: string): Count the words of a text."


def test_the_tool_agent_calls_a_small_server_with_the_callers_schema(words):
    script = ["Count the words. Next: caller.", "word_count", '{"text": "to be or not"}',
              "The count is known. Next: conclusion.", "There are 4 words."]
    backend = ScriptedBackend(script)
    result = ToolAgent(backend, list(words.values()), config=CONFIG).invoke("How many words in 'to be or not'?")
    assert result.status == "answered" and result.answer == "There are 4 words."
    (obs,) = [t for t in result.turns if t.role == "observation"]
    assert (obs.tool, obs.status, json.loads(obs.content)) == ("word_count", "ok", {"result": 4})
    assert obs.verified is None  # another server's result is not a check
    assert backend.calls[1].params.grammar == 'root ::= "word_count" | "sleepy" | "refuse"'
    assert backend.calls[2].params.schema == words["word_count"].parameters  # the caller is held to it


def test_arguments_that_break_the_schema_never_reach_the_server(words):
    result = words["word_count"].run({"text": 7})
    assert result.status == "invalid_arguments"
    assert result.content == "invalid arguments for word_count: arguments: text: 7 is not of type 'string'"


def test_a_servers_tool_error_comes_back_in_its_words(words):
    result = words["refuse"].run({"reason": "the moon is not cheese"})
    assert result.status == "error" and "the moon is not cheese" in result.content


def test_a_call_is_stopped_at_its_limit(words):
    start = time.monotonic()
    result = words["sleepy"].run({"seconds": 600}, timeout=4)
    assert time.monotonic() - start < 300  # far from the 600 s the call would take
    assert result.status == "error" and "sleepy: no answer from the MCP server within 3 s" in result.content
    start = time.monotonic()
    assert words["word_count"].run({"text": "still there"}).value == {"result": 2}  # the session goes on
    assert time.monotonic() - start < 100  # and the next call does not wait for the one that gave up


def test_our_server_in_the_tool_agent_plans_and_keeps_the_check(ours):
    script = ["Find the plan. Next: caller.", "plan", json.dumps({"domain": "blocksworld", "problem": BLOCKS}),
              "The plan is found. Next: conclusion.", "Unstack b, put it down, pick up a, stack it on b."]
    backend = ScriptedBackend(script)
    agent = ToolAgent(backend, [ours["plan"], ours["optimize"]], config=CONFIG)
    result = agent.invoke("Stack a on b on c.")
    (obs,) = [t for t in result.turns if t.role == "observation"]
    assert obs.status == "ok" and json.loads(obs.content)["plan"][-1] == "(stack a b)"
    assert obs.checked and "validator" in obs.verified and "as reported by the MCP server" in obs.verified
    assert result.verdict.verified
    listed = {t.name: t for t in connection_of(ours["plan"]).tools}
    assert backend.calls[2].params.schema == listed["plan"].input_schema


def test_a_server_over_http_gives_its_tools_by_url(http_server_url):
    tools = {t.name: t for t in rc.mcp_tools(http_server_url)}
    try:
        result = tools["solve_equation"].run({"equations": ["x + 1 = 3"]})
        assert result.value == {"solutions": [{"x": "2"}]} and result.checked and "sympy" in result.verified
    finally:
        connection_of(tools["plan"]).close()


def test_our_servers_errors_reach_the_agent_in_one_line(ours):
    result = ours["run_python"].run({"code": "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=5)"})
    assert result.status == "error" and "the sandbox has no network" in result.content
    assert "\n" not in result.content


def test_the_chat_offers_a_servers_tools_with_every_kind_of_request(words):
    chat = ChatAgent(ScriptedBackend([]), tools=list(words.values()))
    assert [t.name for t in chat.tools_for("arithmetic")] == ["calculator", "word_count", "sleepy", "refuse"]
    assert [t.name for t in chat.tools_for("general")] == ["word_count", "sleepy", "refuse"]
    with pytest.raises(InvalidInput, match=r"\['calculator'\] have the name of a tool of the chat"):
        ChatAgent(ScriptedBackend([]), tools=[dataclasses.replace(words["word_count"], name="calculator")])


def test_chat_dash_dash_mcp_answers_with_a_servers_tool(small_server, monkeypatch, tmp_path):
    from ratiocinator import cli

    script = ["Count the words. Next: caller.", "word_count", '{"text": "a b c"}',
              "The count is known. Next: conclusion.", "There are 3 words."]
    monkeypatch.setattr("ratiocinator.models.load_backend", lambda *a, **k: ScriptedBackend(script))
    result = CliRunner().invoke(cli.app, ["chat", "--mcp", small_server, "--checkpoint", str(tmp_path / "c.sqlite"),
                                          "-c", "Hello: how many words are in 'a b c'?"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("There are 3 words.\n")


def test_chat_dash_dash_mcp_is_refused_in_plain_mode(small_server):
    from ratiocinator import cli

    result = CliRunner().invoke(cli.app, ["chat", "--plain", "--mcp", small_server, "-c", "hi"])
    assert result.exit_code == 2 and result.stderr.startswith("error: --mcp: an MCP server's tools are offered")


def test_a_server_that_does_not_start_is_one_clear_error():
    with pytest.raises(InvalidInput, match=r"could not be started .*FileNotFoundError"):
        rc.mcp_tools("/nonexistent/mcp-server --stdio")
    with pytest.raises(InvalidInput, match=r"its last words: no config here"):
        rc.mcp_tools(f"{sys.executable} -c 'import sys; sys.exit(\"no config here\")'")


def test_a_schema_model_validates_with_jsonschema_and_keeps_the_schema():
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}
    model = schema_model("t", schema)
    assert model.model_json_schema() == schema and model.model_validate({"n": 2}).model_extra == {"n": 2}
    with pytest.raises(ValueError, match="n: 0 is less than the minimum of 1"):
        model.model_validate({"n": 0})
    with pytest.raises(InvalidInput, match="not a valid JSON schema"):
        schema_model("t", {"type": "no-such-type"})
