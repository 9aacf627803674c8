"""Unit tests of prompt normalisation, load_backend's errors and the response cache (scripted backend)."""

from __future__ import annotations

import pytest

from ratiocinator.errors import InvalidInput, ModelNotFound, UnsupportedFeature
from ratiocinator.models import Message, ResponseCache, SamplingParams, load_backend
from ratiocinator.models.backend import Backend, normalize_prompts
from ratiocinator.models.scripted import ScriptedBackend


def test_one_string_is_one_prompt():
    assert normalize_prompts("hi") == ["hi"]


def test_one_conversation_is_one_prompt():
    (conv,) = normalize_prompts([{"role": "user", "content": "hi"}])
    assert conv == (Message(role="user", content="hi"),)


def test_mixed_list_of_prompts():
    items = normalize_prompts(["a", [Message(role="user", content="b")]])
    assert items[0] == "a" and items[1][0].content == "b"


@pytest.mark.parametrize(
    "bad,match",
    [
        ([], "empty"),
        (42, "expected a string"),
        ([["not a message"]], "prompt 0, message 0"),
        ([{"role": "wizard", "content": "x"}], "prompt 0, message 0"),
        ([[]], "at least one message"),
    ],
)
def test_bad_prompts_name_what_is_wrong(bad, match):
    with pytest.raises(InvalidInput, match=match):
        normalize_prompts(bad)


def test_unknown_embedded_model_lists_the_known_ones():
    with pytest.raises(ModelNotFound, match=r"embedded:qwen2\.5-coder-0\.5b-instruct"):
        load_backend("embedded:gpt-17")


def test_hub_id_is_refused_with_offline_instructions():
    with pytest.raises(ModelNotFound, match=r"Hub ids are refused.*huggingface-cli download"):
        load_backend("hf:Qwen/Qwen2.5-0.5B-Instruct")


def test_unknown_backend_kind():
    with pytest.raises(ModelNotFound, match="unknown backend 'llamafile'"):
        load_backend("llamafile:x")


def test_openai_spec_without_a_server_url_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(InvalidInput, match="OPENAI_BASE_URL"):
        load_backend("openai:some-model")


def test_compression_is_refused_on_server_backends():
    with pytest.raises(UnsupportedFeature, match="compression"):
        load_backend("openai:m@http://127.0.0.1:9/v1", compress=object())
    with pytest.raises(UnsupportedFeature, match="compression"):  # a spec string is parsed first
        load_backend("openai:m@http://127.0.0.1:9/v1", compress="int4+eora64")
    with pytest.raises(InvalidInput, match="int5"):
        load_backend("openai:m@http://127.0.0.1:9/v1", compress="int5")


def test_empty_spec():
    with pytest.raises(InvalidInput, match="model spec"):
        load_backend("  ")


def test_scripted_backend_satisfies_the_protocol():
    assert isinstance(ScriptedBackend(["x"]), Backend)


def test_generate_is_prompt_major_with_n(tmp_path):
    b = ScriptedBackend(["a1", "a2", "b1", "b2"])
    out = b.generate(["A", "B"], SamplingParams(n=2))
    assert [c.text for c in out] == ["a1", "a2", "b1", "b2"]


def test_cache_hit_returns_identical_completions(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    b = ScriptedBackend(["first", "second"], cache=cache)
    params = SamplingParams(temperature=0.7, seed=5)
    (one,) = b.generate("q", params)
    (two,) = b.generate("q", params)
    assert two.text == one.text == "first" and two.cached and not one.cached
    assert two.model_copy(update={"cached": False}) == one
    assert len(b.calls) == 1 and cache.hits == 1


def test_cache_keys_on_params_and_prompt(tmp_path):
    b = ScriptedBackend(["a", "b", "c"], cache=ResponseCache(tmp_path / "c.sqlite"))
    assert b.generate("q", SamplingParams(seed=1))[0].text == "a"
    assert b.generate("q", SamplingParams(seed=2))[0].text == "b"
    assert b.generate("other", SamplingParams(seed=1))[0].text == "c"


def test_unseeded_sampling_is_never_cached(tmp_path):
    b = ScriptedBackend(["a", "b"], cache=ResponseCache(tmp_path / "c.sqlite"))
    params = SamplingParams(temperature=1.0)
    assert [b.generate("q", params)[0].text for _ in range(2)] == ["a", "b"]


def test_cache_can_be_turned_off_per_call(tmp_path):
    b = ScriptedBackend(["a", "b"], cache=ResponseCache(tmp_path / "c.sqlite"))
    b.generate("q")
    assert b.generate("q", cache=False)[0].text == "b"


def test_cache_persists_across_instances(tmp_path):
    path = tmp_path / "c.sqlite"
    ScriptedBackend(["a"], cache=ResponseCache(path)).generate("q")
    again = ScriptedBackend([], cache=ResponseCache(path))
    assert again.generate("q")[0].text == "a" and again.calls == []


def test_partial_cache_hits_only_generate_the_misses(tmp_path):
    b = ScriptedBackend(["a", "b", "c"], cache=ResponseCache(tmp_path / "c.sqlite"))
    b.generate(["x"])
    out = b.generate(["x", "y", "z"])
    assert [c.text for c in out] == ["a", "b", "c"] and len(b.calls) == 3


def test_per_call_cache_is_for_that_call_only(tmp_path, monkeypatch):
    # issue 16: generate(..., cache=True) used to turn the cache on for every later call of the backend
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path))
    b = ScriptedBackend(["a", "b", "c", "d"])
    assert b.generate("q", cache=True)[0].text == "a"
    assert b.cache is None, "a per-call cache=True must not become the backend's cache"
    assert (tmp_path / "cache" / "responses.sqlite").is_file()
    later = b.generate("q")[0]
    assert later.text == "b" and not later.cached, "a call without cache=True must not read the cache"
    again = b.generate("q", cache=True)[0]
    assert again.text == "a" and again.cached, "the next cache=True call reads the default cache"
    assert b.generate("q", cache=False)[0].text == "c"
    store = b._call_cache
    b.generate("other", cache=True)
    assert b._call_cache is store, "one default cache object, opened once"
    b.close()
    assert b._call_cache is None


def test_per_call_cache_uses_the_backends_own_cache_when_it_has_one(tmp_path, monkeypatch):
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path / "home"))
    own = ResponseCache(tmp_path / "own.sqlite")
    b = ScriptedBackend(["a", "b"], cache=own)
    b.generate("q", cache=True)
    assert len(own) == 1 and b._call_cache is None
    assert not (tmp_path / "home" / "cache" / "responses.sqlite").exists()
