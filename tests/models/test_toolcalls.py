"""Tool-call parsing from generated text: the strict hermes parser, the tolerant one, and a fuzz test."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratiocinator.errors import InvalidInput
from ratiocinator.models import ToolSpec
from ratiocinator.models.toolcalls import (
    ToolCallParseError,
    extract_tool_calls,
    parse_tool_call,
    parse_tool_calls,
)

TOOLS = (ToolSpec(name="add"), ToolSpec(name="mul"))


def test_hermes_blocks_are_parsed_in_order():
    text = (
        'Sure.\n<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>\n'
        '<tool_call>{"name": "mul", "arguments": "{\\"a\\": 3}"}</tool_call>'
    )
    content, calls = parse_tool_calls(text, TOOLS)
    assert content == "Sure."
    assert [(c.name, c.arguments) for c in calls] == [("add", {"a": 1, "b": 2}), ("mul", {"a": 3})]
    assert calls[0].id != calls[1].id


def test_bare_json_object_is_a_call():
    content, calls = parse_tool_calls('{"name": "add", "arguments": {"a": 1}}', TOOLS)
    assert content == "" and calls[0].name == "add"


def test_unknown_tool_and_bad_json_leave_the_text_alone():
    for text in (
        '<tool_call>{"name": "rm", "arguments": {}}</tool_call>',
        "<tool_call>{oops</tool_call>",
        "plain",
    ):
        content, calls = parse_tool_calls(text, TOOLS)
        assert calls == () and content == text


def test_unterminated_block_at_the_end_still_parses():
    _, calls = parse_tool_calls('<tool_call>{"name": "add", "arguments": {}}', TOOLS)
    assert calls[0].name == "add"


# --- the tolerant, validating parser ---------------------------------------------------------

WEATHER = ToolSpec(
    name="get_weather",
    description="Weather forecast for a city",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
        "additionalProperties": False,
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
SMALL = (WEATHER, CALC)


@pytest.mark.parametrize(
    ("text", "name", "arguments"),
    [
        (
            '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": "3"}}\n</tool_call>',
            "get_weather",
            {"city": "Paris", "days": 3},
        ),
        (
            'Sure!\n```json\n{"name": "GetWeather", "arguments": {"city": "Paris"}}\n```\nDone.',
            "get_weather",
            {"city": "Paris"},
        ),
        (
            "{'name': 'get_weather', 'arguments': {'city': 'Oslo', 'unit': 'Celsius'}}",
            "get_weather",
            {"city": "Oslo", "unit": "celsius"},
        ),
        (
            '{"name": "get_weather", "arguments": {"city": "Lima", "days": 2',
            "get_weather",
            {"city": "Lima", "days": 2},
        ),
        (
            'I will call get_weather(city="Paris", days=2.0) now.',
            "get_weather",
            {"city": "Paris", "days": 2},
        ),
        ('get_weather("Rome", 4)', "get_weather", {"city": "Rome", "days": 4}),
        ('calculator(expression="2+3', "calculator", {"expression": "2+3"}),
        (
            'Thought: add.\nAction: calculator\nAction Input: {"expression": "2*3"}',
            "calculator",
            {"expression": "2*3"},
        ),
        ('{"city": "Paris"}', "get_weather", {"city": "Paris"}),
        ('{"tool": "calculator", "tool_input": "1+1"}', "calculator", {"expression": "1+1"}),
        ('{"get_weather": {"city": "Rome"}}', "get_weather", {"city": "Rome"}),
        (
            '{"function": {"name": "calculator", "arguments": "{\\"expression\\": \\"4\\"}"}}',
            "calculator",
            {"expression": "4"},
        ),
        (
            '{"name": "functions.get_weather", "arguments": {"city": "Bern", "unit": null}}',
            "get_weather",
            {"city": "Bern"},
        ),
        (
            '{"name": "get_weather", "city": "Bern", "days": "1"}',
            "get_weather",
            {"city": "Bern", "days": 1},
        ),
        # the same call twice is one call
        (
            '<tool_call>{"name": "calculator", "arguments": {"expression": "1"}}</tool_call>\n'
            '<tool_call>{"name": "calculator", "arguments": {"expression": "1"}}</tool_call>',
            "calculator",
            {"expression": "1"},
        ),
    ],
)
def test_tolerant_parser_reads_what_small_models_write(text, name, arguments):
    call = parse_tool_call(text, SMALL)
    assert (call.name, call.arguments) == (name, arguments)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"name": "get_wether", "arguments": {"city": "Paris"}}', "did you mean 'get_weather'"),
        ('{"name": "get_weather", "arguments": {"days": 3}}', "'city' is a required property"),
        (
            '{"name": "get_weather", "arguments": {"city": "X", "days": 0}}',
            "days: 0 is less than the minimum of 1",
        ),
        (
            '{"name": "get_weather", "arguments": {"city": "X", "wind": true}}',
            "'wind' was unexpected",
        ),
        ("The weather in Paris is nice.", "holds no tool call"),
        (
            '<tool_call>{"name": "get_weather", "arguments": {"city": "A"}}</tool_call>'
            '<tool_call>{"name": "calculator", "arguments": {"expression": "1"}}</tool_call>',
            "several different calls",
        ),
    ],
)
def test_unusable_output_raises_with_feedback_for_the_model(text, says):
    with pytest.raises(ToolCallParseError) as info:
        parse_tool_call(text, SMALL)
    assert says in info.value.feedback and says in str(info.value)
    assert (
        "get_weather(city: string, days?: integer" in info.value.feedback
    )  # the tools, as signatures
    assert info.value.text == text


def test_extract_tool_calls_keeps_the_prose_and_drops_invalid_calls():
    content, calls = extract_tool_calls(
        'Let me check.\n```json\n{"name": "calculator", "arguments": {"expression": "2"}}\n```',
        SMALL,
    )
    assert content == "Let me check." and [c.name for c in calls] == ["calculator"]
    assert extract_tool_calls('{"name": "calculator", "arguments": {}}', SMALL) == (
        '{"name": "calculator", "arguments": {}}',
        (),
    )


def test_bad_inputs_are_invalid_input():
    with pytest.raises(InvalidInput, match="tools"):
        parse_tool_call("x", ())
    with pytest.raises(InvalidInput, match="not a valid JSON schema"):
        parse_tool_call(
            '{"name": "t", "arguments": {}}', (ToolSpec(name="t", parameters={"type": 3}),)
        )


# --- fuzzing: no input makes the parser raise anything but ToolCallParseError -----------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_VALID = [
    '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}</tool_call>',
    "```json\n{'name': 'calculator', 'arguments': {'expression': '1+2'}}\n```",
    'get_weather(city="Oslo", unit="celsius")',
    'Action: calculator\nAction Input: {"expression": "7"}',
]


@st.composite
def _model_outputs(draw):
    kind = draw(st.sampled_from(["text", "json", "mutated", "wrapped"]))
    if kind == "text":
        return draw(
            st.text(
                alphabet=st.characters(codec="utf-8") | st.sampled_from(list("{}[]()\"':,<>`=")),
                max_size=80,
            )
        )
    if kind == "json":
        value = draw(_JSON)
        return draw(
            st.sampled_from(
                [
                    json.dumps(value),
                    repr(value),
                    json.dumps({"name": "get_weather", "arguments": value}),
                ]
            )
        )
    base = draw(st.sampled_from(_VALID))
    if kind == "wrapped":
        return draw(st.text(max_size=20)) + base + draw(st.text(max_size=20))
    cut = draw(st.integers(0, len(base)))
    noise = draw(st.text(alphabet=st.sampled_from(list("{}[]()\"':,\\ x1")), max_size=4))
    return base[:cut] + noise + base[cut + draw(st.integers(0, 3)) :]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_model_outputs())
def test_fuzz_only_typed_errors_and_valid_calls(text):
    try:
        call = parse_tool_call(text, SMALL)
    except ToolCallParseError as exc:
        assert exc.feedback and "<tool_call>" in exc.feedback
    else:
        tool = {"get_weather": WEATHER, "calculator": CALC}[call.name]
        jsonschema.validate(call.arguments, tool.parameters)
    content, calls = extract_tool_calls(text, SMALL)
    assert isinstance(content, str) and all(c.name in ("get_weather", "calculator") for c in calls)
    parse_tool_calls(text, SMALL)
