"""Layer-by-layer calibration of a decoder: input covariances E[xᵀx] of every linear layer, in sequence.

As in the EoRA / GPTQ reference code, the hidden states entering decoder layer 0 are captured once;
then for each layer i: run it over the calibration windows with hooks that accumulate, per distinct
input (q/k/v share one, gate/up share one), the running mean of xᵀx in float32; hand the statistics
to a callback that compresses the layer in place; run the compressed layer again to produce the inputs
of layer i+1. So every layer is calibrated on what the already compressed layers before it produce.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ratiocinator.errors import UnsupportedFeature


@dataclass
class Covariance:
    """Running mean of xᵀx over the rows x seen so far (float32) and their count."""

    dim: int
    count: int = 0
    mean: torch.Tensor | None = None
    users: list[str] = field(default_factory=list)

    def add(self, x: torch.Tensor) -> None:
        x = x.reshape(-1, self.dim).float()
        m = x.shape[0]
        if self.mean is None:
            self.mean = torch.zeros(self.dim, self.dim, dtype=torch.float32, device=x.device)
        total = self.count + m
        self.mean.mul_(self.count / total).addmm_(x.t(), x, alpha=1.0 / total)
        self.count = total

    @property
    def diagonal(self) -> torch.Tensor:
        """E[x_j²] per input (Wanda's squared input norm, up to the row count)."""
        assert self.mean is not None
        return self.mean.diagonal().clone()


class _StopForward(Exception):
    pass


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The decoder's list of layers (`model.model.layers` for Llama/Qwen/SmolLM-style models)."""
    inner = getattr(model, "model", None)
    layers = getattr(inner, "layers", None)
    if isinstance(layers, nn.ModuleList) and len(layers) > 0:
        return layers
    raise UnsupportedFeature(f"{type(model).__name__}: no decoder layer list at model.model.layers; "
                             "layer-wise calibration supports Llama/Qwen/Mistral-style causal LMs")


def _check_uniform_attention(model: nn.Module) -> None:
    types = getattr(getattr(model, "config", None), "layer_types", None)
    if types and len(set(types)) > 1:
        raise UnsupportedFeature(f"layer-wise calibration replays one attention mask for every layer, but this "
                                 f"model mixes layer types {sorted(set(types))}; use sequential=False")


def capture_inputs(model: nn.Module, windows: torch.Tensor, batch_size: int) -> list[tuple[torch.Tensor, dict[str, Any]]]:
    """(hidden states, keyword arguments) entering decoder layer 0, per batch of windows."""
    _check_uniform_attention(model)
    first = decoder_layers(model)[0]
    captured: list[tuple[torch.Tensor, dict[str, Any]]] = []

    def grab(_module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        hidden = args[0] if args else kwargs.pop("hidden_states")
        kwargs = {k: v for k, v in kwargs.items() if k != "hidden_states"}
        captured.append((hidden, kwargs))
        raise _StopForward

    handle = first.register_forward_pre_hook(grab, with_kwargs=True)
    device = next(model.parameters()).device
    try:
        for start in range(0, windows.shape[0], batch_size):
            try:
                model(input_ids=windows[start:start + batch_size].to(device), use_cache=False)
            except _StopForward:
                pass
    finally:
        handle.remove()
    return captured


def _run(layer: nn.Module, hidden: torch.Tensor, kwargs: dict[str, Any]) -> torch.Tensor:
    out = layer(hidden, **kwargs)
    return out[0] if isinstance(out, tuple) else out


def layer_covariances(layer: nn.Module, names: list[str],
                      batches: list[tuple[torch.Tensor, dict[str, Any]]]) -> dict[str, Covariance]:
    """Covariance of the input of each named linear of `layer` over all batches (shared inputs share one)."""
    modules = dict(layer.named_modules())
    stats: dict[str, Covariance] = {}
    last: dict[str, Any] = {"x": None, "cov": None}  # holds the tensor: identity, not a reusable address

    def hook(name: str) -> Callable[..., None]:
        def record(_m: nn.Module, inputs: tuple[torch.Tensor, ...], _out: Any) -> None:
            x = inputs[0]
            if last["x"] is x:  # the same tensor as the previous linear's input: q/k/v, gate/up
                cov = last["cov"]
            else:
                cov = stats.get(name) or Covariance(dim=x.shape[-1])
                cov.add(x.detach())
                last["x"], last["cov"] = x, cov
            if name not in stats:
                stats[name] = cov
                cov.users.append(name)
        return record

    handles = [modules[n].register_forward_hook(hook(n)) for n in names]
    try:
        for hidden, kwargs in batches:
            _run(layer, hidden, kwargs)
            last["x"] = None
    finally:
        for h in handles:
            h.remove()
    return stats


@torch.inference_mode()
def calibrate_layerwise(model: nn.Module, windows: torch.Tensor, batch_size: int,
                        targets: Callable[[int, nn.Module], list[str]],
                        compress_layer: Callable[[int, nn.Module, dict[str, Covariance]], None]) -> None:
    """Compress every decoder layer in order, each calibrated on its (already compressed) predecessors."""
    batches = capture_inputs(model, windows, batch_size)
    for i, layer in enumerate(decoder_layers(model)):
        names = targets(i, layer)
        stats = layer_covariances(layer, names, batches) if names else {}
        compress_layer(i, layer, stats)
        batches = [(_run(layer, hidden, kwargs), kwargs) for hidden, kwargs in batches]


@torch.inference_mode()
def model_covariances(model: nn.Module, windows: torch.Tensor, batch_size: int,
                      names: list[str]) -> dict[str, Covariance]:
    """Input covariances of the named linears from one pass of the unmodified model (non-sequential)."""
    modules = dict(model.named_modules())
    stats: dict[str, Covariance] = {}
    last: dict[str, Any] = {"x": None, "cov": None}

    def hook(name: str) -> Callable[..., None]:
        def record(_m: nn.Module, inputs: tuple[torch.Tensor, ...], _out: Any) -> None:
            x = inputs[0]
            if last["x"] is x:  # shared input (q/k/v, gate/up): one covariance
                cov = last["cov"]
            else:
                cov = stats.get(name) or Covariance(dim=x.shape[-1])
                cov.add(x.detach())
                last["x"], last["cov"] = x, cov
            stats.setdefault(name, cov)
        return record

    handles = [modules[n].register_forward_hook(hook(n)) for n in names]
    device = next(model.parameters()).device
    try:
        for start in range(0, windows.shape[0], batch_size):
            model(input_ids=windows[start:start + batch_size].to(device), use_cache=False)
            last["x"] = None
    finally:
        for h in handles:
            h.remove()
    return stats
