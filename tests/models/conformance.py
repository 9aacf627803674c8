"""The one conformance suite every Backend must pass: transformers, in-process vLLM, an OpenAI client
talking to a real vLLM server started here on 127.0.0.1, and llama.cpp. The first three run SmolLM2-135M
in float32; llama.cpp runs the GGUF those float32 weights were dequantized from (Q4_1), as shipped.

Each test takes the module-scoped `backend` fixture, parametrized over the three, so each engine is
built once (pytest groups the tests by parameter). Where a backend cannot do something the test
requires UnsupportedFeature, never a silent fallback.
"""

from __future__ import annotations

import importlib.util
import math

import jsonschema
import pytest
from pydantic import BaseModel, Field

from ratiocinator.errors import InvalidInput, UnsupportedFeature
from ratiocinator.models import SamplingParams, ToolCall, ToolSpec
from ratiocinator.models.schema import parse_output

pytestmark = pytest.mark.slow

SMOLLM = "smollm2-135m-instruct"
HAS_VLLM = importlib.util.find_spec("vllm") is not None
needs_vllm = pytest.mark.skipif(
    not HAS_VLLM, reason="vLLM is not installed (pip install -e '.[vllm]')"
)
HAS_LLAMACPP = importlib.util.find_spec("llama_cpp") is not None
needs_llamacpp = pytest.mark.skipif(
    not HAS_LLAMACPP, reason="llama-cpp-python is not installed (pip install -e '.[llamacpp]')"
)
LOCAL = ("transformers", "vllm", "llamacpp")  # backends that read the chat template themselves

CONVS = [
    [{"role": "user", "content": "Name a color."}],
    [{"role": "user", "content": "What is 2 + 2? Explain step by step."}],
    "The quick brown fox",
]
ADD = ToolSpec(
    name="add",
    description="Add two integers.",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)


class Pet(BaseModel):
    name: str = Field(max_length=12)
    species: str = Field(json_schema_extra={"enum": ["cat", "dog", "fish"]})
    age: int = Field(ge=0, le=30)


@pytest.fixture(
    scope="module",
    params=[
        "transformers",
        pytest.param("vllm", marks=needs_vllm),
        pytest.param("openai", marks=needs_vllm),
        pytest.param("llamacpp", marks=needs_llamacpp),
    ],
)
def backend(request, smollm):
    if request.param == "transformers":
        yield smollm  # the session's SmolLM2 (float32), shared with the other model tests
        return
    from ratiocinator.models import catalog

    if request.param == "llamacpp":
        from ratiocinator.models.llamacpp import LlamaCppBackend, LlamaCppConfig

        b = LlamaCppBackend.from_embedded(catalog.get(SMOLLM), config=LlamaCppConfig(n_ctx=4096))
        yield b
        b.close()
        return

    if request.param == "vllm":
        from ratiocinator.models.vllm import VLLMBackend, VLLMConfig

        b = VLLMBackend(
            catalog.prepare(SMOLLM),
            name=f"vllm:{SMOLLM}",
            config=VLLMConfig(dtype="float32"),
        )
        yield b
        b.close()
        return
    from ratiocinator.models.openai import OpenAIBackend, OpenAIConfig
    from ratiocinator.models.vllm_server import SERVED_NAME, vllm_server

    with vllm_server(catalog.prepare(SMOLLM)) as url:
        b = OpenAIBackend(OpenAIConfig(model=SERVED_NAME, base_url=url, tool_choice="required"))
        yield b
        b.close()


def test_batch_equals_one_by_one_under_greedy(backend):
    params = SamplingParams(max_tokens=12)
    batch = backend.generate(CONVS, params, cache=False)
    single = [backend.generate([c], params, cache=False)[0] for c in CONVS]
    assert [c.text for c in batch] == [c.text for c in single]
    assert [c.completion_tokens for c in batch] == [c.completion_tokens for c in single]
    assert all(c.text and c.prompt_tokens > 0 for c in batch)


def test_seeds_reproduce_and_n_samples_differ(backend):
    params = SamplingParams(temperature=1.0, max_tokens=8, seed=7, n=3)
    first = [c.text for c in backend.generate(CONVS[0], params, cache=False)]
    again = [c.text for c in backend.generate(CONVS[0], params, cache=False)]
    other = [
        c.text
        for c in backend.generate(CONVS[0], params.model_copy(update={"seed": 8}), cache=False)
    ]
    assert first == again
    assert len(first) == 3 and len(set(first)) > 1
    assert other != first


def test_n_samples_come_prompt_major(backend):
    outs = backend.generate(
        CONVS[:2], SamplingParams(temperature=1.0, seed=1, n=2, max_tokens=4), cache=False
    )
    assert len(outs) == 4
    assert (
        outs[0].prompt_tokens
        == outs[1].prompt_tokens
        != outs[2].prompt_tokens
        == outs[3].prompt_tokens
    )


def test_stop_string_cuts_the_output(backend):
    (free,) = backend.generate(CONVS[1], SamplingParams(max_tokens=16), cache=False)
    words = free.text.split()
    assert len(words) >= 4, free.text
    stop = " " + words[3]
    (cut,) = backend.generate(CONVS[1], SamplingParams(max_tokens=16, stop=(stop,)), cache=False)
    assert cut.text == free.text[: free.text.index(stop)]
    assert cut.finish_reason == "stop"


def test_logprobs_have_one_entry_per_token_and_match_score(backend):
    # CONVS[1]'s greedy text re-tokenizes to the same ids (a "\n\n" can come back as one token or two)
    (c,) = backend.generate(
        CONVS[1], SamplingParams(max_tokens=8, logprobs=True, top_logprobs=3), cache=False
    )
    assert c.logprobs is not None and len(c.logprobs) == c.completion_tokens == 8
    for t in c.logprobs:
        assert t.logprob <= 0 and len(t.top) == 3 and t.token_id >= 0
        assert [lp for _, lp in t.top] == sorted((lp for _, lp in t.top), reverse=True)
        assert math.isclose(
            t.top[0][1], t.logprob, abs_tol=1e-3
        )  # greedy takes the most likely token
    (scored,) = backend.score(CONVS[1], [c.text])
    assert math.isclose(sum(t.logprob for t in c.logprobs), scored, rel_tol=1e-3, abs_tol=2e-2)
    good, bad = backend.score("The capital of France is", [" Paris", " banana"])
    assert good > bad


def test_score_tokens_split_by_piece_match_score_and_name_the_top_choice(backend):
    (c,) = backend.generate(CONVS[1], SamplingParams(max_tokens=8), cache=False)
    first, second = backend.score_tokens(CONVS[1], [c.text, " Paris"])
    (whole,) = backend.score(CONVS[1], [c.text])
    assert math.isclose(sum(t.logprob for t in first), whole, rel_tol=1e-3, abs_tol=2e-2)
    assert len(second) >= 1 and "".join(t.token for t in second) == " Paris"
    for t in first + second:
        ((best, best_lp),) = t.top
        assert t.logprob <= best_lp + 1e-3 <= 1e-3 and isinstance(best, str)
    assert first[0].top[0][0] == first[0].token  # greedy wrote the model's top choice
    with pytest.raises(InvalidInput, match="pieces"):
        backend.score_tokens(CONVS[1], [])


def test_schema_and_grammar_outputs_always_parse(backend):
    prompt = [{"role": "user", "content": "Describe a pet as JSON."}]
    outs = backend.generate(
        prompt,
        SamplingParams(temperature=1.0, seed=11, n=4, max_tokens=48, schema=Pet),
        cache=False,
    )
    assert len(outs) == 4
    for c in outs:
        assert c.finish_reason == "stop", c.text
        parse_output(c.text, Pet)  # raises on any invalid output
    grammar = 'root ::= ("yes" | "no") " because " [a-z ]{1,20}'
    outs = backend.generate(
        CONVS[0],
        SamplingParams(temperature=1.0, seed=3, n=4, max_tokens=24, grammar=grammar),
        cache=False,
    )
    for c in outs:
        assert c.text.split(" because ")[0] in ("yes", "no"), c.text


def test_tool_calls_are_typed_or_refused(backend):
    prompt = [{"role": "user", "content": "What is 2 + 3? Use the add tool."}]
    try:
        outs = backend.generate(prompt, SamplingParams(max_tokens=40, tools=(ADD,)), cache=False)
    except UnsupportedFeature as exc:  # SmolLM2's template has no tools: the local backends say so
        assert "tools" in str(exc)
        assert backend.info.backend in LOCAL
        return
    (c,) = outs
    assert c.finish_reason == "tool_calls" and c.tool_calls, c.text
    for call in c.tool_calls:
        assert isinstance(call, ToolCall) and call.name == "add" and call.id
        jsonschema.validate(call.arguments, ADD.parameters)


def test_streaming_yields_the_generated_text(backend):
    params = SamplingParams(max_tokens=12)
    chunks = list(backend.stream(CONVS[0], params))
    (c,) = backend.generate(CONVS[0], params, cache=False)
    assert len(chunks) > 1
    assert "".join(chunks) == c.text


def test_unsupported_requests_raise(backend):
    """One thing each backend cannot do, asked for: it must raise UnsupportedFeature."""
    kind = backend.info.backend
    if kind in LOCAL:  # SmolLM2's chat template has no tools
        with pytest.raises(UnsupportedFeature, match="tools"):
            backend.generate(CONVS[0], SamplingParams(max_tokens=4, tools=(ADD,)))
    else:  # the same server treated as a plain OpenAI server: vLLM-only requests are refused
        from ratiocinator.models.openai import OpenAIBackend, OpenAIConfig

        plain = OpenAIBackend(
            OpenAIConfig(
                model=backend.config.model, base_url=backend.config.base_url, server="generic"
            )
        )
        with pytest.raises(UnsupportedFeature, match="grammar"):
            plain.generate(CONVS[0], SamplingParams(max_tokens=4, grammar='root ::= "a"'))
        with pytest.raises(UnsupportedFeature, match="score"):
            plain.score(CONVS[2], [" jumps"])
        plain.close()


GREEDY_TIE_NATS = 0.3  # a reference top-2 gap below this is a near-tie that rounding may flip


def test_greedy_output_agrees_with_transformers(backend, smollm):
    """All decode the same weights (llama.cpp: before dequantization) from the same token ids: the greedy
    tokens agree until the reference's best two tokens are a near-tie. llama.cpp rounds activations to 8
    bits in its dot products, so a gap of 0.1 nats (SmolLM2 after "The" in "Name a color.") may flip with the
    CPU's kernels; a flip where the reference is sure is a real disagreement."""
    if backend is smollm:
        pytest.skip("transformers is the reference")
    params = SamplingParams(max_tokens=16, logprobs=True, top_logprobs=2)
    ours = backend.generate(CONVS, params, cache=False)
    ref = smollm.generate(CONVS, params, cache=False)
    agreed = 0
    for a, b in zip(ours, ref, strict=True):
        assert a.logprobs and b.logprobs, "greedy logprobs were asked for"
        for mine, theirs in zip(a.logprobs, b.logprobs, strict=False):
            if mine.token_id != theirs.token_id:
                gap = theirs.top[0][1] - theirs.top[1][1]
                assert gap < GREEDY_TIE_NATS, (a.text, b.text, theirs.top)
                break
            assert abs(mine.logprob - theirs.logprob) < GREEDY_TIE_NATS * 2, (mine, theirs)
            agreed += 1
    assert agreed >= 2 * len(CONVS), (agreed, [c.text for c in ours], [c.text for c in ref])


def test_openai_errors_name_what_the_server_refused(backend):
    """4xx: a clear error with the server's reason; no server: retried with backoff, then BackendUnavailable."""
    if backend.info.backend != "openai":
        pytest.skip("HTTP errors are the openai backend's")
    from ratiocinator.errors import BackendUnavailable, InvalidInput, ModelNotFound
    from ratiocinator.models.openai import OpenAIBackend, OpenAIConfig
    from ratiocinator.models.vllm_server import free_port

    with pytest.raises(InvalidInput, match=r"/chat/completions refused the request \(HTTP 400\)"):
        backend.generate(CONVS[0], SamplingParams(max_tokens=100_000), cache=False)
    with pytest.raises(ModelNotFound, match="serves: smollm"):
        OpenAIBackend(OpenAIConfig(model="no-such-model", base_url=backend.config.base_url))
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(BackendUnavailable, match="3 tries"):
        OpenAIBackend(OpenAIConfig(model="m", base_url=dead, max_retries=2, backoff_s=0.01))
