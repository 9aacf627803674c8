"""GEAR: a KV cache that holds keys and values as quantized + sparse outliers + low-rank residual.

"GEAR: An Efficient KV Cache Compression Recipe for Near-Lossless Generative Inference of LLM"
(Kang et al., 2024; reference code HaoKang-Timmy/GEAR). Each compressed span X [B, H, T, D] is
X ≈ D̂ + S + L:
  S  outliers: per batch row, the s/2 largest and s/2 smallest entries (s = 2%) are kept exactly;
  D̂  asymmetric uniform quantization with 2^bits − 1 levels (the reference computes bits² − 1, which
     is right only for 2 bits), keys per channel over groups of tokens, values per token over groups
     of channels (KIVI's layout), outliers excluded from each group's min/max;
  L  the rank-r approximation of the residual X − D̂ − S per (row, head), by power iteration with a
     QR step on the last of `power_iterations` rounds (rank 4 for the prefill, 2 for decode chunks).
Recent tokens stay in full precision and are compressed `streaming_gap` at a time. Attention reads
the dequantized past plus the full-precision recent tokens; `nbytes()` counts only what is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformers.cache_utils import Cache, DynamicLayer

from ratiocinator.errors import InvalidInput, UnsupportedFeature
from ratiocinator.models.compress.config import GEARConfig

__all__ = ["Block", "GEARCache", "GEARConfig", "GEARLayer", "compress", "decompress", "dense_cache_bytes"]

_META = torch.float16  # scales, minima, outlier values and low-rank factors


# --- packing -----------------------------------------------------------------------------------------


def _pack(codes: torch.Tensor, bits: int) -> torch.Tensor:
    flat = codes.reshape(-1).to(torch.uint8)
    per = 8 // bits
    pad = (-flat.numel()) % per
    if pad:
        flat = torch.cat([flat, flat.new_zeros(pad)])
    flat = flat.reshape(-1, per)
    out = flat[:, 0].clone()
    for j in range(1, per):
        out |= flat[:, j] << (bits * j)
    return out


def _unpack(packed: torch.Tensor, bits: int, numel: int) -> torch.Tensor:
    per, mask = 8 // bits, (1 << bits) - 1
    parts = [(packed >> (bits * j)) & mask for j in range(per)]
    return torch.stack(parts, dim=-1).reshape(-1)[:numel]


# --- one compressed span ----------------------------------------------------------------------------


@dataclass
class Block:
    """One compressed span of keys or values: quantized codes, outliers and low-rank residual."""

    shape: tuple[int, int, int, int]  # B, H, T, D
    per_channel: bool
    bits: int
    group_size: int
    codes: torch.Tensor
    scale: torch.Tensor
    low: torch.Tensor
    out_idx: torch.Tensor  # [B, n] flat indices into H*T*D
    out_val: torch.Tensor  # [B, n]
    lr_q: torch.Tensor | None  # [B, H, T, r]
    lr_p: torch.Tensor | None  # [B, H, D, r]

    def nbytes(self) -> int:
        ts = [self.codes, self.scale, self.low, self.out_idx, self.out_val, self.lr_q, self.lr_p]
        return sum(t.numel() * t.element_size() for t in ts if t is not None)


def _grouped(x: torch.Tensor, per_channel: bool, g: int) -> torch.Tensor:
    """[B,H,T,D] -> groups on the last axis: keys [B,H,D,T/g,g], values [B,T,HD/g,g]."""
    b, h, t, d = x.shape
    if per_channel:
        return x.permute(0, 1, 3, 2).reshape(b, h, d, t // g, g)
    return x.permute(0, 2, 1, 3).reshape(b, t, h * d // g, g)


def _ungrouped(y: torch.Tensor, per_channel: bool, shape: tuple[int, int, int, int]) -> torch.Tensor:
    b, h, t, d = shape
    if per_channel:
        return y.reshape(b, h, d, t).permute(0, 1, 3, 2)
    return y.reshape(b, t, h, d).permute(0, 2, 1, 3)


def _power_iteration(r: torch.Tensor, rank: int, loops: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rank-r factors (Q [..., T, r], P [..., D, r]) with r ≈ Q Pᵀ (the reference's power iteration)."""
    b, h, t, d = r.shape
    gen = torch.Generator(device="cpu").manual_seed(seed)
    p = torch.rand(h, d, rank, generator=gen).to(r.device).expand(b, h, d, rank).contiguous()
    q = r.new_zeros(b, h, t, rank)
    for i in range(loops):
        if i == loops - 1:
            p = torch.linalg.qr(p).Q
        q = r @ p
        if i == loops - 1:
            q = torch.linalg.qr(q).Q
        p = r.transpose(-1, -2) @ q
    return q, p


def compress(x: torch.Tensor, *, per_channel: bool, bits: int, group_size: int, outlier_ratio: float,
             rank: int, loops: int, seed: int = 0) -> Block:
    """GEAR-compress a [B, H, T, D] span (keys: per_channel=True; values: False)."""
    b, h, t, d = x.shape
    if per_channel and t % group_size:
        raise InvalidInput(f"gear: a key span of {t} tokens is not a multiple of the group size {group_size}")
    if not per_channel and (h * d) % group_size:
        raise UnsupportedFeature(f"gear: {h} kv heads x {d} = {h * d} channels is not a multiple of the group "
                                 f"size {group_size}; choose a group size that divides it")
    xf = x.float()
    flat = xf.reshape(b, -1)
    k = int(flat.shape[1] * outlier_ratio / 2)
    outlier = torch.zeros_like(flat, dtype=torch.bool)
    if k > 0:
        top = torch.topk(flat, k, dim=1).indices
        bottom = torch.topk(flat, k, dim=1, largest=False).indices
        idx = torch.cat([top, bottom], dim=1)
        outlier.scatter_(1, idx, True)
    else:
        idx = torch.zeros(b, 0, dtype=torch.long, device=x.device)
    out_val = flat.gather(1, idx)
    groups = _grouped(xf, per_channel, group_size)
    mask = _grouped(outlier.reshape(b, h, t, d), per_channel, group_size)
    levels = 2**bits - 1
    lo = groups.masked_fill(mask, float("inf")).amin(dim=-1, keepdim=True)
    hi = groups.masked_fill(mask, float("-inf")).amax(dim=-1, keepdim=True)
    lo = torch.where(torch.isfinite(lo), lo, torch.zeros_like(lo))
    hi = torch.where(torch.isfinite(hi), hi, lo)
    scale = ((hi - lo) / levels).to(_META).float().clamp(min=1e-8)
    lo = lo.to(_META).float()
    codes = torch.round((groups - lo) / scale).clamp(0, levels)
    deq = _ungrouped(codes * scale + lo, per_channel, (b, h, t, d)).reshape(b, -1)
    deq = deq.scatter(1, idx, out_val.to(_META).float())
    block = Block(shape=(b, h, t, d), per_channel=per_channel, bits=bits, group_size=group_size,
                  codes=_pack(codes, bits), scale=scale.to(_META), low=lo.to(_META),
                  out_idx=idx.to(torch.int32), out_val=out_val.to(_META), lr_q=None, lr_p=None)
    rank = min(rank, t, d)
    if rank > 0:
        residual = (flat - deq).reshape(b, h, t, d)
        q, p = _power_iteration(residual, rank, loops, seed)
        block.lr_q, block.lr_p = q.to(_META), p.to(_META)
    return block


def decompress(block: Block, dtype: torch.dtype) -> torch.Tensor:
    """The [B, H, T, D] tensor a block stands for."""
    b, h, t, d = block.shape
    g = block.group_size
    numel = b * h * t * d
    codes = _unpack(block.codes, block.bits, numel).float()
    if block.per_channel:
        codes = codes.reshape(b, h, d, t // g, g)
    else:
        codes = codes.reshape(b, t, h * d // g, g)
    x = _ungrouped(codes * block.scale.float() + block.low.float(), block.per_channel, block.shape).reshape(b, -1)
    x = x.scatter(1, block.out_idx.long(), block.out_val.float()).reshape(b, h, t, d)
    if block.lr_q is not None and block.lr_p is not None:
        x = x + block.lr_q.float() @ block.lr_p.float().transpose(-1, -2)
    return x.to(dtype)


# --- the cache ---------------------------------------------------------------------------------------


class GEARLayer(DynamicLayer):
    """One layer's GEAR cache: compressed blocks plus a full-precision buffer of recent tokens."""

    is_croppable = False

    def __init__(self, cfg: GEARConfig, index: int = 0) -> None:
        super().__init__()
        self.cfg, self.index = cfg, index
        self.key_blocks: list[Block] = []
        self.value_blocks: list[Block] = []
        self.seen = 0

    def _compress(self, x: torch.Tensor, per_channel: bool, rank: int) -> Block:
        c = self.cfg
        return compress(x, per_channel=per_channel, bits=c.bits, group_size=c.group_size,
                        outlier_ratio=c.outlier_ratio, rank=rank, loops=c.power_iterations,
                        seed=c.seed + self.index)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any,
               **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        prefill = self.seen == 0
        self.seen += key_states.shape[-2]
        self.keys = torch.cat([self.keys, key_states], dim=-2) if self.keys.numel() else key_states
        self.values = torch.cat([self.values, value_states], dim=-2) if self.values.numel() else value_states
        past_k = [decompress(blk, self.dtype) for blk in self.key_blocks]
        past_v = [decompress(blk, self.dtype) for blk in self.value_blocks]
        keys = torch.cat([*past_k, self.keys], dim=-2)
        values = torch.cat([*past_v, self.values], dim=-2)
        gap = self.cfg.streaming_gap
        ready = (self.keys.shape[-2] // gap) * gap
        if ready:
            rank = self.cfg.rank_prefill if prefill else self.cfg.rank_decode
            self.key_blocks.append(self._compress(self.keys[..., :ready, :], True, rank))
            self.value_blocks.append(self._compress(self.values[..., :ready, :], False, rank))
            self.keys = self.keys[..., ready:, :].clone()
            self.values = self.values[..., ready:, :].clone()
        return keys, values

    def get_seq_length(self) -> int:
        return self.seen

    def reset(self) -> None:
        super().reset()
        self.key_blocks, self.value_blocks, self.seen = [], [], 0

    def nbytes(self) -> int:
        held = sum(blk.nbytes() for blk in self.key_blocks + self.value_blocks)
        if self.is_initialized:
            held += sum(t.numel() * t.element_size() for t in (self.keys, self.values))
        return held

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        raise UnsupportedFeature("the GEAR cache does not support beam search reordering")

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        raise UnsupportedFeature("the GEAR cache does not support selecting batch rows")

    def batch_repeat_interleave(self, repeats: int) -> None:
        raise UnsupportedFeature("the GEAR cache does not support repeating batch rows")

    def crop(self, tokens_to_remove: int) -> None:
        raise UnsupportedFeature("the GEAR cache cannot be cropped")


class GEARCache(Cache):
    """A transformers Cache whose layers are GEAR-compressed (one GEARLayer per decoder layer)."""

    def __init__(self, cfg: GEARConfig, num_layers: int) -> None:
        if num_layers < 1:
            raise InvalidInput(f"gear: num_layers must be positive, got {num_layers}")
        super().__init__(layers=[GEARLayer(cfg, i) for i in range(num_layers)])
        self.cfg = cfg

    @classmethod
    def for_model(cls, cfg: GEARConfig, model_config: Any) -> GEARCache:
        text = model_config.get_text_config(decoder=True) if hasattr(model_config, "get_text_config") else model_config
        types = getattr(text, "layer_types", None)
        if types and set(types) - {"full_attention"}:
            raise UnsupportedFeature(f"gear: only full-attention layers are supported, this model has {sorted(set(types))}")
        return cls(cfg, int(text.num_hidden_layers))

    def nbytes(self) -> int:
        """Bytes the cache holds: compressed blocks plus the full-precision recent tokens."""
        return sum(layer.nbytes() for layer in self.layers if isinstance(layer, GEARLayer))


def dense_cache_bytes(cache: Cache) -> int:
    """Bytes a DynamicCache holds (keys and values of every layer)."""
    return sum(t.numel() * t.element_size() for layer in cache.layers if layer.is_initialized
               for t in (layer.keys, layer.values))
