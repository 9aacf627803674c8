"""Saved compressed checkpoints: a transformers directory plus the compressed layers in a portable form.

Layout of DIR:
  config.json, generation_config.json, tokenizer files   as `save_pretrained` writes them
  model.safetensors            every tensor that is not part of a compressed layer (embeddings, norms)
  compressed.safetensors       per compressed layer: int4 nibble codes + bfloat16 scales/zeros, or int8
                               codes + scales, or the 2:4 weight; EoRA's lora_A / lora_B beside them
  ratiocinator-compression.json  format version, the CompressionConfig, and each layer's kind and shape
The int4 codes are stored unpacked-to-nibbles (portable); the kernel's machine-specific packing is redone
at load. Load with `load_backend("hf:DIR", compress=CompressionConfig.load("DIR"))`; transformers first
builds the skeleton (the compressed layers' dense weights are absent from model.safetensors and are
replaced right after loading).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ratiocinator.errors import InvalidInput
from ratiocinator.models.compress.config import (
    FORMAT,
    MANIFEST,
    CompressionConfig,
    manifest_config,
    read_manifest,
)
from ratiocinator.models.compress.eora import LowRankLinear
from ratiocinator.models.compress.pipeline import _set_module, compressed_layers
from ratiocinator.models.compress.quantize import (
    CompressedLinear,
    Int4Linear,
    Int8Linear,
    Pruned24Linear,
)

_DTYPES = {"torch.float32": torch.float32, "torch.bfloat16": torch.bfloat16, "torch.float16": torch.float16}


def _base_state(name: str, mod: CompressedLinear) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    meta: dict[str, Any] = {"in_features": mod.in_features, "out_features": mod.out_features}
    bias = {} if mod.bias is None else {f"{name}.bias": mod.bias}
    if isinstance(mod, Int4Linear):
        if mod.codes is None:
            raise InvalidInput(f"{name}: the int4 codes were released; compress with keep_codes=True to save")
        meta.update(kind="int4", group_size=mod.group_size, dtype=str(mod.out_dtype))
        return {f"{name}.codes": mod.codes, f"{name}.scales_and_zeros": mod.scales_and_zeros, **bias}, meta
    if isinstance(mod, Int8Linear):
        meta.update(kind="int8", symmetric=mod.symmetric, dtype=str(mod.out_dtype))
        t = {f"{name}.qweight": mod.qweight, f"{name}.scale": mod.scale, **bias}
        if mod.offset is not None:
            t[f"{name}.offset"] = mod.offset
        return t, meta
    if isinstance(mod, Pruned24Linear):
        meta.update(kind="2:4", dtype=str(mod.weight.dtype))
        return {f"{name}.weight": mod.weight, **bias}, meta
    raise InvalidInput(f"{name}: cannot save a {type(mod).__name__}")


def save(model: nn.Module, tokenizer: Any, cfg: CompressionConfig, out: Path) -> Path:
    """Write a compressed model (compressed in this process with keep_codes=True) to `out`."""
    from safetensors.torch import save_file

    layers = compressed_layers(model)
    if not layers:
        raise InvalidInput("nothing to save: the model has no compressed layer")
    out.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    entries: dict[str, Any] = {}
    for name, mod in layers.items():
        if isinstance(mod, LowRankLinear):
            t, meta = _base_state(f"{name}.base", mod.base)
            t[f"{name}.lora_A"], t[f"{name}.lora_B"] = mod.lora_A, mod.lora_B
            meta["rank"] = mod.rank
        else:
            assert isinstance(mod, CompressedLinear)
            t, meta = _base_state(name, mod)
        tensors.update(t)
        entries[name] = meta
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(out / "compressed.safetensors"))
    dense: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    prefixes = tuple(f"{n}." for n in layers)
    for key, value in model.state_dict().items():
        if key.startswith(prefixes) or value.data_ptr() in seen:
            continue  # compressed, or a tied copy (lm_head.weight = embed_tokens.weight)
        seen.add(value.data_ptr())
        dense[key] = value.detach().contiguous().cpu()
    save_file(dense, str(out / "model.safetensors"), metadata={"format": "pt"})
    model.config.save_pretrained(out)
    gen = getattr(model, "generation_config", None)
    if gen is not None:
        gen.save_pretrained(out)
    tokenizer.save_pretrained(out)
    manifest = {"format": FORMAT, "description": cfg.describe(), "config": manifest_config(cfg), "layers": entries}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return out


def _build(name: str, meta: dict[str, Any], t: dict[str, torch.Tensor]) -> CompressedLinear:
    dtype = _DTYPES[meta["dtype"]]
    bias = t.get(f"{name}.bias")
    kind = meta["kind"]
    if kind == "int4":
        mod4 = Int4Linear.from_codes(t[f"{name}.codes"], t[f"{name}.scales_and_zeros"], bias,
                                     in_features=meta["in_features"], group_size=meta["group_size"], dtype=dtype)
        mod4.release_codes()
        return mod4
    if kind == "int8":
        mod8 = Int8Linear(meta["in_features"], meta["out_features"], bias=bias is not None,
                          symmetric=meta["symmetric"], dtype=dtype)
        mod8.load_state_dict({k.removeprefix(f"{name}."): v for k, v in t.items() if k.startswith(f"{name}.")})
        return mod8
    if kind == "2:4":
        mod24 = Pruned24Linear(meta["in_features"], meta["out_features"], bias=bias is not None, dtype=dtype)
        mod24.load_state_dict({k.removeprefix(f"{name}."): v for k, v in t.items() if k.startswith(f"{name}.")})
        return mod24
    raise InvalidInput(f"{name}: unknown compressed layer kind {kind!r}")


def load_layers(model: nn.Module, directory: Path, cfg: CompressionConfig) -> None:
    """Replace the model's layers with the compressed ones stored in `directory`."""
    from safetensors.torch import load_file

    saved = read_manifest(directory)
    if cfg.describe() != saved.describe():
        raise InvalidInput(f"{directory} holds a {saved.describe()} checkpoint but {cfg.describe()} was asked for; "
                           f"pass compress=CompressionConfig.load({str(directory)!r})")
    entries = json.loads((directory / MANIFEST).read_text())["layers"]
    tensors = load_file(str(directory / "compressed.safetensors"))
    for name, meta in entries.items():
        if "rank" in meta:
            base = _build(f"{name}.base", meta, tensors)
            mod: nn.Module = LowRankLinear(base, tensors[f"{name}.lora_A"], tensors[f"{name}.lora_B"],
                                           dtype=tensors[f"{name}.lora_A"].dtype)
        else:
            mod = _build(name, meta, tensors)
        device = next(model.parameters()).device
        _set_module(model, name, mod.to(device))
