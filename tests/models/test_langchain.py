"""The LangChain chat-model adapter: tools, structured output, streaming, usage, and a LangGraph ReAct agent."""

from __future__ import annotations

import json
import warnings

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from ratiocinator.errors import InvalidInput
from ratiocinator.models.langchain import ChatRatiocinator, to_messages
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.models.toolcalling import tool_call_schema
from ratiocinator.models.types import ToolSpec


@tool
def get_weather(city: str) -> str:
    """Current temperature of a city, in degrees celsius."""
    return json.dumps({"city": city, "celsius": 21})


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression with + - * / and parentheses."""
    allowed = set("0123456789+-*/(). ")
    if not set(expression) <= allowed:
        raise ValueError(f"not arithmetic: {expression!r}")
    # Only digits, operators and parentheses reach eval (checked above); no names, no calls.
    return str(eval(expression, {"__builtins__": {}}, {}))


class City(BaseModel):
    name: str
    population: int


def _spec(t):
    return ToolSpec.model_validate(
        {
            "name": t.name,
            "description": t.description,
            "parameters": t.tool_call_schema.model_json_schema(),
        }
    )


def test_bind_tools_sends_tool_specs_and_returns_tool_calls():
    backend = ScriptedBackend(
        ['I will check.\n```json\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n```']
    )
    msg = (
        ChatRatiocinator(backend=backend)
        .bind_tools([get_weather, calculator])
        .invoke("Weather in Oslo?")
    )
    assert msg.content == "I will check."
    assert [(c["name"], c["args"]) for c in msg.tool_calls] == [("get_weather", {"city": "Oslo"})]
    sent = backend.calls[0].params.tools
    assert [t.name for t in sent] == ["get_weather", "calculator"]
    assert sent[0].parameters["required"] == ["city"] and backend.calls[0].params.schema is None
    assert (
        msg.usage_metadata["total_tokens"]
        == msg.usage_metadata["input_tokens"] + msg.usage_metadata["output_tokens"]
        > 0
    )


def test_required_tool_choice_decodes_under_the_call_schema():
    backend = ScriptedBackend(
        [json.dumps({"name": "calculator", "arguments": {"expression": "6*7"}})]
    )
    chat = ChatRatiocinator(backend=backend).bind_tools(
        [get_weather, calculator], tool_choice="required"
    )
    msg = chat.invoke("six times seven")
    assert msg.tool_calls[0]["args"] == {"expression": "6*7"}
    specs = backend.calls[0].params.tools
    assert backend.calls[0].params.schema == tool_call_schema(specs)
    # a named tool restricts the schema to that tool
    backend = ScriptedBackend([None])
    ChatRatiocinator(backend=backend).bind_tools(
        [get_weather, calculator], tool_choice="calculator"
    ).invoke("x")
    assert backend.calls[0].params.schema == tool_call_schema([specs[1]])
    with pytest.raises(InvalidInput, match="tool_choice"):
        ChatRatiocinator(backend=backend).bind_tools([get_weather], tool_choice="nope")


def test_constrained_auto_can_answer_instead_of_calling():
    backend = ScriptedBackend([json.dumps({"answer": "It is 21 degrees."})])
    msg = (
        ChatRatiocinator(backend=backend, constrained_tools=True)
        .bind_tools([get_weather])
        .invoke("Oslo?")
    )
    assert msg.content == "It is 21 degrees." and msg.tool_calls == []
    assert backend.calls[0].params.schema == tool_call_schema(
        backend.calls[0].params.tools, answer=True
    )


def test_structured_output_goes_through_the_backend_schema():
    backend = ScriptedBackend(['{"name": "Oslo", "population": 709000}'] * 2)
    chat = ChatRatiocinator(backend=backend)
    assert chat.with_structured_output(City).invoke("Tell me about Oslo") == City(
        name="Oslo", population=709000
    )
    assert backend.calls[0].params.schema == City.model_json_schema()
    raw = chat.with_structured_output(City.model_json_schema(), include_raw=True).invoke("Oslo")
    assert raw["parsed"] == {"name": "Oslo", "population": 709000} and raw["parsing_error"] is None
    assert isinstance(raw["raw"], AIMessage)


def test_streaming_yields_the_text_in_pieces():
    backend = ScriptedBackend(["one two three four"])
    chunks = list(ChatRatiocinator(backend=backend).stream("count"))
    assert "".join(c.content for c in chunks) == "one two three four" and len(chunks) >= 4
    backend = ScriptedBackend(['{"name": "get_weather", "arguments": {"city": "Rome"}}'])
    first, *rest = ChatRatiocinator(backend=backend).bind_tools([get_weather]).stream("Rome?")
    chunk = sum(rest, first)  # LangChain may close a stream with an empty chunk
    assert (
        chunk.tool_calls[0]["args"] == {"city": "Rome"}
        and chunk.usage_metadata["output_tokens"] > 0
    )


def test_messages_convert_with_tool_calls_and_results():
    msgs = to_messages(
        [
            SystemMessage("be brief"),
            HumanMessage("weather?"),
            AIMessage(
                "", tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"}]
            ),
            ToolMessage('{"celsius": 21}', tool_call_id="c1", name="get_weather"),
        ]
    )
    assert [m.role for m in msgs] == ["system", "user", "assistant", "tool"]
    assert msgs[2].tool_calls[0].arguments == {"city": "Oslo"} and msgs[3].tool_call_id == "c1"


def _react_agent(chat):
    with (
        warnings.catch_warnings()
    ):  # create_react_agent points to langchain.agents, not installed here
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

        return create_react_agent(chat, [get_weather, calculator])


def _tool_messages(result):
    return [(m.name, m.content) for m in result["messages"] if isinstance(m, ToolMessage)]


def test_react_agent_runs_two_tools_through_the_adapter():
    backend = ScriptedBackend(
        [
            '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
            "calculator(expression='21 + 10')",
            "It is 21 degrees in Paris; plus 10 makes 31.",
        ]
    )
    agent = _react_agent(ChatRatiocinator(backend=backend))
    result = agent.invoke({"messages": [("user", "Temperature in Paris plus 10?")]})
    assert _tool_messages(result) == [
        ("get_weather", '{"city": "Paris", "celsius": 21}'),
        ("calculator", "31"),
    ]
    assert result["messages"][-1].content.endswith("makes 31.")
    # the model saw the first tool's result when it made the second call
    second = backend.calls[1].prompt
    assert second[-1].role == "tool" and "21" in second[-1].content


@pytest.mark.slow
def test_react_agent_with_qwen_and_constrained_tool_calls(qwen):
    chat = ChatRatiocinator(backend=qwen, constrained_tools=True, max_tokens=48)
    agent = _react_agent(chat)
    result = agent.invoke(
        {
            "messages": [
                (
                    "user",
                    "First get the weather in Paris, then use the calculator to compute 21 + 10.",
                )
            ]
        },
        {"recursion_limit": 8},
    )
    names = [name for name, _ in _tool_messages(result)]
    assert "get_weather" in names and "calculator" in names, result["messages"]
    assert isinstance(result["messages"][-1], AIMessage) and not result["messages"][-1].tool_calls
