"""PrefixCache (models/prefix.py): longest shared prefix found, LRU eviction, bounds, freed values told."""

from __future__ import annotations

import numpy as np

from ratiocinator.models.prefix import PrefixCache, common_prefix


def _cache(entries: int = 4, tokens: int = 100) -> tuple[PrefixCache[str], list[str]]:
    freed: list[str] = []
    return PrefixCache(max_entries=entries, max_tokens=tokens, on_evict=freed.append), freed


def test_common_prefix():
    a = np.array([1, 2, 3, 4])
    assert common_prefix(a, np.array([1, 2, 9])) == 2
    assert common_prefix(a, np.array([1, 2, 3, 4, 5])) == 4
    assert common_prefix(a, np.array([], dtype=np.int64)) == 0
    assert common_prefix(a, np.array([7])) == 0


def test_lookup_finds_the_longest_shared_prefix_and_respects_the_limit():
    cache, _ = _cache()
    cache.put([1, 2, 3], "short")
    cache.put([1, 2, 9, 9, 9], "other")
    cache.put([5, 6], "far")
    assert cache.lookup([1, 2, 3, 7]) == (3, "short")
    assert cache.lookup([1, 2, 9, 9, 1]) == (4, "other")
    assert cache.lookup([1, 2, 9, 9, 9], limit=4) == (4, "other")
    assert cache.lookup([8]) == (0, None)
    assert cache.hits == 3 and cache.reused_tokens == 11


def test_an_entry_that_a_new_one_extends_is_dropped_and_a_covered_one_is_freed_at_once():
    cache, freed = _cache()
    cache.put([1, 2], "a")
    cache.put([1, 2, 3, 4], "b")  # extends a: a is no longer needed
    assert freed == ["a"] and len(cache) == 1
    cache.put([1, 2, 3], "c")  # covered by b: c is freed, b stays
    assert freed == ["a", "c"] and cache.values() == ["b"]


def test_least_recently_used_goes_first_within_the_bounds():
    cache, freed = _cache(entries=2, tokens=100)
    cache.put([1], "x")
    cache.put([2], "y")
    cache.lookup([1, 5])  # x is now the most recent
    cache.put([3], "z")
    assert freed == ["y"] and sorted(cache.values()) == ["x", "z"]
    cache, freed = _cache(entries=10, tokens=5)
    cache.put([1, 1, 1], "p")
    cache.put([2, 2, 2], "q")  # 6 tokens > 5: p goes
    assert freed == ["p"] and cache.tokens == 3
    cache.put(list(range(10, 20)), "big")  # larger than the whole bound: never kept
    assert freed == ["p", "big"]


def test_shrink_evict_one_and_clear_free_everything_they_drop():
    cache, freed = _cache(entries=5, tokens=100)
    for i in range(4):
        cache.put([i] * 10, str(i))
    cache.shrink(25)
    assert freed == ["0", "1"] and cache.tokens == 20
    assert cache.evict_one() and freed[-1] == "2"
    cache.clear()
    assert freed == ["0", "1", "2", "3"] and len(cache) == 0 and cache.tokens == 0
    assert not cache.evict_one()


def test_a_measure_of_shared_memory_replaces_the_sum_of_lengths():
    freed: list[int] = []
    shared = {1: 100, 2: 100, 3: 100}  # three entries over one 90-token prompt: 90 shared + 10 each
    cache = PrefixCache(max_entries=8, max_tokens=125, on_evict=freed.append,
                        measure=lambda values: 90 + 10 * len(values) if values else 0)
    for value in shared:
        cache.put(list(range(90)) + [1000 + value] * 10, value)
    assert len(cache) == 3 and cache.held() == 120 and not freed  # the sum of lengths (300) would evict two
    cache.put(list(range(90)) + [2000] * 10, 4)
    assert freed == [1] and cache.held() == 120
