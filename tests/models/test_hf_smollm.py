"""Integration tests of the transformers backend on the real SmolLM2-135M (float32, CPU)."""

from __future__ import annotations

import json
import math

import pytest
from pydantic import BaseModel, Field

from ratiocinator.errors import InvalidInput, UnsupportedFeature
from ratiocinator.models import ResponseCache, SamplingParams, ToolSpec
from ratiocinator.models.schema import parse_output

pytestmark = pytest.mark.slow

CONVS = [
    [{"role": "user", "content": "Name a color."}],
    [{"role": "user", "content": "What is 2 + 2? Explain step by step, in detail."}],
    "The quick brown fox",
]


class Pet(BaseModel):
    name: str = Field(max_length=16)
    species: str = Field(json_schema_extra={"enum": ["cat", "dog", "fish"]})
    age: int = Field(ge=0, le=30)
    vaccinated: bool


def test_generates_text_and_counts_tokens(smollm):
    (c,) = smollm.generate(CONVS[0], SamplingParams(max_tokens=24))
    assert c.text.strip() and 0 < c.completion_tokens <= 24 and c.prompt_tokens > 5
    assert c.finish_reason in ("stop", "length")


def test_batching_equals_one_by_one_under_greedy(smollm):
    params = SamplingParams(max_tokens=24)
    batch = smollm.generate(CONVS, params)
    single = [smollm.generate([c], params)[0] for c in CONVS]
    assert [c.text for c in batch] == [c.text for c in single]
    assert [c.completion_tokens for c in batch] == [c.completion_tokens for c in single]


def test_same_seed_same_output_whatever_the_batch(smollm):
    params = SamplingParams(temperature=1.0, max_tokens=16, seed=7, n=3)
    alone = [c.text for c in smollm.generate([CONVS[0]], params)]
    batched = [c.text for c in smollm.generate([CONVS[0], CONVS[1]], params)][:3]
    assert alone == batched
    assert len(set(alone)) > 1  # the n samples differ from one another
    other = [c.text for c in smollm.generate([CONVS[0]], params.model_copy(update={"seed": 8}))]
    assert other != alone


def test_logprobs_sum_matches_score(smollm):
    (c,) = smollm.generate(CONVS[1], SamplingParams(max_tokens=12, logprobs=True, top_logprobs=3))
    assert len(c.logprobs) == c.completion_tokens
    for t in c.logprobs:
        assert t.logprob <= 0 and len(t.top) == 3
        assert t.top[0][1] >= t.logprob - 1e-4  # greedy picks the most likely token
    total = sum(t.logprob for t in c.logprobs)
    (scored,) = smollm.score(CONVS[1], [c.text])
    assert math.isclose(total, scored, rel_tol=1e-3, abs_tol=1e-2)


def test_score_prefers_the_sensible_continuation(smollm):
    good, bad = smollm.score("The capital of France is", [" Paris", " banana"])
    assert good > bad


def test_schema_constrained_output_always_validates(smollm):
    """The property the backend promises: under a schema 100% of outputs parse, even from this weak model."""
    params = SamplingParams(temperature=1.0, top_p=0.95, seed=11, n=50, max_tokens=96, schema=Pet)
    prompt = [{"role": "user", "content": "Describe a pet as JSON."}]
    outs = smollm.generate(prompt, params)
    assert len(outs) == 50
    pets = [parse_output(c.text, Pet) for c in outs]  # raises on any invalid output
    assert all(c.finish_reason == "stop" for c in outs)
    assert len({p.model_dump_json() for p in pets}) > 5


def test_dict_schema_and_whitespace_cap(smollm):
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"],
              "additionalProperties": False}
    outs = smollm.generate(CONVS[1], SamplingParams(temperature=1.5, seed=3, n=8, max_tokens=40, schema=schema))
    for c in outs:
        assert isinstance(json.loads(c.text)["answer"], int)
        assert c.text == json.dumps(json.loads(c.text))  # one canonical layout: no free whitespace


def test_ebnf_grammar_constrains_output(smollm):
    grammar = 'root ::= ("yes" | "no") "." '
    outs = smollm.generate("Is the sky blue? Answer:", SamplingParams(grammar=grammar, temperature=1.0, seed=1, n=6))
    assert {c.text for c in outs} <= {"yes.", "no."}


def test_bad_grammar_is_an_input_error(smollm):
    with pytest.raises(InvalidInput, match="EBNF grammar does not compile"):
        smollm.generate("x", SamplingParams(grammar="root ::= ???"))


def test_stop_strings_cut_the_text(smollm):
    (c,) = smollm.generate(CONVS[1], SamplingParams(max_tokens=40, stop=["4"]))
    assert "4" not in c.text and c.finish_reason == "stop"


def test_stream_joins_to_the_generated_text(smollm):
    params = SamplingParams(max_tokens=20, stop=["."])
    deltas = list(smollm.stream(CONVS[1], params))
    assert len(deltas) > 1
    assert "".join(deltas) == smollm.generate(CONVS[1], params)[0].text


def test_cache_hit_is_identical(smollm, tmp_path):
    cache = ResponseCache(tmp_path / "r.sqlite")
    smollm.cache = cache
    try:
        params = SamplingParams(temperature=0.8, seed=4, max_tokens=12, logprobs=True)
        first = smollm.generate(CONVS[0], params)
        second = smollm.generate(CONVS[0], params)
        assert [c.model_copy(update={"cached": False}) for c in second] == first and second[0].cached
    finally:
        smollm.cache = None


def test_prompt_longer_than_the_context_is_refused(smollm):
    with pytest.raises(InvalidInput, match="holds at most"):
        smollm.generate("word " * 9000, SamplingParams(max_tokens=2))


def test_tools_on_a_template_without_tools_are_unsupported(smollm):
    with pytest.raises(UnsupportedFeature, match="does not support tools"):
        smollm.generate(CONVS[0], SamplingParams(tools=(ToolSpec(name="f"),)))


def test_a_local_checkpoint_loads_with_hf_prefix(smollm):
    from ratiocinator.models import load_backend
    from ratiocinator.models.catalog import cache_dir, get

    path = cache_dir(get("smollm2-135m-instruct"))
    local = load_backend(f"hf:{path}", dtype="float32")
    try:
        assert local.info.model == f"hf:{path}" and local.info.identity != smollm.info.identity
        params = SamplingParams(max_tokens=8)
        assert local.generate(CONVS[0], params)[0].text == smollm.generate(CONVS[0], params)[0].text
    finally:
        local.close()


def test_close_frees_the_weights_and_decode_caches_while_the_backend_is_still_referenced():
    # issue 16: the decoder kept the model and its static caches alive, so `/model` in the REPL held two
    import gc
    import weakref

    from ratiocinator.models import load_backend

    backend = load_backend("embedded:smollm2-135m-instruct", dtype="float32")  # its own: `smollm` is shared
    assert backend.decoder.fast is not None, "the static-cache decoder is the path under test"
    backend.generate(CONVS[0], SamplingParams(max_tokens=4))
    backend.score("The quick brown", [" fox"])
    refs = {"model": weakref.ref(backend.model), "fast decoder": weakref.ref(backend.decoder.fast),
            "decoder": weakref.ref(backend.decoder), "tokenizer": weakref.ref(backend.tokenizer),
            "an embedding": weakref.ref(backend.model.get_input_embeddings().weight)}
    backend.close()
    gc.collect()
    alive = [name for name, ref in refs.items() if ref() is not None]
    assert alive == [], f"still referenced after close(): {alive}"
    assert backend.info.model == "embedded:smollm2-135m-instruct"  # what it was stays readable
    with pytest.raises(InvalidInput, match="closed"):
        backend.generate("hi")
    with pytest.raises(InvalidInput, match="closed"):
        backend.score("hi", ["x"])
