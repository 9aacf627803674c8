"""The top-p filter of the local engines (models/decoding.filter_probs): the nucleus from a partial sort is the whole sort's."""

from __future__ import annotations

import pytest
import torch

from ratiocinator.models import decoding
from ratiocinator.models.decoding import filter_probs
from ratiocinator.models.types import SamplingParams


def sorted_everything(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """The reference: temperature, softmax, the whole vocabulary sorted, the smallest prefix reaching top_p."""
    probs = torch.softmax(logits / params.temperature, dim=-1)
    sorted_p, idx = torch.sort(probs, dim=-1, descending=True)
    sorted_p = sorted_p.masked_fill(sorted_p.cumsum(-1) - sorted_p > params.top_p, 0.0)
    probs = torch.zeros_like(probs).scatter_(-1, idx, sorted_p)
    return probs / probs.sum(-1, keepdim=True)


@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0, 8.0])  # from a flat distribution (the whole sort) to a peaked one
@pytest.mark.parametrize("top_p", [0.5, 0.95])
def test_the_nucleus_equals_the_whole_sorts(scale: float, top_p: float) -> None:
    g = torch.Generator().manual_seed(int(scale * 10) + int(top_p * 100))
    params = SamplingParams(temperature=0.7, top_p=top_p)
    for _ in range(5):
        logits = torch.randn(3, 20000, generator=g) * scale
        assert torch.equal(filter_probs(logits, params), sorted_everything(logits, params))


def test_each_partial_sort_size_and_the_fallback_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[int] = []
    real_topk = torch.topk
    monkeypatch.setattr(decoding.torch, "topk", lambda x, k, **kw: tried.append(k) or real_topk(x, k, **kw))
    params = SamplingParams(temperature=1.0, top_p=0.9)
    peaked = torch.full((1, 10000), -20.0)
    peaked[0, :3] = torch.tensor([5.0, 4.0, 3.0])
    assert torch.equal(filter_probs(peaked, params), sorted_everything(peaked, params)) and tried == [256]
    tried.clear()
    flat = torch.zeros((1, 10000))  # every token equally likely: the nucleus is 9000 tokens, past every try
    probs = filter_probs(flat, params)
    assert tried == list(decoding.NUCLEUS_TRIES) and 9000 <= int((probs > 0).sum()) <= 9001  # float sums
    assert torch.equal(probs, sorted_everything(flat, params))


def test_top_p_one_and_top_k_are_unchanged() -> None:
    logits = torch.randn(2, 5000, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(filter_probs(logits, SamplingParams(temperature=1.0)), torch.softmax(logits, -1))
    probs = filter_probs(logits, SamplingParams(temperature=1.0, top_k=5))
    assert ((probs > 0).sum(-1) == 5).all()
