"""A static-KV-cache decode step for Llama/Qwen2-family transformers models, compiled once per shape bucket.

cf. gpt-fast `generate.py`. Each batch slot owns one row of a preallocated cache (per layer:
(slots, kv_heads, bucket, head_dim)) and its own length, so slots are independent: a finished slot
takes the next request (continuous batching) without touching the others. Prefill runs through the
model's own forward (its kernels are already efficient for many tokens) and its keys/values are
copied into the slot; every later token goes through `step`, a pure function of (tokens, positions,
caches) that reuses the model's own modules (so compressed linear layers apply unchanged) and is
compiled with `torch.compile(fullgraph=True)` per (slots, bucket) shape when compilation is on.
On CUDA the step (compiled or eager) is also captured once per cache as a CUDA graph and replayed:
at batch 1 a small model's step is hundreds of kernel launches, and launching them from Python costs
more than running them. A graph is bound to its cache's memory, so on CUDA `allocate` hands out one
pooled cache per shape and every request of that shape replays the same graph.
Why our own step and not transformers' StaticCache: its compiled path mutates cache bookkeeping
tensors (CUDA graphs skipped, crashes on a second run on the version we pin), and its per-step mask
and cache plumbing costs more than the step itself on a small model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)

SUPPORTED_MODEL_TYPES = ("llama", "qwen2", "mistral")
MIN_BUCKET = 256


def unsupported_reason(model: torch.nn.Module) -> str | None:
    """Why the fast path cannot run this model, or None when it can."""
    config = model.config
    if config.model_type not in SUPPORTED_MODEL_TYPES:
        return f"model type {config.model_type!r} is not one of {SUPPORTED_MODEL_TYPES}"
    if getattr(config, "sliding_window", None) and getattr(config, "use_sliding_window", False):
        return "sliding-window attention is not supported"
    inner = getattr(model, "model", None)
    if inner is None or not hasattr(inner, "layers") or not hasattr(inner, "rotary_emb"):
        return "the model does not expose .model.layers and .model.rotary_emb"
    return None


def bucket_for(length: int, limit: int) -> int:
    """The cache length to allocate: the next power of two >= length (at least MIN_BUCKET), capped."""
    size = MIN_BUCKET
    while size < length:
        size *= 2
    return min(size, limit)


@dataclass
class SlotCache:
    """Keys and values of every layer for `slots` sequences of up to `bucket` tokens, and their lengths."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    lengths: torch.Tensor  # (slots,) int64: tokens held per slot
    graph: CapturedStep | None = None  # the CUDA graph of a step over these tensors, once captured

    @property
    def bucket(self) -> int:
        return self.keys[0].shape[2]

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (*self.keys, *self.values))


@dataclass
class CapturedStep:
    """A CUDA graph of one decode step: copy inputs into the static tensors, replay, read `logits`."""

    graph: torch.cuda.CUDAGraph
    tokens: torch.Tensor
    positions: torch.Tensor
    logits: torch.Tensor


class FastDecoder:
    """Decode steps of one model over a SlotCache; `compile=True` compiles `step` per shape.

    `cuda_graphs` (None: on when the model is on CUDA) captures and replays each cache's step.
    """

    def __init__(self, model: torch.nn.Module, *, compile: bool = False, cuda_graphs: bool | None = None) -> None:
        reason = unsupported_reason(model)
        if reason:
            raise ValueError(f"fast decode unavailable: {reason}")
        self.model = model
        config = model.config
        self.n_layers = config.num_hidden_layers
        self.n_heads = config.num_attention_heads
        self.n_kv = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.n_heads
        self.limit = int(config.max_position_embeddings)
        param = next(model.parameters())
        self.dtype = param.dtype if param.is_floating_point() else torch.float32
        self.device = param.device
        self._tables: tuple[torch.Tensor, torch.Tensor] | None = None
        self.compile = compile and os.environ.get("RATIOCINATOR_NO_COMPILE") is None
        self._compiled: dict[tuple[int, int], Callable] = {}
        self.compilations = 0
        graphs = self.device.type == "cuda" if cuda_graphs is None else cuda_graphs
        if graphs and self.device.type != "cuda":
            raise ValueError(f"cuda_graphs needs the model on a CUDA device, not {self.device}")
        self.cuda_graphs = graphs and os.environ.get("RATIOCINATOR_NO_CUDA_GRAPHS") is None
        self._pool: dict[tuple[int, int], SlotCache] = {}
        self.captures = 0

    def close(self) -> None:
        """Drop the pooled caches (and their CUDA graphs), compiled steps, rotary tables and the model."""
        for cache in self._pool.values():
            cache.graph = None
        self._pool.clear()
        self._compiled.clear()
        self._tables = None
        self.model = None  # type: ignore[assignment]

    # --- cache and rotary tables ------------------------------------------------------------------

    def allocate(self, slots: int, bucket: int) -> SlotCache:
        """An empty cache; with CUDA graphs, a released one of this shape when there is one (graph kept)."""
        cache = self._pool.pop((slots, bucket), None) if self.cuda_graphs else None
        if cache is not None:
            cache.lengths.zero_()  # old keys/values stay but are never visible past a slot's length
            return cache
        return self._new_cache(slots, bucket)

    def release(self, cache: SlotCache) -> None:
        """A decode is done with `cache`: with CUDA graphs keep it (and its graph) for the next request."""
        if self.cuda_graphs and cache.graph is not None:
            self._pool[(cache.keys[0].shape[0], cache.bucket)] = cache

    def _new_cache(self, slots: int, bucket: int) -> SlotCache:
        shape = (slots, self.n_kv, bucket, self.head_dim)
        return SlotCache(
            keys=[torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in range(self.n_layers)],
            values=[torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in range(self.n_layers)],
            lengths=torch.zeros(slots, dtype=torch.long, device=self.device),
        )

    def _rope(self) -> tuple[torch.Tensor, torch.Tensor]:
        """cos/sin for every position, from the model's own rotary module (any rope scaling applies)."""
        if self._tables is None:
            positions = torch.arange(self.limit, device=self.device)[None]
            probe = torch.zeros(1, dtype=self.dtype, device=self.device)
            cos, sin = self.model.model.rotary_emb(probe, positions)
            self._tables = (cos[0], sin[0])  # (limit, head_dim)
        return self._tables

    def load_prefill(self, cache: SlotCache, slot: int, past: object, row: int, length: int) -> None:
        """Copy one row's prefill keys/values (the last `length` columns of a DynamicCache) into `slot`."""
        for i, layer in enumerate(past.layers):  # type: ignore[attr-defined]
            cache.keys[i][slot, :, :length] = layer.keys[row, :, -length:]
            cache.values[i][slot, :, :length] = layer.values[row, :, -length:]
        cache.lengths[slot] = length

    # --- the step ---------------------------------------------------------------------------------

    def _step(self, tokens: torch.Tensor, positions: torch.Tensor, cos_t: torch.Tensor, sin_t: torch.Tensor,
              keys: list[torch.Tensor], values: list[torch.Tensor]) -> torch.Tensor:
        """Logits (slots, vocab) of the next token; writes each slot's new key/value at its position."""
        inner = self.model.model
        slots = tokens.shape[0]
        rows = torch.arange(slots, device=tokens.device)
        x = inner.embed_tokens(tokens)[:, None, :]  # (S, 1, hidden)
        cos = cos_t[positions][:, None, None, :]  # (S, 1, 1, head_dim)
        sin = sin_t[positions][:, None, None, :]
        bucket = keys[0].shape[2]
        visible = torch.arange(bucket, device=tokens.device)[None, :] <= positions[:, None]
        mask = visible[:, None, None, :]  # (S, 1, 1, bucket)
        groups = self.n_heads // self.n_kv
        for i, layer in enumerate(inner.layers):
            attn = layer.self_attn
            h = layer.input_layernorm(x)
            q = attn.q_proj(h).view(slots, 1, self.n_heads, self.head_dim).transpose(1, 2)
            k = attn.k_proj(h).view(slots, 1, self.n_kv, self.head_dim).transpose(1, 2)
            v = attn.v_proj(h).view(slots, 1, self.n_kv, self.head_dim).transpose(1, 2)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            keys[i][rows, :, positions] = k[:, :, 0]
            values[i][rows, :, positions] = v[:, :, 0]
            kk = keys[i][:, :, None].expand(slots, self.n_kv, groups, bucket, self.head_dim)
            vv = values[i][:, :, None].expand(slots, self.n_kv, groups, bucket, self.head_dim)
            out = torch.nn.functional.scaled_dot_product_attention(
                q, kk.reshape(slots, self.n_heads, bucket, self.head_dim),
                vv.reshape(slots, self.n_heads, bucket, self.head_dim),
                attn_mask=mask, scale=attn.scaling,
            )
            x = x + attn.o_proj(out.transpose(1, 2).reshape(slots, 1, -1))
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        return self.model.lm_head(inner.norm(x))[:, 0].float()

    def _fn(self, slots: int, bucket: int) -> Callable:
        if not self.compile:
            return self._step
        key = (slots, bucket)
        if key not in self._compiled:
            try:
                self._compiled[key] = torch.compile(self._step, fullgraph=True, dynamic=False)
                self.compilations += 1
            except Exception as exc:  # compile unavailable (no compiler toolchain, unsupported op)
                log.warning("torch.compile unavailable, decoding eagerly: %s", exc)
                self.compile = False
                return self._step
        return self._compiled[key]

    def _capture(self, fn: Callable, tokens: torch.Tensor, positions: torch.Tensor, cache: SlotCache) -> CapturedStep:
        """Warm `fn` up on a side stream and capture it as a CUDA graph over `cache`.

        The warm-up runs are real steps with the real inputs: they write each slot's key/value at its
        current position, which the replay that follows writes again identically.
        """
        cos_t, sin_t = self._rope()
        static_tokens, static_positions = tokens.clone(), positions.clone()
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(2):
                fn(static_tokens, static_positions, cos_t, sin_t, cache.keys, cache.values)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            logits = fn(static_tokens, static_positions, cos_t, sin_t, cache.keys, cache.values)
        self.captures += 1
        return CapturedStep(graph=graph, tokens=static_tokens, positions=static_positions, logits=logits)

    def _replay(self, fn: Callable, tokens: torch.Tensor, positions: torch.Tensor, cache: SlotCache) -> torch.Tensor:
        if cache.graph is None:
            cache.graph = self._capture(fn, tokens, positions, cache)
        captured = cache.graph
        captured.tokens.copy_(tokens)
        captured.positions.copy_(positions)
        captured.graph.replay()
        return captured.logits.clone()  # the next replay overwrites the static output

    @torch.inference_mode()
    def step(self, tokens: torch.Tensor, cache: SlotCache) -> torch.Tensor:
        """Feed one token per slot (at the slot's current length); returns (slots, vocab) float logits."""
        positions = cache.lengths.clone()
        cos_t, sin_t = self._rope()
        fn = self._fn(tokens.shape[0], cache.bucket)
        if self.cuda_graphs:
            try:
                logits = self._replay(fn, tokens, positions, cache)
                cache.lengths += 1
                return logits
            except Exception as exc:  # capture unsupported for this model/op: keep decoding without graphs
                log.warning("CUDA graph capture failed, decoding without graphs: %s", exc)
                self.cuda_graphs = False
                cache.graph = None
        try:
            logits = fn(tokens, positions, cos_t, sin_t, cache.keys, cache.values)
        except Exception as exc:
            if fn is self._step:
                raise
            log.warning("compiled decode step failed, falling back to eager: %s", exc)
            self.compile = False
            logits = self._step(tokens, positions, cos_t, sin_t, cache.keys, cache.values)
        cache.lengths += 1
        return logits


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)
