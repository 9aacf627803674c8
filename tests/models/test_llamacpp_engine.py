"""The llama.cpp engine's scheduling on a fake unified KV cache: cells counted once, prefixes kept, nothing leaked.

FakeNative keeps llama.cpp's cell model (each cell a position and the set of sequences holding it;
`seq_cp` adds a holder, `seq_rm` removes one and frees cells nobody holds; `decode` fails with 1 when
there are fewer free cells than tokens), so these tests check the engine's accounting without a model.
"""

from __future__ import annotations

import random
import types

import numpy as np
import pytest

from ratiocinator.models.decoding import Row
from ratiocinator.models.llamacpp_engine import Engine


class FakeNative:
    def __init__(self, n_ctx: int, n_seq: int, ubatch: int = 63) -> None:
        self.spec = types.SimpleNamespace(n_ctx=n_ctx, n_seq=n_seq, threads=1, ubatch=ubatch)
        self.cells: list[tuple[int, set[int]] | None] = [None] * n_ctx
        self.peak = 0
        self.calls: list[int] = []  # items per decode call

    def used(self) -> int:
        return sum(c is not None for c in self.cells)

    def holders(self) -> set[int]:
        return {s for c in self.cells if c for s in c[1]}

    def seq_rm(self, seq: int, p0: int = -1, p1: int = -1) -> None:
        for i, c in enumerate(self.cells):
            if c and seq in c[1]:
                c[1].discard(seq)
                if not c[1]:
                    self.cells[i] = None

    def seq_cp(self, src: int, dst: int, p0: int = -1, p1: int = -1) -> None:
        lo, hi = (0, 1 << 60) if p0 < 0 else (p0, p1)
        for c in self.cells:
            if c and src in c[1] and lo <= c[0] < hi:
                c[1].add(dst)

    def decode(self, items) -> int:
        assert 0 < len(items) <= self.spec.ubatch
        self.calls.append(len(items))
        free = [i for i, c in enumerate(self.cells) if c is None]
        if len(free) < len(items):
            return 1
        for (_, pos, seq, _), i in zip(items, free, strict=False):
            self.cells[i] = (pos, {seq})
        self.peak = max(self.peak, self.used())
        return 0

    def logits(self, index: int) -> np.ndarray:
        return np.zeros(8, dtype=np.float32)


class FakePicker:
    def bitmask(self, params, rows):
        return None

    def choose(self, logits, rows, params, bitmask) -> None:
        for r in rows:
            r.tokens.append(1)
            r.done = len(r.tokens) >= r.max_new


def _engine(n_ctx: int, *, n_seq: int = 40, entries: int = 32, tokens: int | None = None,
            ubatch: int = 63) -> tuple[FakeNative, Engine]:
    native = FakeNative(n_ctx, n_seq, ubatch)
    return native, Engine(native, FakePicker(), max_batch=16, prefix_entries=entries, prefix_tokens=tokens or n_ctx)


def _row(ids, max_new: int) -> Row:
    return Row(prompt_ids=list(ids), generator=None, max_new=max_new)


def _consistent(native: FakeNative, engine: Engine) -> None:
    assert engine.cells.cells() == native.used()
    assert not engine._active
    assert native.holders() <= set(engine.prefix.values())
    assert len(set(engine._free)) == len(engine._free)
    assert len(engine._free) + len(engine.prefix) == native.spec.n_seq - 1  # the last one is scratch


def test_rows_that_copy_a_cached_text_keep_it_while_a_later_row_makes_room():
    """Two rows extend a cached 6,000-token text by 50: they hold its cells from admission on."""
    native, engine = _engine(8192)
    text = list(range(10, 6010))
    list(engine.run([_row(text, 1)], None))
    before = engine.computed_tokens
    rows = [_row(range(20000, 20400), 1000), _row([*text, *[7] * 50], 1000), _row([*text, *[8] * 50], 1000)]
    list(engine.run(rows, None))
    assert engine.computed_tokens - before == 400 + 50 + 50
    assert native.peak <= 8192
    _consistent(native, engine)


def test_a_row_sharing_with_a_second_pass_row_is_planned_as_it_is_computed():
    """C shares 3,100 tokens with B, which itself copies from A after the first pass: C copies from the cache or A."""
    native, engine = _engine(8192)
    s, p = list(range(10, 110)), list(range(1000, 4000))
    rows = [_row([*s, *[7] * 10], 1600), _row([*s, *p, *[8] * 10], 1600), _row([*s, *p, *[9] * 10], 1600)]
    list(engine.run(rows, None))
    assert native.peak <= 8192
    _consistent(native, engine)


def test_scoring_reuses_a_cached_prefix_even_when_room_is_tight():
    native, engine = _engine(4096)
    first, other = list(range(100, 2101)), list(range(5000, 6501))
    engine.score(first, [[1]])
    engine.score(other, [[1]])  # `first` is now the least recently used entry
    before = engine.computed_tokens
    engine.score([*first[:-1], *range(7000, 7011)], [[1] * 5])
    assert engine.computed_tokens - before == 11
    _consistent(native, engine)


def test_samples_of_a_long_prompt_do_not_evict_the_prefix_they_share():
    """Four samples of a 3,300-token prompt cached before: one token computed, not the prompt again."""
    native, engine = _engine(16384)
    prompt = list(range(10, 3310))
    list(engine.run([_row(prompt, 200)], None))
    before = engine.computed_tokens
    list(engine.run([_row(prompt, 1024) for _ in range(4)], None))
    assert engine.computed_tokens - before == 1
    _consistent(native, engine)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_ledger_matches_the_cells_through_random_work(seed):
    """Generations (with samples, some abandoned mid-stream), scores and token scores over one shared text."""
    rng = random.Random(seed)
    native, engine = _engine(6000, n_seq=26, entries=8, tokens=3000)
    base = [rng.randrange(50) for _ in range(800)]

    def prompt() -> list[int]:
        return base[: rng.randrange(1, 800)] + [rng.randrange(50) for _ in range(rng.randrange(1, 60))]

    for _ in range(120):
        kind = rng.choice(["run", "score", "tokens"])
        if kind == "run":
            rows = [_row(p, rng.randrange(1, 80)) for p in [prompt() for _ in range(rng.randrange(1, 6))]
                    for _ in range(rng.choice([1, 1, 2]))]
            steps = engine.run(rows, None)
            for _ in steps:
                if rng.random() < 0.02:
                    steps.close()
                    break
        elif kind == "score":
            engine.score(prompt(), [[1, 2, 3], [4, 5]])
        else:
            engine.token_scores(prompt(), [1, 2, 3, 4])
        _consistent(native, engine)
        assert engine.prefix.held() <= 3000


@pytest.mark.parametrize("ubatch", [63, 512])
def test_prompts_are_computed_in_micro_batches_of_the_contexts_size(ubatch):
    native, engine = _engine(4096, ubatch=ubatch)
    list(engine.run([_row(range(700), 2)], None))
    assert native.calls == [ubatch] * (700 // ubatch) + [700 % ubatch, 1]  # the prompt, then one decode step
    native.calls.clear()
    engine.score(list(range(1000, 1700)), [[1, 2]])  # a new 700-token prompt and its continuation
    assert native.calls[0] == ubatch and max(native.calls) == ubatch and sum(native.calls) == 701  # last not fed
