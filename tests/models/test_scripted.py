"""Unit tests of the scripted backend itself: schema instances, stop strings, tools, exhaustion."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from ratiocinator.errors import InvalidInput
from ratiocinator.models import SamplingParams, ToolSpec
from ratiocinator.models.scripted import ScriptedBackend, minimal_instance


class Inner(BaseModel):
    flag: bool


class Outer(BaseModel):
    name: str
    count: int
    inner: Inner
    tags: list[str]


def test_minimal_instance_validates_nested_models():
    value = minimal_instance(Outer.model_json_schema())
    assert Outer.model_validate(value)


def test_schema_without_script_gets_a_valid_instance():
    (c,) = ScriptedBackend().generate("q", SamplingParams(schema=Outer))
    assert Outer.model_validate_json(c.text)


def test_scripted_reply_violating_the_schema_is_a_test_error():
    with pytest.raises(InvalidInput, match="violates the requested schema"):
        ScriptedBackend(['{"name": 1}']).generate("q", SamplingParams(schema=Outer))


def test_exhausted_script_says_so():
    with pytest.raises(InvalidInput, match="no reply for request 1"):
        ScriptedBackend(["only"]).generate(["a", "b"])


def test_function_script_sees_prompt_and_params():
    b = ScriptedBackend(lambda prompt, params: f"{prompt}:{params.max_tokens}")
    assert b.generate("p", SamplingParams(max_tokens=7))[0].text == "p:7"


def test_stop_strings_and_max_tokens():
    b = ScriptedBackend(["one two. three", "a b c d"])
    assert b.generate("q", SamplingParams(stop=["."]))[0].text == "one two"
    c = b.generate("q", SamplingParams(max_tokens=2))[0]
    assert c.text == "a b" and c.finish_reason == "length"


def test_tool_calls_are_parsed():
    tools = (ToolSpec(name="f"),)
    reply = json.dumps({"name": "f", "arguments": {"x": 1}})
    (c,) = ScriptedBackend([reply]).generate("q", SamplingParams(tools=tools))
    assert c.finish_reason == "tool_calls" and c.tool_calls[0].arguments == {"x": 1}


def test_stream_joins_to_the_reply():
    assert "".join(ScriptedBackend(["a b  c"]).stream("q")) == "a b  c"
