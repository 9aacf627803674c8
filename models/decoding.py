"""The decode loops of the transformers backend: per-request state, token choice, and two schedulers.

`Decoder.run(rows, params)` advances every request one token per iteration (it is a generator, so
streaming reads the rows between steps) with one of two schedulers:
- slots (the fast path, models/fastdecode.py): a static KV cache with one slot per running request;
  a request that finishes frees its slot and the next waiting request is prefilled into it
  (continuous batching);
- dynamic (any architecture, and any custom KV cache such as GEAR): fixed batches decoded through
  the model's forward with a transformers Cache, left-padded, until every row of the batch is done.
Both share `Picker.choose`, so sampling, grammar masks, logprobs and stop handling behave identically.
Logprobs are those of the raw model distribution (temperature 1, no grammar mask).

Prefix reuse (slots scheduler; `prefix` given): a request whose prompt shares a prefix with what an
earlier request computed (its prompt and output, kept per layer in a PrefixCache, models/prefix.py)
starts from those keys/values and runs only its own tail through the model. Every finished request
leaves its keys/values there. The dynamic scheduler (custom KV caches) computes every prompt whole.
"""

from __future__ import annotations

import hashlib
import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ratiocinator.models.fastdecode import FastDecoder, SlotCache, bucket_for
from ratiocinator.models.prefix import PrefixCache
from ratiocinator.models.structured import accept, allocate_bitmask, mask_logits_
from ratiocinator.models.types import SamplingParams, TokenLogprob

KV = tuple[tuple[torch.Tensor, torch.Tensor], ...]
"""Computed keys and values of one sequence: per layer (keys, values), each (kv_heads, tokens, head_dim)."""
MIN_REUSE = 8  # a cached prefix shorter than this is not worth a separate tail forward


@dataclass
class Row:
    """One request being decoded: its prompt, sampler state, grammar matcher and output so far."""

    prompt_ids: list[int]
    generator: torch.Generator | None
    matcher: Any = None
    max_new: int = 0
    tokens: list[int] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)
    text: str = ""
    done: bool = False
    finish: str = "length"


def derive_seed(seed: int | None, index: int) -> int:
    """The seed of sample `index` of a request: a hash of (seed, index), or fresh entropy without a seed."""
    if seed is None:
        return random.SystemRandom().randrange(2**63)
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def filter_probs(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """Temperature, top-k and top-p on (B, V) float logits; returns probabilities."""
    logits = logits / params.temperature
    if params.top_k:
        k = min(params.top_k, logits.shape[-1])
        kth = torch.topk(logits, k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if params.top_p < 1.0:
        sorted_p, idx = _nucleus_candidates(probs, params.top_p)
        drop = sorted_p.cumsum(-1) - sorted_p > params.top_p  # keep the smallest prefix reaching top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, idx, sorted_p)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


#: how many of the largest probabilities are tried before the whole vocabulary is sorted (NUCLEUS_TRIES)
NUCLEUS_TRIES = (256, 4096)


def _nucleus_candidates(probs: torch.Tensor, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The largest probabilities in descending order and their ids: enough of them to hold the top-p nucleus.

    Sorting the whole vocabulary (152k entries for Qwen) took 60 % of a sampled token's time on one CPU thread
    (py-spy, CQoT, session 21); a nucleus is usually a few dozen tokens. `topk(k)` is tried with growing k until
    the entries past it are all dropped (the mass before the k-th already exceeds top_p), else the whole sort:
    the same kept tokens and the same probabilities as sorting everything (ties at the nucleus' edge aside).
    """
    for k in NUCLEUS_TRIES:
        if k >= probs.shape[-1]:
            break
        values, idx = torch.topk(probs, k, dim=-1)
        if bool((values.cumsum(-1)[:, -1] - values[:, -1] > top_p).all()):
            return values, idx
    return torch.sort(probs, dim=-1, descending=True)


def left_pad(seqs: Sequence[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, mask) of shape (B, longest), sequences aligned to the right."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
        mask[i, width - len(s):] = 1
    return ids, mask


def _closed() -> Any:
    raise RuntimeError("the decoder is closed")


def holdback(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters might still start a stop string (not yet safe to stream)."""
    keep = 1 if text.endswith("\ufffd") else 0
    for s in stops:
        for n in range(min(len(s) - 1, len(text)), 0, -1):
            if text.endswith(s[:n]):
                keep = max(keep, n)
                break
    return keep


class Picker:
    """Chooses each row's next token from its logits and advances the row (sampling, grammar masks,
    logprobs, stop tokens and strings): the per-step logic every local engine shares.

    `tokenizer` needs only `decode(ids, skip_special_tokens=False) -> str`.
    """

    def __init__(self, *, tokenizer: Any, stop_ids: Sequence[int], vocab_size: int) -> None:
        self.tokenizer = tokenizer
        self.stop_ids, self.vocab_size = set(stop_ids), vocab_size

    def text(self, tokens: list[int]) -> str:
        return self.tokenizer.decode([t for t in tokens if t not in self.stop_ids], skip_special_tokens=False)

    def choose(self, logits: torch.Tensor, rows: list[Row], params: SamplingParams, bitmask: torch.Tensor | None
               ) -> list[int]:
        """Pick the next token of each row (rows align with logits) and advance the rows."""
        raw = torch.log_softmax(logits, dim=-1).cpu() if params.logprobs else None
        top = torch.topk(raw, params.top_logprobs, dim=-1) if raw is not None and params.top_logprobs else None
        if bitmask is not None:
            mask_logits_(logits, [r.matcher for r in rows], bitmask)
        if params.temperature == 0:
            chosen = logits.argmax(-1).tolist()
        else:
            probs = filter_probs(logits, params)
            chosen = [int(torch.multinomial(probs[i], 1, generator=r.generator)) for i, r in enumerate(rows)]
        for i, (row, tok) in enumerate(zip(rows, chosen, strict=True)):
            lp = None
            if raw is not None:
                alts = ()
                if top is not None:
                    alts = tuple((self.tokenizer.decode([int(t)]), float(v))
                                 for t, v in zip(top.indices[i], top.values[i], strict=True))
                lp = TokenLogprob(token=self.tokenizer.decode([tok]), token_id=tok, logprob=float(raw[i, tok]),
                                  top=alts)
            self.advance(row, int(tok), lp, params)
        return chosen

    def advance(self, row: Row, tok: int, lp: TokenLogprob | None, params: SamplingParams) -> None:
        row.tokens.append(tok)
        if lp is not None:
            row.logprobs.append(lp)
        if row.matcher is not None:
            accept(row.matcher, tok)
        row.text = self.text(row.tokens)
        if tok in self.stop_ids or (row.matcher is not None and row.matcher.is_terminated()):
            row.done, row.finish = True, "stop"
            return
        if params.stop:
            cut = min((row.text.find(s) for s in params.stop if s in row.text), default=-1)
            if cut >= 0:
                row.text, row.done, row.finish = row.text[:cut], True, "stop"
                return
        if len(row.tokens) >= row.max_new:
            row.done, row.finish = True, "length"

    def bitmask(self, params: SamplingParams, rows: int) -> torch.Tensor | None:
        if params.schema is None and params.grammar is None:
            return None
        return allocate_bitmask(rows, self.vocab_size)



class Decoder(Picker):
    """Runs rows to completion on one model; see the module docstring."""

    def __init__(self, *, model: Any, tokenizer: Any, stop_ids: list[int], pad_id: int, vocab_size: int,
                 device: torch.device, max_batch: int, new_cache: Callable[[], Any],
                 fast: FastDecoder | None, prefix: PrefixCache[KV] | None = None) -> None:
        super().__init__(tokenizer=tokenizer, stop_ids=stop_ids, vocab_size=vocab_size)
        self.model, self.pad_id = model, pad_id
        self.device, self.max_batch = device, max_batch
        self.new_cache, self.fast = new_cache, fast
        self.prefix = prefix
        self.computed_tokens = 0  # prompt tokens run through the model (reused prefixes excluded)

    def close(self) -> None:
        """Drop the model, its static caches and compiled steps (HFBackend.close frees the weights)."""
        if self.fast is not None:
            self.fast.close()
        self.model = self.tokenizer = self.fast = None
        self.new_cache = _closed
        if self.prefix is not None:
            self.prefix.clear()

    def _prefill(self, rows: list[Row], cache: Any) -> torch.Tensor:
        """One left-padded forward over the rows' prompts into `cache`; last-position logits (B, V)."""
        ids, mask = left_pad([r.prompt_ids for r in rows], self.pad_id)
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                         use_cache=True, logits_to_keep=1)
        return out.logits[:, -1, :].float()

    def prefill_from(self, ids: list[int], limit: int | None = None) -> tuple[Any, torch.Tensor | None]:
        """(cache, logits): `ids` in a fresh 1-row cache, starting from the longest cached prefix.

        Reuses at most `limit` tokens (default: all but the last, whose logits are returned). With
        `limit=len(ids)` and the whole of `ids` cached, nothing runs and the logits are None.
        """
        limit = len(ids) - 1 if limit is None else limit
        n, kv = (0, None) if self.prefix is None else self.prefix.lookup(ids, limit=limit)
        return self._run_tail(ids, n, kv)

    def _run_tail(self, ids: list[int], n: int, kv: KV | None) -> tuple[Any, torch.Tensor | None]:
        past = self.new_cache()
        if kv is not None and n >= MIN_REUSE:
            for i, (k, v) in enumerate(kv):
                past.update(k[None, :, :n], v[None, :, :n], i)
        else:
            n = 0
        if n == len(ids):
            return past, None
        self.computed_tokens += len(ids) - n
        tail = torch.tensor([ids[n:]], dtype=torch.long, device=self.device)
        positions = torch.arange(n, len(ids), device=self.device)[None]
        mask = torch.ones((1, len(ids)), dtype=torch.long, device=self.device)
        out = self.model(input_ids=tail, attention_mask=mask, position_ids=positions, past_key_values=past,
                         use_cache=True, logits_to_keep=1)
        return past, out.logits[:, -1, :].float()

    def keep(self, ids: list[int], kv: KV) -> None:
        """Offer the computed keys/values of `ids` to the prefix cache (if any)."""
        if self.prefix is not None and len(ids) >= MIN_REUSE:
            self.prefix.put(ids, kv, size=len(ids))

    def _keep_slot(self, cache: SlotCache, slot: int, row: Row) -> None:
        """A finished row's prompt and output (all but the last token, never fed) go to the prefix cache."""
        if self.prefix is None:
            return
        n = int(cache.lengths[slot])
        kv = tuple((k[slot, :, :n].clone(), v[slot, :, :n].clone()) for k, v in zip(cache.keys, cache.values,
                                                                                     strict=True))
        self.keep((row.prompt_ids + row.tokens)[:n], kv)

    # --- schedulers -------------------------------------------------------------------------------

    def run(self, rows: list[Row], params: SamplingParams, *, custom_cache: bool) -> Iterator[None]:
        """Advance all rows until done, yielding after every decode step."""
        if self.fast is not None and not custom_cache:
            yield from self._slots(rows, params)
            return
        for start in range(0, len(rows), self.max_batch):
            yield from self._dynamic(rows[start:start + self.max_batch], params)

    @torch.inference_mode()
    def _dynamic(self, rows: list[Row], params: SamplingParams) -> Iterator[None]:
        bitmask = self.bitmask(params, len(rows))
        past = self.new_cache()
        _, mask = left_pad([r.prompt_ids for r in rows], self.pad_id)
        mask = mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = self._prefill(rows, past)
        while True:
            active = [i for i, r in enumerate(rows) if not r.done]
            chosen = self.choose(logits[active], [rows[i] for i in active], params,
                                  bitmask[: len(active)] if bitmask is not None else None)
            nxt = torch.full((len(rows), 1), self.pad_id, dtype=torch.long)
            for i, tok in zip(active, chosen, strict=True):
                nxt[i, 0] = tok
            yield
            if all(r.done for r in rows):
                return
            mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=torch.long, device=self.device)], -1)
            positions = positions[:, -1:] + 1
            out = self.model(input_ids=nxt.to(self.device), attention_mask=mask, position_ids=positions,
                             past_key_values=past, use_cache=True)
            logits = out.logits[:, -1, :].float()

    @torch.inference_mode()
    def _slots(self, rows: list[Row], params: SamplingParams) -> Iterator[None]:
        assert self.fast is not None
        n_slots = min(self.max_batch, len(rows))
        need = max(len(r.prompt_ids) + r.max_new for r in rows)
        cache = self.fast.allocate(n_slots, bucket_for(need, self.fast.limit))
        try:
            yield from self._slot_loop(rows, params, cache, n_slots)
        finally:
            self.fast.release(cache)

    def _admit(self, admitted: list[tuple[int, Row]], cache: SlotCache) -> torch.Tensor:
        """Prefill the admitted rows into their slots: rows with a cached prefix run only their tail (one
        by one), the others in one left-padded batch; the last-position logits in admitted order."""
        assert self.fast is not None
        logits: list[torch.Tensor | None] = [None] * len(admitted)
        fresh = []
        for j, (slot, row) in enumerate(admitted):
            n, kv = (0, None) if self.prefix is None else self.prefix.lookup(row.prompt_ids,
                                                                              limit=len(row.prompt_ids) - 1)
            if n < MIN_REUSE:
                fresh.append(j)
                continue
            past, logits[j] = self._run_tail(row.prompt_ids, n, kv)
            self.fast.load_prefill(cache, slot, past, 0, len(row.prompt_ids))
        if fresh:
            past = self.new_cache()
            rows = [admitted[j][1] for j in fresh]
            self.computed_tokens += sum(len(r.prompt_ids) for r in rows)
            batch_logits = self._prefill(rows, past)
            for k, j in enumerate(fresh):
                slot, row = admitted[j]
                self.fast.load_prefill(cache, slot, past, k, len(row.prompt_ids))
                logits[j] = batch_logits[k]
        return torch.stack([lg.reshape(-1) for lg in logits])  # type: ignore[union-attr]

    def _slot_loop(self, rows: list[Row], params: SamplingParams, cache: Any, n_slots: int) -> Iterator[None]:
        assert self.fast is not None
        bitmask = self.bitmask(params, n_slots)
        waiting = deque(rows)
        held: list[Row | None] = [None] * n_slots
        tokens = torch.full((n_slots,), self.pad_id, dtype=torch.long, device=self.device)
        while True:
            free = [s for s in range(n_slots) if held[s] is None or held[s].done]  # type: ignore[union-attr]
            if free and waiting:
                admitted = [(s, waiting.popleft()) for s in free[: len(waiting)]]
                logits = self._admit(admitted, cache)
                for slot, row in admitted:
                    held[slot] = row
                chosen = self.choose(logits, [r for _, r in admitted], params,
                                     bitmask[: len(admitted)] if bitmask is not None else None)
                for (slot, row), tok in zip(admitted, chosen, strict=True):
                    tokens[slot] = tok
                    if row.done:
                        self._keep_slot(cache, slot, row)
                yield
                continue  # rows that finished on their first token free their slot at once
            live = [s for s in range(n_slots) if held[s] is not None and not held[s].done]  # type: ignore[union-attr]
            if not live:
                return
            for s in range(n_slots):
                if s not in live:  # an idle slot decodes a pad at position 0, never read
                    cache.lengths[s] = 0
                    tokens[s] = self.pad_id
            logits = self.fast.step(tokens, cache)
            chosen = self.choose(logits[live], [held[s] for s in live], params,  # type: ignore[misc]
                                  bitmask[: len(live)] if bitmask is not None else None)
            for s, tok in zip(live, chosen, strict=True):
                tokens[s] = tok
                if held[s].done:  # type: ignore[union-attr]
                    self._keep_slot(cache, s, held[s])  # type: ignore[arg-type]
            yield
