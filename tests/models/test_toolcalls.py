"""Unit tests of tool-call parsing from generated text."""

from __future__ import annotations

from ratiocinator.models import ToolSpec
from ratiocinator.models.toolcalls import parse_tool_calls

TOOLS = (ToolSpec(name="add"), ToolSpec(name="mul"))


def test_hermes_blocks_are_parsed_in_order():
    text = 'Sure.\n<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>\n' \
           '<tool_call>{"name": "mul", "arguments": "{\\"a\\": 3}"}</tool_call>'
    content, calls = parse_tool_calls(text, TOOLS)
    assert content == "Sure."
    assert [(c.name, c.arguments) for c in calls] == [("add", {"a": 1, "b": 2}), ("mul", {"a": 3})]
    assert calls[0].id != calls[1].id


def test_bare_json_object_is_a_call():
    content, calls = parse_tool_calls('{"name": "add", "arguments": {"a": 1}}', TOOLS)
    assert content == "" and calls[0].name == "add"


def test_unknown_tool_and_bad_json_leave_the_text_alone():
    for text in ('<tool_call>{"name": "rm", "arguments": {}}</tool_call>', "<tool_call>{oops</tool_call>", "plain"):
        content, calls = parse_tool_calls(text, TOOLS)
        assert calls == () and content == text


def test_unterminated_block_at_the_end_still_parses():
    _, calls = parse_tool_calls('<tool_call>{"name": "add", "arguments": {}}', TOOLS)
    assert calls[0].name == "add"
