"""A token-keyed prefix cache: computed prompt prefixes found again by longest common prefix, LRU, bounded.

Both local engines keep the KV state of what they computed (the llama.cpp backend a sequence of its
KV cells, the transformers backend a KV cache object) under the token ids it covers. A new request
looks up the entry that shares the longest prefix with its own token ids and computes only the rest,
so the calls of an agent (one system prompt and tool list, a dialogue that grows by a turn at a
time) and the scored continuations of one prompt do not recompute what they share.

The store is bounded by a count of entries and a count of tokens: by default each entry's own length
(entries that share memory in the engine are then counted once each, an upper bound on the memory);
an engine that knows what its entries share passes `measure`, the tokens they hold together.
The least recently used entry is evicted first, and `on_evict` is told, so that the engine frees it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """The number of leading tokens two id arrays share."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if len(differ) else n


@dataclass
class Entry(Generic[T]):
    """One cached prefix: the token ids it covers and the engine's handle of their computed state."""

    ids: np.ndarray
    value: T
    size: int  # what it counts against the token bound


class PrefixCache(Generic[T]):
    """Longest-common-prefix lookup over at most `max_entries` entries and `max_tokens` tokens."""

    def __init__(self, *, max_entries: int, max_tokens: int, on_evict: Callable[[T], None],
                 measure: Callable[[list[T]], int] | None = None) -> None:
        if max_entries < 0 or max_tokens < 0:
            raise ValueError("max_entries and max_tokens must be >= 0")
        self.max_entries, self.max_tokens = max_entries, max_tokens
        self.on_evict = on_evict
        self.measure = measure  # the tokens some entries' values hold together; None: the sum of their sizes
        self._entries: OrderedDict[int, Entry[T]] = OrderedDict()  # least recently used first
        self._next = 0
        self.tokens = 0
        self.hits = 0  # lookups that reused at least one token
        self.reused_tokens = 0

    def __len__(self) -> int:
        return len(self._entries)

    def values(self) -> list[T]:
        return [e.value for e in self._entries.values()]

    def lookup(self, ids: Sequence[int], *, limit: int | None = None) -> tuple[int, T | None]:
        """(n, value): the entry sharing the longest prefix with `ids` (n tokens, at most `limit`).

        A hit becomes the most recently used entry. (0, None) when nothing is shared.
        """
        best, key = self._longest(ids, limit)
        if key is None:
            return 0, None
        if best > 0:
            self.hits += 1
            self.reused_tokens += best
        return best, self._entries[key].value

    def peek(self, ids: Sequence[int], *, limit: int | None = None) -> int:
        """How many tokens of `ids` a lookup would find; that entry becomes the most recently used (no hit counted)."""
        return self._longest(ids, limit)[0]

    def _longest(self, ids: Sequence[int], limit: int | None) -> tuple[int, int | None]:
        query = np.asarray(ids, dtype=np.int64)
        best, best_key = 0, None
        for key, entry in self._entries.items():
            n = common_prefix(entry.ids, query)
            if n > best:
                best, best_key = n, key
        if best_key is None:
            return 0, None
        self._entries.move_to_end(best_key)
        return (best if limit is None else min(best, limit)), best_key

    def put(self, ids: Sequence[int], value: T, *, size: int | None = None) -> None:
        """Keep `value` as the computed state of `ids`; entries that `ids` extends are dropped.

        If an entry already covers `ids` (they are its prefix), the new value is freed at once.
        """
        arr = np.asarray(ids, dtype=np.int64)
        size = len(arr) if size is None else size
        for key, entry in list(self._entries.items()):
            n = common_prefix(entry.ids, arr)
            if n == len(arr) and len(entry.ids) >= len(arr):
                self._entries.move_to_end(key)
                self.on_evict(value)
                return
            if n == len(entry.ids):  # the new entry extends this one
                self._drop(key)
        if size > self.max_tokens or self.max_entries == 0:
            self.on_evict(value)
            return
        self._entries[self._next] = Entry(ids=arr, value=value, size=size)
        self._next += 1
        self.tokens += size
        self.shrink(self.max_tokens, self.max_entries)

    def shrink(self, max_tokens: int, max_entries: int | None = None) -> None:
        """Evict least recently used entries until at most `max_tokens` tokens (and entries) remain."""
        limit = self.max_entries if max_entries is None else max_entries
        while self._entries and (self.held() > max_tokens or len(self._entries) > limit):
            self._drop(next(iter(self._entries)))

    def held(self) -> int:
        """The tokens the entries hold: `measure` of their values, else the sum of their sizes."""
        return self.tokens if self.measure is None else self.measure(self.values())

    def evict_one(self) -> bool:
        """Evict the least recently used entry; False when the cache is empty."""
        if not self._entries:
            return False
        self._drop(next(iter(self._entries)))
        return True

    def clear(self) -> None:
        self.shrink(0, 0)

    def _drop(self, key: int) -> None:
        entry = self._entries.pop(key)
        self.tokens -= entry.size
        self.on_evict(entry.value)
