"""GEAR on random key/value tensors: reconstruction vs plain quantization, packing, cache bookkeeping."""

from __future__ import annotations

import pytest
import torch

from ratiocinator.errors import InvalidInput, UnsupportedFeature
from ratiocinator.models.compress.gear import (
    GEARCache,
    GEARConfig,
    _pack,
    _unpack,
    compress,
    decompress,
)


def _kv(b: int = 2, h: int = 2, t: int = 128, d: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, h, t, d, generator=g)
    x[..., 3] *= 8  # an outlier channel, as keys have
    spikes = torch.rand(b, h, t, d, generator=g) < 0.01
    x = x + spikes * torch.randn(b, h, t, d, generator=g) * 20  # scattered outliers
    low = torch.randn(b, h, t, 2, generator=g) @ torch.randn(b, h, 2, d, generator=g)  # low-rank structure
    return x + 2 * low


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_pack_roundtrip(bits: int) -> None:
    codes = torch.randint(0, 2**bits, (1000,))
    assert torch.equal(_unpack(_pack(codes, bits), bits, 1000), codes.to(torch.uint8))
    assert _pack(codes, bits).numel() == -(-1000 * bits // 8)


@pytest.mark.parametrize("per_channel", [True, False])
def test_plain_quantization_uses_2_pow_bits_levels(per_channel: bool) -> None:
    x = torch.rand(1, 1, 64, 64)
    blk = compress(x, per_channel=per_channel, bits=4, group_size=64, outlier_ratio=0.0, rank=0, loops=1)
    codes = _unpack(blk.codes, 4, x.numel())
    assert int(codes.max()) == 15 and int(codes.min()) == 0  # 16 levels, not bits² = 16 by coincidence only
    err = (decompress(blk, torch.float32) - x).abs()
    assert float(err.max()) <= float(blk.scale.float().max()) / 2 + 1e-3
    blk2 = compress(x, per_channel=per_channel, bits=2, group_size=64, outlier_ratio=0.0, rank=0, loops=1)
    assert int(_unpack(blk2.codes, 2, x.numel()).max()) == 3  # 2^2 - 1, where the reference's bits² - 1 = 3 too


@pytest.mark.parametrize("bits", [2, 4])
@pytest.mark.parametrize("per_channel", [True, False])
def test_gear_beats_plain_quantization_at_equal_bits(bits: int, per_channel: bool) -> None:
    x = _kv()
    plain = compress(x, per_channel=per_channel, bits=bits, group_size=64, outlier_ratio=0.0, rank=0, loops=3)
    outl = compress(x, per_channel=per_channel, bits=bits, group_size=64, outlier_ratio=0.02, rank=0, loops=3)
    gear = compress(x, per_channel=per_channel, bits=bits, group_size=64, outlier_ratio=0.02, rank=4, loops=3)

    def err(blk) -> float:
        return float(torch.linalg.norm(decompress(blk, torch.float32) - x) / torch.linalg.norm(x))

    assert err(gear) < err(outl) < err(plain)
    assert err(gear) < 0.8 * err(plain)
    # outliers are kept exactly
    flat = x.reshape(2, -1)
    rec = decompress(outl, torch.float32).reshape(2, -1)
    idx = outl.out_idx.long()
    assert torch.allclose(rec.gather(1, idx), flat.gather(1, idx).half().float())
    assert idx.shape[1] == 2 * int(flat.shape[1] * 0.02 / 2)


def test_compression_is_per_row() -> None:
    """A row compresses the same whatever else is in the batch."""
    x = _kv(b=3)
    both = decompress(compress(x, per_channel=True, bits=4, group_size=64, outlier_ratio=0.02, rank=2, loops=3),
                      torch.float32)
    alone = decompress(compress(x[1:2], per_channel=True, bits=4, group_size=64, outlier_ratio=0.02, rank=2, loops=3),
                       torch.float32)
    assert torch.allclose(both[1:2], alone, atol=1e-5)


def test_cache_streams_and_accounts_memory() -> None:
    cfg = GEARConfig(bits=4, group_size=64, streaming_gap=64)
    cache = GEARCache(cfg, num_layers=2)
    x = _kv(b=1, h=2, t=150, d=64).to(torch.bfloat16)
    k, _ = cache.update(x, x * 0.5, layer_idx=0)
    assert torch.equal(k, x)  # the prefill attends to itself at full precision
    layer = cache.layers[0]
    assert cache.get_seq_length(0) == 150 and layer.keys.shape[-2] == 150 - 128  # 2 gaps compressed
    assert len(layer.key_blocks) == 1 and layer.key_blocks[0].shape[2] == 128
    # decode: 42 more tokens fill the buffer to 64 and compress it with the decode rank
    for i in range(42):
        tok = _kv(b=1, h=2, t=1, d=64, seed=100 + i).to(torch.bfloat16)
        k, _ = cache.update(tok, tok, layer_idx=0)
        assert k.shape[-2] == 151 + i
    assert len(layer.key_blocks) == 2 and layer.keys.shape[-2] == 0
    assert layer.key_blocks[1].lr_q is not None and layer.key_blocks[1].lr_q.shape[-1] == cfg.rank_decode
    assert cache.get_seq_length(0) == 192
    past = cache.layers[0]
    dense = 2 * 192 * 2 * 64 * 2  # keys and values, bf16
    assert past.nbytes() < dense / 2
    assert cache.nbytes() == past.nbytes()  # layer 1 never updated
    rel = torch.linalg.norm(k[..., :150, :].float() - x.float()) / torch.linalg.norm(x.float())
    assert float(rel) < 0.08


def test_value_groups_must_divide_the_channels() -> None:
    x = torch.randn(1, 3, 64, 20)  # 60 channels
    with pytest.raises(UnsupportedFeature, match="group"):
        compress(x, per_channel=False, bits=4, group_size=64, outlier_ratio=0.0, rank=0, loops=1)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bits": 3}, "bits"),
    ({"streaming_gap": 100}, "multiple"),
    ({"outlier_ratio": 0.7}, "outlier_ratio"),
    ({"power_iterations": 0}, "power_iterations"),
])
def test_bad_gear_configs_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        GEARConfig(**kwargs)
