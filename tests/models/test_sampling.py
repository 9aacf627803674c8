"""models.sampling.sample_each: one sample per prompt, copies of a prompt drawn as n samples of one request."""

from __future__ import annotations

import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.models import SamplingParams
from ratiocinator.models.sampling import sample_each
from ratiocinator.models.scripted import ScriptedBackend

A = [{"role": "user", "content": "plan A"}]
B = [{"role": "user", "content": "plan B"}]


def test_copies_become_n_samples_and_come_back_in_the_prompts_order() -> None:
    counter = iter(range(100))
    backend = ScriptedBackend(
        lambda prompt, params: f"{prompt if isinstance(prompt, str) else prompt[-1].content} #{next(counter)}"
    )
    params = SamplingParams(temperature=0.7, seed=5)
    out = sample_each(backend, [A, B, A, "text", A, B], params)
    assert len(out) == 6
    texts = [c.text for c in out]
    assert texts[1].startswith("plan B") and texts[5].startswith("plan B") and texts[3].startswith("text")
    assert len({texts[0], texts[2], texts[4]}) == 3 and all(t.startswith("plan A") for t in (texts[0], texts[2], texts[4]))
    # one request per distinct prompt: "text" alone (n=1), B twice (n=2), A three times (n=3)
    assert sorted((c.params.n, c.params.seed) for c in backend.calls) == [(1, 5), (2, 5), (2, 5), (3, 5), (3, 5), (3, 5)]
    assert len({(c.params.n, str(c.prompt)) for c in backend.calls}) == 3


def test_n_must_be_one() -> None:
    with pytest.raises(InvalidInput, match=r"params\.n must be 1, got 3"):
        sample_each(ScriptedBackend(["x"]), [A], SamplingParams(n=3))


@pytest.mark.slow
def test_copies_of_a_prompt_are_different_draws_on_the_real_model(smollm) -> None:
    params = SamplingParams(temperature=1.0, seed=11, max_tokens=24)
    plain = smollm.generate([A, A], params, cache=False)
    assert plain[0].text == plain[1].text  # the seed is the request's: the defect sample_each removes
    first, second, other = sample_each(smollm, [A, A, B], params)
    assert first.text != second.text
    assert first.text == plain[0].text  # copy 0 is the request's sample 0: same seed, same draw
    assert other.text == smollm.generate([B], params, cache=False)[0].text
