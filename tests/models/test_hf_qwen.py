"""Integration tests on the default model, Qwen2.5-Coder-0.5B-Instruct: chat, tools, schemas, batching."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from ratiocinator.models import SamplingParams, ToolSpec

pytestmark = pytest.mark.slow

WEATHER = ToolSpec(
    name="get_weather",
    description="Get the current weather in a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


class Answer(BaseModel):
    language: str
    lines_of_code: int


def test_info_names_the_default_model(qwen):
    info = qwen.info
    assert info.model == "embedded:qwen2.5-coder-0.5b-instruct" and info.context_length >= 32768
    assert info.dtype in ("bfloat16", "float32") and len(info.identity) == 64


def test_chat_answers_a_coding_request(qwen):
    (c,) = qwen.generate([{"role": "user", "content": "Write a Python function add(a, b) that returns a + b."}],
                         SamplingParams(max_tokens=48))
    assert "def add" in c.text


def test_tool_calls_are_typed(qwen):
    (c,) = qwen.generate([{"role": "user", "content": "What is the weather in Paris? Use the tool."}],
                         SamplingParams(max_tokens=40, tools=(WEATHER,)))
    assert c.finish_reason == "tool_calls"
    assert c.tool_calls[0].name == "get_weather" and c.tool_calls[0].arguments == {"city": "Paris"}


def test_schema_output_validates(qwen):
    outs = qwen.generate([{"role": "user", "content": "Which language is this: print('hi')? Answer as JSON."}],
                         SamplingParams(schema=Answer, temperature=0.8, seed=2, n=4, max_tokens=40))
    assert all(Answer.model_validate_json(c.text) for c in outs)


def test_batch_of_two_equals_singles_greedy(qwen):
    prompts = [[{"role": "user", "content": "Say hello."}], [{"role": "user", "content": "Count to five."}]]
    params = SamplingParams(max_tokens=12)
    assert [c.text for c in qwen.generate(prompts, params)] == [qwen.generate([p], params)[0].text for p in prompts]
