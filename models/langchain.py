"""A LangChain chat model over any ratiocinator Backend, with working bind_tools, structured output and streaming.

    from ratiocinator.models import load_backend
    from ratiocinator.models.langchain import ChatRatiocinator

    chat = ChatRatiocinator(backend=load_backend(), constrained_tools=True)
    chat.bind_tools([get_weather]).invoke("Weather in Paris?").tool_calls

Tools reach the backend as ToolSpecs (the model's chat template shows them) and come back as
`AIMessage.tool_calls`, read by the tolerant parser of models/toolcalls.py. `tool_choice`
"required"/"any"/a tool name decodes the call under the tool-call JSON schema (models/toolcalling.py)
and retries with the parse error as feedback; with `constrained_tools=True` even "auto" is decoded
under that schema plus an {"answer": …} branch, so a small model in an agent loop can only call a
real tool with schema-shaped arguments or answer. `with_structured_output` constrains the output
to the schema through the backend. Usage metadata (tokens) is on every non-streamed message;
`Backend.stream` yields text only, so streamed chunks carry none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.errors import InvalidInput
from ratiocinator.models.toolargs import load_value
from ratiocinator.models.toolcalling import (
    ANSWER_KEY,
    ToolCallingConfig,
    call_tool,
    raw_text,
    tool_call_schema,
)
from ratiocinator.models.toolcalls import ToolCallParseError, extract_tool_calls, parse_tool_call
from ratiocinator.models.types import Completion, Message, SamplingParams, ToolCall, ToolSpec

_ROLES = {
    "human": "user",
    "user": "user",
    "ai": "assistant",
    "assistant": "assistant",
    "system": "system",
    "tool": "tool",
}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = [
        p if isinstance(p, str) else p.get("text", "") for p in content if isinstance(p, str | dict)
    ]
    return "".join(parts)


def to_messages(messages: Sequence[BaseMessage]) -> list[Message]:
    """LangChain messages -> ratiocinator Messages (tool calls and tool results kept)."""
    out = []
    for i, m in enumerate(messages):
        content = _text(m.content)
        if isinstance(m, AIMessage):
            calls = tuple(
                ToolCall(id=c.get("id") or f"call_{i}_{j}", name=c["name"], arguments=c["args"])
                for j, c in enumerate(m.tool_calls)
            )
            out.append(Message(role="assistant", content=content, tool_calls=calls))
        elif isinstance(m, ToolMessage):
            out.append(
                Message(role="tool", content=content, tool_call_id=m.tool_call_id, name=m.name)
            )
        elif isinstance(m, HumanMessage | SystemMessage | ChatMessage):
            role = _ROLES.get(m.role if isinstance(m, ChatMessage) else m.type)
            if role is None:
                raise InvalidInput(f"message {i}: role {m.role!r} is not one of {sorted(_ROLES)}")  # type: ignore[union-attr]
            out.append(Message(role=role, content=content))  # type: ignore[arg-type]
        else:
            raise InvalidInput(f"message {i}: a {type(m).__name__} cannot be sent to a model")
    return out


def _forced(choice: Any, tools: list[ToolSpec]) -> list[ToolSpec] | None:
    """The tools a call must be one of (tool_choice required/any/a name), or None for auto."""
    if choice in (None, "auto", False):
        return None
    if choice in ("required", "any", True):
        return tools
    name = choice.get("function", {}).get("name") if isinstance(choice, dict) else choice
    chosen = [t for t in tools if t.name == name]
    if not chosen:
        raise InvalidInput(
            f"tool_choice {choice!r}: expected auto, required, any, none or one of "
            f"{[t.name for t in tools]}"
        )
    return chosen


class ChatRatiocinator(BaseChatModel):
    """LangChain's chat model interface over a ratiocinator Backend (see the module docstring)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    backend: Any = Field(exclude=True, description="any ratiocinator Backend (load_backend(...))")
    max_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    seed: int | None = None
    stop: list[str] | None = None
    constrained_tools: bool = Field(
        False, description="decode tool turns under the tool-call schema"
    )
    retries: int = Field(
        1, ge=0, description="retries of a forced tool call, with the parse error as feedback"
    )

    @property
    def _llm_type(self) -> str:
        return "ratiocinator"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.backend.info.model,
            "backend": self.backend.info.backend,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def _params(
        self, stop: list[str] | None, schema: dict[str, Any] | None = None
    ) -> SamplingParams:
        return SamplingParams(
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            seed=self.seed,
            stop=tuple(stop or self.stop or ()),
            schema=schema,
        )

    def _message(
        self, content: str, calls: Sequence[ToolCall], completions: Sequence[Completion]
    ) -> AIMessage:
        prompt = completions[-1].prompt_tokens if completions else 0
        generated = sum(c.completion_tokens for c in completions)
        return AIMessage(
            content=content,
            tool_calls=[
                {"name": c.name, "args": c.arguments, "id": c.id, "type": "tool_call"}
                for c in calls
            ],
            usage_metadata={
                "input_tokens": prompt,
                "output_tokens": generated,
                "total_tokens": prompt + generated,
            },
            response_metadata={
                "model_name": self.backend.info.model,
                "finish_reason": completions[-1].finish_reason if completions else "stop",
                "attempts": len(completions),
            },
        )

    def _tool_turn(
        self,
        conversation: list[Message],
        tools: list[ToolSpec],
        choice: Any,
        params: SamplingParams,
    ) -> AIMessage:
        forced = _forced(choice, tools)
        if forced is not None:
            config = ToolCallingConfig(mode="constrained", retries=self.retries)
            result = call_tool(self.backend, conversation, forced, params, config=config)
            return self._message("", [result.call], result.completions)
        if not self.constrained_tools:
            (comp,) = self.backend.generate(
                conversation, params.model_copy(update={"tools": tuple(tools)})
            )
            content, calls = extract_tool_calls(raw_text(comp), tools)
            return self._message(content, calls, [comp])
        schema = tool_call_schema(tools, answer=True)
        (comp,) = self.backend.generate(
            conversation, params.model_copy(update={"tools": tuple(tools), "schema_": schema})
        )
        text = raw_text(comp)
        try:
            return self._message("", [parse_tool_call(text, tools)], [comp])
        except ToolCallParseError:
            value = load_value(text)
            answer = value.get(ANSWER_KEY) if isinstance(value, dict) else None
            return self._message(answer if isinstance(answer, str) else text, [], [comp])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        conversation = to_messages(messages)
        tools = [ToolSpec.model_validate(t) for t in kwargs.get("tools") or ()]
        params = self._params(stop, kwargs.get("response_schema"))
        if tools and kwargs.get("tool_choice") != "none":
            message = self._tool_turn(conversation, tools, kwargs.get("tool_choice"), params)
        else:
            (comp,) = self.backend.generate(conversation, params)
            message = self._message(comp.text, [], [comp])
        return ChatResult(
            generations=[ChatGeneration(message=message)],
            llm_output={
                "token_usage": message.usage_metadata,
                "model_name": self.backend.info.model,
            },
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if kwargs.get("tools") or kwargs.get("response_schema") is not None:
            # A tool call or constrained JSON is only usable whole: one chunk holding all of it.
            message = self._generate(messages, stop, run_manager, **kwargs).generations[0].message
            assert isinstance(message, AIMessage)
            chunk = AIMessageChunk(
                content=message.content,
                usage_metadata=message.usage_metadata,
                response_metadata=message.response_metadata,
                tool_call_chunks=[
                    {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                    for i, c in enumerate(message.tool_calls)
                ],
            )
            yield ChatGenerationChunk(message=chunk)
            return
        for delta in self.backend.stream(to_messages(messages), self._params(stop)):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
            if run_manager is not None:
                run_manager.on_llm_new_token(delta, chunk=chunk)
            yield chunk
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                response_metadata={"model_name": self.backend.info.model, "finish_reason": "stop"},
            )
        )

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Any],
        *,
        tool_choice: Any = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, functions, pydantic models or OpenAI dicts); they reach the backend."""
        specs = []
        for tool in tools:
            fn = convert_to_openai_tool(tool)["function"]
            spec = ToolSpec(
                name=fn["name"],
                description=fn.get("description", ""),
                parameters=fn.get("parameters") or {"type": "object", "properties": {}},
            )
            specs.append(spec.model_dump())
        if tool_choice not in (None, "none"):
            _forced(
                tool_choice, [ToolSpec.model_validate(s) for s in specs]
            )  # a bad choice fails here
        return self.bind(tools=specs, tool_choice=tool_choice, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: str = "json_schema",
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Output constrained to `schema` (pydantic class -> instance, JSON schema/TypedDict -> dict)."""
        if kwargs:
            raise InvalidInput(f"with_structured_output: unsupported arguments {sorted(kwargs)}")
        if method not in ("json_schema", "function_calling", "json_mode"):
            raise InvalidInput(
                f"method: expected json_schema, function_calling or json_mode, got {method!r}"
            )
        is_model = isinstance(schema, type) and issubclass(schema, BaseModel)
        if is_model:
            json_schema = schema.model_json_schema()  # type: ignore[union-attr]
        elif isinstance(schema, dict) and "properties" in schema and "function" not in schema:
            json_schema = schema
        else:
            json_schema = convert_to_json_schema(schema)
        llm = self.bind(response_schema=json_schema)
        parser: Runnable[Any, Any] = (
            PydanticOutputParser(pydantic_object=schema) if is_model else JsonOutputParser()
        )  # type: ignore[arg-type]
        if not include_raw:
            return llm | parser
        parsed = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        empty = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parsed.with_fallbacks([empty], exception_key="parsing_error")
