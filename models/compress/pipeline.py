"""Compress a loaded transformers causal LM in place: pick the linear layers, calibrate, quantize, compensate.

Which layers: every `nn.Linear` inside the decoder layers, plus `lm_head` as `WeightConfig.head`
says, minus those whose name matches an `exclude` pattern. Calibration (EoRA eigen, Wanda 2:4) runs
layer by layer (see calibrate.py); SVD compensation and plain quantization need none.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ratiocinator.models.compress.calibrate import (
    Covariance,
    calibrate_layerwise,
    decoder_layers,
    model_covariances,
)
from ratiocinator.models.compress.data import token_windows
from ratiocinator.models.compress.eora import EigenBasis, LowRankLinear, compensate, lazy_basis
from ratiocinator.models.compress.quantize import CompressedLinear, Int4Linear, scheme_for

if TYPE_CHECKING:
    from ratiocinator.models.compress.config import CompressionConfig

Progress = Callable[[str, int, int], None]


def _excluded(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _set_module(root: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child, module)


def target_names(model: nn.Module, cfg: CompressionConfig) -> tuple[list[str], str | None]:
    """(decoder linear names, the head's name or None) that this config compresses."""
    assert cfg.weights is not None
    layers = decoder_layers(model)
    prefix = next(n for n, m in model.named_modules() if m is layers)
    names = [f"{prefix}.{i}.{n}" for i, layer in enumerate(layers)
             for n, m in layer.named_modules() if isinstance(m, nn.Linear)]
    names = [n for n in names if not _excluded(n, cfg.weights.exclude)]
    head = None
    if isinstance(getattr(model, "lm_head", None), nn.Linear) and cfg.weights.head != "none":
        if not _excluded("lm_head", cfg.weights.exclude):
            head = "lm_head"
    return names, head


class _LayerCompressor:
    """Compresses the linears of one layer (or the head) with the configured scheme and compensation."""

    def __init__(self, model: nn.Module, cfg: CompressionConfig) -> None:
        self.model, self.cfg = model, cfg
        self.bases: dict[int, EigenBasis] = {}

    def one(self, name: str, linear: nn.Linear, cov: Covariance | None, *, head: bool = False) -> None:
        weights = self.cfg.weights
        assert weights is not None
        scheme = scheme_for(weights, head=head)
        if scheme is None:
            return
        input_sq = cov.diagonal if cov is not None else None
        if head and weights.scheme == "2:4" and input_sq is None:
            scheme = scheme_for(type(weights)(scheme="2:4", pruning_score="magnitude"))
            assert scheme is not None
        compressed: nn.Module = scheme.compress(linear, input_sq)
        eora = self.cfg.eora
        if eora is not None and not head:
            assert isinstance(compressed, CompressedLinear)
            mean = cov.mean if cov is not None else None
            basis = lazy_basis(mean, id(cov), self.bases) if mean is not None else None
            compressed = compensate(linear.weight.detach(), compressed, eora, mean, basis)
        _set_module(self.model, name, compressed)

    def release(self) -> None:
        self.bases.clear()


def _needs_calibration(cfg: CompressionConfig) -> bool:
    assert cfg.weights is not None
    return (cfg.eora is not None and cfg.eora.method == "eigen") or cfg.weights.needs_calibration


def compress_model(model: nn.Module, tokenizer: Any, cfg: CompressionConfig, *, keep_codes: bool = False,
                   progress: Progress | None = None) -> None:
    """Rewrite the model's linear layers in place as the config says (weights, EoRA/SVD compensation)."""
    if cfg.weights is None:
        return
    names, head = target_names(model, cfg)
    modules = dict(model.named_modules())
    worker = _LayerCompressor(model, cfg)
    report = progress or (lambda stage, done, total: None)
    with torch.inference_mode(False), torch.no_grad():
        if _needs_calibration(cfg):
            eora = cfg.eora
            n = eora.calibration_samples if eora else 32
            seq_len = eora.calibration_len if eora else 512
            batch = eora.batch_size if eora else 4
            windows = token_windows(tokenizer, split="calibration", n=n, seq_len=seq_len,
                                    domain=eora.domain if eora else "mixed")
            layers = decoder_layers(model)
            prefix = next(n for n, m in model.named_modules() if m is layers)
            if eora is None or eora.sequential:
                def targets(i: int, _layer: nn.Module) -> list[str]:
                    return [n.removeprefix(f"{prefix}.{i}.") for n in names if n.startswith(f"{prefix}.{i}.")]

                def do_layer(i: int, layer: nn.Module, stats: dict[str, Covariance]) -> None:
                    for short, cov in stats.items():
                        worker.one(f"{prefix}.{i}.{short}", layer.get_submodule(short), cov)
                    worker.release()
                    report("layers", i + 1, len(layers))

                calibrate_layerwise(model, windows, batch, targets, do_layer)
            else:
                stats = model_covariances(model, windows, batch, names)
                for k, name in enumerate(names):
                    worker.one(name, modules[name], stats.pop(name))
                    report("linears", k + 1, len(names))
        else:
            for k, name in enumerate(names):
                worker.one(name, modules[name], None)
                report("linears", k + 1, len(names))
        if head is not None:
            worker.one(head, modules[head], None, head=True)
    if not keep_codes:
        release_codes(model)


def release_codes(model: nn.Module) -> None:
    """Drop the portable int4 codes kept for saving (the kernel's packed copy stays)."""
    for m in model.modules():
        if isinstance(m, Int4Linear):
            m.release_codes()


def compressed_layers(model: nn.Module) -> dict[str, nn.Module]:
    """name -> CompressedLinear or LowRankLinear, for every compressed layer of the model."""
    return {n: m for n, m in model.named_modules() if isinstance(m, CompressedLinear | LowRankLinear)
            and not n.endswith(".base")}


def weight_bytes(model: nn.Module) -> int:
    """Bytes of every parameter and buffer the model holds (compressed layers at their stored size)."""
    seen: set[int] = set()
    total = 0
    for t in list(model.parameters()) + list(model.buffers()):
        if t.data_ptr() in seen:
            continue
        seen.add(t.data_ptr())
        total += t.numel() * t.element_size()
    return total
