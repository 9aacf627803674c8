"""The compressed backend: 4-bit/8-bit/2:4 weights with EoRA compensation, and the GEAR KV cache.

    from ratiocinator.models import load_backend
    from ratiocinator.models.compress import CompressionConfig, EoRAConfig, GEARConfig, WeightConfig

    cfg = CompressionConfig(weights=WeightConfig(scheme="int4", group_size=128), eora=EoRAConfig(rank=64),
                            kv=GEARConfig(bits=4))
    backend = load_backend("embedded:qwen2.5-coder-0.5b-instruct", compress=cfg)

The transformers backend calls `apply(backend, cfg)` once after loading (it rewrites the model's linear
layers in place and returns the description that goes into `info.compression`) and `new_cache(backend,
cfg)` for each decode (a GEARCache, or None for the default DynamicCache). A checkpoint saved by
`ratiocinator compress` loads with `load_backend("hf:DIR", compress=CompressionConfig.load("DIR"))`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ratiocinator.errors import InvalidInput
from ratiocinator.models.compress.eora import EoRAConfig
from ratiocinator.models.compress.gear import GEARConfig
from ratiocinator.models.compress.quantize import WeightConfig

MANIFEST = "ratiocinator-compression.json"


@dataclass(frozen=True, kw_only=True)
class CompressionConfig:
    """What to compress: weights (and their EoRA/SVD compensation), the KV cache, or both.

    `checkpoint`: a directory written by `ratiocinator compress` whose compressed layers are loaded
    instead of being computed again (use `CompressionConfig.load(DIR)`).
    """

    weights: WeightConfig | None = None
    eora: EoRAConfig | None = None
    kv: GEARConfig | None = None
    checkpoint: str | None = None

    def __post_init__(self) -> None:
        for name, value, kind in (("weights", self.weights, WeightConfig), ("eora", self.eora, EoRAConfig),
                                  ("kv", self.kv, GEARConfig)):
            if value is not None and not isinstance(value, kind):
                raise InvalidInput(f"compression: {name} must be a {kind.__name__} or None, got {type(value).__name__}")
        if self.eora is not None and self.weights is None:
            raise InvalidInput("compression: EoRA compensates compressed weights; give weights=WeightConfig(...) too")
        if self.weights is None and self.kv is None:
            raise InvalidInput("compression: nothing to do; give weights=WeightConfig(...) and/or kv=GEARConfig(...)")

    def describe(self) -> str:
        """A short description, e.g. "int4-g128+eora64+gear-kv4"."""
        parts = [self.weights.label] if self.weights else []
        if self.eora is not None:
            parts.append(self.eora.label)
        if self.kv is not None:
            parts.append(self.kv.label)
        return "+".join(parts)

    @classmethod
    def from_options(cls, *, weights: str | None = "int4", group_size: int = 128, symmetric: bool = False,
                     head: str = "int8", eora_rank: int | None = None, eora_method: str = "eigen",
                     calibration_samples: int = 64, calibration_len: int = 512,
                     kv_bits: int | None = None) -> CompressionConfig:
        """Build a config from flat options (what the command line takes); values are checked."""
        wcfg = None
        if weights not in (None, "none", "bf16"):
            wcfg = WeightConfig(scheme=weights, group_size=group_size, symmetric=symmetric, head=head)  # type: ignore[arg-type]
        eora = None
        if eora_rank:
            eora = EoRAConfig(rank=eora_rank, method=eora_method,  # type: ignore[arg-type]
                              calibration_samples=calibration_samples, calibration_len=calibration_len)
        kv = GEARConfig(bits=kv_bits) if kv_bits else None
        return cls(weights=wcfg, eora=eora, kv=kv)

    @classmethod
    def load(cls, directory: str | Path) -> CompressionConfig:
        """The config a saved compressed checkpoint was made with, pointing at that checkpoint."""
        from ratiocinator.models.compress.checkpoint import read_manifest

        return read_manifest(Path(directory))


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
