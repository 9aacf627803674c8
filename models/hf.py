"""The transformers backend (the embedded default): batched, seeded, constrained decoding on CPU or one GPU.

Decoding is our own loop over the model's forward pass rather than `model.generate`, because we need
per-request seeds that do not depend on batch composition (each sample owns a torch.Generator
seeded from (seed, sample index)), one xgrammar matcher per row, raw-model logprobs, stop strings,
and token streaming, all in one place. Prompts of a batch are left-padded with explicit position
ids, so greedy batching equals one-by-one decoding.

Logprobs are those of the unmodified model distribution (temperature 1, no grammar mask), so that
the sum over a greedy output equals `score(prompt, [output])`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

import ratiocinator.models.catalog as catalog
from ratiocinator.errors import InvalidInput, ModelLoadError, UnsupportedFeature
from ratiocinator.models.backend import (
    BaseBackend,
    Prompt,
    normalize_prompts,
    split_pieces,
    tokenize_pieces,
)
from ratiocinator.models.cache import PromptItem, ResponseCache
from ratiocinator.models.compress.config import MANIFEST, CompressionConfig
from ratiocinator.models.decoding import Decoder, Row, derive_seed, holdback, left_pad
from ratiocinator.models.fastdecode import FastDecoder, unsupported_reason
from ratiocinator.models.prefix import PrefixCache
from ratiocinator.models.structured import GrammarCompiler
from ratiocinator.models.toolcalls import parse_tool_calls
from ratiocinator.models.types import BackendInfo, Completion, SamplingParams, TokenLogprob

log = logging.getLogger(__name__)

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a hub from this process
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

_DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
           "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}


@dataclass(frozen=True, kw_only=True)
class HFConfig:
    """How to run a transformers model. `threads` None means 1 when $CI is set, else torch's default."""

    dtype: str = "auto"
    threads: int | None = None
    device: str = "cpu"
    max_batch_size: int = 16
    compress: Any = None  # a models.compress CompressionConfig; applied once after loading
    fast_decode: bool = True  # static KV cache + slots (models/fastdecode.py) where the model allows
    # Computed prompts (and outputs) kept for reuse by later calls; 0: off. Off by default: here a reused
    # prefix's keys/values (computed by an earlier prefill or token by token in decode) are not bit-identical
    # to a fresh prefill of the whole prompt, and in bf16 that flips the 0.5B's greedy choices (the chat's
    # blocksworld request then got a circular state). llama.cpp's reuse is exact for a given cell layout
    # (rounding-sized otherwise, models/llamacpp_native.py): it is on there.
    prefix_cache_entries: int = 0
    prefix_cache_tokens: int = 4096  # their bound in tokens (keys/values of every layer per token)
    compile: bool | None = None  # torch.compile the decode step; None: on CUDA only


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_dtype(name: str, device: str) -> torch.dtype:
    if name == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16
        return torch.bfloat16 if cpu_has_bf16() else torch.float32
    try:
        return _DTYPES[name]
    except KeyError:
        raise InvalidInput(f"dtype {name!r}: expected auto, {', '.join(_DTYPES)}") from None


def resolve_device(device: str, name: str) -> torch.device:
    """The torch device for `device` (cpu, cuda, cuda:N); a GPU that torch cannot see is refused."""
    from ratiocinator.models.device import check_device, cuda_index

    device = check_device(device)
    if device == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        build = "a CPU-only build of torch" if torch.version.cuda is None else f"torch {torch.__version__}"
        raise UnsupportedFeature(f"{name}: device {device!r}: no CUDA device is visible ({build}); use device cpu")
    index = cuda_index(device)
    if index is not None and index >= torch.cuda.device_count():
        raise InvalidInput(f"{name}: device {device!r}: this machine has {torch.cuda.device_count()} visible GPU(s), "
                           f"cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    return torch.device(device)


def apply_threads(threads: int | None) -> int:
    if threads is None and os.environ.get("CI"):
        threads = 1  # shared machines: 2 threads collapse under load, 1 stays near full speed
    if threads is not None:
        if threads < 1:
            raise InvalidInput(f"threads: expected a positive integer, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


class HFBackend(BaseBackend):
    """A causal LM loaded with transformers from a local directory."""

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        config: HFConfig | None = None,
        cache: ResponseCache | bool | None = None,
        weights_id: str | None = None,
    ) -> None:
        super().__init__(cache=cache)
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.config = config or HFConfig()
        self.path = Path(path)
        self.name = name or f"hf:{self.path}"
        self.device = resolve_device(self.config.device, self.name)
        self.dtype = resolve_dtype(self.config.dtype, self.config.device)
        self.threads = apply_threads(self.config.threads)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path)
            self.model = AutoModelForCausalLM.from_pretrained(self.path, dtype=self.dtype)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"{self.name}: cannot load the model in {self.path}: {exc}") from exc
        self.tokenizer.padding_side = "left"
        self.model.to(self.device).eval()
        if self.config.compress is None and (self.path / MANIFEST).is_file():
            # A checkpoint saved by `ratiocinator compress` holds packed layers that only load through
            # its manifest; without it transformers would leave those linears randomly initialised.
            self.config = replace(self.config, compress=CompressionConfig.load(self.path))
        self.compression: str | None = None
        if self.config.compress is not None:
            from ratiocinator.models.compress import apply as apply_compression

            # Rewrites the model's layers in place; returns a short description for `info`.
            self.compression = apply_compression(self, self.config.compress)
        self.stop_ids = self._stop_token_ids()
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.stop_ids[0]
        self.vocab_size = int(self.model.config.vocab_size)
        self._context_length = int(getattr(self.model.config, "max_position_embeddings", 2048))
        self._grammars: GrammarCompiler | None = None
        self._identity = weights_id or self._fingerprint()
        from transformers import DynamicCache

        self._custom_cache = type(self.new_cache()) is not DynamicCache
        fast = None
        if self.config.fast_decode:
            reason = unsupported_reason(self.model)
            if reason is None:
                compile_ = self.config.compile if self.config.compile is not None else self.device.type == "cuda"
                fast = FastDecoder(self.model, compile=compile_)
            else:
                log.info("%s: static-cache decoding off (%s); using the model's forward", self.name, reason)
        prefix = None
        if self.config.prefix_cache_entries > 0 and not self._custom_cache:
            prefix = PrefixCache(max_entries=self.config.prefix_cache_entries,
                                 max_tokens=self.config.prefix_cache_tokens, on_evict=lambda kv: None)
        self.decoder = Decoder(model=self.model, tokenizer=self.tokenizer, stop_ids=self.stop_ids,
                               pad_id=self.pad_id, vocab_size=self.vocab_size, device=self.device,
                               max_batch=self.config.max_batch_size, new_cache=self.new_cache, fast=fast,
                               prefix=prefix)

    @classmethod
    def from_embedded(
        cls, model: catalog.EmbeddedModel, *, config: HFConfig | None = None, cache: ResponseCache | bool | None = None
    ) -> HFBackend:
        """Load an embedded model, converting it on first use; a corrupt cache is rebuilt once."""
        path = catalog.prepare(model)
        try:
            return cls(path, name=model.spec, config=config, cache=cache, weights_id=model.sha256)
        except ModelLoadError:  # only a corrupt conversion is rebuilt; compression errors propagate
            path = catalog.prepare(model, force=True)
            return cls(path, name=model.spec, config=config, cache=cache, weights_id=model.sha256)

    # --- identity -------------------------------------------------------------------------------

    def _fingerprint(self) -> str:
        parts = []
        for f in sorted(self.path.iterdir()):
            if f.is_file():
                st = f.stat()
                parts.append(f"{f.name}:{st.st_size}:{int(st.st_mtime)}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    @property
    def info(self) -> BackendInfo:
        ident = hashlib.sha256(f"hf|{self._identity}|{self.dtype}|{self.compression}".encode()).hexdigest()
        return BackendInfo(
            model=self.name,
            backend="transformers",
            dtype=str(self.dtype).removeprefix("torch."),
            device=str(self.device),
            context_length=self._context_length,
            identity=ident,
            compression=self.compression,
            threads=self.threads,
        )

    def _stop_token_ids(self) -> list[int]:
        ids: list[int] = []
        gen = getattr(self.model, "generation_config", None)
        for source in (getattr(gen, "eos_token_id", None), self.tokenizer.eos_token_id):
            if source is None:
                continue
            for i in source if isinstance(source, list) else [source]:
                if i not in ids:
                    ids.append(int(i))
        for tok in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>"):
            tid = self.tokenizer.convert_tokens_to_ids(tok)
            if isinstance(tid, int) and tid != self.tokenizer.unk_token_id and tid not in ids:
                ids.append(tid)
        if not ids:
            raise InvalidInput(f"{self.name}: the tokenizer defines no end-of-sequence token")
        return ids

    # --- prompts --------------------------------------------------------------------------------

    def encode(self, prompt: PromptItem, params: SamplingParams | None = None) -> list[int]:
        """Token ids of a prompt: raw text as is, a conversation through the model's chat template."""
        if isinstance(prompt, str):
            return self.tokenizer(prompt, add_special_tokens=True)["input_ids"]
        template = self.tokenizer.chat_template
        if not template:
            raise UnsupportedFeature(f"{self.name} has no chat template; pass a plain text prompt")
        kwargs: dict[str, Any] = {}
        if params is not None and params.tools:
            if "tools" not in template:
                raise UnsupportedFeature(
                    f"{self.name}'s chat template does not support tools; use a model that does "
                    "(e.g. embedded:qwen2.5-coder-0.5b-instruct) or describe the tools in the prompt"
                )
            kwargs["tools"] = [t.to_openai() for t in params.tools]
        text = self.tokenizer.apply_chat_template(
            [m.to_template() for m in prompt], tokenize=False, add_generation_prompt=True, **kwargs
        )
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _check_length(self, n_prompt: int, max_tokens: int) -> int:
        ctx = self.info.context_length
        if n_prompt >= ctx:
            raise InvalidInput(f"prompt is {n_prompt} tokens; {self.name} holds at most {ctx}")
        return min(max_tokens, ctx - n_prompt)

    # --- decoding -------------------------------------------------------------------------------

    def new_cache(self) -> Any:
        """The KV cache of one decode: a DynamicCache, or the compressed cache the config asks for."""
        if self.config.compress is not None:
            from ratiocinator.models.compress import new_cache

            cache = new_cache(self, self.config.compress)
            if cache is not None:
                return cache
        from transformers import DynamicCache

        return DynamicCache(config=self.model.config)

    def _completion(self, row: Row, params: SamplingParams) -> Completion:
        text, calls = row.text, ()
        finish = row.finish
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

    def _check_open(self) -> None:
        if self.model is None:
            raise InvalidInput(f"{self.name}: the backend is closed; load the model again")

    def _rows(self, prompts: list[PromptItem], params: SamplingParams) -> list[Row]:
        self._check_open()
        compiled = None
        if params.schema is not None or params.grammar is not None:
            if self._grammars is None:
                self._grammars = GrammarCompiler(self.tokenizer, self.vocab_size, self.stop_ids)
            compiled = self._grammars.compile(params)
        rows = []
        for prompt in prompts:
            ids = self.encode(prompt, params)
            max_new = self._check_length(len(ids), params.max_tokens)
            for j in range(params.n):
                rows.append(Row(prompt_ids=ids, generator=self._generator(params, j), max_new=max_new,
                                matcher=self._grammars.matcher(compiled) if compiled is not None else None))
        return rows

    def _run(self, rows: list[Row], params: SamplingParams) -> Iterator[None]:
        # A compressed KV cache (GEAR) is a transformers Cache: it needs the model-forward scheduler.
        return self.decoder.run(rows, params, custom_cache=self._custom_cache)

    def _generate(self, prompts: list[PromptItem], params: SamplingParams) -> list[list[Completion]]:
        rows = self._rows(prompts, params)
        # Longest prompts first: in slot decoding they overlap best; results go back in request order.
        for _ in self._run(sorted(rows, key=lambda r: -len(r.prompt_ids)), params):
            pass
        comps = [self._completion(r, params) for r in rows]
        return [comps[i * params.n:(i + 1) * params.n] for i in range(len(prompts))]

    def _generator(self, params: SamplingParams, index: int) -> torch.Generator | None:
        if params.temperature == 0:
            return None
        g = torch.Generator(device=self.device)
        g.manual_seed(derive_seed(params.seed, index))
        return g

    def stream(self, prompt: Prompt, params: SamplingParams | None = None) -> Iterator[str]:
        """Yield text deltas of one completion as they are decoded (n must be 1)."""
        params = params or SamplingParams()
        if params.n != 1:
            raise InvalidInput(f"stream: n must be 1, got {params.n}")
        (row,) = self._rows(normalize_prompts(prompt), params)
        sent = 0
        for _ in self._run([row], params):
            safe = len(row.text) if row.done else len(row.text) - holdback(row.text, params.stop)
            if safe > sent:
                yield row.text[sent:safe]
                sent = safe
        if len(row.text) > sent:
            yield row.text[sent:]

    # --- scoring --------------------------------------------------------------------------------

    @torch.inference_mode()
    def score(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """Sum of log-probabilities of each continuation's tokens after the prompt.

        The prompt runs once and its KV cache is shared by all continuations (P + B*C positions instead
        of B*(P+C) for B continuations of C tokens after a P-token prompt); a compressed KV cache
        takes the plain path, one padded batch of prompt+continuation.
        """
        if isinstance(continuations, str) or not continuations:
            raise InvalidInput("continuations: expected a non-empty list of strings")
        self._check_open()
        (item,) = normalize_prompts(prompt)
        p_ids = self.encode(item)
        conts = []
        for c in continuations:
            c_ids = self.tokenizer(c, add_special_tokens=False)["input_ids"]
            if not c_ids:
                raise InvalidInput(f"continuation {c!r} has no tokens")
            conts.append(c_ids)
        self._check_length(len(p_ids) + max(len(c) for c in conts), 1)
        if self._custom_cache:
            return self._score_full(p_ids, conts)
        return self._score_shared(p_ids, conts)

    def _score_full(self, p_ids: list[int], conts: list[list[int]]) -> list[float]:
        seqs = [p_ids + c for c in conts]
        width = max(len(s) for s in seqs)
        ids, mask = left_pad(seqs, self.pad_id)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                            position_ids=positions.to(self.device)).logits.float()
        lp = torch.log_softmax(logits[:, :-1], dim=-1)
        target = ids[:, 1:].to(self.device)
        tok_lp = lp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        return [float(tok_lp[i, width - 1 - len(c):].sum()) for i, c in enumerate(conts)]

    def _score_shared(self, p_ids: list[int], conts: list[list[int]]) -> list[float]:
        n_p = len(p_ids)
        # The prompt starts from the longest prefix computed before (prefix cache) and is kept there.
        cache, last = self.decoder.prefill_from(p_ids)
        self.decoder.keep(p_ids, tuple((layer.keys[0], layer.values[0]) for layer in cache.layers))
        first = torch.log_softmax(last[0], dim=-1)  # predicts each continuation's token 0
        totals = [float(first[c[0]]) for c in conts]
        width = max(len(c) for c in conts) - 1  # tokens 0..n-2 are fed; they predict tokens 1..n-1
        if width == 0:
            return totals
        cache.batch_repeat_interleave(len(conts))
        ids = torch.full((len(conts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(conts), n_p + width), dtype=torch.long)
        mask[:, :n_p] = 1
        for i, c in enumerate(conts):  # right-padded: a row's padding comes after everything it reads
            ids[i, : len(c) - 1] = torch.tensor(c[:-1])
            mask[i, n_p : n_p + len(c) - 1] = 1
        positions = torch.arange(n_p, n_p + width).expand(len(conts), width)
        logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                            position_ids=positions.to(self.device), past_key_values=cache,
                            use_cache=True).logits.float()
        lp = torch.log_softmax(logits, dim=-1)
        for i, c in enumerate(conts):
            if len(c) > 1:
                target = torch.tensor(c[1:], device=self.device)
                totals[i] += float(lp[i, : len(c) - 1].gather(-1, target.unsqueeze(-1)).sum())
        return totals

    @torch.inference_mode()
    def score_tokens(self, prompt: Prompt, pieces: Sequence[str]) -> list[list[TokenLogprob]]:
        """Each piece's tokens' log-probabilities and the model's top choice at each: one forward pass
        over prompt + pieces, logits kept only where the pieces are predicted."""
        self._check_open()
        ids, flat = tokenize_pieces(pieces, lambda p: self.tokenizer(p, add_special_tokens=False)["input_ids"])
        (item,) = normalize_prompts(prompt)
        p_ids = self.encode(item)
        self._check_length(len(p_ids) + len(flat), 1)
        fed = torch.tensor([p_ids + flat[:-1]], device=self.device)
        logits = self.model(input_ids=fed, logits_to_keep=len(flat), use_cache=False).logits[0].float()
        lp = torch.log_softmax(logits, dim=-1)
        best_lp, best = lp.max(dim=-1)
        own = lp.gather(-1, torch.tensor(flat, device=self.device).unsqueeze(-1)).squeeze(-1)
        tokens = [
            TokenLogprob(token=self.tokenizer.decode([t]), token_id=t, logprob=float(own[k]),
                         top=((self.tokenizer.decode([int(best[k])]), float(best_lp[k])),))
            for k, t in enumerate(flat)
        ]
        return split_pieces(tokens, ids)

    def close(self) -> None:
        """Free the model: drop every reference to its weights and caches (decoder, static KV caches,
        compiled steps and CUDA graphs, tokenizer, grammars), so that the memory is released even while
        this object is still referenced. The backend cannot decode afterwards."""
        super().close()
        decoder = getattr(self, "decoder", None)
        if decoder is not None:
            decoder.close()
        self.decoder = None  # type: ignore[assignment]
        self.model = None  # type: ignore[assignment]
        self.tokenizer = None
        self._grammars = None
        import gc

        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


