"""EoRA and the SVD baseline on small random layers: exact at full rank, better where inputs have energy."""

from __future__ import annotations

import pytest
import torch

from ratiocinator.errors import InvalidInput
from ratiocinator.models.compress import CompressionConfig, WeightConfig
from ratiocinator.models.compress.calibrate import Covariance
from ratiocinator.models.compress.eora import (
    EigenBasis,
    EoRAConfig,
    LowRankLinear,
    compensate,
    eigen_factors,
    gram_factors,
    svd_factors,
)
from ratiocinator.models.compress.quantize import Int4Scheme


def _anisotropic_inputs(n: int, k: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    spectrum = torch.logspace(1, -2, k)  # a few directions carry most of the energy
    basis, _ = torch.linalg.qr(torch.randn(k, k, generator=g))
    return (torch.randn(n, k, generator=g) * spectrum) @ basis.t()


def _covariance(x: torch.Tensor) -> torch.Tensor:
    cov = Covariance(dim=x.shape[1])
    for chunk in x.split(100):
        cov.add(chunk)
    assert cov.mean is not None
    return cov.mean


def test_running_mean_covariance_equals_the_batch_one() -> None:
    x = torch.randn(350, 16)
    assert torch.allclose(_covariance(x), x.t() @ x / 350, atol=1e-5)


def test_full_rank_reproduces_the_weight_exactly() -> None:
    torch.manual_seed(0)
    lin = torch.nn.Linear(64, 48, bias=False)
    comp = Int4Scheme(group_size=32).compress(lin)
    cov = _covariance(_anisotropic_inputs(2000, 64))
    for method in ("eigen", "svd"):
        mod = compensate(lin.weight.detach(), comp, EoRAConfig(rank=64, method=method), cov)
        assert isinstance(mod, LowRankLinear)
        assert torch.allclose(mod.dequantized(), lin.weight.detach(), atol=1e-5), method


def test_eora_beats_svd_on_the_calibrated_inputs_at_equal_rank() -> None:
    torch.manual_seed(1)
    w = torch.randn(96, 128) * 0.05
    delta = w - (w * 8).round() / 8  # a quantization-like error
    x = _anisotropic_inputs(4000, 128)
    basis = EigenBasis.from_covariance(_covariance(x))
    for rank in (4, 16, 32):
        be, ae = eigen_factors(delta, basis, rank)
        bs, as_ = svd_factors(delta, rank)
        err_e = torch.linalg.norm((delta - be @ ae) @ x.t())
        err_s = torch.linalg.norm((delta - bs @ as_) @ x.t())
        assert err_e < 0.9 * err_s, rank
        # ...while plain SVD is the better fit of ΔW itself (what it optimises)
        assert torch.linalg.norm(delta - bs @ as_) <= torch.linalg.norm(delta - be @ ae) + 1e-6


def test_singular_covariance_is_clamped() -> None:
    x = torch.randn(500, 8) @ torch.randn(8, 32)  # rank 8 of 32: many zero eigenvalues
    basis = EigenBasis.from_covariance(_covariance(x))
    assert torch.isfinite(basis.scale_inv).all()
    eye = basis.scale @ basis.scale_inv
    assert torch.allclose(eye, torch.eye(32, dtype=eye.dtype), atol=1e-6)


def test_low_rank_layer_forward_adds_the_compensation() -> None:
    torch.manual_seed(2)
    lin = torch.nn.Linear(64, 32, bias=True)
    comp = Int4Scheme(group_size=32).compress(lin)
    mod = compensate(lin.weight.detach(), comp, EoRAConfig(rank=8, method="svd"), None)
    x = torch.randn(5, 64)
    ref = x @ mod.dequantized().t() + lin.bias.detach()
    assert torch.allclose(mod(x), ref, atol=3e-2 * float(ref.abs().max()))
    assert mod.rank == 8 and mod.lora_A.shape == (8, 64) and mod.lora_B.shape == (32, 8)
    with pytest.raises(InvalidInput, match="covariance"):
        compensate(lin.weight.detach(), comp, EoRAConfig(rank=8), None)


@pytest.mark.parametrize("shape", [(48, 128), (128, 48)])  # out <= in, and out > in
@pytest.mark.parametrize("rank", [4, 16, 48])
def test_gram_route_equals_the_reference_svd_route(shape: tuple[int, int], rank: int) -> None:
    torch.manual_seed(3)
    delta = torch.randn(*shape) * 0.01
    cov = _covariance(_anisotropic_inputs(3000, shape[1]))
    basis = EigenBasis.from_covariance(cov)
    b_ref, a_ref = eigen_factors(delta, basis, rank)
    b, a = gram_factors(delta, rank, cov, lambda: basis)
    assert torch.allclose(b @ a, b_ref @ a_ref, atol=1e-6 * float(delta.abs().max()) * 100)
    b_ref, a_ref = svd_factors(delta, rank)
    b, a = gram_factors(delta, rank)
    assert torch.allclose(b @ a, b_ref @ a_ref, atol=1e-6)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rank": 0}, "rank"),
    ({"method": "qr"}, "method"),
    ({"calibration_samples": 0}, "calibration_samples"),
    ({"domain": "french"}, "domain"),
])
def test_bad_eora_configs_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        EoRAConfig(**kwargs)


def test_eora_needs_compressed_weights() -> None:
    with pytest.raises(InvalidInput, match="EoRA compensates"):
        CompressionConfig(eora=EoRAConfig(rank=16))
    with pytest.raises(InvalidInput, match="nothing to do"):
        CompressionConfig()
    with pytest.raises(InvalidInput, match="WeightConfig"):
        CompressionConfig(weights="int4")  # type: ignore[arg-type]
    cfg = CompressionConfig(weights=WeightConfig(), eora=EoRAConfig(rank=64))
    assert cfg.describe() == "int4-g128+eora64"
