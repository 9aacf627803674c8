"""Tests of the static-cache decode path: equal to transformers' eager generate, slots, seeds, compilation."""

from __future__ import annotations

import pytest
import torch
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

from ratiocinator.models import SamplingParams
from ratiocinator.models.fastdecode import FastDecoder, bucket_for, unsupported_reason
from ratiocinator.models.hf import HFBackend, HFConfig

PROMPTS = ["The quick brown fox", "def fibonacci(n):", "Once upon a time, in a land far away,", "1, 2, 3, 4,"]


def _tiny(kind: str) -> torch.nn.Module:
    torch.manual_seed(0)
    common = dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=512)
    model = LlamaForCausalLM(LlamaConfig(**common)) if kind == "llama" else Qwen2ForCausalLM(Qwen2Config(**common))
    return model.eval()


def _reference(model, prompt_ids: list[int], steps: int) -> list[int]:
    ids = torch.tensor([prompt_ids], device=model.device)
    with torch.inference_mode():
        out = model.generate(ids, max_new_tokens=steps, min_new_tokens=steps, do_sample=False,
                             pad_token_id=0, eos_token_id=None)
    return out[0, len(prompt_ids):].tolist()


def _fast_greedy(fd: FastDecoder, model, prompt_ids: list[int], steps: int, slots: int = 1, slot: int = 0):
    cache = fd.allocate(slots, bucket_for(len(prompt_ids) + steps, fd.limit))
    past = DynamicCache(config=model.config)
    with torch.inference_mode():
        out = model(input_ids=torch.tensor([prompt_ids], device=model.device), past_key_values=past, use_cache=True)
    fd.load_prefill(cache, slot, past, 0, len(prompt_ids))
    tok = int(out.logits[0, -1].argmax())
    got = [tok]
    tokens = torch.zeros(slots, dtype=torch.long, device=model.device)
    for _ in range(steps - 1):
        tokens[slot] = tok
        tok = int(fd.step(tokens, cache)[slot].argmax())
        got.append(tok)
    fd.release(cache)
    return got


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
def test_step_equals_eager_generate_on_random_models(kind):
    model = _tiny(kind)
    fd = FastDecoder(model)
    for prompt in ([1, 5, 9, 13], [7] * 11, [3, 100, 42]):
        assert _fast_greedy(fd, model, prompt, 24) == _reference(model, prompt, 24)


def test_a_slot_is_independent_of_its_neighbours():
    model = _tiny("llama")
    fd = FastDecoder(model)
    assert _fast_greedy(fd, model, [1, 2, 3], 12, slots=3, slot=2) == _reference(model, [1, 2, 3], 12)


@pytest.mark.slow
def test_compiled_step_is_compiled_once_per_shape_and_matches():
    model = _tiny("llama")
    fd = FastDecoder(model, compile=True)
    first = _fast_greedy(fd, model, [1, 5, 9, 13], 10)
    second = _fast_greedy(fd, model, [4, 4, 2], 10)
    assert fd.compile, "compilation fell back to eager"
    assert fd.compilations == 1  # same (slots, bucket): no recompilation on the second call
    assert first == _reference(model, [1, 5, 9, 13], 10) and second == _reference(model, [4, 4, 2], 10)


def test_buckets_are_powers_of_two_capped():
    assert bucket_for(3, 8192) == 256 and bucket_for(257, 8192) == 512 and bucket_for(5000, 4096) == 4096


def test_unsupported_architectures_are_named():
    from transformers import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=64))
    assert "gpt2" in unsupported_reason(model)
    with pytest.raises(ValueError, match="fast decode unavailable"):
        FastDecoder(model)


@pytest.fixture(scope="module")
def smollm_paths(smollm):
    return smollm.path


@pytest.mark.slow
def test_backend_greedy_equals_transformers_generate(smollm):
    params = SamplingParams(max_tokens=20)
    outs = smollm.generate(PROMPTS, params)
    for prompt, got in zip(PROMPTS, outs, strict=True):
        ids = smollm.encode(prompt)
        with torch.inference_mode():
            ref = smollm.model.generate(torch.tensor([ids]), max_new_tokens=20, do_sample=False,
                                        eos_token_id=smollm.stop_ids, pad_token_id=smollm.pad_id)
        ref_tokens = ref[0, len(ids):].tolist()
        assert got.completion_tokens == len(ref_tokens)
        assert got.text == smollm.decoder.text(ref_tokens)


@pytest.mark.slow
def test_slots_are_reused_when_requests_finish_at_different_lengths(smollm_paths):
    """Two slots for six requests that stop at different lengths give the same outputs as one slot each."""
    two = HFBackend(smollm_paths, config=HFConfig(dtype="float32", max_batch_size=2))
    wide = HFBackend(smollm_paths, config=HFConfig(dtype="float32", max_batch_size=8))
    dynamic = HFBackend(smollm_paths, config=HFConfig(dtype="float32", fast_decode=False))
    try:
        prompts = [*PROMPTS, "Name a fruit.", "x"]
        params = SamplingParams(max_tokens=18, stop=[".", "\n\n"])
        a, b, c = (be.generate(prompts, params) for be in (two, wide, dynamic))
        assert [x.text for x in a] == [x.text for x in b] == [x.text for x in c]
        assert len({x.completion_tokens for x in a}) > 1  # they did finish at different lengths
        sampled = SamplingParams(max_tokens=12, temperature=0.9, seed=21, n=3)
        assert [x.text for x in two.generate(prompts[:2], sampled)] == [x.text for x in wide.generate(prompts[:2], sampled)]
    finally:
        for be in (two, wide, dynamic):
            be.close()


def test_cuda_graphs_need_cuda_and_are_off_on_cpu():
    model = _tiny("llama")
    with pytest.raises(ValueError, match="cuda_graphs needs the model on a CUDA device"):
        FastDecoder(model, cuda_graphs=True)
    fd = FastDecoder(model)
    assert not fd.cuda_graphs
    cache = fd.allocate(2, 256)
    fd.release(cache)
    assert fd.allocate(2, 256) is not cache  # no pooling without graphs: each decode owns its cache


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (bench/gpu_backend.py checks it)")
def test_cuda_graph_replay_equals_eager_generate():
    model = _tiny("qwen2").to("cuda")
    fd = FastDecoder(model, cuda_graphs=True)
    for prompt in ([1, 5, 9, 13], [7] * 11):
        want = _reference(model, prompt, 16)
        assert _fast_greedy(fd, model, prompt, 16) == want
    assert fd.captures == 1  # the second prompt replayed the pooled cache's graph
