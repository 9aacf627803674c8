"""EoRA for a GGUF: the low-rank compensation of a GGUF's own quantization error, written as a llama.cpp LoRA adapter.

EoRA (Liu et al., NVIDIA, 2024; models/compress/eora.py) compensates W − W_c in the eigenspace of the
layer's inputs. Here W_c is what llama.cpp computes with — each weight of the GGUF file dequantized
(gguf-py's reference dequantizers, any GGML type) — and W the original checkpoint's weight, so the
factors B A fix the error of the very file the fast engine runs. They are written as a LoRA adapter
(GGUF `general.type = adapter`, `adapter.type = lora`, alpha = rank so that llama.cpp's scale is 1),
which llama.cpp adds to the quantized matmuls at run time (`LlamaCppConfig(lora=...)`).

Calibration is sequential, as in the reference code and `EoRAConfig.sequential`: decoder layer i is
calibrated on what layers 0..i-1 compute with their GGUF weights plus their compensation (the HF
model's linears are overwritten with W_c + B A as the pass goes; the model is spent afterwards).

Written by hand because no library computes EoRA against a GGUF's quantization or writes the adapter:
llama.cpp's own convert_lora_to_gguf.py only converts a PEFT adapter trained elsewhere.
"""

from __future__ import annotations

import ctypes
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import ratiocinator.models.catalog as catalog
from ratiocinator.errors import InvalidInput, UnsupportedFeature
from ratiocinator.models.compress.calibrate import Covariance, calibrate_layerwise, decoder_layers
from ratiocinator.models.compress.config import EoRAConfig
from ratiocinator.models.compress.data import token_windows
from ratiocinator.models.compress.eora import EigenBasis, gram_factors, lazy_basis

#: a decoder layer's linear (HF module path inside the layer) -> its GGUF tensor name, as llama.cpp's
#: converter names them for the llama family (Qwen2, Llama, Mistral, ...)
GGUF_LINEARS = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
#: architectures whose converter writes q/k as in the checkpoint, and those whose q/k rows it permutes
#: per head (llama.cpp's LlamaModel.permute, for its rotary layout); other architectures are refused
UNPERMUTED = ("qwen2", "qwen3")
PERMUTED = ("llama",)
#: ‖W − W_c‖ / ‖W‖ above this means the file holds other weights than the checkpoint (a 2-bit file is ~0.3)
MAX_RELATIVE_ERROR = 0.5


@dataclass(frozen=True, kw_only=True)
class AdapterReport:
    """What `write_eora_adapter` wrote: the file, its rank and method, and how much of the error it removed."""

    path: Path
    rank: int
    method: str
    layers: int
    #: Σ‖(W − W_c) X‖² / Σ‖W X‖² over the calibration inputs, before and after the compensation
    error_before: float
    error_after: float
    seconds: float
    sha256: str


class GGUFWeights:
    """The dequantized weights of a GGUF file's decoder linears, read on demand (float32, [out, in])."""

    def __init__(self, path: Path) -> None:
        from gguf import GGUFReader  # gguf-py, installed with the llama.cpp engine

        self.path = Path(path)
        try:
            self.reader = GGUFReader(self.path)
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{self.path}: not a GGUF file gguf-py can read ({exc})") from None
        arch = self.reader.fields.get("general.architecture")
        self.arch = arch.contents() if arch is not None else None
        if self.arch not in UNPERMUTED + PERMUTED:
            raise UnsupportedFeature(f"{self.path}: architecture {self.arch!r}; EoRA adapters are written for "
                                     f"{', '.join(UNPERMUTED + PERMUTED)} (files whose weight layout is known)")
        self.tensors = {t.name: t for t in self.reader.tensors}

    def weight(self, name: str) -> np.ndarray:
        from gguf.quants import dequantize

        if name not in self.tensors:
            raise InvalidInput(f"{self.path}: no tensor {name!r} (a GGUF of another model?)")
        t = self.tensors[name]
        return np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32)


def rotary_rows(w: torch.Tensor, heads: int, inverse: bool = False) -> torch.Tensor:
    """llama.cpp's per-head row order of a llama q/k weight (`inverse`: back to the checkpoint's order)."""
    half = w.shape[0] // heads // 2
    if inverse:
        return w.reshape(heads, half, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
    return w.reshape(heads, 2, half, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _layer_targets(layer: nn.Module) -> list[str]:
    have = dict(layer.named_modules())
    return [n for n in GGUF_LINEARS if isinstance(have.get(n), nn.Linear)]


class _Compensator:
    """Per layer: the factors of each linear against its GGUF weight; the layer then computes W_c + B A."""

    def __init__(self, gguf: GGUFWeights, cfg: EoRAConfig, heads: dict[str, int]) -> None:
        self.gguf, self.cfg, self.heads = gguf, cfg, heads
        self.factors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.err = np.zeros(3)  # Σ‖ΔW X‖², Σ‖(ΔW − BA) X‖², Σ‖W X‖²

    def __call__(self, index: int, layer: nn.Module, stats: dict[str, Covariance]) -> None:
        modules = dict(layer.named_modules())
        bases: dict[int, EigenBasis] = {}
        for local in _layer_targets(layer):
            linear, cov = modules[local], stats[local]
            assert cov.mean is not None
            name = f"blk.{index}.{GGUF_LINEARS[local]}.weight"
            w = self._file_order(local, linear.weight.detach().float())
            wc = torch.from_numpy(self.gguf.weight(name))
            if tuple(wc.shape) != tuple(w.shape):
                raise InvalidInput(f"{self.gguf.path}: {name} is {tuple(wc.shape)}, the checkpoint's {local} of "
                                   f"layer {index} is {tuple(w.shape)} (a GGUF of another model?)")
            delta = w - wc
            rel = float(delta.norm() / w.norm().clamp_min(1e-12))
            if rel > MAX_RELATIVE_ERROR:
                raise InvalidInput(f"{self.gguf.path}: {name} differs from the checkpoint by {rel:.2f} of its norm "
                                   "(a GGUF of another model or checkpoint?)")
            b, a = self._factors(delta, cov, bases)
            self._account(w, delta, b, a, cov.mean)
            self.factors[name] = (a.numpy(), b.numpy())
            fixed = self._file_order(local, wc + b @ a, inverse=True)
            linear.weight.data.copy_(fixed.to(linear.weight.dtype))

    def _file_order(self, local: str, w: torch.Tensor, inverse: bool = False) -> torch.Tensor:
        """`w` in the file's row order (or back): llama's q/k rows are permuted per head, nothing else is."""
        if self.gguf.arch not in PERMUTED or local not in self.heads:
            return w
        return rotary_rows(w, self.heads[local], inverse)

    def _factors(self, delta: torch.Tensor, cov: Covariance, bases: dict[int, EigenBasis]) -> tuple[torch.Tensor, torch.Tensor]:
        if self.cfg.method == "svd":
            return gram_factors(delta, self.cfg.rank)
        mean = cov.mean
        assert mean is not None
        return gram_factors(delta, self.cfg.rank, mean, lazy_basis(mean, id(cov), bases))

    def _account(self, w: torch.Tensor, delta: torch.Tensor, b: torch.Tensor, a: torch.Tensor, c: torch.Tensor) -> None:
        """E‖m x‖² = tr(m C mᵀ) for ΔW, ΔW − BA and W; the middle one from ΔW C and rank-r products only
        (tr((ΔW − BA) C (ΔW − BA)ᵀ) = tr(ΔW C ΔWᵀ) − 2 tr(Bᵀ ΔW C Aᵀ) + tr(A C Aᵀ BᵀB)), so two of the
        out × in × in products are computed, not three."""
        c, d, b, a = c.double(), delta.double(), b.double(), a.double()
        dc = d @ c
        before = float((dc * d).sum())
        after = before - 2 * float(((b.t() @ dc) * a).sum()) + float(((a @ c @ a.t()) * (b.t() @ b)).sum())
        wd = w.double()
        self.err += (before, after, float(((wd @ c) * wd).sum()))


def write_adapter(path: Path, arch: str, factors: dict[str, tuple[np.ndarray, np.ndarray]], rank: int) -> None:
    """A llama.cpp LoRA adapter GGUF: per weight `NAME.lora_a` [r, in] and `NAME.lora_b` [out, r] in float16."""
    from gguf import GGUFWriter, Keys

    writer = GGUFWriter(str(path), arch)
    writer.add_type("adapter")
    writer.add_string(Keys.Adapter.TYPE, "lora")
    writer.add_float32(Keys.Adapter.LORA_ALPHA, float(rank))  # llama.cpp scales B A by alpha / rank
    for name, (a, b) in factors.items():
        writer.add_tensor(f"{name}.lora_a", np.ascontiguousarray(a, dtype=np.float16))
        writer.add_tensor(f"{name}.lora_b", np.ascontiguousarray(b, dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_eora_adapter(gguf_path: Path, model: nn.Module, tokenizer: Any, out: Path, cfg: EoRAConfig, *,
                       progress: Callable[[int, int], None] | None = None) -> AdapterReport:
    """Compute EoRA (or SVD) factors of `gguf_path`'s quantization error against `model`'s weights; write the adapter.

    `model` is the file's original checkpoint (float32 or bfloat16, CPU); its linears are overwritten
    as calibration goes (sequential), so pass a model loaded for this purpose only.
    """
    start = time.perf_counter()
    gguf = GGUFWeights(gguf_path)
    n_layers = len(decoder_layers(model))
    windows = token_windows(tokenizer, split="calibration", n=cfg.calibration_samples, seq_len=cfg.calibration_len,
                            domain=cfg.domain)
    config = getattr(model, "config", None)
    n_head = getattr(config, "num_attention_heads", None)
    heads = {} if n_head is None else {
        "self_attn.q_proj": n_head, "self_attn.k_proj": getattr(config, "num_key_value_heads", None) or n_head}
    comp = _Compensator(gguf, cfg, heads)

    def compress_layer(i: int, layer: nn.Module, stats: dict[str, Covariance]) -> None:
        comp(i, layer, stats)
        if progress is not None:
            progress(i + 1, n_layers)

    calibrate_layerwise(model, windows, cfg.batch_size, lambda _i, layer: _layer_targets(layer), compress_layer)
    if not comp.factors:
        raise UnsupportedFeature(f"{gguf_path}: the checkpoint has no decoder linears EoRA knows ({', '.join(GGUF_LINEARS)})")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    write_adapter(partial, gguf.arch, comp.factors, cfg.rank)
    partial.replace(out)
    before, after, total = comp.err
    return AdapterReport(path=out, rank=cfg.rank, method=cfg.method, layers=n_layers, error_before=before / total,
                         error_after=after / total, seconds=time.perf_counter() - start, sha256=catalog.file_sha256(out))



@dataclass(frozen=True, kw_only=True)
class GGUFCompression:
    """`--compress` for an embedded model on llama.cpp: its GGUF requantized to `ftype`, optionally EoRA-compensated.

    The embedded checkpoint is the shipped GGUF dequantized (models/catalog.py), so the shipped file
    itself has nothing to compensate; a smaller type (Q4_0, Q3_K_S, Q2_K, ...) made from it does, and
    its EoRA factors are computed against the shipped weights. Spec: "q3_k_s", "q3_k_s+eora64", "q2_k+svd64".
    """

    ftype: str
    eora: EoRAConfig | None = None

    @property
    def label(self) -> str:
        return self.ftype.lower() + ("" if self.eora is None else f"+{self.eora.label}")

    @classmethod
    def parse(cls, spec: Any) -> GGUFCompression:
        if isinstance(spec, GGUFCompression):
            return spec
        from ratiocinator.models.llamacpp_native import FTYPES, gguf_type

        parts = [p.strip() for p in str(spec).split("+") if p.strip()]
        ftype = gguf_type(spec)
        if ftype is None:
            raise InvalidInput(f"compress {spec!r}: a llamacpp: model is compressed by requantizing its GGUF; expected "
                               f"a type ({', '.join(sorted(t.lower() for t in FTYPES))}) optionally followed by "
                               "+eoraN or +svdN, e.g. q3_k_s+eora64")
        if len(parts) > 2:
            raise InvalidInput(f"compress {spec!r}: expected one compensation (eoraN or svdN) after the type")
        return cls(ftype=ftype, eora=_compensation(spec, parts[1]) if len(parts) == 2 else None)


def _compensation(spec: Any, part: str) -> EoRAConfig:
    for prefix, method in (("eora", "eigen"), ("svd", "svd")):
        if part.startswith(prefix) and part[len(prefix):].isdigit():
            return EoRAConfig(rank=int(part[len(prefix):]), method=method)  # type: ignore[arg-type]
    raise InvalidInput(f"compress {spec!r}: cannot read {part!r} after the type; expected eoraN or svdN (e.g. eora64)")


def requantize(src: Path, dst: Path, ftype: str, *, threads: int | None = None) -> Path:
    """`src` requantized to `ftype` by llama.cpp's own quantizer (llama_model_quantize, requantizing allowed)."""
    from ratiocinator.models.llamacpp_native import FTYPES, library

    lib = library()
    params = lib.llama_model_quantize_default_params()
    params.ftype = FTYPES[ftype]
    params.allow_requantize = True
    params.nthread = threads or 1
    dst.parent.mkdir(parents=True, exist_ok=True)
    partial = dst.with_name(dst.name + ".partial")
    if lib.llama_model_quantize(str(src).encode(), str(partial).encode(), ctypes.byref(params)) != 0:
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"llama.cpp could not requantize {src} to {ftype}")
    partial.replace(dst)
    return dst


def embedded_compressed(model: Any, comp: GGUFCompression, *, threads: int | None = None, cache_dir: Path | None = None,
                        progress: Callable[[int, int], None] | None = None) -> tuple[Path, Path | None]:
    """(the requantized GGUF, its EoRA adapter or None) of an embedded model, made once (minutes) and cached.

    Both live in `cache_dir` (default: the model cache's gguf/), named by the type, the compensation's
    settings and the shipped file's hash, so another file or setting gets its own.
    """
    cache_dir = cache_dir or catalog.home() / "gguf"
    small = cache_dir / f"{model.name}.{comp.ftype.lower()}-{model.sha256[:12]}.gguf"
    if not small.is_file():
        requantize(catalog.gguf_file(model), small, comp.ftype, threads=threads)
    if comp.eora is None:
        return small, None
    key = hashlib.sha256(repr((model.sha256, comp)).encode()).hexdigest()[:12]
    out = cache_dir / f"{model.name}.{comp.label.replace('+', '.')}-{key}.gguf"
    if out.is_file():
        return small, out
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if threads is not None:
        torch.set_num_threads(threads)
    path = catalog.prepare(model)  # the shipped weights, dequantized: what the smaller file is compared with
    hf = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(path)
    write_eora_adapter(small, hf, tok, out, comp.eora, progress=progress)
    return small, out
