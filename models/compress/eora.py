"""EoRA: training-free low-rank compensation of a compressed linear layer in the eigenspace of its inputs.

"EoRA: Training-free Compensation for Compressed LLM with Eigenspace Low-Rank Approximation"
(Liu et al., NVIDIA, 2024; reference code NVlabs/EoRA). Per linear layer with weight W and compressed
weight W_c, from the input covariance C = E[xᵀx] over calibration data:

    C = Q Λ Qᵀ (float64; non-positive eigenvalues raised to the smallest positive one)
    S = Q Λ^½,   ΔW = W − W_c,   U Σ Vᵀ = svd(ΔW S) truncated to rank r
    B = U_r Σ_r^½,   A = Σ_r^½ V_rᵀ S⁻¹,   and the layer computes W_c x + B (A x)

so the rank-r budget goes where the inputs have energy (it minimises ‖(ΔW − BA) X‖, not ‖ΔW − BA‖).
The baseline EoRA improves on is plain SVD of ΔW (`method="svd"`), which needs no calibration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ratiocinator.errors import InvalidInput
from ratiocinator.models.compress.config import EoRAConfig
from ratiocinator.models.compress.quantize import CompressedLinear

__all__ = ["EigenBasis", "EoRAConfig", "LowRankLinear", "compensate", "eigen_factors", "lazy_basis", "svd_factors"]


@dataclass(frozen=True)
class EigenBasis:
    """S = Q Λ^½ and S⁻¹ = Λ^-½ Qᵀ of one input covariance (shared by the layers that read that input)."""

    scale: torch.Tensor  # [K, K] float64
    scale_inv: torch.Tensor  # [K, K] float64

    @classmethod
    def from_covariance(cls, cov: torch.Tensor) -> EigenBasis:
        c = cov.double()
        c = (c + c.t()) / 2
        evals, evecs = torch.linalg.eigh(c)
        positive = evals > 0
        if not bool(positive.any()):
            raise InvalidInput("eora: the input covariance has no positive eigenvalue (all-zero calibration inputs?)")
        evals = torch.where(positive, evals, evals[positive].min())
        root = evals.sqrt()
        return cls(scale=evecs * root[None, :], scale_inv=(evecs / root[None, :]).t())


def lazy_basis(cov: torch.Tensor, key: int, bases: dict[int, EigenBasis]) -> Callable[[], EigenBasis]:
    """The eigenbasis of one input's covariance, computed on the first call and kept in `bases` under `key`, so
    the layers that read the same input (q/k/v, gate/up) share one eigh, and none runs when nothing asks."""

    def basis() -> EigenBasis:
        if key not in bases:
            bases[key] = EigenBasis.from_covariance(cov)
        return bases[key]

    return basis


def _split_sigma(u: torch.Tensor, s: torch.Tensor, vt: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    r = min(rank, s.numel())
    root = s[:r].sqrt()
    return u[:, :r] * root[None, :], root[:, None] * vt[:r]


def eigen_factors(delta: torch.Tensor, basis: EigenBasis, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """EoRA: (B [N, r], A [r, K]) in float32 with BA ≈ ΔW, weighted by the input eigenspace."""
    scaled = delta.double() @ basis.scale  # ΔW S  [N, K]
    u, s, vt = torch.linalg.svd(scaled, full_matrices=False)
    b, a = _split_sigma(u, s, vt, rank)
    return b.float(), (a @ basis.scale_inv).float()


def _top_eigh(gram: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Singular values σ [r] and vectors [n, r] of the top r eigenpairs (σ²) of a PSD Gram matrix."""
    evals, evecs = torch.linalg.eigh((gram + gram.t()) / 2)
    r = min(rank, evals.numel())
    return evals.flip(0)[:r].clamp(min=0).sqrt(), evecs.flip(1)[:, :r]


def _safe_root(sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(σ^½, σ^-½) with zero where σ vanishes (those directions carry nothing)."""
    live = sigma > sigma.max().clamp(min=1e-300) * 1e-12
    root = torch.where(live, sigma.sqrt(), torch.zeros_like(sigma))
    return root, torch.where(live, 1 / root.clamp(min=1e-300), torch.zeros_like(sigma))


def gram_factors(delta: torch.Tensor, rank: int, cov: torch.Tensor | None = None,
                 basis: Callable[[], EigenBasis] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The truncated SVD of ΔW S (S Sᵀ = C; C = I: plain SVD of ΔW) through the smaller Gram matrix.

    Algebraically the same factors as `eigen_factors` / `svd_factors`, at the cost of one eigh of
    min(N, K) size: with out_features N <= in_features K, (ΔW S)(ΔW S)ᵀ = ΔW C ΔWᵀ needs no S at all
    and A = Σ^-½ Uᵀ ΔW (since Vᵀ S⁻¹ = Σ⁻¹ Uᵀ ΔW); else the K x K Gram Sᵀ ΔWᵀ ΔW S gives V and
    B = ΔW S V Σ^-½. Float64 throughout.
    """
    n, k = delta.shape
    d = delta.double()
    if n <= k:
        g = d @ cov.double() @ d.t() if cov is not None else d @ d.t()
        sigma, u = _top_eigh(g, rank)
        root, inv_root = _safe_root(sigma)
        return (u * root).float(), ((u * inv_root).t() @ d).float()
    eig = basis() if (basis is not None and cov is not None) else None
    ds = d @ eig.scale if eig is not None else d
    sigma, v = _top_eigh(ds.t() @ ds, rank)
    root, inv_root = _safe_root(sigma)
    a = (v * root).t()
    return ((ds @ v) * inv_root).float(), (a @ eig.scale_inv if eig is not None else a).float()


def svd_factors(delta: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Plain SVD of ΔW truncated to rank r: (B [N, r], A [r, K]) in float32 (the baseline)."""
    u, s, vt = torch.linalg.svd(delta.double(), full_matrices=False)
    b, a = _split_sigma(u, s, vt, rank)
    return b.float(), a.float()


class LowRankLinear(nn.Module):
    """base(x) + B (A x): a compressed layer with its low-rank compensation (A: [r, K], B: [N, r])."""

    def __init__(self, base: CompressedLinear, a: torch.Tensor, b: torch.Tensor, *, dtype: torch.dtype) -> None:
        super().__init__()
        if a.shape[1] != base.in_features or b.shape[0] != base.out_features or a.shape[0] != b.shape[1]:
            raise InvalidInput(f"low-rank factors A {tuple(a.shape)} and B {tuple(b.shape)} do not fit a "
                               f"{base.out_features}x{base.in_features} layer")
        self.base = base
        self.in_features, self.out_features = base.in_features, base.out_features
        self.register_buffer("lora_A", a.to(dtype).contiguous())
        self.register_buffer("lora_B", b.to(dtype).contiguous())

    @property
    def rank(self) -> int:
        return int(self.lora_A.shape[0])

    def dequantized(self) -> torch.Tensor:
        """The dense weight this layer computes with: W_c + BA (float32)."""
        return self.base.dequantized() + self.lora_B.float() @ self.lora_A.float()

    def weight_bytes(self) -> int:
        return self.base.weight_bytes() + sum(t.numel() * t.element_size() for t in (self.lora_A, self.lora_B))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xl = x.to(self.lora_A.dtype)
        return self.base(x) + F.linear(F.linear(xl, self.lora_A), self.lora_B).to(x.dtype)

    def extra_repr(self) -> str:
        return f"rank={self.rank}"


def compensate(weight: torch.Tensor, compressed: CompressedLinear, cfg: EoRAConfig,
               cov: torch.Tensor | None = None, basis: Callable[[], EigenBasis] | None = None) -> LowRankLinear:
    """Wrap `compressed` with the rank-r EoRA (or SVD) compensation of weight − compressed.

    `cov`: the input covariance (EoRA); `basis`: a getter of its EigenBasis (computed once per shared input).
    """
    delta = weight.float() - compressed.dequantized()
    if cfg.method == "eigen":
        if cov is None:
            raise InvalidInput("eora: method eigen needs the input covariance of the layer (calibration)")
        b, a = gram_factors(delta, cfg.rank, cov, basis or (lambda: EigenBasis.from_covariance(cov)))
    else:
        b, a = gram_factors(delta, cfg.rank)
    # float32 factors on CPU: a rank-64 GEMV pair runs ~3x faster in float32 than in bfloat16 there
    dtype = torch.float32 if weight.device.type == "cpu" else weight.dtype
    return LowRankLinear(compressed, a, b, dtype=dtype)
