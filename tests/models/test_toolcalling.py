"""Tool calling over a Backend: the call schema, constrained calls, and the retry with feedback."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import BaseModel

from ratiocinator.errors import InvalidInput
from ratiocinator.models import ToolSpec
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.models.toolcalling import (
    ToolCallingConfig,
    call_tool,
    call_tool_constrained,
    raw_text,
    tool_call_schema,
)
from ratiocinator.models.toolcalls import ToolCallParseError
from ratiocinator.models.types import Completion, SamplingParams, ToolCall

WEATHER = ToolSpec(
    name="get_weather",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
        "required": ["city"],
    },
)
CALC = ToolSpec(
    name="calculator",
    parameters={
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
)


class Point(BaseModel):
    x: int
    y: int


class Route(BaseModel):
    start: Point
    end: Point


ROUTE = ToolSpec(name="route", parameters=Route.model_json_schema())


def test_call_schema_accepts_exactly_the_calls_of_the_tools():
    schema = tool_call_schema([WEATHER, CALC, ROUTE])
    jsonschema.Draft202012Validator.check_schema(schema)
    ok = [
        {"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}},
        {"name": "calculator", "arguments": {"expression": "1+1"}},
        {"name": "route", "arguments": {"start": {"x": 1, "y": 2}, "end": {"x": 3, "y": 4}}},
    ]
    bad = [
        {"name": "get_weather", "arguments": {"expression": "1"}},
        {"name": "nope", "arguments": {}},
        {"name": "route", "arguments": {"start": {"x": "a", "y": 2}, "end": {"x": 3, "y": 4}}},
        {"name": "calculator"},
    ]
    validator = jsonschema.Draft202012Validator(schema)
    assert all(validator.is_valid(v) for v in ok)
    assert not any(validator.is_valid(v) for v in bad)
    assert set(schema["$defs"]) == {"route__Point"}  # pydantic $defs hoisted, refs renamed


def test_free_text_retry_feeds_the_error_back():
    backend = ScriptedBackend(
        [
            '{"name": "get_wether", "arguments": {"city": "Oslo"}}',
            'get_weather(city="Oslo", days="2")',
        ]
    )
    result = call_tool(
        backend,
        "Weather in Oslo for 2 days?",
        [WEATHER, CALC],
        config=ToolCallingConfig(mode="free", retries=2),
    )
    assert (result.call.name, result.call.arguments) == ("get_weather", {"city": "Oslo", "days": 2})
    assert result.attempts == 2
    second = backend.calls[1].prompt
    assert [m.role for m in second] == ["user", "assistant", "user"]
    assert "did you mean 'get_weather'" in second[2].content
    assert (
        backend.calls[0].params.tools == (WEATHER, CALC) and backend.calls[0].params.schema is None
    )


def test_retries_are_bounded():
    backend = ScriptedBackend(["no idea"] * 5)
    with pytest.raises(ToolCallParseError, match="holds no tool call"):
        call_tool(backend, "Weather?", [WEATHER], config=ToolCallingConfig(mode="free", retries=1))
    assert len(backend.calls) == 2


def test_constrained_call_sends_the_call_schema():
    backend = ScriptedBackend(
        [json.dumps({"name": "calculator", "arguments": {"expression": "6*7"}})]
    )
    call = call_tool_constrained(
        backend, [{"role": "user", "content": "6 times 7?"}], [WEATHER, CALC]
    )
    assert (call.name, call.arguments) == ("calculator", {"expression": "6*7"})
    assert backend.calls[0].params.schema == tool_call_schema([WEATHER, CALC])


def test_constrained_call_retries_a_call_cut_off_by_max_tokens():
    # The scripted backend cuts replies at max_tokens words: the first reply loses its arguments.
    backend = ScriptedBackend(
        [
            json.dumps({"name": "get_weather", "arguments": {"city": "X", "days": 1}}),
            json.dumps({"name": "get_weather", "arguments": {"city": "X"}}, separators=(",", ":")),
        ]
    )
    call = call_tool_constrained(backend, "weather", [WEATHER], SamplingParams(max_tokens=2))
    assert call.arguments == {"city": "X"}
    assert "'city' is a required property" in backend.calls[1].prompt[-1].content


def test_raw_text_restores_calls_the_backend_split_off():
    comp = Completion(
        text="Sure.",
        finish_reason="tool_calls",
        prompt_tokens=1,
        completion_tokens=1,
        tool_calls=(ToolCall(id="c1", name="calculator", arguments={"expression": "1"}),),
    )
    assert (
        raw_text(comp)
        == 'Sure.\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "1"}}\n</tool_call>'
    )


def test_bad_requests_are_invalid_input():
    backend = ScriptedBackend(["x"])
    with pytest.raises(InvalidInput, match="n=2"):
        call_tool(backend, "q", [CALC], SamplingParams(n=2))
    with pytest.raises(InvalidInput, match="schema/grammar"):
        call_tool(backend, "q", [CALC], SamplingParams(grammar='root ::= "a"'))
    with pytest.raises(InvalidInput, match="at least one"):
        call_tool(backend, "q", [])
    with pytest.raises(InvalidInput, match="retries"):
        ToolCallingConfig(retries=-1)


@pytest.mark.slow
def test_qwen_constrained_call_is_valid(qwen):
    call = call_tool_constrained(
        qwen,
        "What will the weather be in Lisbon over the next 3 days?",
        [WEATHER, CALC],
        SamplingParams(max_tokens=40),
        retries=0,
    )
    assert call.name == "get_weather" and call.arguments["city"].startswith(
        "Lisbo"
    )  # Lisbon or Lisboa
    jsonschema.validate(call.arguments, WEATHER.parameters)
