"""The Backend protocol every agent talks to and its shared base (input checks, response cache).

Backends are loaded from a model spec by `load_backend` (models/loading.py); this module imports
none of them. `generate` returns a flat list, prompt-major: for P prompts and `params.n` = k it holds P*k
Completions, those of prompt 0 first.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from ratiocinator.errors import InvalidInput, UnsupportedFeature
from ratiocinator.models.cache import PromptItem, ResponseCache, cache_key, cacheable
from ratiocinator.models.catalog import home
from ratiocinator.models.types import BackendInfo, Completion, Message, SamplingParams, TokenLogprob

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

    def score_tokens(self, prompt: Prompt, pieces: Sequence[str]) -> list[list[TokenLogprob]]: ...

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


def check_pieces(pieces: Sequence[str]) -> None:
    """InvalidInput unless `pieces` is a non-empty list of strings (`score_tokens`' argument)."""
    if isinstance(pieces, str) or not pieces or not all(isinstance(p, str) for p in pieces):
        raise InvalidInput("pieces: expected a non-empty list of strings")


def tokenize_pieces(
    pieces: Sequence[str], tokenize: Callable[[str], Sequence[int]]
) -> tuple[list[list[int]], list[int]]:
    """`score_tokens`' pieces checked and tokenized each on its own: the ids per piece, and all of them in order."""
    check_pieces(pieces)
    ids = [list(tokenize(p)) for p in pieces]
    flat = [t for piece in ids for t in piece]
    if not flat:
        raise InvalidInput(f"pieces {list(pieces)!r} have no tokens")
    return ids, flat


def split_pieces(tokens: Sequence[TokenLogprob], ids: Sequence[Sequence[int]]) -> list[list[TokenLogprob]]:
    """Scored tokens in order, cut back into the pieces whose ids they came from."""
    it = iter(tokens)
    return [[next(it) for _ in piece] for piece in ids]


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
    """The package's shared response cache (a SQLite file in the ratiocinator home)."""
    return ResponseCache(home() / "cache" / "responses.sqlite")


_CALL_CACHE_LOCK = threading.Lock()


class BaseBackend(ABC):
    """Input normalisation and the response cache around a backend's `_generate`.

    `self.cache` is the backend's cache (used by every call unless a call passes cache=False). A call
    with cache=True on a backend without one uses the default cache for that call only: it is opened
    on first such call, kept in `_call_cache` for later ones, and never becomes `self.cache`.
    """

    _call_cache: ResponseCache | None = None

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

    def score_tokens(self, prompt: Prompt, pieces: Sequence[str]) -> list[list[TokenLogprob]]:
        """Each token's log-probability, with the model's own top choice there (`top`, one entry), when
        `pieces` are written one after another after `prompt`; one list per piece.

        Each piece is tokenized on its own (as `score` tokenizes each continuation), so a caller can
        tell which tokens belong to which part of a text. `sum` of a piece's logprobs, for a single
        piece, equals `score(prompt, [piece])`.
        """
        raise UnsupportedFeature(f"{type(self).__name__} does not score tokens")

    @abstractmethod
    def stream(self, prompt: Prompt, params: SamplingParams | None = None) -> Iterator[str]: ...

    def close(self) -> None:
        for store in (self.cache, self._call_cache):
            if store is not None:
                store.close()
        self._call_cache = None

    def _store(self, cache: bool | None) -> ResponseCache | None:
        """The cache of one call: none with cache=False, the backend's own, else the default one on request."""
        if cache is False:
            return None
        if self.cache is not None or cache is not True:
            return self.cache
        with _CALL_CACHE_LOCK:
            if self._call_cache is None:
                self._call_cache = default_cache()
            return self._call_cache

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
        store = self._store(cache)
        use = store is not None and cacheable(params)
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
