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
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ratiocinator.errors import InvalidInput, UnsupportedFeature
from ratiocinator.models import catalog
from ratiocinator.models.backend import BaseBackend, Prompt, normalize_prompts
from ratiocinator.models.cache import PromptItem, ResponseCache
from ratiocinator.models.structured import GrammarCompiler, GrammarRows
from ratiocinator.models.toolcalls import parse_tool_calls
from ratiocinator.models.types import BackendInfo, Completion, SamplingParams, TokenLogprob

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


def apply_threads(threads: int | None) -> int:
    if threads is None and os.environ.get("CI"):
        threads = 1  # shared machines: 2 threads collapse under load, 1 stays near full speed
    if threads is not None:
        if threads < 1:
            raise InvalidInput(f"threads: expected a positive integer, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


@dataclass
class _Row:
    """One sequence being decoded."""

    prompt_ids: list[int]
    generator: torch.Generator | None
    tokens: list[int] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)
    text: str = ""
    done: bool = False
    finish: str = "length"


def _derive_seed(seed: int | None, index: int) -> int:
    if seed is None:
        return random.SystemRandom().randrange(2**63)
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _filter_logits(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """Temperature, top-k and top-p on a (B, V) float tensor; returns probabilities."""
    logits = logits / params.temperature
    if params.top_k:
        k = min(params.top_k, logits.shape[-1])
        kth = torch.topk(logits, k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if params.top_p < 1.0:
        sorted_p, idx = torch.sort(probs, dim=-1, descending=True)
        cum = sorted_p.cumsum(-1)
        drop = cum - sorted_p > params.top_p  # keep the smallest prefix whose mass reaches top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, idx, sorted_p)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def _holdback(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters might still start a stop string (not yet safe to stream)."""
    keep = 1 if text.endswith("\ufffd") else 0
    for s in stops:
        for n in range(min(len(s) - 1, len(text)), 0, -1):
            if text.endswith(s[:n]):
                keep = max(keep, n)
                break
    return keep


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
        self.device = torch.device(self.config.device)
        self.dtype = resolve_dtype(self.config.dtype, self.config.device)
        self.threads = apply_threads(self.config.threads)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.tokenizer.padding_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(self.path, dtype=self.dtype)
        self.model.to(self.device).eval()
        self.compression: str | None = None
        if self.config.compress is not None:
            from ratiocinator.models.compress import apply as apply_compression

            # Rewrites the model's layers in place; returns a short description for `info`.
            self.compression = apply_compression(self, self.config.compress)
        self.stop_ids = self._stop_token_ids()
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.stop_ids[0]
        self.vocab_size = int(self.model.config.vocab_size)
        self._grammars: GrammarCompiler | None = None
        self._identity = weights_id or self._fingerprint()

    @classmethod
    def from_embedded(
        cls, model: catalog.EmbeddedModel, *, config: HFConfig | None = None, cache: ResponseCache | bool | None = None
    ) -> HFBackend:
        """Load an embedded model, converting it on first use; a corrupt cache is rebuilt once."""
        path = catalog.prepare(model)
        try:
            return cls(path, name=model.spec, config=config, cache=cache, weights_id=model.sha256)
        except (OSError, ValueError, RuntimeError):
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
            context_length=int(getattr(self.model.config, "max_position_embeddings", 2048)),
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

    def _grammar_rows(self, params: SamplingParams, count: int) -> GrammarRows | None:
        if params.schema is None and params.grammar is None:
            return None
        if self._grammars is None:
            self._grammars = GrammarCompiler(self.tokenizer, self.vocab_size, self.stop_ids)
        compiled = self._grammars.compile(params)
        return self._grammars.rows(compiled, count) if compiled is not None else None

    def new_cache(self) -> Any:
        """The KV cache of one decode: a DynamicCache, or the compressed cache the config asks for."""
        if self.config.compress is not None:
            from ratiocinator.models.compress import new_cache

            cache = new_cache(self, self.config.compress)
            if cache is not None:
                return cache
        from transformers import DynamicCache

        return DynamicCache(config=self.model.config)

    @torch.inference_mode()
    def _decode(self, rows: list[_Row], params: SamplingParams) -> Iterator[None]:
        """Advance every row one token per iteration until all are done (yields after each step)."""
        grammar = self._grammar_rows(params, len(rows))
        width = max(len(r.prompt_ids) for r in rows)
        max_new = self._check_length(width, params.max_tokens)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, width - len(r.prompt_ids):] = torch.tensor(r.prompt_ids)
            mask[i, width - len(r.prompt_ids):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        past = self.new_cache()
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                         past_key_values=past, use_cache=True, logits_to_keep=1)
        stop_ids = set(self.stop_ids)
        for step in range(max_new):
            logits = out.logits[:, -1, :].float()
            want_lp = params.logprobs
            raw_lp = torch.log_softmax(logits, dim=-1) if want_lp else None
            active = [not r.done for r in rows]
            if grammar is not None:
                grammar.mask_(logits, active)
            if params.temperature == 0:
                next_ids = logits.argmax(-1).tolist()
            else:
                probs = _filter_logits(logits, params)
                next_ids = [
                    int(torch.multinomial(probs[i], 1, generator=r.generator)) if active[i] else self.pad_id
                    for i, r in enumerate(rows)
                ]
            if raw_lp is not None:
                lp_cpu = raw_lp.cpu()
                if params.top_logprobs:
                    top = torch.topk(lp_cpu, params.top_logprobs, dim=-1)
            for i, r in enumerate(rows):
                if r.done:
                    continue
                tok = int(next_ids[i])
                r.tokens.append(tok)
                if raw_lp is not None:
                    alts = ()
                    if params.top_logprobs:
                        alts = tuple(
                            (self.tokenizer.decode([int(t)]), float(v))
                            for t, v in zip(top.indices[i], top.values[i], strict=True)
                        )
                    r.logprobs.append(TokenLogprob(token=self.tokenizer.decode([tok]), token_id=tok,
                                                   logprob=float(lp_cpu[i, tok]), top=alts))
                if grammar is not None:
                    grammar.accept(i, tok)
                if tok in stop_ids or (grammar is not None and grammar.terminated(i)):
                    r.done, r.finish = True, "stop"
                    r.text = self._text(r.tokens)
                    continue
                r.text = self._text(r.tokens)
                if params.stop:
                    cut = min((r.text.find(s) for s in params.stop if s in r.text), default=-1)
                    if cut >= 0:
                        r.text, r.done, r.finish = r.text[:cut], True, "stop"
            yield
            if all(r.done for r in rows) or step == max_new - 1:
                break
            nxt = torch.tensor([[t] for t in next_ids], dtype=torch.long, device=self.device)
            mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=torch.long, device=self.device)], -1)
            positions = positions[:, -1:] + 1
            out = self.model(input_ids=nxt, attention_mask=mask, position_ids=positions,
                             past_key_values=past, use_cache=True)

    def _text(self, tokens: list[int]) -> str:
        stop = set(self.stop_ids)
        return self.tokenizer.decode([t for t in tokens if t not in stop], skip_special_tokens=False)

    def _completion(self, row: _Row, params: SamplingParams) -> Completion:
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

    def _generate(self, prompts: list[PromptItem], params: SamplingParams) -> list[list[Completion]]:
        encoded = [self.encode(p, params) for p in prompts]
        rows = [
            _Row(prompt_ids=ids, generator=self._generator(params, j))
            for ids in encoded
            for j in range(params.n)
        ]
        size = self.config.max_batch_size
        # Sort by length so that batches pad little; results go back in request order.
        order = sorted(range(len(rows)), key=lambda k: len(rows[k].prompt_ids))
        for start in range(0, len(order), size):
            batch = [rows[k] for k in order[start:start + size]]
            for _ in self._decode(batch, params):
                pass
        comps = [self._completion(r, params) for r in rows]
        return [comps[i * params.n:(i + 1) * params.n] for i in range(len(prompts))]

    def _generator(self, params: SamplingParams, index: int) -> torch.Generator | None:
        if params.temperature == 0:
            return None
        g = torch.Generator(device=self.device)
        g.manual_seed(_derive_seed(params.seed, index))
        return g

    def stream(self, prompt: Prompt, params: SamplingParams | None = None) -> Iterator[str]:
        """Yield text deltas of one completion as they are decoded (n must be 1)."""
        params = params or SamplingParams()
        if params.n != 1:
            raise InvalidInput(f"stream: n must be 1, got {params.n}")
        (item,) = normalize_prompts(prompt) if not isinstance(prompt, str) else [prompt]
        row = _Row(prompt_ids=self.encode(item, params), generator=self._generator(params, 0))
        sent = 0
        for _ in self._decode([row], params):
            safe = len(row.text) if row.done else len(row.text) - _holdback(row.text, params.stop)
            if safe > sent:
                yield row.text[sent:safe]
                sent = safe
        if len(row.text) > sent:
            yield row.text[sent:]

    # --- scoring --------------------------------------------------------------------------------

    @torch.inference_mode()
    def score(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """Sum of log-probabilities of each continuation's tokens after the prompt (one batched forward)."""
        if isinstance(continuations, str) or not continuations:
            raise InvalidInput("continuations: expected a non-empty list of strings")
        (item,) = normalize_prompts(prompt) if not isinstance(prompt, str) else [prompt]
        p_ids = self.encode(item)
        seqs = []
        for c in continuations:
            c_ids = self.tokenizer(c, add_special_tokens=False)["input_ids"]
            if not c_ids:
                raise InvalidInput(f"continuation {c!r} has no tokens")
            seqs.append((p_ids + c_ids, len(c_ids)))
        width = max(len(s) for s, _ in seqs)
        self._check_length(width, 1)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, (s, _) in enumerate(seqs):
            ids[i, width - len(s):] = torch.tensor(s)
            mask[i, width - len(s):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                            position_ids=positions.to(self.device)).logits.float()
        lp = torch.log_softmax(logits[:, :-1], dim=-1)
        target = ids[:, 1:].to(self.device)
        tok_lp = lp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        return [float(tok_lp[i, width - 1 - n:].sum()) for i, (_, n) in enumerate(seqs)]

    def close(self) -> None:
        super().close()
        self.model = None  # type: ignore[assignment]


