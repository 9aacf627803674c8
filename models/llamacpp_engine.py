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
mirrored in a CellLedger (models/kvcells.py), so cells shared by copies count once. A row's plan is
made once, at admission: its sequence copies its longest cached prefix right then (so those cells are
its own and no later eviction frees them), or it will copy an earlier row of its group, or it is a
sample of one. It is admitted only when what it holds and may add (its prompt's uncomputed tail and
max_new) fit beside what the running rows hold and may add; cached prefixes give way (least recently
used first) to running work, and `score` copies its prefix before making room for the rest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ratiocinator.models.decoding import Picker, Row
from ratiocinator.models.kvcells import CellLedger
from ratiocinator.models.llamacpp_native import NativeModel
from ratiocinator.models.prefix import PrefixCache, common_prefix
from ratiocinator.models.types import SamplingParams

_SECOND_PASS_MIN = 32  # tokens a row must gain by copying from a row of its own group to wait for it


@dataclass(eq=False)
class _Slot:
    """A row on its sequence, and how its prompt's cells come (decided once, when it is admitted)."""

    row: Row
    seq: int
    pos: int  # tokens held in the sequence's cells = the position of the next token fed
    pending: int  # prompt cells it will compute (0 once prefilled)
    start: int = 0  # prompt tokens copied from the prefix cache at admission
    origin: _Slot | None = None  # a first-pass row of its group it copies `shared` tokens from
    shared: int = 0
    leader: _Slot | None = None  # another sample of the same prompt: all its cells are copied


def _log_softmax_at(logits: np.ndarray, target: int) -> float:
    m = float(logits.max())
    return float(logits[target] - m - np.log(np.exp(logits - m, dtype=np.float32).sum(dtype=np.float64)))


class Engine:
    """Runs rows and scores continuations on one NativeModel; the caller holds the backend's lock."""

    def __init__(self, native: NativeModel, picker: Picker, *, max_batch: int, prefix_entries: int,
                 prefix_tokens: int) -> None:
        self.native, self.picker = native, picker
        self.n_ctx = native.spec.n_ctx
        self.ubatch = native.spec.ubatch  # tokens per llama_decode call
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
        return self.cells.cells([s.seq for s in self._active]) + self._growth()

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
        for start in range(0, len(items), self.ubatch):
            chunk = items[start:start + self.ubatch]
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
                group = self._admit(waiting, live, mine)
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
                self._release(s.seq)

    def _admit(self, waiting: deque[Row], live: list[_Slot], mine: list[_Slot]) -> list[_Slot]:
        """Rows that fit beside the running ones, each on its sequence with its cached prefix already copied.

        Copying at admission makes the prefix the row's own cells (counted as held, never evicted for
        the rows after it); a row that does not fit gives its sequence back and waits.
        """
        group: list[_Slot] = []
        while waiting and len(live) + len(group) < self.max_batch:
            row = waiting[0]
            slot = self._plan(row, group)
            self._active.append(slot)
            mine.append(slot)
            if (live or group) and self._pinned() > self.n_ctx:  # its growth is in _pinned now
                self._active.remove(slot)
                mine.remove(slot)
                self._release(slot.seq)
                break  # wait for running rows to finish
            waiting.popleft()
            self._make_room(0)
            group.append(slot)
        return group

    def _plan(self, row: Row, group: list[_Slot]) -> _Slot:
        """The row's slot: a sample of an earlier row's prompt copies all of it after the prefill; a row
        that shares more than `_SECOND_PASS_MIN` tokens beyond the cache with a first-pass row of its
        group copies that row's cells after the first pass; any other copies its longest cached prefix now.
        """
        ids = row.prompt_ids
        slot = _Slot(row=row, seq=self._take(), pos=len(ids), pending=0)
        for other in group:
            if other.leader is None and other.row.prompt_ids == ids:
                slot.leader = other
                return slot
        n, src = self.prefix.lookup(ids, limit=len(ids) - 1)
        arr = np.asarray(ids, dtype=np.int64)
        for other in group:
            if other.leader is None and other.origin is None:
                m = min(common_prefix(np.asarray(other.row.prompt_ids, dtype=np.int64), arr), len(ids) - 1)
                if m > max(slot.shared, n + _SECOND_PASS_MIN):
                    slot.origin, slot.shared = other, m
        if slot.origin is not None:
            slot.pending = len(ids) - slot.shared
            return slot
        if src is not None and n > 0:
            self._copy(src, slot.seq, n)
            slot.start = n
        slot.pending = len(ids) - slot.start
        return slot

    def _prefill(self, group: list[_Slot], params: SamplingParams, bitmask: torch.Tensor | None) -> None:
        """Give each admitted row its prompt's cells and its first token, as `_plan` decided.

        First pass: the rows that start from the cache compute their tails; second pass: the rows that
        copy a first-pass row's cells compute theirs; then the samples copy their leader's cells.
        """
        passes: list[list[tuple[int, int, int, bool]]] = [[], []]
        last: dict[int, tuple[int, int]] = {}  # id(row that computes) -> (pass, index of its last prompt item)

        def enqueue(slot: _Slot, start: int, which: int) -> None:
            ids = slot.row.prompt_ids
            self.computed_tokens += len(ids) - start
            items = passes[which]
            items.extend((ids[j], j, slot.seq, j == len(ids) - 1) for j in range(start, len(ids)))
            last[id(slot)] = (which, len(items) - 1)

        for slot in group:
            if slot.leader is None and slot.origin is None:
                enqueue(slot, slot.start, 0)
        logits = [self._feed(passes[0]), {}]
        for slot in group:
            if slot.origin is not None:
                self._copy(slot.origin.seq, slot.seq, slot.shared)
                enqueue(slot, slot.shared, 1)
        logits[1] = self._feed(passes[1])
        rows_logits = []
        for slot in group:
            if slot.leader is not None:
                self._copy(slot.leader.seq, slot.seq)
            slot.pending = 0
            which, index = last[id(slot.leader or slot)]
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
        base, have = self._start(prompt, limit=n - 1)  # first: making room must not evict the prefix it copies
        self.computed_tokens += n - have
        try:
            self._make_room(min(n - 1 - have + sum(len(c) for c in conts), self.n_ctx))
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

    def hidden_states(self, prompt: list[int], response: list[int]) -> np.ndarray:
        """(len(response), n_embd): the last layer's states at the response's tokens after `prompt`.

        The prompt's cells may come from the prefix cache (at most the prompt: the response's tokens are
        all fed, for their states); the sequence is freed afterwards.
        """
        ids, n = prompt + response, len(prompt)
        seq, have = self._start(ids, limit=n)
        self.computed_tokens += len(ids) - have
        states: list[np.ndarray] = []
        try:
            self._make_room(len(ids) - have)
            self.native.set_hidden(True)
            items = [(ids[j], j, seq, j >= n) for j in range(have, len(ids))]
            for start in range(0, len(items), self.ubatch):
                chunk = items[start:start + self.ubatch]
                self._decode(chunk)
                states.extend(self.native.hidden(j) for j, item in enumerate(chunk) if item[3])
        finally:
            self.native.set_hidden(False)
            self._release(seq)
        return np.stack(states)

    def token_scores(self, prompt: list[int], cont: list[int]) -> list[tuple[float, int, float]]:
        """Per token of `cont` after `prompt`: (its log-probability, the most likely token, that one's).

        One sequence: the longest cached prefix is copied, the rest of prompt + cont[:-1] is fed with
        logits asked from the prompt's last token on, and the whole is left in the prefix cache.
        """
        ids = prompt + cont
        n = len(prompt)
        seq, have = self._start(ids, limit=n - 1)  # first: making room must not evict the prefix it copies
        self.computed_tokens += len(ids) - 1 - have
        try:
            self._make_room(len(ids) - 1 - have)
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
