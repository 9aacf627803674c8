"""Weight quantization and pruning on small random layers: error bounds, kernels vs dequantized matmul."""

from __future__ import annotations

import pytest
import torch

from ratiocinator.errors import InvalidInput
from ratiocinator.models.compress.quantize import (
    Int4Linear,
    Int4Scheme,
    Int8Scheme,
    Prune24Scheme,
    WeightConfig,
    dequantize_int4,
    dequantize_int8,
    nibble_pack,
    nibble_unpack,
    prune_2_4,
    quantize_int4,
    quantize_int8,
    wanda_score,
)


@pytest.fixture
def layer() -> torch.nn.Linear:
    torch.manual_seed(0)
    return torch.nn.Linear(576, 96, bias=True)  # 576 is not a multiple of 128: exercises padding


@pytest.mark.parametrize("symmetric", [True, False])
def test_int8_roundtrip_error_is_at_most_half_a_step(symmetric: bool) -> None:
    w = torch.randn(64, 256) * 0.05
    q, scale, offset = quantize_int8(w, symmetric)
    assert q.dtype == torch.int8
    err = (dequantize_int8(q, scale, offset) - w).abs()
    assert bool((err <= scale[:, None] / 2 + 1e-7).all())


@pytest.mark.parametrize(("group", "symmetric"), [(32, False), (64, True), (128, False)])
def test_int4_roundtrip_error_is_at_most_half_a_step(group: int, symmetric: bool) -> None:
    w = torch.randn(32, 512) * 0.05
    q, scale, zero = quantize_int4(w, group, symmetric)
    assert int(q.min()) >= 0 and int(q.max()) <= 15
    err = (dequantize_int4(q, scale, zero) - w).abs().reshape(32, 512 // group, group)
    assert bool((err <= scale[..., None] / 2 + 1e-7).all())
    if not symmetric:  # asymmetric uses all 16 levels: each group's min and max are exact
        assert float(err.amax()) < float(scale.amax())


def test_nibble_pack_roundtrip() -> None:
    q = torch.randint(0, 16, (8, 64), dtype=torch.int32)
    packed = nibble_pack(q)
    assert packed.shape == (8, 32) and packed.dtype == torch.uint8
    assert torch.equal(nibble_unpack(packed), q)


@pytest.mark.parametrize("scheme", [Int8Scheme(symmetric=True), Int8Scheme(symmetric=False),
                                    Int4Scheme(group_size=64), Int4Scheme(group_size=128, symmetric=True)])
def test_kernel_matches_the_dequantized_matmul(layer: torch.nn.Linear, scheme) -> None:
    mod = scheme.compress(layer)
    x = torch.randn(3, 2, 576)
    ref = x @ mod.dequantized().t() + layer.bias.detach()
    out = mod(x)
    assert out.shape == (3, 2, 96) and out.dtype == x.dtype
    # int4 runs with bfloat16 activations: relative error of bfloat16 rounding
    tol = 3e-2 * float(ref.abs().max())  # both kernels run with bfloat16 activations
    assert float((out - ref).abs().max()) <= tol
    # and the compressed weight is close to the original
    assert float((mod.dequantized() - layer.weight.detach()).abs().max()) < 0.01


def test_int4_weight_reads_back_through_the_kernel(layer: torch.nn.Linear) -> None:
    mod = Int4Scheme(group_size=128).compress(layer)
    assert isinstance(mod, Int4Linear) and mod.padded_in == 640
    from_codes = mod.dequantized()
    mod.release_codes()
    through_kernel = mod.dequantized()  # identity product, rounded to bfloat16
    assert torch.allclose(from_codes, through_kernel, rtol=0, atol=4e-3 * float(from_codes.abs().max()))


def test_int4_is_four_times_smaller_than_bfloat16() -> None:
    lin = torch.nn.Linear(1024, 1024, bias=False).to(torch.bfloat16)
    mod = Int4Scheme(group_size=128).compress(lin)
    dense = 1024 * 1024 * 2
    assert mod.weight_bytes() < dense / 3.5


def test_two_four_pruning_keeps_two_of_every_four() -> None:
    w = torch.randn(16, 64)
    pruned = prune_2_4(w)
    nz = (pruned.reshape(16, 16, 4) != 0).sum(-1)
    assert bool((nz == 2).all())
    kept = pruned.reshape(16, 16, 4).abs()
    dropped = (w - pruned).reshape(16, 16, 4).abs()
    assert bool((kept.amax(-1) >= dropped.amax(-1)).all())  # magnitude: the largest survive


def test_wanda_uses_input_norms(layer: torch.nn.Linear) -> None:
    input_sq = torch.ones(576)
    input_sq[::2] = 100.0  # even inputs carry much more energy
    mag = Prune24Scheme(score="magnitude").compress(layer)
    wan = Prune24Scheme(score="wanda").compress(layer, input_sq)
    assert not torch.equal(mag.dequantized(), wan.dequantized())
    kept_even = (wan.dequantized()[:, ::2] != 0).float().mean()
    assert float(kept_even) > 0.7
    s = wanda_score(layer.weight.detach(), input_sq)
    assert torch.allclose(s[:, 1], layer.weight.detach()[:, 1].abs())
    with pytest.raises(InvalidInput, match="calibration"):
        Prune24Scheme(score="wanda").compress(layer, None)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"scheme": "int3"}, "unknown scheme"),
    ({"scheme": "int4", "group_size": 100}, "group size 100"),
    ({"pruning_score": "random"}, "pruning score"),
    ({"head": "int2"}, "head"),
])
def test_bad_weight_configs_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        WeightConfig(**kwargs)


def test_labels() -> None:
    assert WeightConfig().label == "int4-g128"
    assert WeightConfig(scheme="int4", group_size=64, symmetric=True).label == "int4-g64-sym"
    assert WeightConfig(scheme="2:4", pruning_score="magnitude", head="none").label == "2:4-magnitude-headnone"
