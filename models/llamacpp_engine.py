"""The llama.cpp backend's scheduler: requests on KV-cache sequences, prefix reuse, batched decoding, scoring.

`Engine.run(rows, params)` decodes every row (models/decoding.Row) to completion, yielding after each
step so that streaming reads the rows in between. Up to `max_batch` rows run at once, each on its
own sequence of the context's unified KV cache; a row that finishes frees its place and the next
waiting row is prefilled (continuous batching). Token choice (sampling from each row's own seeded
generator, grammar masks, logprobs, stop strings) is `Picker.choose`, shared with the transformers
backend, so both behave alike.

Prefix reuse: every finished request leaves its sequence (prompt and output) in a PrefixCache
(models/prefix.py) keyed by its token ids; a new request copies the longest shared prefix from there
(`seq_cp` shares the cells) and computes only its own tail. The n samples of one prompt share one
prefill. `score` uses the same cache, so the continuations of one prompt, and later calls on it,
compute the prompt once.

Memory is bounded up front: the context holds `n_ctx` cells. Which cells each sequence holds is
mirrored in a CellLedger (models/kvcells.py), so cells shared by copies count once. A row is admitted
only when the cells it may add (the part of its prompt no cached prefix or earlier row of its group
holds, and max_new) fit beside the cells the running rows hold and may still add; cached prefixes
give way (least recently used first) to running work.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ratiocinator.models.decoding import Picker, Row
from ratiocinator.models.kvcells import CellLedger
from ratiocinator.models.llamacpp_native import UBATCH, NativeModel
from ratiocinator.models.prefix import PrefixCache, common_prefix
from ratiocinator.models.types import SamplingParams

_SECOND_PASS_MIN = 32  # tokens a row must gain by copying from a row of its own group to wait for it


@dataclass(eq=False)
class _Slot:
    row: Row
    seq: int
    pos: int  # tokens held in the sequence's cells = the position of the next token fed
    pending: int  # prompt cells it will compute (estimated at admission; 0 once prefilled)


def _log_softmax_at(logits: np.ndarray, target: int) -> float:
    m = float(logits.max())
    return float(logits[target] - m - np.log(np.exp(logits - m, dtype=np.float32).sum(dtype=np.float64)))


class Engine:
    """Runs rows and scores continuations on one NativeModel; the caller holds the backend's lock."""

    def __init__(self, native: NativeModel, picker: Picker, *, max_batch: int, prefix_entries: int,
                 prefix_tokens: int) -> None:
        self.native, self.picker = native, picker
        self.n_ctx = native.spec.n_ctx
        self.max_batch = max_batch
        self._free = list(range(native.spec.n_seq - 2, -1, -1))  # the last sequence is scratch
        self.cells = CellLedger()  # which cells each sequence holds: cached prefixes share theirs
        self.prefix: PrefixCache[int] = PrefixCache(
            max_entries=prefix_entries, max_tokens=min(prefix_tokens, self.n_ctx), on_evict=self._release,
            measure=self.cells.cells,
        )
        self._active: list[_Slot] = []  # admitted rows, not yet retired (their cells cannot be evicted)
        self.computed_tokens = 0  # prompt tokens actually run through the model (prefix hits excluded)

    # --- sequences --------------------------------------------------------------------------------

    def _release(self, seq: int) -> None:
        self.native.seq_rm(seq)
        self.cells.remove(seq)
        self._free.append(seq)

    def _copy(self, src: int, dst: int, n: int | None = None) -> None:
        """`dst` also holds `src`'s first n cells (all when None): shared, not computed again."""
        self.native.seq_cp(src, dst, 0 if n is not None else -1, n if n is not None else -1)
        self.cells.copy(src, dst, n)

    def _take(self) -> int:
        while not self._free:
            if not self.prefix.evict_one():
                raise RuntimeError("llama.cpp engine: no free KV-cache sequence")
        return self._free.pop()

    def _growth(self) -> int:
        """Cells the admitted rows may still add: prompt tails not yet computed, tokens not yet generated."""
        return sum(s.pending + max(0, s.row.max_new - len(s.row.tokens)) for s in self._active)

    def _pinned(self) -> int:
        """Cells no eviction can free: those the admitted rows hold, and those they may still add."""
        return self.cells.cells([s.seq for s in self._active if s.seq >= 0]) + self._growth()

    def _make_room(self, cells: int) -> None:
        """Evict cached prefixes (least recently used first) until `cells` more fit beside what is held."""
        while self.n_ctx - self.cells.cells() - self._growth() < cells and self.prefix.evict_one():
            pass

    def _start(self, ids: Sequence[int], limit: int) -> tuple[int, int]:
        """A fresh sequence holding the longest cached prefix of `ids` (at most `limit` tokens): (seq, n)."""
        seq = self._take()
        n, src = self.prefix.lookup(ids, limit=limit)
        if src is not None and n > 0:
            self._copy(src, seq, n)
        return seq, (n if src is not None else 0)

    def _decode(self, items: list[tuple[int, int, int, bool]]) -> None:
        if self.native.decode(items) == 1:  # no room: should not happen with reservations; retry once
            self.prefix.clear()
            if self.native.decode(items) == 1:
                raise RuntimeError(f"llama.cpp engine: the KV cache ({self.n_ctx} cells) is full")
        for _, pos, seq, _ in items:
            self.cells.fed(seq, pos)

    def _feed(self, items: list[tuple[int, int, int, bool]]) -> dict[int, np.ndarray]:
        """Decode items in micro-batches; the logits of every item that asked, by item index."""
        out: dict[int, np.ndarray] = {}
        for start in range(0, len(items), UBATCH):
            chunk = items[start:start + UBATCH]
            self._decode(chunk)
            for j, item in enumerate(chunk):
                if item[3]:
                    out[start + j] = self.native.logits(j)
        return out

    def clear(self) -> None:
        self.prefix.clear()

    # --- generation -------------------------------------------------------------------------------

    def run(self, rows: list[Row], params: SamplingParams) -> Iterator[None]:
        """Advance all rows until done, yielding after every step (see the module docstring)."""
        waiting = deque(rows)
        live: list[_Slot] = []
        mine: list[_Slot] = []  # every row this run admitted
        bitmask = self.picker.bitmask(params, max(1, min(self.max_batch, len(rows))))
        try:
            while waiting or live:
                group = self._admit(waiting, live)
                mine.extend(group)
                if group:
                    self._prefill(group, params, bitmask)
                    live.extend(group)
                    live[:] = self._retire(live)
                    yield
                    continue
                items = [(s.row.tokens[-1], s.pos, s.seq, True) for s in live]
                logits = self._feed(items)
                stacked = torch.from_numpy(np.stack([logits[i] for i in range(len(live))]))
                self.picker.choose(stacked, [s.row for s in live], params,
                                   bitmask[: len(live)] if bitmask is not None else None)
                for s in live:
                    s.pos += 1
                live[:] = self._retire(live)
                yield
        finally:  # an abandoned stream or an error: free what is still running
            for s in [s for s in self._active if s in mine]:
                self._active.remove(s)
                if s.seq >= 0:
                    self._release(s.seq)

    def _admit(self, waiting: deque[Row], live: list[_Slot]) -> list[_Slot]:
        group: list[_Slot] = []
        while waiting and len(live) + len(group) < self.max_batch:
            row = waiting[0]
            tail = self._tail(row.prompt_ids, group)
            if (live or group) and self._pinned() + tail + row.max_new > self.n_ctx:
                break  # wait for running rows to finish
            waiting.popleft()
            self._make_room(tail + row.max_new)
            slot = _Slot(row=row, seq=-1, pos=len(row.prompt_ids), pending=tail)
            self._active.append(slot)
            group.append(slot)
        return group

    def _tail(self, ids: list[int], group: list[_Slot]) -> int:
        """The prompt cells a row will compute: what neither the cache nor an earlier row of its group holds.

        The same rule as `_prefill`; the cached entry it would copy becomes the most recently used, so
        that making room for the row evicts others first.
        """
        cached = self.prefix.peek(ids, limit=len(ids) - 1)
        arr = np.asarray(ids, dtype=np.int64)
        shared = 0
        for s in group:
            if s.row.prompt_ids == ids:
                return 0  # another sample of one prompt: it copies all of the first one's cells
            shared = max(shared, min(common_prefix(np.asarray(s.row.prompt_ids, dtype=np.int64), arr), len(ids) - 1))
        return len(ids) - (shared if shared > cached + _SECOND_PASS_MIN else cached)

    def _prefill(self, group: list[_Slot], params: SamplingParams, bitmask: torch.Tensor | None) -> None:
        """Give each admitted row its prompt's cells and its first token.

        A row's prompt starts from the longest cached prefix; a row whose prompt shares more with an
        earlier row of the same group (one system prompt, a batch of items after the same few-shot
        text) copies that row's cells after a first pass and computes only its tail in a second one.
        Samples of one prompt share its prefill entirely.
        """
        leaders: dict[tuple[int, ...], _Slot] = {}
        siblings: list[tuple[_Slot, _Slot]] = []
        first: list[tuple[_Slot, np.ndarray]] = []  # rows computed in the first pass
        later: list[tuple[_Slot, _Slot, int]] = []  # (row, first-pass row it copies from, tokens)
        passes: list[list[tuple[int, int, int, bool]]] = [[], []]
        last: dict[int, tuple[int, int]] = {}  # id(leader) -> (pass, index of its last prompt item)

        def enqueue(slot: _Slot, start: int, which: int) -> None:
            ids = slot.row.prompt_ids
            self.computed_tokens += len(ids) - start
            items = passes[which]
            items.extend((ids[j], j, slot.seq, j == len(ids) - 1) for j in range(start, len(ids)))
            last[id(slot)] = (which, len(items) - 1)

        for slot in group:
            ids = slot.row.prompt_ids
            key = tuple(ids)
            slot.seq = self._take()
            if key in leaders:  # another sample of the same prompt
                siblings.append((leaders[key], slot))
                continue
            leaders[key] = slot
            arr = np.asarray(ids, dtype=np.int64)
            n, src = self.prefix.lookup(ids, limit=len(ids) - 1)
            shared, origin = 0, None
            for other, other_ids in first:
                m = min(common_prefix(other_ids, arr), len(ids) - 1)
                if m > shared:
                    shared, origin = m, other
            if origin is not None and shared > n + _SECOND_PASS_MIN:
                later.append((slot, origin, shared))
                continue
            if src is not None and n > 0:
                self._copy(src, slot.seq, n)
            enqueue(slot, n if src is not None else 0, 0)
            first.append((slot, arr))
        logits = [self._feed(passes[0]), {}]
        for slot, origin, shared in later:
            self._copy(origin.seq, slot.seq, shared)
            enqueue(slot, shared, 1)
        logits[1] = self._feed(passes[1])
        for leader, sib in siblings:
            self._copy(leader.seq, sib.seq)
        for s in group:
            s.pending = 0
        rows_logits = []
        for s in group:
            which, index = last[id(leaders[tuple(s.row.prompt_ids)])]
            rows_logits.append(logits[which][index])
        stacked = torch.from_numpy(np.stack(rows_logits))
        self.picker.choose(stacked, [s.row for s in group], params,
                           bitmask[: len(group)] if bitmask is not None else None)

    def _retire(self, live: list[_Slot]) -> list[_Slot]:
        """Rows that are done leave: their sequence (prompt + output fed so far) goes to the prefix cache."""
        keep = []
        for s in live:
            if not s.row.done:
                keep.append(s)
                continue
            self._active.remove(s)
            fed = s.row.prompt_ids + s.row.tokens[:-1]  # the last token was chosen, never fed
            self.prefix.put(fed, s.seq)
        return keep

    # --- scoring ----------------------------------------------------------------------------------

    def score(self, prompt: list[int], conts: list[list[int]]) -> list[float]:
        """Sum of log-probabilities of each continuation's tokens after `prompt` (raw model logits).

        The prompt's cells (all but its last token) come from the prefix cache or are computed once;
        each continuation then runs on its own sequence as [last prompt token] + continuation[:-1],
        all in shared batches.
        """
        n = len(prompt)
        need = n + sum(len(c) for c in conts)
        self._make_room(min(need, self.n_ctx))
        base, have = self._start(prompt, limit=n - 1)
        self.computed_tokens += n - have
        try:
            self._feed([(prompt[j], j, base, False) for j in range(have, n - 1)])
            totals = [0.0] * len(conts)
            width = max(1, min(self.max_batch, len(self._free) + len(self.prefix)))
            for start in range(0, len(conts), width):
                part = list(enumerate(conts))[start:start + width]
                seqs = []
                try:
                    items, targets = [], []
                    for i, c in part:
                        seq = self._take()
                        seqs.append(seq)
                        self._copy(base, seq)
                        fed = [prompt[-1], *c[:-1]]
                        items.extend((t, n - 1 + j, seq, True) for j, t in enumerate(fed))
                        targets.extend((i, t) for t in c)
                    logits = self._feed(items)
                    for k, (i, t) in enumerate(targets):
                        totals[i] += _log_softmax_at(logits[k], t)
                finally:
                    for seq in seqs:
                        self._release(seq)
        except BaseException:
            self._release(base)
            raise
        self.prefix.put(prompt[:-1], base)
        return totals

    def token_scores(self, prompt: list[int], cont: list[int]) -> list[tuple[float, int, float]]:
        """Per token of `cont` after `prompt`: (its log-probability, the most likely token, that one's).

        One sequence: the longest cached prefix is copied, the rest of prompt + cont[:-1] is fed with
        logits asked from the prompt's last token on, and the whole is left in the prefix cache.
        """
        ids = prompt + cont
        n = len(prompt)
        self._make_room(len(ids))
        seq, have = self._start(ids, limit=n - 1)
        self.computed_tokens += len(ids) - 1 - have
        try:
            items = [(ids[j], j, seq, j >= n - 1) for j in range(have, len(ids) - 1)]
            logits = self._feed(items)
        except BaseException:
            self._release(seq)
            raise
        out = []
        for k, (_, pos, _, wanted) in enumerate(items):
            if wanted:
                row = logits[k]
                best = int(row.argmax())
                out.append((_log_softmax_at(row, ids[pos + 1]), best, _log_softmax_at(row, best)))
        self.prefix.put(ids[:-1], seq)
        return out
