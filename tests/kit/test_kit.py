"""Tests of the shared kit parts: Verdict, Usage counted by the backend wrapper, the config base, invoke."""

from __future__ import annotations

import threading

import pytest
from pydantic import Field

from ratiocinator.errors import InvalidInput
from ratiocinator.kit import (
    CountingBackend,
    MethodConfig,
    Usage,
    UsageCounter,
    Verdict,
    failed,
    gave_up,
    method_context,
    unverified,
    verified,
)
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.models.types import SamplingParams


def test_a_verdict_has_one_of_four_statuses_and_a_reason():
    assert [v.status for v in (verified("a"), unverified("b"), failed("c"), gave_up("d"))] == [
        "verified", "unverified", "failed", "gave_up"]
    assert verified("plan validated").verified and not unverified("x").verified
    assert str(gave_up("limit of 3 rounds")) == "gave up: limit of 3 rounds"
    with pytest.raises(InvalidInput, match="expected one of verified"):
        Verdict(status="gave-up", reason="x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="reason"):
        Verdict(status="failed", reason=" ")


def test_the_counting_backend_counts_tokens_and_calls_of_every_kind():
    inner = ScriptedBackend(lambda prompt, params: "one two three")
    counter = UsageCounter()
    backend = CountingBackend(inner, counter)
    backend.generate(["a b", "c"], SamplingParams(n=2))
    backend.score("x", [" y", " z"])
    assert "".join(backend.stream("q")) == "one two three"
    usage = counter.usage(seconds=1.5)
    # 2 prompts x 2 samples: prompt words 2+2+1+1, completions 4 x 3 words; the stream's 3 chunks
    assert usage == Usage(prompt_tokens=6, completion_tokens=15, calls=3, seconds=1.5)
    assert backend.info == inner.info and backend.calls is inner.calls  # everything else passes through
    backend.close()  # the wrapper does not own the backend
    assert inner.generate("still open")


def test_the_counter_is_thread_safe_and_usages_add():
    counter = UsageCounter()
    threads = [threading.Thread(target=lambda: [counter.add(calls=1) for _ in range(1000)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.usage().calls == 4000
    total = Usage(prompt_tokens=1, calls=1) + Usage(completion_tokens=2, calls=1, seconds=0.5)
    assert total == Usage(prompt_tokens=1, completion_tokens=2, calls=2, seconds=0.5)
    assert total.tokens == 3


def test_nested_contexts_count_into_both_counters():
    inner = ScriptedBackend(["a", "b"])
    outer = method_context(inner, None)
    nested = method_context(outer.backend, None)
    nested.backend.generate("x")
    outer.backend.generate("y")
    assert nested.usage.usage().calls == 1 and outer.usage.usage().calls == 2


class _Config(MethodConfig):
    """A config for the test (paper: none)."""

    rounds: int = Field(2, ge=0, description="how many rounds")
    name: str = "x"


def test_the_config_base_describes_its_fields_and_names_bad_values():
    assert _Config.fields() == [
        {"name": "rounds", "type": "int", "default": 2, "description": "how many rounds"},
        {"name": "name", "type": "str", "default": "x", "description": ""},
    ]
    with pytest.raises(InvalidInput, match="rounds: Input should be greater than or equal to 0"):
        _Config(rounds=-1)
    with pytest.raises(InvalidInput, match=r"where: _Config: nope: unknown field\. Known fields: rounds"):
        _Config.from_values({"nope": 1}, where="where")
    assert _Config.from_values({"rounds": "3"}).rounds == 3  # command-line strings are coerced


def test_the_run_checks_name_the_argument_and_what_was_expected():
    from ratiocinator.kit import require_backend, require_text, resolve_config

    assert require_text("a plan", name="text", expected="English") == "a plan"
    with pytest.raises(InvalidInput, match="text: expected English, got an empty string"):
        require_text(" \n", name="text", expected="English")
    with pytest.raises(InvalidInput, match="text: expected English, got int 3"):
        require_text(3, name="text", expected="English")
    with pytest.raises(InvalidInput, match=r"backend: expected a models.Backend \(e.g. load_backend\(\)\)"):
        require_backend(object())
    assert resolve_config(None, _Config) == _Config()
    with pytest.raises(InvalidInput, match=r"config: expected a _Config .*got int"):
        resolve_config(3, _Config)
