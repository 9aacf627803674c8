"""Typed values exchanged with every inference backend: messages, sampling parameters, completions."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolCall(_Frozen):
    """One call of a tool the model asked for: the tool's name and its parsed JSON arguments."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Message(_Frozen):
    """One chat turn. `tool_calls` on assistant turns; `tool_call_id`/`name` on tool results."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    name: str | None = None
    tool_call_id: str | None = None

    def to_template(self) -> dict[str, Any]:
        """The dict shape that Hugging Face chat templates expect."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.tool_calls
            ]
        if self.name is not None:
            out["name"] = self.name
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        return out


class ToolSpec(_Frozen):
    """A tool offered to the model: its name, what it does, and a JSON schema of its arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


class SamplingParams(_Frozen):
    """How to sample. temperature 0 is greedy; `seed` makes sampling reproducible per request.

    `schema` (a pydantic model class or a JSON-schema dict) or `grammar` (EBNF, xgrammar dialect,
    start symbol `root`) constrains the output so that it always parses.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    temperature: float = Field(0.0, ge=0.0, le=10.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    top_k: int = Field(0, ge=0, description="0 disables top-k")
    max_tokens: int = Field(256, ge=1)
    stop: tuple[str, ...] = ()
    seed: int | None = None
    n: int = Field(1, ge=1, le=1024)
    logprobs: bool = False
    top_logprobs: int = Field(0, ge=0, le=20)
    schema_: Any = Field(None, alias="schema")
    grammar: str | None = None
    tools: tuple[ToolSpec, ...] = ()

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_tuple(cls, v: Any) -> Any:
        if isinstance(v, str):
            return (v,)
        return tuple(v) if v is not None else ()

    @field_validator("schema_")
    @classmethod
    def _schema_kind(cls, v: Any) -> Any:
        if v is None or isinstance(v, dict):
            return v
        if isinstance(v, type) and issubclass(v, BaseModel):
            return v
        raise ValueError(
            f"schema must be a pydantic model class or a JSON-schema dict, got {type(v).__name__}"
        )

    @model_validator(mode="after")
    def _one_constraint(self) -> SamplingParams:
        if self.schema_ is not None and self.grammar is not None:
            raise ValueError("give either schema or grammar, not both")
        return self

    @property
    def schema(self) -> Any:
        return self.schema_

    def json_schema(self) -> dict[str, Any] | None:
        """The schema as a JSON-schema dict (pydantic models converted), or None."""
        if self.schema_ is None:
            return None
        if isinstance(self.schema_, dict):
            return self.schema_
        return self.schema_.model_json_schema()

    def cache_key(self) -> str:
        """A canonical string of every field that changes the output."""
        data = self.model_dump(by_alias=True, exclude={"schema_"})
        data["schema"] = self.json_schema()
        return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


class TokenLogprob(_Frozen):
    """The model's log-probability of one generated token, with the most likely alternatives."""

    token: str
    token_id: int
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


class Completion(_Frozen):
    """One generated continuation and how it ended."""

    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    logprobs: tuple[TokenLogprob, ...] | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    cached: bool = False

    def parsed(self, schema: Any) -> Any:
        """The text parsed under `schema` (pydantic model -> instance, dict schema -> validated JSON)."""
        from ratiocinator.models.schema import parse_output

        return parse_output(self.text, schema)


class BackendInfo(_Frozen):
    """What a backend is: the model, where it runs, and what was done to it."""

    model: str
    backend: str
    dtype: str
    device: str
    context_length: int
    identity: str = Field(description="a content hash of the weights and settings; keys the response cache")
    compression: str | None = None
    threads: int | None = None
