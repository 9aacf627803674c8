"""The compressed backend: 4-bit/8-bit/2:4 weights with EoRA compensation, and the GEAR KV cache.

    from ratiocinator.models import load_backend
    from ratiocinator.models.compress import CompressionConfig, EoRAConfig, GEARConfig, WeightConfig

    cfg = CompressionConfig(weights=WeightConfig(scheme="int4", group_size=128), eora=EoRAConfig(rank=64),
                            kv=GEARConfig(bits=4))
    backend = load_backend("embedded:qwen2.5-coder-0.5b-instruct", compress=cfg)

The transformers backend calls `apply(backend, cfg)` once after loading (it rewrites the model's linear
layers in place and returns the description that goes into `info.compression`) and `new_cache(backend,
cfg)` for each decode (a GEARCache, or None for the default DynamicCache). A checkpoint saved by
`ratiocinator compress` loads with `load_backend("hf:DIR")` (its manifest is read automatically).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ratiocinator.errors import InvalidInput
from ratiocinator.models.compress.config import (
    MANIFEST,
    CompressionConfig,
    EoRAConfig,
    GEARConfig,
    WeightConfig,
)


def apply(backend: Any, cfg: CompressionConfig) -> str:
    """Compress `backend.model` in place as `cfg` says; returns the description for `info.compression`."""
    if not isinstance(cfg, CompressionConfig):
        raise InvalidInput(f"compress: expected a CompressionConfig, got {type(cfg).__name__}")
    path = getattr(backend, "path", None)
    saved = cfg.checkpoint or (str(path) if path is not None and (Path(path) / MANIFEST).is_file() else None)
    if saved is not None and cfg.weights is not None:
        from ratiocinator.models.compress.checkpoint import load_layers

        load_layers(backend.model, Path(saved), cfg)
    elif cfg.weights is not None:
        from ratiocinator.models.compress.pipeline import compress_model

        compress_model(backend.model, backend.tokenizer, cfg)
    return cfg.describe()


def new_cache(backend: Any, cfg: CompressionConfig) -> Any:
    """The KV cache of one decode: a GEARCache when `cfg.kv` is set, else None (the default cache)."""
    if cfg.kv is None:
        return None
    from ratiocinator.models.compress.gear import GEARCache

    return GEARCache.for_model(cfg.kv, backend.model.config)


__all__ = ["MANIFEST", "CompressionConfig", "EoRAConfig", "GEARConfig", "WeightConfig", "apply", "new_cache"]
