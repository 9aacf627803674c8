"""Constrained decoding with xgrammar: JSON schemas and EBNF grammars become per-token masks.

Every backend that decodes token by token (the transformers backend here) compiles `params.schema` or
`params.grammar` once per tokenizer and applies the grammar's token bitmask to the logits of each
step, so a constrained output always parses. JSON whitespace is not left to the model: the grammar
fixes the separators to `", "` and `": "` (one canonical layout). Left free, a weak model emits
newlines until max_tokens and never closes the object; fixed, outputs are also shorter.
"""

from __future__ import annotations

import json
from typing import Any

import torch
import xgrammar as xgr

from ratiocinator.errors import InvalidInput
from ratiocinator.models.schema import schema_dict
from ratiocinator.models.types import SamplingParams

JSON_SEPARATORS = (", ", ": ")


def is_complete(text: str, params: SamplingParams) -> bool:
    """Whether `text` is a whole output under the request's schema or grammar (a decode cut at its token
    limit may have just finished the document, short of the end-of-sequence token)."""
    if params.schema is not None:
        from ratiocinator.models.schema import parse_output

        try:
            parse_output(text, params.schema)
        except Exception:
            return False
        return True
    if params.grammar is not None:
        try:
            from xgrammar.testing import _is_grammar_accept_string

            return bool(_is_grammar_accept_string(xgr.Grammar.from_ebnf(params.grammar), text))
        except Exception:  # no such helper in this xgrammar, or a grammar it rejects: not known complete
            return False
    return True


def mask_logits_(logits: torch.Tensor, matchers: list[xgr.GrammarMatcher | None], bitmask: torch.Tensor) -> None:
    """Forbid, in place, every token that row i's grammar does not allow next (None rows are free)."""
    rows = [i for i, m in enumerate(matchers) if m is not None and not m.is_terminated()]
    if not rows:
        return
    for i in rows:
        matchers[i].fill_next_token_bitmask(bitmask, i)  # type: ignore[union-attr]
    xgr.apply_token_bitmask_inplace(logits, bitmask.to(logits.device), indices=rows)


def accept(matcher: xgr.GrammarMatcher, token_id: int) -> None:
    """Advance a matcher by the token that was sampled under its own mask."""
    if matcher.is_terminated():
        return
    if not matcher.accept_token(token_id):
        raise RuntimeError(f"grammar rejected token {token_id} that its own mask allowed")


def allocate_bitmask(rows: int, vocab_size: int) -> torch.Tensor:
    return xgr.allocate_token_bitmask(rows, vocab_size)


class GrammarCompiler:
    """Compiles schemas and grammars for one tokenizer (xgrammar caches compiled grammars)."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_token_ids: list[int], *,
                 info: xgr.TokenizerInfo | None = None) -> None:
        """`tokenizer` is a Hugging Face tokenizer; an engine without one passes `info` (and None)."""
        self.vocab_size = vocab_size
        self.stop_token_ids = stop_token_ids
        if info is None:
            info = xgr.TokenizerInfo.from_huggingface(
                tokenizer, vocab_size=vocab_size, stop_token_ids=stop_token_ids
            )
        self.tokenizer_info = info
        self._compiler = xgr.GrammarCompiler(info, max_threads=1)

    def compile(self, params: SamplingParams) -> xgr.CompiledGrammar | None:
        if params.schema is not None:
            schema = schema_dict(params.schema)
            try:
                return self._compiler.compile_json_schema(
                    json.dumps(schema),
                    any_whitespace=False,
                    separators=JSON_SEPARATORS,
                    strict_mode=True,
                )
            except Exception as exc:  # xgrammar raises RuntimeError/ValueError subclasses
                raise InvalidInput(f"JSON schema cannot be compiled to a grammar: {exc}") from exc
        if params.grammar is not None:
            try:
                return self._compiler.compile_grammar(params.grammar)
            except Exception as exc:
                raise InvalidInput(
                    f"EBNF grammar does not compile (xgrammar dialect, start symbol `root`): {exc}"
                ) from exc
        return None

    def matcher(self, compiled: xgr.CompiledGrammar) -> xgr.GrammarMatcher:
        return xgr.GrammarMatcher(compiled)
