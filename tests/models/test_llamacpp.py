"""The llama.cpp backend (models/llamacpp.py) beyond the conformance suite: prefix reuse, batch invariance,
bounded memory, options refused before loading. The shared behaviour is tests/models/conformance.py's."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from ratiocinator.errors import InvalidInput, ModelNotFound, UnsupportedFeature
from ratiocinator.models import SamplingParams, ToolSpec, load_backend
from ratiocinator.models.prefix import common_prefix

SMOLLM = "llamacpp:smollm2-135m-instruct"
QWEN = "llamacpp:qwen2.5-coder-0.5b-instruct"
needs_llamacpp = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                    reason="llama-cpp-python is not installed (pip install -e '.[llamacpp]')")
CHAT = [{"role": "user", "content": "Name three fruits."}]


# --- refused before anything loads (no llama.cpp needed) ---------------------------------------------


@pytest.mark.parametrize("option,value,match", [("dtype", "float32", "dtype"), ("device", "cuda", "device")])
def test_options_llamacpp_cannot_honour_are_refused(option, value, match):
    with pytest.raises(UnsupportedFeature, match=match):
        load_backend(SMOLLM, **{option: value})


@pytest.mark.parametrize("spec", ["llamacpp:gpt-17", "llamacpp:/no/such/model.gguf"])
def test_unknown_models_name_every_spec_kind(spec):
    with pytest.raises(ModelNotFound, match="llamacpp:NAME"):
        load_backend(spec)


# --- with the model ------------------------------------------------------------------------------------


def _load(**config):
    from ratiocinator.models import catalog
    from ratiocinator.models.llamacpp import LlamaCppBackend, LlamaCppConfig

    return LlamaCppBackend.from_embedded(catalog.get("smollm2-135m-instruct"),
                                         config=LlamaCppConfig(n_ctx=4096, **config))


@pytest.fixture(scope="module")
def smol():
    backend = _load(threads=1)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def fresh():
    """The same model without a prefix cache: every call computes its whole prompt."""
    backend = _load(prefix_cache_entries=0, threads=1)
    yield backend
    backend.close()


@pytest.mark.slow
@needs_llamacpp
def test_a_dialogue_step_computes_only_its_new_tokens_and_gives_the_same_text(smol, fresh):
    params = SamplingParams(max_tokens=12)
    (first,) = smol.generate(CHAT, params, cache=False)
    turn2 = [*CHAT, {"role": "assistant", "content": first.text}, {"role": "user", "content": "And three more?"}]
    before = smol.engine.computed_tokens
    (second,) = smol.generate(turn2, params, cache=False)
    computed = smol.engine.computed_tokens - before
    assert computed < second.prompt_tokens // 2, (computed, second.prompt_tokens)
    (reference,) = fresh.generate(turn2, params, cache=False)  # computed from scratch
    assert second.text == reference.text


@pytest.mark.slow
@needs_llamacpp
def test_score_computes_the_prompt_once_and_matches_a_fresh_engine(smol, fresh):
    prompt = "Q: Which animal says moo?\nA:"
    conts = [" A cow.", " A dog.", " A cat that meows.", " The moon."]
    before = smol.engine.computed_tokens
    scores = smol.score(prompt, conts)
    n_prompt = len(smol.encode(prompt))
    assert smol.engine.computed_tokens - before <= n_prompt
    again_before = smol.engine.computed_tokens
    assert smol.score(prompt, conts) == scores  # a second call reuses the prompt: the same numbers
    assert smol.engine.computed_tokens - again_before <= 1
    assert fresh.score(prompt, conts) == pytest.approx(scores, abs=1e-6)
    assert scores[0] == max(scores)


@pytest.mark.slow
@needs_llamacpp
def test_fast_prefill_trades_batch_invariance_for_512_token_micro_batches(fresh):
    fast = _load(prefix_cache_entries=0, threads=1, batch_invariant=False)
    try:
        assert (fast.native.spec.ubatch, fresh.native.spec.ubatch) == (512, 63)
        assert fast.info.identity != fresh.info.identity  # its numbers differ: not the same cached responses
        prompt = "A long note. " + "The cow says moo and the cat says meow. " * 60 + "\nQ: Which animal says moo?\nA:"
        assert len(fast.encode(prompt)) > 600  # two micro-batches of the fast backend, ten of the other
        conts = [" The cow.", " The cat."]
        got, want = fast.score(prompt, conts), fresh.score(prompt, conts)
        assert got == pytest.approx(want, abs=0.3)  # the same model up to rounding (0.08 nats measured)
    finally:
        fast.close()


@pytest.mark.slow
@needs_llamacpp
def test_samples_of_one_prompt_share_its_prefill(fresh):
    params = SamplingParams(temperature=1.0, seed=5, n=4, max_tokens=4)
    before = fresh.engine.computed_tokens
    outs = fresh.generate(CHAT, params, cache=False)
    assert fresh.engine.computed_tokens - before == outs[0].prompt_tokens


@pytest.mark.slow
@needs_llamacpp
def test_a_seeded_sample_does_not_depend_on_the_rest_of_the_batch(smol):
    params = SamplingParams(temperature=1.0, seed=42, max_tokens=10)
    alone = smol.generate(CHAT, params, cache=False)[0].text
    others = [[{"role": "user", "content": f"Count to {i}."}] for i in range(3, 8)]
    mixed = smol.generate([*others[:2], CHAT, *others[2:]], params, cache=False)
    assert mixed[2].text == alone


@pytest.mark.slow
@needs_llamacpp
def test_more_requests_than_batch_slots_and_a_small_kv_cache_give_the_one_by_one_results(fresh):
    """Rows wait for cells and slots and cached prefixes give way, yet each row's text is its text alone.

    "Alone" is an engine without a prefix cache: the one-by-one runs on the small engine would copy
    cached cells and put their own around the cells earlier requests freed, and where the cells lie
    changes the attention sums' rounding (models/llamacpp_native.py), enough to flip a near-tie.
    """
    from ratiocinator.models import catalog
    from ratiocinator.models.llamacpp import LlamaCppBackend, LlamaCppConfig

    small = LlamaCppBackend.from_embedded(catalog.get("smollm2-135m-instruct"), config=LlamaCppConfig(
        n_ctx=512, max_batch_size=2, prefix_cache_entries=3, prefix_cache_tokens=200, threads=1))
    try:
        prompts = [f"Fact {i}: the number {i} is" for i in range(6)]
        params = SamplingParams(max_tokens=16)
        batch = [c.text for c in small.generate(prompts, params, cache=False)]
        single = [fresh.generate(p, params, cache=False)[0].text for p in prompts]
        assert batch == single
        assert len(small.engine.prefix) <= 3 and small.engine.prefix.held() <= 200
        with pytest.raises(InvalidInput, match="holds at most 512"):
            small.generate("word " * 600, params, cache=False)
    finally:
        small.close()
    with pytest.raises(InvalidInput, match="closed"):
        small.generate(prompts[0], params, cache=False)


@pytest.mark.slow
@needs_llamacpp
def test_prompts_that_extend_one_long_text_are_kept_for_the_cells_they_share():
    """Five scored questions on one ~700-token text hold ~750 cells, not 5 x 750: a 1,000-cell cache keeps all."""
    from ratiocinator.models import catalog
    from ratiocinator.models.llamacpp import LlamaCppBackend, LlamaCppConfig

    backend = LlamaCppBackend.from_embedded(catalog.get("smollm2-135m-instruct"), config=LlamaCppConfig(
        n_ctx=4096, prefix_cache_tokens=1000, threads=1))
    try:
        text = " ".join(f"Item {i} costs {3 * i + 1} dollars." for i in range(75))
        prompts = [f"{text}\nQuestion {q}: what does item {q} cost?\nAnswer:" for q in range(5)]
        assert all(700 < len(backend.encode(p)) < 1000 for p in prompts)
        first = [backend.score(p, [" 4 dollars", " 7 dollars"]) for p in prompts]
        engine = backend.engine
        assert len(engine.prefix) == 5 and engine.prefix.held() < 1000 < 5 * 700
        ids = [np.asarray(backend.encode(p)) for p in prompts]  # each entry holds its prompt but the last token
        copied = [0] + [max(min(common_prefix(ids[p], ids[q]), len(ids[p]) - 1, len(ids[q]) - 1) for p in range(q))
                        for q in range(1, len(ids))]
        assert engine.prefix.held() == sum(len(i) - 1 - c for i, c in zip(ids, copied, strict=True))
        before = engine.computed_tokens
        assert [backend.score(p, [" 4 dollars", " 7 dollars"]) for p in prompts] == first
        assert engine.computed_tokens - before == len(prompts)  # only each last token: the cells were kept
    finally:
        backend.close()


@pytest.mark.slow
@needs_llamacpp
def test_hidden_states_are_the_transformers_models_last_layer(smol):
    """What nuclear-norm reads: the same GGUF's last-layer states match the transformers model's (cosine > 0.99)."""
    from ratiocinator.evals.benchmarks.nuclear_norm import response_hidden_states
    from ratiocinator.models import Message

    prompt = [Message(role="user", content="Why is the sky blue?")]
    response = " Because air molecules scatter blue light more than red light."
    ours = response_hidden_states(smol, prompt, response)
    reference = response_hidden_states(load_backend("embedded:smollm2-135m-instruct", threads=1), prompt, response)
    assert ours.shape == reference.shape and ours.shape[1] == 576
    cosine = (ours * reference).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(reference, axis=1)
    assert cosine.min() > 0.99, cosine
    assert np.array_equal(smol.hidden_states(prompt, response), ours)
    with pytest.raises(InvalidInput, match="response is empty"):
        smol.hidden_states(prompt, "")


@pytest.mark.slow
@needs_llamacpp
def test_threads_do_not_change_the_numbers():
    one, two = _load(threads=1), _load(threads=2)
    try:
        params = SamplingParams(max_tokens=12, logprobs=True)
        a = one.generate(CHAT, params, cache=False)[0]
        b = two.generate(CHAT, params, cache=False)[0]
        assert a.text == b.text
        assert [t.logprob for t in a.logprobs] == [t.logprob for t in b.logprobs]
    finally:
        one.close()
        two.close()


@pytest.mark.slow
@needs_llamacpp
def test_qwen_calls_a_tool_with_typed_arguments():
    add = ToolSpec(name="add", description="Add two integers.", parameters={
        "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]})
    backend = load_backend(QWEN, threads=1)
    try:
        assert backend.info.backend == "llamacpp" and backend.info.dtype == "gguf:Q4_K_M"
        (c,) = backend.generate([{"role": "user", "content": "What is 2 + 3? Use the add tool."}],
                                SamplingParams(max_tokens=40, tools=(add,)), cache=False)
        assert c.finish_reason == "tool_calls", c.text
        assert c.tool_calls[0].name == "add" and c.tool_calls[0].arguments == {"a": 2, "b": 3}
    finally:
        backend.close()


# --- the default engine (models/loading.default_spec) -----------------------------------------------------


def test_the_default_engine_is_llamacpp_on_cpu_unless_something_only_transformers_does_is_asked(monkeypatch):
    import importlib.util

    import torch

    from ratiocinator.models.catalog import DEFAULT_MODEL
    from ratiocinator.models.loading import ENGINE_ENV, default_spec

    monkeypatch.delenv(ENGINE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "llama_cpp" else real(name, *a))
    assert default_spec() == QWEN
    assert default_spec(device="cpu") == QWEN
    for kwargs in ({"dtype": "float32"}, {"device": "cuda"}, {"compress": "int4"}, {"compress": "int4+eora64"}):
        assert default_spec(**kwargs) == DEFAULT_MODEL, kwargs
    for gguf in ("q4_0", "Q3_K_S+eora64", "q8_0+svd16"):  # llama.cpp's own compression keeps llama.cpp
        assert default_spec(compress=gguf) == QWEN, gguf
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_spec() == DEFAULT_MODEL  # a GPU: transformers
    monkeypatch.setenv(ENGINE_ENV, "llamacpp")
    assert default_spec() == QWEN
    monkeypatch.setenv(ENGINE_ENV, "transformers")
    assert default_spec() == DEFAULT_MODEL
    monkeypatch.setenv(ENGINE_ENV, "tpu")
    with pytest.raises(InvalidInput, match=ENGINE_ENV):
        default_spec()
    monkeypatch.delenv(ENGINE_ENV)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    assert default_spec() == DEFAULT_MODEL  # llama-cpp-python missing: transformers


def test_the_cli_resolves_no_model_to_the_default_engine(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import ratiocinator.models
    from ratiocinator.cli import app
    from ratiocinator.models.loading import ENGINE_ENV
    from ratiocinator.models.scripted import ScriptedBackend

    calls = []
    monkeypatch.setattr(ratiocinator.models, "load_backend",
                        lambda spec, **o: calls.append(spec) or ScriptedBackend(lambda p, s: "ok"))
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path))
    monkeypatch.setenv(ENGINE_ENV, "llamacpp")
    assert CliRunner().invoke(app, ["generate", "hi"]).exit_code == 0
    monkeypatch.setenv(ENGINE_ENV, "transformers")
    assert CliRunner().invoke(app, ["generate", "hi"]).exit_code == 0
    assert calls == [QWEN, "embedded:qwen2.5-coder-0.5b-instruct"]


# --- a smaller type and its EoRA adapter (models/compress/gguf_lora.py) ----------------------------------


@pytest.mark.parametrize("compress,match", [("int4+eora64", "expected a type"), ("q4_0+lora8", "cannot read")])
def test_a_compression_llamacpp_cannot_make_is_refused_before_loading(compress, match):
    with pytest.raises(InvalidInput, match=match):
        load_backend(SMOLLM, compress=compress)


def test_compressing_a_gguf_file_asks_for_its_checkpoint(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF")
    with pytest.raises(UnsupportedFeature, match="original checkpoint"):
        load_backend(f"llamacpp:{path}", compress="q4_0+eora8")


@needs_llamacpp
def test_a_missing_adapter_is_named_before_the_model_loads():
    with pytest.raises(InvalidInput, match="no such file"):
        _load(lora="/no/such/adapter.gguf")


@needs_llamacpp
def test_a_file_that_is_not_an_adapter_is_refused_by_llamacpp(tmp_path):
    from ratiocinator.errors import ModelLoadError
    from ratiocinator.models import catalog

    with pytest.raises(ModelLoadError, match="cannot load the LoRA adapter"):
        _load(lora=str(catalog.gguf_file(catalog.get("smollm2-135m-instruct"))))


@pytest.mark.slow
@needs_llamacpp
def test_the_eora_adapter_brings_a_requantized_model_back_toward_the_shipped_one(tmp_path):
    """SmolLM2 (a llama: q/k rows permuted in the file) at Q4_0, with and without a rank-16 EoRA adapter."""
    import math

    from ratiocinator.models import catalog
    from ratiocinator.models.compress.config import EoRAConfig
    from ratiocinator.models.compress.gguf_lora import GGUFCompression, embedded_compressed
    from ratiocinator.models.llamacpp import LlamaCppBackend, LlamaCppConfig

    model = catalog.get("smollm2-135m-instruct")
    comp = GGUFCompression(ftype="Q4_0", eora=EoRAConfig(rank=16, calibration_samples=8, calibration_len=128))
    small, adapter = embedded_compressed(model, comp, threads=1, cache_dir=tmp_path)
    assert adapter is not None and small.parent == tmp_path
    text = ("The committee met on Tuesday to review the budget. After a long discussion, the members agreed to "
            "postpone the vote until the auditors had finished their report, which was expected within a month.")
    scores = {}
    for label, path, lora in (("shipped", catalog.gguf_file(model), None), ("q4_0", small, None),
                              ("q4_0+eora16", small, str(adapter))):
        backend = LlamaCppBackend(path, name=label, config=LlamaCppConfig(threads=1, n_ctx=1024, lora=lora),
                                  cache=False)
        try:
            scores[label] = (backend.score("Minutes of the meeting.\n", [text])[0], backend.info)
        finally:
            backend.close()
    assert scores["q4_0+eora16"][1].dtype == "gguf:Q4_0+lora" and scores["q4_0"][1].dtype == "gguf:Q4_0"
    assert scores["q4_0+eora16"][1].identity != scores["q4_0"][1].identity  # the response cache tells them apart
    shipped = scores["shipped"][0]
    assert all(math.isfinite(s) for s, _ in scores.values())
    assert abs(scores["q4_0+eora16"][0] - shipped) < abs(scores["q4_0"][0] - shipped), scores
