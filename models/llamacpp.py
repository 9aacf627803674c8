"""The llama.cpp backend: `load_backend("llamacpp:<embedded name | path.gguf>")` runs the GGUF file itself.

No conversion: the embedded models' GGUF files (models/catalog.py, verified against their pinned
sha256) load in about a second and decode with llama.cpp's quantized CPU kernels. Prompts go through
the GGUF's own chat template, rendered with the same Jinja renderer as the transformers backend (so
tools are offered exactly as there) and tokenized by llama.cpp. Everything else is shared with the
transformers backend: per-request seeds (each sample owns a torch.Generator seeded from (seed, sample
index), so a seed gives the same text whatever else is in the batch), stop strings, raw-model
logprobs, xgrammar token masks for `schema` / `grammar` (the same EBNF dialect and JSON layout on
every backend), hermes tool-call parsing, the response cache. Scheduling, prefix reuse and scoring
are models/llamacpp_engine.py; the C library is models/llamacpp_native.py.

Logprobs are those of the unmodified model distribution (temperature 1, no grammar mask), so that
the sum over a greedy output equals `score(prompt, [output])` up to batch numerics.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import ratiocinator.models.catalog as catalog
from ratiocinator.errors import InvalidInput, UnsupportedFeature
from ratiocinator.models.backend import (
    BaseBackend,
    Prompt,
    normalize_prompts,
    split_pieces,
    tokenize_pieces,
)
from ratiocinator.models.cache import PromptItem, ResponseCache
from ratiocinator.models.decoding import Picker, Row, derive_seed, holdback
from ratiocinator.models.llamacpp_engine import Engine
from ratiocinator.models.llamacpp_native import (
    FAST_UBATCH,
    FILE_TYPES,
    UBATCH,
    ContextSpec,
    NativeModel,
)
from ratiocinator.models.structured import GrammarCompiler
from ratiocinator.models.toolcalls import parse_tool_calls
from ratiocinator.models.types import BackendInfo, Completion, SamplingParams, TokenLogprob

_VOCAB_SPM, _VOCAB_BPE = 1, 2  # llama_vocab_type


@dataclass(frozen=True, kw_only=True)
class LlamaCppConfig:
    """How to run a GGUF with llama.cpp. `threads` None means 1 when $CI is set, else every core.

    `n_ctx` is the number of KV-cache cells shared by the running requests and the cached prefixes
    (its memory is allocated once, at load); one request holds at most `n_ctx` tokens. The cached
    prefixes hold at most `prefix_cache_tokens` cells together (cells they share counted once) in at
    most `prefix_cache_entries` entries. `lora`: a
    LoRA adapter GGUF added to the weights at `lora_scale` (e.g. the EoRA compensation of a requantized
    file's error: models/compress/gguf_lora.py); it is part of the backend's identity.
    `batch_invariant` False computes prompts in llama.cpp's 512-token micro-batches instead of 63-token
    ones: prefill ~1.2x faster (BENCHMARKS.md, CPU engines), but a token's numbers then depend on what
    was computed beside it (models/llamacpp_native.py), so it is part of the backend's identity too.
    """

    threads: int | None = None
    n_ctx: int = 16384
    max_batch_size: int = 16
    prefix_cache_entries: int = 32
    prefix_cache_tokens: int = 8192
    lora: str | None = None
    lora_scale: float = 1.0
    batch_invariant: bool = True


def default_threads(threads: int | None) -> int:
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise InvalidInput(f"threads: expected a positive integer, got {threads!r}")
        return threads
    if os.environ.get("CI"):
        return 1  # shared machines: 2 threads collapse under load, 1 stays near full speed
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class _Vocab:
    """What Picker needs of a tokenizer: decode(ids) -> text, special tokens as text."""

    def __init__(self, native: NativeModel) -> None:
        self.native = native

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return self.native.detokenize(list(ids))


class LlamaCppBackend(BaseBackend):
    """A GGUF model run in process by llama.cpp (CPU)."""

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        config: LlamaCppConfig | None = None,
        cache: ResponseCache | bool | None = None,
        weights_id: str | None = None,
    ) -> None:
        super().__init__(cache=cache)
        self.config = config or LlamaCppConfig()
        self.path = Path(path)
        self.name = name or f"llamacpp:{self.path}"
        self.threads = default_threads(self.config.threads)
        n_seq = self.config.max_batch_size + self.config.prefix_cache_entries + 2  # +1 for score, +1 scratch
        lora = self._adapter()
        ubatch = UBATCH if self.config.batch_invariant else FAST_UBATCH
        self.native = NativeModel(self.path, ContextSpec(n_ctx=self.config.n_ctx, n_seq=n_seq, threads=self.threads,
                                                         lora=lora, lora_scale=self.config.lora_scale, ubatch=ubatch))
        self.stop_ids = self.native.eog_ids()
        if not self.stop_ids:
            raise InvalidInput(f"{self.name}: the vocabulary defines no end-of-generation token")
        self.template = self.native.chat_template()
        self._context_length = min(self.native.n_ctx_train or self.config.n_ctx, self.config.n_ctx)
        self._weights_id = weights_id or self._fingerprint()
        if lora is not None:
            self._weights_id += f"+lora:{catalog.file_sha256(Path(lora))}@{self.config.lora_scale!r}"
        if ubatch != UBATCH:  # other numbers: not the batch-invariant backend's cached responses
            self._weights_id += f"+ubatch:{ubatch}"
        ftype = self.native.meta("general.file_type")
        self._file_type = "gguf:" + (FILE_TYPES.get(int(ftype), ftype) if ftype and ftype.isdigit() else "?")
        if lora is not None:
            self._file_type += "+lora"
        self._grammars: GrammarCompiler | None = None
        self._lock = threading.RLock()
        self.picker = Picker(tokenizer=_Vocab(self.native), stop_ids=self.stop_ids, vocab_size=self.native.n_vocab)
        self.engine = Engine(self.native, self.picker, max_batch=self.config.max_batch_size,
                             prefix_entries=self.config.prefix_cache_entries,
                             prefix_tokens=self.config.prefix_cache_tokens)

    @classmethod
    def from_embedded(cls, model: catalog.EmbeddedModel, *, config: LlamaCppConfig | None = None,
                      cache: ResponseCache | bool | None = None) -> LlamaCppBackend:
        """Load an embedded model's GGUF (reassembled and verified once; no conversion)."""
        return cls(catalog.gguf_file(model), name=f"llamacpp:{model.name}", config=config, cache=cache,
                   weights_id=model.sha256)

    # --- identity -------------------------------------------------------------------------------

    def _adapter(self) -> str | None:
        lora = self.config.lora
        if lora is None:
            return None
        path = Path(os.path.expanduser(lora))
        if not path.is_file():
            raise InvalidInput(f"{self.name}: lora {lora!r}: no such file (expected a LoRA adapter GGUF)")
        scale = self.config.lora_scale
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
            raise InvalidInput(f"{self.name}: lora_scale: expected a finite number, got {scale!r}")
        return str(path)

    def _fingerprint(self) -> str:
        st = self.path.stat()
        return hashlib.sha256(f"{self.path.resolve()}:{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()

    @property
    def info(self) -> BackendInfo:
        ident = hashlib.sha256(f"llamacpp|{self._weights_id}".encode()).hexdigest()
        return BackendInfo(
            model=self.name,
            backend="llamacpp",
            dtype=self._file_type,
            device="cpu",
            context_length=self._context_length,
            identity=ident,
            threads=self.threads,
        )

    # --- prompts --------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.native is None:
            raise InvalidInput(f"{self.name}: the backend is closed; load the model again")

    def encode(self, prompt: PromptItem, params: SamplingParams | None = None) -> list[int]:
        """Token ids of a prompt: raw text as is, a conversation through the GGUF's chat template."""
        self._check_open()
        if isinstance(prompt, str):
            return self.native.tokenize(prompt, add_special=True, parse_special=True)
        if not self.template:
            raise UnsupportedFeature(f"{self.name} has no chat template; pass a plain text prompt")
        from transformers.utils.chat_template_utils import render_jinja_template

        tools = None
        if params is not None and params.tools:
            if "tools" not in self.template:
                raise UnsupportedFeature(
                    f"{self.name}'s chat template does not support tools; use a model that does "
                    "(e.g. llamacpp:qwen2.5-coder-0.5b-instruct) or describe the tools in the prompt"
                )
            tools = [t.to_openai() for t in params.tools]
        special = {"eos_token": self.native.special_text(self.stop_ids[0])}
        bos = self.native.bos_id()
        if bos is not None:
            special["bos_token"] = self.native.special_text(bos)
        (text,), _ = render_jinja_template(
            [[m.to_template() for m in prompt]], tools=tools, chat_template=self.template,
            add_generation_prompt=True, **special)
        return self.native.tokenize(text, add_special=False, parse_special=True)

    def _check_length(self, n_prompt: int, max_tokens: int) -> int:
        ctx = self._context_length
        if n_prompt == 0:
            raise InvalidInput(f"{self.name}: the prompt has no tokens")
        if n_prompt >= ctx:
            raise InvalidInput(f"prompt is {n_prompt} tokens; {self.name} holds at most {ctx}")
        return min(max_tokens, ctx - n_prompt)

    # --- decoding -------------------------------------------------------------------------------

    def _grammar_compiler(self) -> GrammarCompiler:
        if self._grammars is None:
            import xgrammar as xgr

            kind = self.native.vocab_type()
            if kind not in (_VOCAB_BPE, _VOCAB_SPM):
                raise UnsupportedFeature(f"{self.name}: schema/grammar need a BPE or SentencePiece vocabulary")
            vocab = [self.native.token_text(t).decode("utf-8", errors="replace") for t in range(self.native.n_vocab)]
            info = xgr.TokenizerInfo(
                vocab, xgr.VocabType.BYTE_LEVEL if kind == _VOCAB_BPE else xgr.VocabType.BYTE_FALLBACK,
                vocab_size=self.native.n_vocab, stop_token_ids=self.stop_ids, add_prefix_space=kind == _VOCAB_SPM)
            self._grammars = GrammarCompiler(None, self.native.n_vocab, self.stop_ids, info=info)
        return self._grammars

    def _generator(self, params: SamplingParams, index: int) -> torch.Generator | None:
        if params.temperature == 0:
            return None
        g = torch.Generator()
        g.manual_seed(derive_seed(params.seed, index))
        return g

    def _rows(self, prompts: list[PromptItem], params: SamplingParams) -> list[Row]:
        self._check_open()
        compiled, grammars = None, None
        if params.schema is not None or params.grammar is not None:
            grammars = self._grammar_compiler()
            compiled = grammars.compile(params)
        rows = []
        for prompt in prompts:
            ids = self.encode(prompt, params)
            max_new = self._check_length(len(ids), params.max_tokens)
            for j in range(params.n):
                rows.append(Row(prompt_ids=ids, generator=self._generator(params, j), max_new=max_new,
                                matcher=grammars.matcher(compiled) if grammars is not None else None))
        return rows

    def _completion(self, row: Row, params: SamplingParams) -> Completion:
        text, calls, finish = row.text, (), row.finish
        if params.tools:
            text, calls = parse_tool_calls(row.text, params.tools)
            if calls:
                finish = "tool_calls"
        return Completion(
            text=text,
            finish_reason=finish,  # type: ignore[arg-type]
            prompt_tokens=len(row.prompt_ids),
            completion_tokens=len(row.tokens),
            logprobs=tuple(row.logprobs) if params.logprobs else None,
            tool_calls=calls,
        )

    def _generate(self, prompts: list[PromptItem], params: SamplingParams) -> list[list[Completion]]:
        with self._lock:
            rows = self._rows(prompts, params)
            for _ in self.engine.run(rows, params):
                pass
        comps = [self._completion(r, params) for r in rows]
        return [comps[i * params.n:(i + 1) * params.n] for i in range(len(prompts))]

    def stream(self, prompt: Prompt, params: SamplingParams | None = None) -> Iterator[str]:
        """Yield text deltas of one completion as they are decoded (n must be 1)."""
        params = params or SamplingParams()
        if params.n != 1:
            raise InvalidInput(f"stream: n must be 1, got {params.n}")
        with self._lock:
            (row,) = self._rows(normalize_prompts(prompt), params)
            sent = 0
            for _ in self.engine.run([row], params):
                safe = len(row.text) if row.done else len(row.text) - holdback(row.text, params.stop)
                if safe > sent:
                    yield row.text[sent:safe]
                    sent = safe
            if len(row.text) > sent:
                yield row.text[sent:]

    # --- scoring --------------------------------------------------------------------------------

    def score(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """Sum of log-probabilities of each continuation's tokens after the prompt (prompt computed once)."""
        if isinstance(continuations, str) or not continuations:
            raise InvalidInput("continuations: expected a non-empty list of strings")
        with self._lock:
            self._check_open()
            (item,) = normalize_prompts(prompt)
            p_ids = self.encode(item)
            conts = []
            for c in continuations:
                c_ids = self.native.tokenize(c, add_special=False, parse_special=True)
                if not c_ids:
                    raise InvalidInput(f"continuation {c!r} has no tokens")
                conts.append(c_ids)
            self._check_length(len(p_ids) + max(len(c) for c in conts), 1)
            return self.engine.score(p_ids, conts)

    def score_tokens(self, prompt: Prompt, pieces: Sequence[str]) -> list[list[TokenLogprob]]:
        """Each piece's tokens' log-probabilities and the model's top choice at each (one pass, prefix reused)."""
        with self._lock:
            self._check_open()
            ids, flat = tokenize_pieces(
                pieces, lambda p: self.native.tokenize(p, add_special=False, parse_special=True))
            (item,) = normalize_prompts(prompt)
            p_ids = self.encode(item)
            self._check_length(len(p_ids) + len(flat), 1)
            scored = self.engine.token_scores(p_ids, flat)
            return split_pieces([self._token(t, s) for t, s in zip(flat, scored, strict=True)], ids)

    def hidden_states(self, prompt: Prompt, response: str) -> np.ndarray:
        """(response tokens, hidden size): the last layer's states (after the final norm) at `response`'s
        tokens following `prompt` — what the nuclear-norm benchmark reads (evals/benchmarks/nuclear_norm.py)."""
        with self._lock:
            self._check_open()
            (item,) = normalize_prompts(prompt)
            p_ids = self.encode(item)
            r_ids = self.native.tokenize(response, add_special=False, parse_special=False)
            if not r_ids:
                raise InvalidInput("hidden_states: the response is empty; expected at least one token")
            self._check_length(len(p_ids) + len(r_ids), 0)
            return self.engine.hidden_states(p_ids, r_ids)

    def _token(self, token: int, scored: tuple[float, int, float]) -> TokenLogprob:
        logprob, best, best_lp = scored
        text, top = self.native.detokenize([token]), self.native.detokenize([best])
        return TokenLogprob(token=text, token_id=token, logprob=logprob, top=((top, best_lp),))

    def close(self) -> None:
        """Free the model, its context and every cached prefix; the backend cannot decode afterwards."""
        super().close()
        with self._lock:
            if getattr(self, "native", None) is not None:
                self.engine.clear()
                self.native.close()
            self.native = None  # type: ignore[assignment]
            self._grammars = None
