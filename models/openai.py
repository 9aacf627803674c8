"""The OpenAI-compatible backend: any server that speaks /v1/chat/completions and /v1/completions.

`load_backend("openai:MODEL@http://host:port/v1")` (or `openai:MODEL` with `$OPENAI_BASE_URL`).
Text prompts go to /completions, conversations to /chat/completions; `n` prompts are sent
concurrently (the server batches them). The API key, when the server wants one, comes from the
environment variable named by `OpenAIConfig.api_key_env`. Rate limits (429), server errors (5xx)
and dropped connections are retried with exponential backoff; any other 4xx raises an error naming
the endpoint and the server's own message.

What needs more than the OpenAI API is asked of vLLM servers only (detected from GET /version):
EBNF grammars (`structured_outputs`), token ids in logprobs (`return_tokens_as_token_ids`),
`top_k`, and score() (the /tokenize endpoint plus echoed prompt logprobs). On other servers these
raise UnsupportedFeature instead of being dropped. A schema-constrained reply that does not parse
raises ModelOutputError (the server ignored `response_format`), never passes silently.

httpx rather than the `openai` package: we need vLLM's extra request fields, raw SSE and
per-request retry control, and httpx is already a dependency of the stack.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from ratiocinator.errors import (
    BackendUnavailable,
    InvalidInput,
    ModelNotFound,
    ModelOutputError,
    UnsupportedFeature,
)
from ratiocinator.models.backend import (
    BaseBackend,
    Prompt,
    normalize_prompts,
    split_pieces,
    tokenize_pieces,
)
from ratiocinator.models.cache import PromptItem, ResponseCache
from ratiocinator.models.http import JSONClient
from ratiocinator.models.schema import parse_output, schema_dict
from ratiocinator.models.toolcalls import parse_tool_calls
from ratiocinator.models.types import (
    BackendInfo,
    Completion,
    Message,
    SamplingParams,
    TokenLogprob,
    ToolCall,
)

_SPEC = re.compile(r"^(?P<model>[^@]+?)(?:@(?P<url>https?://\S+))?$")
_TOKEN_ID = re.compile(r"^token_id:(-?\d+)$")


@dataclass(frozen=True, kw_only=True)
class OpenAIConfig:
    """Where the server is and how to talk to it. `server` auto-detects vLLM from GET /version."""

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 300.0
    connect_timeout_s: float = 10.0
    max_retries: int = 4
    backoff_s: float = 0.5
    max_concurrency: int = 8
    tool_choice: Literal["auto", "required"] = "auto"
    server: Literal["auto", "vllm", "generic"] = "auto"
    context_length: int | None = None  # None: the server's max_model_len, else 4096


def parse_spec(rest: str) -> tuple[str, str]:
    """'MODEL@URL' (or 'MODEL' with $OPENAI_BASE_URL) -> (model, base_url)."""
    m = _SPEC.match(rest.strip())
    if not m:
        raise InvalidInput(f"openai spec {rest!r}: expected MODEL@http(s)://HOST:PORT/v1")
    url = m.group("url") or os.environ.get("OPENAI_BASE_URL")
    if not url:
        raise InvalidInput(
            f"openai:{rest}: no server URL; write openai:MODEL@http://HOST:PORT/v1 or set $OPENAI_BASE_URL"
        )
    return m.group("model"), url.rstrip("/")


def _finish(reason: Any) -> str:
    return reason if reason in ("stop", "length", "tool_calls") else "stop"


class OpenAIBackend(BaseBackend):
    """A model served behind an OpenAI-compatible HTTP API."""

    #: requests from several threads at once are safe (one httpx client) and are what lets the
    #: server batch: the eval runner's SharedBackend does not serialise them, so up to
    #: `OpenAIConfig.max_concurrency` requests (the client's pool) are in flight at once
    concurrent = True

    def __init__(
        self,
        config: OpenAIConfig,
        *,
        name: str | None = None,
        cache: ResponseCache | bool | None = None,
    ) -> None:
        super().__init__(cache=cache)
        self.config = config
        self.name = name or f"openai:{config.model}@{config.base_url}"
        self._client = JSONClient(
            config.base_url,
            api_key=os.environ.get(config.api_key_env),
            api_key_env=config.api_key_env,
            timeout_s=config.timeout_s,
            connect_timeout_s=config.connect_timeout_s,
            max_retries=config.max_retries,
            backoff_s=config.backoff_s,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=config.max_concurrency, thread_name_prefix="openai"
        )
        listed = self._client.request("GET", "/models").get("data", [])
        entry = next((m for m in listed if m.get("id") == config.model), None)
        if entry is None:
            ids = ", ".join(str(m.get("id")) for m in listed) or "none"
            self.close()
            raise ModelNotFound(
                f"{self.name}: the server does not serve {config.model!r}; it serves: {ids}"
            )
        self._context = config.context_length or int(entry.get("max_model_len") or 4096)
        self.is_vllm = config.server == "vllm" or (config.server == "auto" and self._detect_vllm())

    def _detect_vllm(self) -> bool:
        root = re.sub(r"/v1/?$", "", self.config.base_url)
        try:
            r = self._client.http.get(root + "/version", timeout=self.config.connect_timeout_s)
        except httpx.HTTPError:
            return False
        return r.status_code == 200 and "version" in r.text and "owned_by" not in r.text

    @property
    def info(self) -> BackendInfo:
        ident = hashlib.sha256(
            f"openai|{self.config.base_url}|{self.config.model}".encode()
        ).hexdigest()
        return BackendInfo(
            model=self.name,
            backend="openai",
            dtype="server",
            device=self.config.base_url,
            context_length=self._context,
            identity=ident,
        )

    # --- requests -------------------------------------------------------------------------------

    def _body(
        self, prompt: PromptItem, params: SamplingParams, *, stream: bool = False
    ) -> tuple[str, dict]:
        chat = not isinstance(prompt, str)
        body: dict[str, Any] = {
            "model": self.config.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": params.n,
            "stream": stream,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if params.top_k:
            self._need_vllm("top_k")
            body["top_k"] = params.top_k
        if not stream:  # logprobs always: they give each sample's token count
            if chat:
                body["logprobs"] = True
                body["top_logprobs"] = params.top_logprobs
            else:
                body["logprobs"] = params.top_logprobs
            if self.is_vllm:
                body["return_tokens_as_token_ids"] = True
        if params.schema is not None:
            schema = schema_dict(params.schema)
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": schema, "strict": True},
            }
        if params.grammar is not None:
            self._need_vllm("EBNF grammars")
            body["structured_outputs"] = {"grammar": params.grammar}
        if params.tools:
            if not chat:
                raise InvalidInput(
                    "tools need a conversation prompt (a list of messages), not plain text"
                )
            body["tools"] = [t.to_openai() for t in params.tools]
            body["tool_choice"] = self.config.tool_choice
            if self.config.tool_choice == "required" and self.is_vllm:
                # vLLM's own `required` let SmolLM2 pass a JSON string as the arguments object; we
                # constrain the reply to one call of one tool with its typed arguments instead.
                if params.schema is not None or params.grammar is not None:
                    raise InvalidInput(
                        "tool_choice='required' constrains the reply; do not also give schema/grammar"
                    )
                from ratiocinator.models.vllm import tool_call_schema

                body["tool_choice"] = "none"
                body["structured_outputs"] = {"json": tool_call_schema(params)}
        if chat:
            body["messages"] = [self._message(m) for m in prompt]
            return "/chat/completions", body
        body["prompt"] = prompt
        return "/completions", body

    def _need_vllm(self, what: str) -> None:
        if not self.is_vllm:
            raise UnsupportedFeature(
                f"{self.name}: {what} need a vLLM server (OpenAIConfig.server='vllm')"
            )

    @staticmethod
    def _message(m: Message) -> dict[str, Any]:
        out = m.to_template()
        if m.tool_calls:  # the API wants arguments as a JSON string
            for c in out["tool_calls"]:
                c["function"]["arguments"] = json.dumps(c["function"]["arguments"])
        return out

    def _token(self, token: str, logprob: float, top: Sequence[tuple[str, float]]) -> TokenLogprob:
        tid = -1  # -1: the server does not report token ids (generic servers)
        if (m := _TOKEN_ID.match(token)) is not None:
            tid = int(m.group(1))
            token = self._decode_ids([tid])
        top = tuple(
            (self._decode_ids([int(mm.group(1))]) if (mm := _TOKEN_ID.match(t)) else t, float(lp))
            for t, lp in top
        )
        return TokenLogprob(token=token, token_id=tid, logprob=float(logprob), top=top)

    def _decode_ids(self, ids: list[int]) -> str:
        if not hasattr(self, "_vocab_cache"):
            self._vocab_cache: dict[int, str] = {}
        key = ids[0]
        if len(ids) == 1 and key in self._vocab_cache:
            return self._vocab_cache[key]
        text = self._client.request(
            "POST", self._root("/detokenize"), {"model": self.config.model, "tokens": ids}
        )["prompt"]
        if len(ids) == 1:
            self._vocab_cache[key] = text
        return text

    def _root(self, path: str) -> str:
        return re.sub(r"/v1/?$", "", self.config.base_url) + path

    def _logprobs(self, lp: Any, chat: bool, top_k: int) -> tuple[TokenLogprob, ...]:
        if not lp:
            return ()
        out = []
        if chat:
            for t in lp.get("content") or []:
                top = [(x["token"], x["logprob"]) for x in (t.get("top_logprobs") or [])][:top_k]
                out.append(self._token(t["token"], t["logprob"], top))
        else:
            tops = lp.get("top_logprobs") or [None] * len(lp.get("tokens", []))
            for tok, val, alts in zip(
                lp.get("tokens", []), lp.get("token_logprobs", []), tops, strict=True
            ):
                top = sorted((alts or {}).items(), key=lambda kv: -kv[1])[:top_k]
                out.append(self._token(tok, val, top))
        return tuple(out)

    def _completion(
        self,
        choice: dict,
        chat: bool,
        params: SamplingParams,
        prompt_tokens: int,
        usage_tokens: int,
    ) -> Completion:
        lps = self._logprobs(choice.get("logprobs"), chat, params.top_logprobs)
        if chat:
            msg = choice.get("message") or {}
            text = msg.get("content") or ""
        else:
            msg, text = {}, choice.get("text") or ""
        finish = _finish(choice.get("finish_reason"))
        calls: tuple[ToolCall, ...] = ()
        if params.tools:
            calls = self._tool_calls(msg.get("tool_calls") or [], params)
            if not calls:
                text, calls = parse_tool_calls(text, params.tools)
            if calls:
                finish = "tool_calls"
        if params.schema is not None and finish == "stop":
            try:
                parse_output(text, params.schema)
            except ModelOutputError as exc:
                raise ModelOutputError(
                    f"{self.name} ignored the requested JSON schema: {exc}", text=text
                ) from None
        return Completion(
            text=text,
            finish_reason=finish,
            prompt_tokens=prompt_tokens,  # type: ignore[arg-type]
            completion_tokens=len(lps) if lps else usage_tokens,
            logprobs=lps if params.logprobs else None,
            tool_calls=calls,
        )

    def _tool_calls(self, raw: list[dict], params: SamplingParams) -> tuple[ToolCall, ...]:
        known = {t.name for t in params.tools}
        calls = []
        for i, c in enumerate(raw):
            fn = c.get("function") or {}
            args = fn.get("arguments") or "{}"
            try:
                parsed = json.loads(args) if isinstance(args, str) else args
            except ValueError:
                continue  # like parse_tool_calls: a call whose arguments are not JSON is not a call
            if fn.get("name") in known and isinstance(parsed, dict):
                calls.append(
                    ToolCall(id=c.get("id") or f"call_{i}", name=fn["name"], arguments=parsed)
                )
        return tuple(calls)

    def _one(self, prompt: PromptItem, params: SamplingParams) -> list[Completion]:
        path, body = self._body(prompt, params)
        data = self._client.request("POST", path, body)
        choices = sorted(data.get("choices", []), key=lambda c: c.get("index", 0))
        if len(choices) != params.n:
            raise ModelOutputError(
                f"{self.name}: asked for n={params.n}, got {len(choices)} choices",
                text=json.dumps(data)[:2000],
            )
        usage = data.get("usage") or {}
        return [
            self._completion(
                c,
                path == "/chat/completions",
                params,
                int(usage.get("prompt_tokens", 0)),
                int(usage.get("completion_tokens", 0)) // params.n,
            )
            for c in choices
        ]

    def _generate(
        self, prompts: list[PromptItem], params: SamplingParams
    ) -> list[list[Completion]]:
        return list(self._pool.map(lambda p: self._one(p, params), prompts))

    def stream(self, prompt: Prompt, params: SamplingParams | None = None) -> Iterator[str]:
        """Yield text deltas as the server sends them (server-sent events; n must be 1)."""
        params = params or SamplingParams()
        if params.n != 1:
            raise InvalidInput(f"stream: n must be 1, got {params.n}")
        (item,) = normalize_prompts(prompt)
        path, body = self._body(item, params, stream=True)
        r = self._client.send("POST", path, body, stream=True)
        try:
            for line in r.iter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                event = json.loads(payload)
                if "error" in event:
                    raise BackendUnavailable(f"{self.name}: stream failed: {event['error']}")
                for c in event.get("choices", []):
                    delta = (c.get("delta") or {}).get("content") if "delta" in c else c.get("text")
                    if delta:
                        yield delta
        finally:
            r.close()

    # --- scoring --------------------------------------------------------------------------------

    def _tokenize(self, body: dict[str, Any]) -> list[int]:
        return list(
            self._client.request(
                "POST", self._root("/tokenize"), {"model": self.config.model, **body}
            )["tokens"]
        )

    def score(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """Sum of log-probabilities of each continuation's tokens after the prompt (vLLM servers only).

        The prompt and each continuation are tokenized apart (as the other backends do) through
        /tokenize, and the joined ids are echoed through /completions with prompt logprobs.
        """
        if isinstance(continuations, str) or not continuations:
            raise InvalidInput("continuations: expected a non-empty list of strings")
        self._need_vllm("score() (prompt logprobs over /tokenize)")
        p_ids = self._prompt_ids(prompt)

        def one(c: str) -> float:
            c_ids = self._tokenize({"prompt": c, "add_special_tokens": False})
            if not c_ids:
                raise InvalidInput(f"continuation {c!r} has no tokens")
            ids = p_ids + c_ids
            data = self._client.request(
                "POST",
                "/completions",
                {
                    "model": self.config.model,
                    "prompt": ids,
                    "max_tokens": 1,
                    "echo": True,
                    "logprobs": 0,
                    "temperature": 0.0,
                },
            )
            lps = data["choices"][0]["logprobs"]["token_logprobs"]
            return float(sum(lps[len(p_ids) : len(ids)]))

        return list(self._pool.map(one, continuations))

    def _prompt_ids(self, prompt: Prompt) -> list[int]:
        """The prompt's token ids as the server's chat template (or plain tokenizer) makes them."""
        (item,) = normalize_prompts(prompt)
        if isinstance(item, str):
            return self._tokenize({"prompt": item, "add_special_tokens": True})
        return self._tokenize(
            {
                "messages": [self._message(m) for m in item],
                "add_generation_prompt": True,
                "add_special_tokens": False,
            }
        )

    def score_tokens(self, prompt: Prompt, pieces: Sequence[str]) -> list[list[TokenLogprob]]:
        """Each piece's tokens' log-probabilities and the model's top choice at each (vLLM servers only:
        the joined ids echoed through /completions with one top logprob per position)."""
        self._need_vllm("score_tokens() (prompt logprobs over /tokenize)")
        ids, flat = tokenize_pieces(pieces, lambda p: self._tokenize({"prompt": p, "add_special_tokens": False}))
        p_ids = self._prompt_ids(prompt)
        body = {"model": self.config.model, "prompt": p_ids + flat, "max_tokens": 1, "echo": True,
                "logprobs": 1, "temperature": 0.0}
        got = self._client.request("POST", "/completions", body)["choices"][0]["logprobs"]
        tokens = []
        for k, t in enumerate(flat):
            at = len(p_ids) + k
            best = max((got["top_logprobs"][at] or {}).items(), key=lambda kv: kv[1])
            tokens.append(TokenLogprob(token=got["tokens"][at], token_id=t,
                                       logprob=float(got["token_logprobs"][at]),
                                       top=((best[0], float(best[1])),)))
        return split_pieces(tokens, ids)

    def close(self) -> None:
        super().close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
