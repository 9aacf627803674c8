"""Weight-only compression of linear layers: int8 per-channel, int4 group-wise (packed torch kernels), 2:4 pruning.

One small interface sits behind every scheme (cf. gpt-fast's QuantHandler): a `WeightScheme` turns an
`nn.Linear` into a `CompressedLinear` module, which computes the layer from its compressed state and
can hand back the dense weight it stands for (`dequantized()`, what EoRA compensates against).

Speed comes from torch's packed CPU kernels, never from dequantize-then-matmul in Python:
  int8: `aten._weight_int8pack_mm(x, q[N,K] int8, scale[N])`           y = (x @ qᵀ) * scale (+ x·1 * offset)
  int4: `aten._weight_int4pack_mm_for_cpu(x, packed, group, sz[K/g,N,2])`  w = (q - 8) * scale + zero
The int4 kernel is fast only for bfloat16 activations, so float32 inputs are cast to bfloat16 around it.
2:4 pruning keeps a dense weight with two of every four consecutive inputs zeroed: there is no CPU kernel
that gains speed from it (semi-structured sparsity needs sparse tensor cores); it is a quality scheme.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ratiocinator.errors import InvalidInput
from ratiocinator.models.compress.config import WeightConfig

__all__ = ["CompressedLinear", "Int4Linear", "Int8Linear", "Pruned24Linear", "WeightConfig", "WeightScheme"]
_INNER_K_TILES = 2  # K must be a multiple of 16 * inner_k_tiles


# --- primitives --------------------------------------------------------------------------------------


def quantize_int8(w: torch.Tensor, symmetric: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """w[N,K] -> (q[N,K] int8, scale[N], offset[N] or None) with w ≈ q * scale + offset."""
    w = w.float()
    if symmetric:
        scale = (w.abs().amax(dim=1) / 127).clamp(min=1e-10)
        q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
        return q, scale, None
    lo, hi = w.amin(dim=1), w.amax(dim=1)
    scale = ((hi - lo) / 255).clamp(min=1e-10)
    offset = lo + 128 * scale  # q = -128 maps to lo
    q = torch.round((w - offset[:, None]) / scale[:, None]).clamp(-128, 127).to(torch.int8)
    return q, scale, offset


def dequantize_int8(q: torch.Tensor, scale: torch.Tensor, offset: torch.Tensor | None) -> torch.Tensor:
    w = q.float() * scale.float()[:, None]
    return w if offset is None else w + offset.float()[:, None]


def quantize_int4(w: torch.Tensor, group_size: int, symmetric: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """w[N,K] -> (q[N,K] int32 in 0..15, scale[N,K/g], zero[N,K/g]) with w ≈ (q - 8) * scale + zero."""
    n, k = w.shape
    if k % group_size:
        raise InvalidInput(f"int4: in_features {k} is not a multiple of the group size {group_size}")
    g = w.float().reshape(n, k // group_size, group_size)
    if symmetric:
        scale = (g.abs().amax(dim=-1) / 7).clamp(min=1e-10)  # q - 8 in -8..7, ±amax at ±7
        zero = torch.zeros_like(scale)
    else:
        lo, hi = g.amin(dim=-1), g.amax(dim=-1)
        scale = ((hi - lo) / 15).clamp(min=1e-10)
        zero = lo + 8 * scale  # q = 0 maps to lo
    q = torch.round((g - zero[..., None]) / scale[..., None] + 8).clamp(0, 15).to(torch.int32)
    return q.reshape(n, k), scale, zero


def dequantize_int4(q: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor) -> torch.Tensor:
    n, k = q.shape
    groups = scale.shape[1]
    g = (q.float().reshape(n, groups, k // groups) - 8) * scale.float()[..., None] + zero.float()[..., None]
    return g.reshape(n, k)


def prune_2_4(w: torch.Tensor, score: torch.Tensor | None = None) -> torch.Tensor:
    """Zero the two lowest-scoring weights of every four consecutive inputs (score defaults to |w|)."""
    n, k = w.shape
    if k % 4:
        raise InvalidInput(f"2:4 pruning: in_features {k} is not a multiple of 4")
    s = (w.abs() if score is None else score).float().reshape(n, k // 4, 4)
    drop = torch.topk(s, 2, dim=-1, largest=False).indices
    mask = torch.ones_like(s, dtype=torch.bool).scatter_(-1, drop, False).reshape(n, k)
    return w * mask


def wanda_score(w: torch.Tensor, input_sq_norm: torch.Tensor) -> torch.Tensor:
    """Wanda's |W_ij| · ‖X_j‖₂ from the per-input mean of x² (the diagonal of E[xᵀx])."""
    return w.abs().float() * input_sq_norm.float().clamp(min=0).sqrt()[None, :]


# --- modules -----------------------------------------------------------------------------------------


class CompressedLinear(nn.Module, ABC):
    """A linear layer computed from a compressed weight; `dequantized()` is the dense weight it stands for."""

    in_features: int
    out_features: int
    bias: torch.Tensor | None

    @abstractmethod
    def dequantized(self) -> torch.Tensor:
        """The float32 [out, in] weight this layer computes with."""

    def weight_bytes(self) -> int:
        """Bytes of the stored weight state (buffers and parameters), bias included."""
        return sum(t.numel() * t.element_size() for t in self.state_dict().values())

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _bias(linear: nn.Linear) -> torch.Tensor | None:
    return None if linear.bias is None else linear.bias.detach().clone()


class Int8Linear(CompressedLinear):
    """int8 per-output-channel weights through `_weight_int8pack_mm` (asymmetric: plus a row-sum term).

    Like the int4 kernel, the int8 one is fast only for bfloat16 activations (float32 is several times
    slower than the dense matmul), so inputs are cast to bfloat16 around it and scales kept in bfloat16.
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool, symmetric: bool, dtype: torch.dtype) -> None:
        super().__init__()
        self.in_features, self.out_features, self.symmetric = in_features, out_features, symmetric
        self.out_dtype = dtype
        self.register_buffer("qweight", torch.zeros(out_features, in_features, dtype=torch.int8))
        self.register_buffer("scale", torch.ones(out_features, dtype=torch.bfloat16))
        self.register_buffer("offset", None if symmetric else torch.zeros(out_features, dtype=torch.bfloat16))
        self.register_buffer("bias", torch.zeros(out_features, dtype=dtype) if bias else None)

    @classmethod
    def from_weight(cls, weight: torch.Tensor, bias: torch.Tensor | None, *, symmetric: bool,
                    dtype: torch.dtype) -> Int8Linear:
        n, k = weight.shape
        mod = cls(k, n, bias=bias is not None, symmetric=symmetric, dtype=dtype).to(weight.device)
        w = weight.float()
        q, scale, offset = quantize_int8(w, symmetric)
        scale = scale.to(torch.bfloat16)  # requantize against the stored (rounded) scale
        if offset is None:
            q = torch.round(w / scale.float()[:, None]).clamp(-127, 127).to(torch.int8)
        else:
            offset = offset.to(torch.bfloat16)
            q = torch.round((w - offset.float()[:, None]) / scale.float()[:, None]).clamp(-128, 127).to(torch.int8)
            mod.offset.copy_(offset)
        mod.qweight.copy_(q)
        mod.scale.copy_(scale)
        if bias is not None:
            mod.bias.copy_(bias.to(dtype))
        return mod

    def dequantized(self) -> torch.Tensor:
        return dequantize_int8(self.qweight, self.scale, self.offset)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, self.in_features).to(torch.bfloat16)  # [M, K]
        y = torch.ops.aten._weight_int8pack_mm(x2, self.qweight, self.scale)  # [M, N]
        if self.offset is not None:
            y = y + x2.sum(-1, keepdim=True) * self.offset
        y = y.to(self.out_dtype)
        if self.bias is not None:
            y = y + self.bias
        return y.to(x.dtype).reshape(*shape[:-1], self.out_features)


def nibble_pack(q: torch.Tensor) -> torch.Tensor:
    """q[N,K] 0..15 -> uint8[N,K/2], the portable layout (even index in the low nibble)."""
    q = q.to(torch.uint8)
    return q[:, ::2] | (q[:, 1::2] << 4)


def nibble_unpack(packed: torch.Tensor) -> torch.Tensor:
    """uint8[N,K/2] -> int32[N,K] 0..15 (inverse of nibble_pack)."""
    lo, hi = (packed & 15).to(torch.int32), (packed >> 4).to(torch.int32)
    return torch.stack([lo, hi], dim=-1).reshape(packed.shape[0], -1)


def _pack_for_kernel(q: torch.Tensor) -> torch.Tensor:
    """q[N,K] int32 0..15 -> the packed layout of q's device's int4 kernel."""
    if q.device.type == "cpu":
        return torch.ops.aten._convert_weight_to_int4pack_for_cpu(q.contiguous(), _INNER_K_TILES)
    u8 = (q[:, ::2] << 4 | q[:, 1::2]).to(torch.uint8)  # CUDA kernel: two nibbles per byte, even index high
    return torch.ops.aten._convert_weight_to_int4pack(u8.contiguous(), 8)


class Int4Linear(CompressedLinear):
    """int4 group-wise weights through `_weight_int4pack_mm_for_cpu` (bfloat16 activations).

    in_features that are not a multiple of the group (and of 32) are zero-padded; the input is padded
    to match at run time. The kernel's packed layout is machine-specific, so the portable nibble codes
    (`codes`, uint8 [N, K/2]) are kept beside it until `release_codes()`; they are what a checkpoint
    stores. Without them `dequantized()` reads the weight back through the kernel (identity product).
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool, group_size: int,
                 dtype: torch.dtype) -> None:
        super().__init__()
        self.in_features, self.out_features, self.group_size = in_features, out_features, group_size
        step = math.lcm(group_size, 16 * _INNER_K_TILES)
        self.padded_in = -(-in_features // step) * step
        self.out_dtype = dtype
        self.codes: torch.Tensor | None = None
        self.register_buffer("qweight", torch.zeros(out_features, self.padded_in // 2, dtype=torch.uint8))
        self.register_buffer("scales_and_zeros",
                             torch.zeros(self.padded_in // group_size, out_features, 2, dtype=torch.bfloat16))
        self.register_buffer("bias", torch.zeros(out_features, dtype=dtype) if bias else None)

    @classmethod
    def from_weight(cls, weight: torch.Tensor, bias: torch.Tensor | None, *, group_size: int, symmetric: bool,
                    dtype: torch.dtype) -> Int4Linear:
        n, k = weight.shape
        mod = cls(k, n, bias=bias is not None, group_size=group_size, dtype=dtype).to(weight.device)
        w = F.pad(weight.float(), (0, mod.padded_in - k))
        q, scale, zero = quantize_int4(w, group_size, symmetric)
        sz = torch.stack([scale, zero], dim=-1).transpose(0, 1).contiguous()  # [K/g, N, 2]
        return mod._load(nibble_pack(q), sz, bias)

    @classmethod
    def from_codes(cls, codes: torch.Tensor, scales_and_zeros: torch.Tensor, bias: torch.Tensor | None, *,
                   in_features: int, group_size: int, dtype: torch.dtype) -> Int4Linear:
        mod = cls(in_features, codes.shape[0], bias=bias is not None, group_size=group_size, dtype=dtype)
        if codes.shape != mod.qweight.shape or scales_and_zeros.shape != mod.scales_and_zeros.shape:
            raise InvalidInput(f"int4 layer: codes {tuple(codes.shape)} / scales {tuple(scales_and_zeros.shape)} "
                               f"do not fit in_features={in_features}, group {group_size}")
        return mod.to(codes.device)._load(codes, scales_and_zeros, bias)

    def _load(self, codes: torch.Tensor, sz: torch.Tensor, bias: torch.Tensor | None) -> Int4Linear:
        self.codes = codes.contiguous()
        self.qweight = _pack_for_kernel(nibble_unpack(codes))
        self.scales_and_zeros.copy_(sz.to(torch.bfloat16))
        if bias is not None:
            self.bias.copy_(bias.to(self.out_dtype))
        return self

    def release_codes(self) -> None:
        self.codes = None

    def _mm(self, x2: torch.Tensor) -> torch.Tensor:
        if x2.device.type == "cpu":
            return torch.ops.aten._weight_int4pack_mm_for_cpu(x2, self.qweight, self.group_size, self.scales_and_zeros)
        return torch.ops.aten._weight_int4pack_mm(x2, self.qweight, self.group_size, self.scales_and_zeros)

    def dequantized(self) -> torch.Tensor:
        if self.codes is not None:
            sz = self.scales_and_zeros.float()
            w = dequantize_int4(nibble_unpack(self.codes), sz[..., 0].t(), sz[..., 1].t())
            return w[:, : self.in_features].contiguous()
        eye = torch.eye(self.padded_in, dtype=torch.bfloat16, device=self.qweight.device)
        with torch.no_grad():
            wt = self._mm(eye)  # [K, N]: row j is W[:, j] rounded to bfloat16
        return wt.float().t()[:, : self.in_features].contiguous()

    def weight_bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.state_dict().values())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, self.in_features).to(torch.bfloat16)
        if self.padded_in != self.in_features:
            x2 = F.pad(x2, (0, self.padded_in - self.in_features))
        y = self._mm(x2.contiguous()).to(self.out_dtype)  # [M, N]
        if self.bias is not None:
            y = y + self.bias
        return y.to(x.dtype).reshape(*shape[:-1], self.out_features)


class Pruned24Linear(CompressedLinear):
    """A dense linear layer whose weight holds a 2:4 pattern (two zeros in every four inputs)."""

    def __init__(self, in_features: int, out_features: int, *, bias: bool, dtype: torch.dtype) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.register_buffer("weight", torch.zeros(out_features, in_features, dtype=dtype))
        self.register_buffer("bias", torch.zeros(out_features, dtype=dtype) if bias else None)

    @classmethod
    def from_weight(cls, weight: torch.Tensor, bias: torch.Tensor | None, *, score: torch.Tensor | None,
                    dtype: torch.dtype) -> Pruned24Linear:
        n, k = weight.shape
        mod = cls(k, n, bias=bias is not None, dtype=dtype).to(weight.device)
        mod.weight.copy_(prune_2_4(weight.float(), score).to(dtype))
        if bias is not None:
            mod.bias.copy_(bias.to(dtype))
        return mod

    def dequantized(self) -> torch.Tensor:
        return self.weight.float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight.to(x.dtype), None if self.bias is None else self.bias.to(x.dtype))


# --- schemes -----------------------------------------------------------------------------------------


class WeightScheme(ABC):
    """Turns an nn.Linear into a CompressedLinear; `input_sq` is E[x_j²] per input when calibrated."""

    label: str

    @abstractmethod
    def compress(self, linear: nn.Linear, input_sq: torch.Tensor | None = None) -> CompressedLinear: ...


@dataclass(frozen=True)
class Int8Scheme(WeightScheme):
    symmetric: bool = True
    label: str = "int8"

    def compress(self, linear: nn.Linear, input_sq: torch.Tensor | None = None) -> CompressedLinear:
        return Int8Linear.from_weight(linear.weight.detach(), _bias(linear), symmetric=self.symmetric,
                                      dtype=linear.weight.dtype)


@dataclass(frozen=True)
class Int4Scheme(WeightScheme):
    group_size: int = 128
    symmetric: bool = False
    label: str = "int4"

    def compress(self, linear: nn.Linear, input_sq: torch.Tensor | None = None) -> CompressedLinear:
        return Int4Linear.from_weight(linear.weight.detach(), _bias(linear), group_size=self.group_size,
                                      symmetric=self.symmetric, dtype=linear.weight.dtype)


@dataclass(frozen=True)
class Prune24Scheme(WeightScheme):
    score: Literal["magnitude", "wanda"] = "wanda"
    label: str = "2:4"

    def compress(self, linear: nn.Linear, input_sq: torch.Tensor | None = None) -> CompressedLinear:
        w = linear.weight.detach()
        if self.score == "wanda":
            if input_sq is None:
                raise InvalidInput("2:4 with wanda scoring needs calibration statistics (E[x²] per input)")
            score = wanda_score(w, input_sq)
        else:
            score = None
        return Pruned24Linear.from_weight(w, _bias(linear), score=score, dtype=w.dtype)


def scheme_for(cfg: WeightConfig, *, head: bool = False) -> WeightScheme | None:
    """The scheme a layer gets: the configured one, or the head's (None: leave the layer dense)."""
    if head and cfg.head == "none":
        return None
    if head and cfg.head == "int8":
        return Int8Scheme(symmetric=True, label="int8")
    if cfg.scheme == "int8":
        return Int8Scheme(symmetric=cfg.symmetric, label=cfg.label)
    if cfg.scheme == "int4":
        return Int4Scheme(group_size=cfg.group_size, symmetric=cfg.symmetric, label=cfg.label)
    return Prune24Scheme(score=cfg.pruning_score, label=cfg.label)
