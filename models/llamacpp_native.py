"""The llama.cpp library through llama-cpp-python's low-level ctypes bindings: one model, one context.

Only the C API of llama.h is used (none of llama-cpp-python's high-level `Llama` class), so that
the engine above it (models/llamacpp_engine.py) owns batching, sequences and sampling. The context
is built with a unified KV cache shared by `n_seq` sequences: copying a prefix from one sequence to
another (`seq_cp`) tags the same cells with a second sequence id, no data moves — which is what makes
prefix reuse and n samples of one prompt cheap.

Same numbers whatever the company: a token's logits must depend only on the tokens before it, not on
which other sequences share its batch, or (for a given cell layout) whether its prefix was computed
earlier: see the end of this note. llama.cpp's CPU kernels give that (measured: bit-identical
logits) under three conditions,
which the context and `decode` enforce by default (`LlamaCppConfig(batch_invariant=False)` gives up the
second for 512-token micro-batches, `FAST_UBATCH`): flash attention on (it skips masked cells; without it the sums over cells
depend on where the cells lie); fewer than 64 tokens per micro-batch (from 64 query rows its flash
attention switches to a tiled kernel that rounds differently); and, with more than one thread, never
a single-token batch (one query row over 512+ cells takes a split-KV kernel that combines per-thread
partial sums; a pad token in a scratch sequence keeps it on the common kernel). Costs, measured on
Qwen2.5-0.5B at one thread: prefill ~1.2x slower than with 512-token micro-batches; no decode cost.
What no setting gives: the same numbers when a sequence's cells lie elsewhere in the cache. Flash
attention skips masked cells but its sums depend on where the unmasked ones lie, and llama.cpp puts
new tokens in the first free cells from its search head (back to cell 0 once enough cells before it
are free), so a request that copies a cached prefix does not get the layout a fresh prefill would.
Measured with bench/kv_order.py (a 16-token continuation scored after a 9-token prompt whose first 2
tokens were copied): up to 0.34 nats away from a fresh engine on both SmolLM2-135M and Qwen2.5-0.5B,
the size of the kernels' rounding (flash attention off with an f32 cache moves the fresh score by 0.2).
Greedy outputs therefore agree up to near-ties, not bit for bit, once the cache has been used; the
response cache is what makes a rerun give the same text.

Why this binding: the prebuilt CPU wheel of `llama-cpp-py-sync` needs glibc 2.38 (its libraries
import `__isoc23_strtol`), newer than Debian 12's 2.36; llama-cpp-python builds its pinned llama.cpp
from the sdist with the machine's own compiler. See README.md (set-up) for what that costs.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ratiocinator.errors import MissingPackage, ModelLoadError

LLAMA_CPP_PIP = "pip install llama-cpp-python==0.3.36  (builds llama.cpp from source: cmake and a C++ compiler)"

_LIB: Any = None
_LOG_CALLBACK: Any = None  # kept alive for as long as the library may call it


def library() -> Any:
    """The `llama_cpp` module, imported and initialised once, with llama.cpp's logging silenced."""
    global _LIB, _LOG_CALLBACK
    if _LIB is not None:
        return _LIB
    try:
        import llama_cpp
    except ImportError as exc:  # not installed, or a build that does not load on this machine
        raise MissingPackage(f"the llamacpp: backend needs llama-cpp-python ({exc})", pip_command=LLAMA_CPP_PIP) from exc

    def _quiet(level: int, text: bytes, data: Any) -> None:
        if os.environ.get("RATIOCINATOR_LLAMA_LOG") and text:
            os.write(2, text)

    _LOG_CALLBACK = llama_cpp.llama_log_callback(_quiet)
    llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))
    llama_cpp.llama_backend_init()
    _LIB = llama_cpp
    return _LIB


FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
              11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
              17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}  # GGUF general.file_type (llama_ftype)
#: the types a GGUF can be requantized to (llama_model_quantize; models/compress/gguf_lora.py), by name
FTYPES = {name: code for code, name in FILE_TYPES.items() if name not in ("F32", "F16", "BF16")}


def gguf_type(spec: object) -> str | None:
    """The GGUF type a `--compress` spec starts with ("q3_k_s+eora64" -> "Q3_K_S"), or None when it names none."""
    parts = [p.strip() for p in str(spec).split("+") if p.strip()]
    return parts[0].upper() if parts and parts[0].upper() in FTYPES else None

UBATCH = 63  # tokens per llama_decode call: below the 64 query rows where flash attention tiles
FAST_UBATCH = 512  # llama.cpp's default: prefill ~1.2x faster, a token's numbers depend on its batch


@dataclass(frozen=True, kw_only=True)
class ContextSpec:
    """The llama.cpp context: cells of the shared KV cache, sequences (the last one is scratch), threads."""

    n_ctx: int
    n_seq: int
    threads: int
    lora: str | None = None  # a LoRA adapter GGUF added to the model's weights (e.g. its EoRA compensation)
    lora_scale: float = 1.0
    ubatch: int = UBATCH  # tokens per llama_decode call (UBATCH: batch-invariant numbers; see the docstring)


class NativeModel:
    """A loaded GGUF model with one context; every method must be called under the owner's lock."""

    def __init__(self, path: str | Path, spec: ContextSpec) -> None:
        lib = self.lib = library()
        self.path, self.spec = Path(path), spec
        mparams = lib.llama_model_default_params()
        self.model = lib.llama_model_load_from_file(str(self.path).encode(), mparams)
        if not self.model:
            raise ModelLoadError(f"llama.cpp cannot load {self.path} (not a GGUF it knows?)")
        cparams = lib.llama_context_default_params()
        cparams.n_ctx = spec.n_ctx
        cparams.n_batch = cparams.n_ubatch = spec.ubatch
        cparams.n_seq_max = spec.n_seq
        cparams.n_threads = cparams.n_threads_batch = spec.threads
        cparams.kv_unified = True  # one pool of cells for all sequences: seq_cp shares, never copies
        cparams.flash_attn_type = 1  # on: see the module docstring
        cparams.no_perf = True
        self.ctx = lib.llama_init_from_model(self.model, cparams)
        if not self.ctx:
            lib.llama_model_free(self.model)
            self.model = None
            raise ModelLoadError(f"llama.cpp cannot create a context of {spec.n_ctx} cells for {self.path}")
        self.adapter = None
        self.vocab = lib.llama_model_get_vocab(self.model)
        self.n_vocab = int(lib.llama_vocab_n_tokens(self.vocab))
        self.n_embd = int(lib.llama_model_n_embd(self.model))
        self.n_ctx_train = int(lib.llama_model_n_ctx_train(self.model))
        self.mem = lib.llama_get_memory(self.ctx)
        self._batch = lib.llama_batch_init(spec.ubatch + 1, 0, 1)
        self.scratch = spec.n_seq - 1  # the pad token's sequence; never handed out
        self._text_buf = ctypes.create_string_buffer(1 << 16)
        if spec.lora is not None:
            self._set_lora(spec.lora, spec.lora_scale)

    def _set_lora(self, path: str, scale: float) -> None:
        lib = self.lib
        self.adapter = lib.llama_adapter_lora_init(self.model, str(path).encode())
        if not self.adapter:
            self.close()
            raise ModelLoadError(f"llama.cpp cannot load the LoRA adapter {path} for {self.path} "
                                 "(not an adapter GGUF, or made for another model?)")
        adapters = (lib.llama_adapter_lora_p_ctypes * 1)(self.adapter)
        scales = (ctypes.c_float * 1)(scale)
        if lib.llama_set_adapters_lora(self.ctx, adapters, 1, scales) != 0:
            self.close()
            raise ModelLoadError(f"llama.cpp cannot apply the LoRA adapter {path} to {self.path}")

    # --- metadata and vocabulary --------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        buf = ctypes.create_string_buffer(1 << 20)
        n = self.lib.llama_model_meta_val_str(self.model, key.encode(), buf, len(buf))
        return buf.raw[:n].decode("utf-8", errors="replace") if n >= 0 else None

    def chat_template(self) -> str | None:
        raw = self.lib.llama_model_chat_template(self.model, None)
        return raw.decode("utf-8") if raw else None

    def eog_ids(self) -> list[int]:
        """End-of-generation tokens (eos, eot, <|im_end|>, …) as llama.cpp knows them, less any that are
        also ordinary text (Qwen2.5's vocabulary has a text token '</s>' that llama.cpp counts as an end)."""
        normal = 1 << 2  # LLAMA_TOKEN_ATTR_NORMAL
        return [t for t in range(self.n_vocab) if self.lib.llama_vocab_is_eog(self.vocab, t)
                and not self.lib.llama_vocab_get_attr(self.vocab, t) & normal]

    def vocab_type(self) -> int:
        return int(self.lib.llama_vocab_type(self.vocab))

    def token_text(self, token: int) -> bytes:
        """The token as stored in the vocabulary (e.g. byte-level BPE's 'Ġthe')."""
        return self.lib.llama_vocab_get_text(self.vocab, token) or b""

    def bos_id(self) -> int | None:
        if not self.lib.llama_vocab_get_add_bos(self.vocab):
            return None
        return int(self.lib.llama_vocab_bos(self.vocab))

    def special_text(self, token: int) -> str:
        return self.detokenize([token])

    # --- text <-> tokens ----------------------------------------------------------------------------

    def tokenize(self, text: str, *, add_special: bool, parse_special: bool) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 16
        buf = (self.lib.llama_token * cap)()
        n = self.lib.llama_tokenize(self.vocab, data, len(data), buf, cap, add_special, parse_special)
        if n < 0:  # cannot happen with one token per byte plus specials, but be exact
            cap = -n
            buf = (self.lib.llama_token * cap)()
            n = self.lib.llama_tokenize(self.vocab, data, len(data), buf, cap, add_special, parse_special)
        return list(buf[:n])

    def detokenize(self, tokens: Sequence[int]) -> str:
        """The text of `tokens`, special tokens rendered as their text; a cut UTF-8 tail becomes U+FFFD."""
        return self.detokenize_bytes(tokens).decode("utf-8", errors="replace")

    def detokenize_bytes(self, tokens: Sequence[int]) -> bytes:
        if not tokens:
            return b""
        arr = (self.lib.llama_token * len(tokens))(*tokens)
        buf = self._text_buf
        n = self.lib.llama_detokenize(self.vocab, arr, len(tokens), buf, len(buf), False, True)
        if n < 0:
            buf = ctypes.create_string_buffer(-n + 16)
            n = self.lib.llama_detokenize(self.vocab, arr, len(tokens), buf, len(buf), False, True)
        return buf.raw[:n]

    # --- the KV cache's sequences ---------------------------------------------------------------------

    def seq_rm(self, seq: int, p0: int = -1, p1: int = -1) -> None:
        self.lib.llama_memory_seq_rm(self.mem, seq, p0, p1)

    def seq_cp(self, src: int, dst: int, p0: int = -1, p1: int = -1) -> None:
        self.lib.llama_memory_seq_cp(self.mem, src, dst, p0, p1)

    def seq_len(self, seq: int) -> int:
        return int(self.lib.llama_memory_seq_pos_max(self.mem, seq)) + 1

    def clear(self) -> None:
        self.lib.llama_memory_clear(self.mem, True)

    # --- compute ------------------------------------------------------------------------------------

    def decode(self, items: Sequence[tuple[int, int, int, bool]]) -> int:
        """Run one micro-batch of (token, position, sequence, wants logits); 1 to `spec.ubatch` items.

        Returns llama_decode's status: 0 done, 1 no room in the KV cache (nothing was computed).
        """
        if not 0 < len(items) <= self.spec.ubatch:
            raise ValueError(f"decode: 1 to {self.spec.ubatch} items per call, got {len(items)}")
        if len(items) == 1 and self.spec.threads > 1:  # see the module docstring
            self.seq_rm(self.scratch)
            items = [*items, (items[0][0], 0, self.scratch, False)]
        b = self._batch
        for i, (tok, pos, seq, out) in enumerate(items):
            b.token[i] = tok
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = out
        b.n_tokens = len(items)
        status = int(self.lib.llama_decode(self.ctx, b))
        if status < 0 or status > 1:
            raise RuntimeError(f"llama_decode failed with status {status}")
        return status

    def logits(self, index: int) -> np.ndarray:
        """A copy of the logits of batch item `index` of the last decode (it must have asked for them)."""
        ptr = self.lib.llama_get_logits_ith(self.ctx, index)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()

    def hidden(self, index: int) -> np.ndarray:
        """A copy of the last layer's state (after the final norm) at batch item `index` of the last decode,
        decoded with `set_hidden(True)` (llama.cpp's per-token embeddings: the input of the output head)."""
        ptr = self.lib.llama_get_embeddings_ith(self.ctx, index)
        if not ptr:
            raise RuntimeError(f"llama.cpp gave no hidden state for batch item {index}")
        return np.ctypeslib.as_array(ptr, shape=(self.n_embd,)).copy()

    def set_hidden(self, on: bool) -> None:
        """Whether the next decodes keep each asked-for token's hidden state (read with `hidden`)."""
        self.lib.llama_set_embeddings(self.ctx, on)

    def set_threads(self, threads: int) -> None:
        self.lib.llama_set_n_threads(self.ctx, threads, threads)

    def close(self) -> None:
        if getattr(self, "ctx", None):
            self.lib.llama_batch_free(self._batch)
            self.lib.llama_free(self.ctx)
            self.ctx = None
        if getattr(self, "model", None):
            self.lib.llama_model_free(self.model)  # frees its LoRA adapter too (llama.cpp owns it through the model)
            self.model = None
        self.adapter = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
