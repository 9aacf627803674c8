"""Unit tests of the typed backend values (no model)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from ratiocinator.models import Message, SamplingParams, ToolCall, ToolSpec


class Person(BaseModel):
    name: str
    age: int


def test_sampling_params_defaults_are_greedy():
    p = SamplingParams()
    assert p.temperature == 0 and p.n == 1 and p.schema is None and p.stop == ()


def test_stop_accepts_a_single_string():
    assert SamplingParams(stop="\n").stop == ("\n",)


def test_schema_and_grammar_are_exclusive():
    with pytest.raises(ValidationError, match="either schema or grammar"):
        SamplingParams(schema=Person, grammar='root ::= "a"')


def test_schema_must_be_model_or_dict():
    with pytest.raises(ValidationError, match="pydantic model class or a JSON-schema dict"):
        SamplingParams(schema="not a schema")


@pytest.mark.parametrize("field,value", [("temperature", -1.0), ("top_p", 0.0), ("max_tokens", 0), ("n", 0)])
def test_out_of_range_values_are_refused(field, value):
    with pytest.raises(ValidationError, match=field):
        SamplingParams(**{field: value})


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError, match="max_new_tokens"):
        SamplingParams(max_new_tokens=3)


def test_cache_key_covers_every_field_and_the_schema():
    base = SamplingParams(schema=Person)
    assert base.cache_key() == SamplingParams(schema=Person.model_json_schema()).cache_key()
    assert base.cache_key() != SamplingParams().cache_key()
    assert SamplingParams(seed=1).cache_key() != SamplingParams(seed=2).cache_key()
    assert SamplingParams(stop=["a"]).cache_key() != SamplingParams(stop=["b"]).cache_key()


def test_params_are_frozen():
    with pytest.raises(ValidationError):
        SamplingParams().temperature = 1.0  # type: ignore[misc]


def test_message_template_shape_with_tool_calls():
    call = ToolCall(id="c1", name="f", arguments={"x": 1})
    m = Message(role="assistant", content="", tool_calls=(call,))
    assert m.to_template()["tool_calls"][0]["function"] == {"name": "f", "arguments": {"x": 1}}
    assert Message(role="tool", content="3", tool_call_id="c1").to_template()["tool_call_id"] == "c1"


def test_message_role_is_checked():
    with pytest.raises(ValidationError, match="role"):
        Message(role="robot", content="hi")  # type: ignore[arg-type]


def test_toolspec_openai_shape():
    spec = ToolSpec(name="f", description="d", parameters={"type": "object", "properties": {}})
    assert spec.to_openai()["function"]["name"] == "f"
