"""Which cells of llama.cpp's unified KV cache each sequence holds, mirrored in Python to count shared cells once.

In a unified KV cache, `seq_cp(src, dst, 0, n)` tags src's first n cells with dst as well: no cell is
allocated, and a cell is freed only when the last sequence holding it lets go. The prefix cache keeps
many entries that share one long prompt (the scored continuations of one problem text, a dialogue
that grows a turn at a time); counting each entry's whole length against its bound would evict a
3,000-token problem after two or three such entries although they hold little more than 3,000 cells.
llama.cpp exposes no count of used cells (llama.h has none since the memory API replaced the KV-cache
one), so the engine reports its copies, feeds and removals here and asks how many distinct cells a
set of sequences holds.

A block is a run of cells computed on one sequence at consecutive positions; a sequence is a list of
spans (block, first position, length). A copy keeps a prefix of the source's spans, so every holder
of a block holds a prefix of it, and the block's live cells are the longest such prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class _Span:
    block: int
    start: int  # position of the span's first cell in its sequence (and in its block's sequence)
    length: int


class CellLedger:
    """The spans of cells each sequence holds; `cells(seqs)` counts the distinct cells of some of them."""

    def __init__(self) -> None:
        self._spans: dict[int, list[_Span]] = {}
        self._blocks = 0
        self._owner: dict[int, int] = {}  # sequence -> the block it is extending (its own newest cells)

    def fed(self, seq: int, pos: int) -> None:
        """A token was decoded on `seq` at position `pos` (appended after what the sequence holds)."""
        spans = self._spans.setdefault(seq, [])
        last = spans[-1] if spans else None
        if last is not None and last.block == self._owner.get(seq) and last.start + last.length == pos:
            last.length += 1
            return
        self._blocks += 1
        self._owner[seq] = self._blocks
        spans.append(_Span(self._blocks, pos, 1))

    def copy(self, src: int, dst: int, n: int | None = None) -> None:
        """`dst` now also holds `src`'s cells at positions [0, n) (all of them when n is None)."""
        out: list[_Span] = []
        for span in self._spans.get(src, []):
            if n is not None and span.start >= n:
                break
            keep = span.length if n is None else min(span.length, n - span.start)
            out.append(_Span(span.block, span.start, keep))
        self._spans.setdefault(dst, []).extend(out)
        self._owner.pop(dst, None)  # dst's next token starts a block of its own

    def remove(self, seq: int) -> None:
        """`seq` holds nothing any more (llama.cpp frees the cells no other sequence holds)."""
        self._spans.pop(seq, None)
        self._owner.pop(seq, None)

    def clear(self) -> None:
        self._spans.clear()
        self._owner.clear()

    def cells(self, seqs: Iterable[int] | None = None) -> int:
        """The number of distinct cells held by `seqs` (every sequence when None)."""
        chosen = self._spans.keys() if seqs is None else seqs
        held: dict[int, int] = {}  # block -> the longest prefix of it that some chosen sequence holds
        for seq in chosen:
            for span in self._spans.get(seq, []):  # every span of a block starts at the block's start
                if span.length > held.get(span.block, 0):
                    held[span.block] = span.length
        return sum(held.values())
