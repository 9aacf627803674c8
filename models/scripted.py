"""A deterministic scripted backend for tests and examples: replies come from a script, not a model.

Like pydantic-ai's TestModel: each request takes the next scripted reply (or asks a function), and
under `params.schema` a request without a scripted reply gets the smallest instance that is valid
for the schema, so graphs that rely on constrained output can be exercised end to end. A scripted
reply that violates the requested schema raises InvalidInput: the test is wrong, not the graph.
Every request is recorded in `calls`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ratiocinator.errors import InvalidInput, ModelOutputError
from ratiocinator.models.backend import BaseBackend, Prompt, check_pieces, normalize_prompts
from ratiocinator.models.cache import PromptItem, ResponseCache
from ratiocinator.models.schema import parse_output, schema_dict
from ratiocinator.models.toolcalls import parse_tool_calls
from ratiocinator.models.types import BackendInfo, Completion, SamplingParams, TokenLogprob

Reply = str | None
Script = Sequence[Reply] | Callable[[PromptItem, SamplingParams], Reply]


@dataclass(frozen=True)
class ScriptedCall:
    """One recorded request: the prompt and the parameters it came with."""

    prompt: PromptItem
    params: SamplingParams


def minimal_instance(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """The smallest JSON value valid under `schema` (enough for tests of schema-constrained graphs)."""
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return minimal_instance((root.get("$defs") or root.get("definitions") or {})[name], root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return minimal_instance(schema[key][0], root)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal_instance(props[k], root) for k in schema.get("required", [])}
    if kind == "array":
        return [minimal_instance(schema.get("items", {}), root) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "x" * schema.get("minLength", 0)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return int(low) + (1 if "exclusiveMinimum" in schema else 0) if kind == "integer" else low
    if kind == "boolean":
        return False
    return None


class ScriptedBackend(BaseBackend):
    """Replies from a list (consumed in order) or a function of (prompt, params)."""

    def __init__(self, script: Script = (), *, name: str = "scripted", cache: ResponseCache | bool | None = None,
                 context_length: int = 8192) -> None:
        super().__init__(cache=cache)
        self._script = script
        self._next = 0
        self.name = name
        self.context_length = context_length
        self.calls: list[ScriptedCall] = []
        self.completions: list[Completion] = []  # what each call returned, in order

    @property
    def info(self) -> BackendInfo:
        digest = hashlib.sha256(f"scripted|{self.name}".encode()).hexdigest()
        return BackendInfo(model=self.name, backend="scripted", dtype="none", device="none",
                           context_length=self.context_length, identity=digest)

    def _reply(self, prompt: PromptItem, params: SamplingParams) -> str:
        if callable(self._script):
            reply = self._script(prompt, params)
        elif self._next < len(self._script):
            reply = self._script[self._next]
            self._next += 1
        else:
            reply = None
        if reply is None:
            if params.schema is None:
                raise InvalidInput(f"{self.name}: the script has no reply for request {len(self.calls) - 1} (0-based)")
            reply = json.dumps(minimal_instance(schema_dict(params.schema)))
        if params.schema is not None:
            try:
                parse_output(reply, params.schema)
            except ModelOutputError as exc:
                raise InvalidInput(f"{self.name}: scripted reply violates the requested schema: {exc}") from None
        return reply

    def _complete(self, prompt: PromptItem, params: SamplingParams) -> Completion:
        self.calls.append(ScriptedCall(prompt, params))
        text = self._reply(prompt, params)
        finish = "stop"
        words = text.split()
        n_prompt = len(prompt.split()) if isinstance(prompt, str) else sum(len(m.content.split()) for m in prompt)
        room = min(params.max_tokens, max(self.context_length - n_prompt, 0))  # as a real model: the context ends it
        if len(words) > room:
            text, finish = " ".join(words[:room]), "length"
        for s in params.stop:
            if s in text:
                text, finish = text[: text.index(s)], "stop"
        calls = ()
        if params.tools:
            text, calls = parse_tool_calls(text, params.tools)
            finish = "tool_calls" if calls else finish
        completion = Completion(text=text, finish_reason=finish, prompt_tokens=n_prompt,  # type: ignore[arg-type]
                                completion_tokens=min(len(words), room), tool_calls=calls)
        self.completions.append(completion)
        return completion

    def _generate(self, prompts: list[PromptItem], params: SamplingParams) -> list[list[Completion]]:
        return [[self._complete(p, params) for _ in range(params.n)] for p in prompts]

    def score(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """A deterministic stand-in: minus the number of characters of each continuation."""
        normalize_prompts(prompt)
        if isinstance(continuations, str) or not continuations:
            raise InvalidInput("continuations: expected a non-empty list of strings")
        return [-float(len(c)) for c in continuations]

    def score_tokens(self, prompt: Prompt, pieces: Sequence[str]) -> list[list[TokenLogprob]]:
        """A deterministic stand-in consistent with `score`: each word of a piece (with its leading
        space) is a token worth minus its length, and it is the top choice too."""
        normalize_prompts(prompt)
        check_pieces(pieces)
        out = []
        for piece in pieces:
            words = re.findall(r"\s*\S+|\s+", piece)
            out.append([TokenLogprob(token=w, token_id=i, logprob=-float(len(w)), top=((w, -float(len(w))),))
                        for i, w in enumerate(words)])
        return out

    def stream(self, prompt: Prompt, params: SamplingParams | None = None) -> Iterator[str]:
        (item,) = normalize_prompts(prompt)
        text = self._complete(item, params or SamplingParams()).text
        for i, word in enumerate(text.split(" ")):
            yield word if i == 0 else " " + word
