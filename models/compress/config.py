"""Typed settings of every compression algorithm, torch-free so that the command line stays light.

One config object per paper, each with that paper's defaults (quantize.py, eora.py and gear.py hold the
algorithms and re-export their config), and CompressionConfig, which composes them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ratiocinator.errors import InvalidInput

Scheme = Literal["int8", "int4", "2:4"]
INT4_GROUPS = (32, 64, 128, 256)
MANIFEST = "ratiocinator-compression.json"
FORMAT = 1  # the version of the manifest a saved checkpoint carries (models/compress/checkpoint.py)


@dataclass(frozen=True, kw_only=True)
class WeightConfig:
    """Weight-only compression of every linear layer but the excluded ones.

    Defaults follow gpt-fast's int4 (group 128, asymmetric scale+zero) and Wanda's 2:4 scoring
    (|W| · ‖X_j‖₂, "A Simple and Effective Pruning Approach for Large Language Models").
    `exclude`: fnmatch patterns of module names left dense. `head`: what happens to `lm_head`
    ("int8" keeps it at 8 bits like llama.cpp keeps its output layer above 4 bits, "same" uses the
    scheme, "none" leaves it dense).
    """

    scheme: Scheme = "int4"
    group_size: int = 128
    symmetric: bool = False
    pruning_score: Literal["magnitude", "wanda"] = "wanda"
    exclude: tuple[str, ...] = ()
    head: Literal["int8", "same", "none"] = "int8"

    def __post_init__(self) -> None:
        if self.scheme not in ("int8", "int4", "2:4"):
            raise InvalidInput(f"weights: unknown scheme {self.scheme!r}; expected int8, int4 or 2:4")
        if self.scheme == "int4" and self.group_size not in INT4_GROUPS:
            raise InvalidInput(f"weights: int4 group size {self.group_size} is not supported; expected one of "
                               f"{', '.join(map(str, INT4_GROUPS))}")
        if self.pruning_score not in ("magnitude", "wanda"):
            raise InvalidInput(f"weights: pruning score {self.pruning_score!r}; expected magnitude or wanda")
        if self.head not in ("int8", "same", "none"):
            raise InvalidInput(f"weights: head {self.head!r}; expected int8, same or none")

    @property
    def label(self) -> str:
        if self.scheme == "int4":
            base = f"int4-g{self.group_size}" + ("-sym" if self.symmetric else "")
        elif self.scheme == "int8":
            base = "int8" + ("-sym" if self.symmetric else "")
        else:
            base = f"2:4-{self.pruning_score}"
        return base + ("" if self.head == "int8" else f"-head{self.head}")

    @property
    def needs_calibration(self) -> bool:
        return self.scheme == "2:4" and self.pruning_score == "wanda"


@dataclass(frozen=True, kw_only=True)
class EoRAConfig:
    """EoRA's settings; defaults from the paper's reproduction (rank 128; ranks 16-128 studied).

    `calibration_samples` windows of `calibration_len` tokens (the paper uses 64-256 sequences);
    `sequential`: as the reference code, layer i is calibrated on the outputs of the already compressed
    and compensated layers before it (else all statistics come from the uncompressed model).
    """

    rank: int = 128
    method: Literal["eigen", "svd"] = "eigen"
    calibration_samples: int = 64
    calibration_len: int = 512
    domain: Literal["english", "code", "mixed"] = "mixed"
    sequential: bool = True
    batch_size: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.rank, int) or self.rank < 1:
            raise InvalidInput(f"eora: rank must be a positive integer, got {self.rank!r}")
        if self.method not in ("eigen", "svd"):
            raise InvalidInput(f"eora: method {self.method!r}; expected eigen (EoRA) or svd (the baseline)")
        if self.calibration_samples < 1 or self.calibration_len < 2 or self.batch_size < 1:
            raise InvalidInput("eora: calibration_samples, batch_size >= 1 and calibration_len >= 2 are required, got "
                               f"{self.calibration_samples}, {self.batch_size}, {self.calibration_len}")
        if self.domain not in ("english", "code", "mixed"):
            raise InvalidInput(f"eora: domain {self.domain!r}; expected english, code or mixed")

    @property
    def label(self) -> str:
        return f"eora{self.rank}" if self.method == "eigen" else f"svd{self.rank}"


@dataclass(frozen=True, kw_only=True)
class GEARConfig:
    """GEAR's KV-cache settings; defaults from the paper (4-bit, group 64, s = 2%, ranks 4/2, gap 64)."""

    bits: int = 4
    group_size: int = 64
    outlier_ratio: float = 0.02
    rank_prefill: int = 4
    rank_decode: int = 2
    power_iterations: int = 3
    streaming_gap: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if self.bits not in (2, 4, 8):
            raise InvalidInput(f"gear: bits must be 2, 4 or 8, got {self.bits!r}")
        if self.group_size < 2 or self.streaming_gap < 1 or self.streaming_gap % self.group_size:
            raise InvalidInput(f"gear: streaming_gap ({self.streaming_gap}) must be a positive multiple of "
                               f"group_size ({self.group_size}): keys are quantized over groups of tokens")
        if not 0 <= self.outlier_ratio < 0.5:
            raise InvalidInput(f"gear: outlier_ratio must be in [0, 0.5), got {self.outlier_ratio}")
        if min(self.rank_prefill, self.rank_decode) < 0 or self.power_iterations < 1:
            raise InvalidInput("gear: ranks must be >= 0 and power_iterations >= 1")

    @property
    def label(self) -> str:
        return f"gear-kv{self.bits}"


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
    def parse(cls, spec: str) -> CompressionConfig:
        """A config from a short spec, the inverse of `describe()` (what a `--compress` flag takes).

        "int4" · "int4-g64-sym" · "int8" · "2:4-magnitude" · "int4-headsame" (lm_head at int4 too) ·
        "+eora64" / "+svd64" (compensation rank) · "+gear-kv4" / "+gear-kv2" (KV cache) · "gear-kv4" alone.
        """
        parts = [p.strip() for p in spec.split("+") if p.strip()]
        if not parts:
            raise InvalidInput("compression spec is empty; e.g. int4+eora64 or int4+eora64+gear-kv4")
        weights = eora = kv = None
        for i, part in enumerate(parts):
            if part.startswith("gear-kv") and part[7:].isdigit():
                kv = GEARConfig(bits=int(part[7:]))
            elif part.startswith("eora") and part[4:].isdigit():
                eora = EoRAConfig(rank=int(part[4:]))
            elif part.startswith("svd") and part[3:].isdigit():
                eora = EoRAConfig(rank=int(part[3:]), method="svd")
            elif i == 0:
                weights = _parse_weights(part)
            else:
                raise InvalidInput(f"compression spec {spec!r}: cannot read {part!r}; expected eoraN, svdN or gear-kvN "
                                   "after the weights (e.g. int4+eora64+gear-kv4)")
        return cls(weights=weights, eora=eora, kv=kv)

    @classmethod
    def load(cls, directory: str | Path) -> CompressionConfig:
        """The config a saved compressed checkpoint was made with, pointing at that checkpoint."""
        return read_manifest(Path(directory))


def _parse_weights(part: str) -> WeightConfig:
    scheme, *options = part.split("-")
    kw: dict[str, object] = {"scheme": scheme}
    for opt in options:
        if opt.startswith("g") and opt[1:].isdigit():
            kw["group_size"] = int(opt[1:])
        elif opt == "sym":
            kw["symmetric"] = True
        elif opt.startswith("head"):
            kw["head"] = opt[4:]
        elif opt in ("magnitude", "wanda"):
            kw["pruning_score"] = opt
        else:
            raise InvalidInput(f"compression spec {part!r}: unknown option {opt!r}; expected gN, sym, headX, "
                               "magnitude or wanda")
    return WeightConfig(**kw)  # type: ignore[arg-type]


def manifest_config(cfg: CompressionConfig) -> dict[str, Any]:
    """The JSON form of `cfg` that a checkpoint's manifest stores (read back by `read_manifest`)."""
    return {k: (dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v)
            for k, v in (("weights", cfg.weights), ("eora", cfg.eora), ("kv", cfg.kv))}


def read_manifest(directory: Path) -> CompressionConfig:
    """The CompressionConfig stored with a checkpoint (its `checkpoint` field set to the directory)."""
    path = directory / MANIFEST
    if not path.is_file():
        raise InvalidInput(f"{directory}: not a compressed checkpoint (no {MANIFEST}); make one with "
                           "`ratiocinator compress MODEL --weights int4 --out DIR`")
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise InvalidInput(f"{path}: format {data.get('format')!r}; this version reads format {FORMAT}")
    c = data["config"]
    weights = None if c["weights"] is None else WeightConfig(**{**c["weights"], "exclude": tuple(c["weights"]["exclude"])})
    eora = None if c["eora"] is None else EoRAConfig(**c["eora"])
    kv = None if c["kv"] is None else GEARConfig(**c["kv"])
    return CompressionConfig(weights=weights, eora=eora, kv=kv, checkpoint=str(directory))
