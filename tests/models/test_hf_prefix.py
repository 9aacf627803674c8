"""Prefix reuse in the transformers backend (models/decoding.py, hf.py): a dialogue step and a re-scored
prompt compute only their new tokens, and give what a backend without the cache gives."""

from __future__ import annotations

import pytest

from ratiocinator.models import SamplingParams

pytestmark = pytest.mark.slow
CHAT = [{"role": "user", "content": "Name three fruits."}]


@pytest.fixture(scope="module")
def fresh(smollm):
    from ratiocinator.models.hf import HFBackend, HFConfig

    backend = HFBackend(smollm.path, name=smollm.name, config=HFConfig(dtype="float32"))  # reuse off: the default
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def reusing(smollm):
    from ratiocinator.models.hf import HFBackend, HFConfig

    backend = HFBackend(smollm.path, name=smollm.name, config=HFConfig(dtype="float32", prefix_cache_entries=16))
    yield backend
    backend.close()


def test_a_dialogue_step_computes_only_its_new_tokens(reusing, fresh):
    params = SamplingParams(max_tokens=12)
    (first,) = reusing.generate(CHAT, params, cache=False)
    turn2 = [*CHAT, {"role": "assistant", "content": first.text}, {"role": "user", "content": "And three more?"}]
    before = reusing.decoder.computed_tokens
    (second,) = reusing.generate(turn2, params, cache=False)
    assert reusing.decoder.computed_tokens - before < second.prompt_tokens // 2
    assert second.text == fresh.generate(turn2, params, cache=False)[0].text


def test_scoring_a_prompt_again_reuses_it(reusing, fresh):
    prompt = "Q: Which animal says moo?\nA:"
    conts = [" A cow.", " A dog.", " The moon."]
    first = reusing.score(prompt, conts)
    before = reusing.decoder.computed_tokens
    again = reusing.score(prompt, conts)
    assert reusing.decoder.computed_tokens - before <= 1
    assert again == pytest.approx(first, abs=1e-3)
    assert fresh.score(prompt, conts) == pytest.approx(first, abs=1e-3)
    assert fresh.decoder.prefix is None and len(reusing.decoder.prefix) > 0


def test_the_cache_is_bounded(reusing):
    prefix = reusing.decoder.prefix
    for i in range(prefix.max_entries + 3):
        reusing.generate(f"Note {i}: the weather today is", SamplingParams(max_tokens=2), cache=False)
    assert len(prefix) <= prefix.max_entries and prefix.tokens <= prefix.max_tokens
