"""The alpha-UMi tool agent as a LangGraph graph: planner -> (caller -> tool -> planner)* -> summarizer, and a ReAct baseline.

Shen et al. 2024, "Small LLMs Are Weak Tool Learners: A Multi-LLM Agent" (alpha-UMi): the planner writes
a rationale ending in `Next: caller | conclusion | give up`; the caller turns the rationale into one
API call; the summarizer writes the final answer from the history. Here the three roles are prompts on
one shared backend, and the caller is constrained: first the tool name (a grammar over the tool names),
then the arguments (the tool's JSON schema), so a call always parses on a constraining backend. On a
backend that ignores constraints (or with `constrained=False`), the output goes through the tolerant
`models.toolcalls.parse_tool_call` and its feedback is given back for one retry. Every failure (bad
call, unknown tool, tool error, tool timeout) becomes an observation the planner reads. The step
limit, the overall time limit and the planner's `give up` end in the give-up node, which says why.

The ReAct baseline (agents/react.py, the paper's single-LLM "backbone") shares the typed state, the tool node, streaming (node updates, and role tokens as
`TokenEvent`s in the `custom` stream), checkpointing and `interrupt()` (the `ask_user` tool).
"""

from __future__ import annotations

import itertools
import json
import operator
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.agents import umi
from ratiocinator.agents.tools import Tool, ToolResult
from ratiocinator.models.types import Message, SamplingParams

Status = Literal["running", "answered", "gave-up"]


class ToolAgentConfig(BaseModel):
    """Defaults of the alpha-UMi agent (limits are ours; the paper's runs cap steps the same way)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_steps: int = Field(8, ge=1, description="planner decisions per request before giving up")
    tool_timeout: float = Field(60.0, gt=0, description="seconds one tool call may take")
    total_timeout: float = Field(600.0, gt=0, description="seconds one request may take in all")
    planner_max_tokens: int = Field(160, ge=8)
    caller_max_tokens: int = Field(256, ge=8)
    summarizer_max_tokens: int = Field(256, ge=8)
    temperature: float = Field(0.0, ge=0.0)
    history_chars: int = Field(
        6000, ge=200, description="the history in a prompt is trimmed to this"
    )
    caller_retries: int = Field(
        1, ge=0, description="retries of a caller output that does not parse"
    )
    constrained: bool = True
    stream_tokens: bool = True
    planner_prompt: str = Field(
        umi.PLANNER, description="the planner's template ({doc}, {history})"
    )
    summarizer_prompt: str = Field(
        umi.SUMMARIZER, description="the summarizer's template ({history})"
    )
    require_tool: bool = Field(
        False,
        description="a conclusion before any tool succeeded in this request goes to the caller instead",
    )
    stop_on_repeat: bool = Field(
        True,
        description="a call identical to one that already succeeded in this request ends in the summarizer",
    )


class Turn(BaseModel):
    """One turn of the agent's history (the alpha-UMi roles), with the tool's status on observations."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["user", "assistant", "caller", "observation", "conclusion"]
    content: str
    tool: str | None = None
    status: str | None = None
    verified: str | None = None


class PendingCall(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    arguments: dict[str, Any]


class AgentState(TypedDict, total=False):
    """The graph's state: the history (appended to), the current decision/call, counters and the outcome."""

    turns: Annotated[list[Turn], operator.add]
    thought: str
    decision: umi.Decision | None
    call: PendingCall | None
    steps: int
    deadline: float
    status: Status
    answer: str
    reason: str


class TokenEvent(BaseModel):
    """A piece of text one role produced, sent on the `custom` stream while it is generated."""

    model_config = ConfigDict(frozen=True)

    role: str
    text: str


def request_turns(turns: Sequence[Turn]) -> list[Turn]:
    """The turns of the latest request (from its user turn on)."""
    last = max((i for i, t in enumerate(turns) if t.role == "user"), default=0)
    return list(turns[last:])


def verification(turns: Sequence[Turn]) -> list[str]:
    """How the latest request's answer was checked: the tools' verification sentences, in order."""
    return [
        f"{t.tool}: {t.verified}"
        for t in request_turns(turns)
        if t.role == "observation" and t.verified
    ]


class Roles:
    """The model calls of the roles, shared by both graphs (and by the static evaluation)."""

    def __init__(
        self,
        backend: Any,
        tools: Mapping[str, Any],
        config: ToolAgentConfig,
        *,
        docs: str | None = None,
    ) -> None:
        """`tools` maps names to objects with `description`, `parameters` and `spec()` (a `Tool`);
        `docs` replaces the tool documents shown in prompts (the static evaluation's raw API docs)."""
        self.backend, self.tools, self.config = backend, tools, config
        self.docs = (
            docs
            if docs is not None
            else umi.tool_doc(
                [
                    {"name": t.name, "description": t.description, "parameters": t.parameters}
                    for t in tools.values()
                ]
            )
        )

    def history(self, turns: Sequence[Turn]) -> str:
        """The history for a prompt: earlier requests as question and conclusion only, this one in full."""
        current = len(turns) - len(request_turns(turns))
        kept = [t for i, t in enumerate(turns) if i >= current or t.role in ("user", "conclusion")]
        return umi.render_history(
            [umi.HistoryTurn(role=t.role, content=t.content) for t in kept],
            max_chars=self.config.history_chars,
        )

    def text(self, role: str, prompt: str, max_tokens: int, *, stream: bool | None = None) -> str:
        params = SamplingParams(temperature=self.config.temperature, max_tokens=max_tokens)
        conversation = [Message(role="user", content=prompt)]
        if not (self.config.stream_tokens if stream is None else stream):
            return self.backend.generate([conversation], params)[0].text
        from langgraph.config import get_stream_writer

        writer = get_stream_writer()
        pieces = []
        for delta in self.backend.stream(conversation, params):
            pieces.append(delta)
            writer(TokenEvent(role=role, text=delta))
        return "".join(pieces)

    def constrained(
        self, prompt: str, *, schema: Any = None, grammar: str | None = None
    ) -> tuple[str, bool]:
        params = SamplingParams(
            temperature=self.config.temperature,
            max_tokens=self.config.caller_max_tokens,
            schema=schema,
            grammar=grammar,
        )
        (c,) = self.backend.generate([[Message(role="user", content=prompt)]], params)
        return c.text.strip(), c.finish_reason != "length"

    def call(self, prompt: str) -> tuple[PendingCall | None, str, str]:
        """(call or None, the caller's turn text, the problem when there is no call)."""
        specs = [t.spec() for t in self.tools.values()]
        if not self.config.constrained:
            return self._free_call(prompt, specs)
        names = " | ".join(json.dumps(n) for n in self.tools)
        name, _ = self.constrained(prompt + "\nAction:", grammar=f"root ::= {names}")
        name = name.strip().strip('"')
        if name not in self.tools:
            return (
                None,
                f"Action: {name}",
                f"unknown tool {name!r}; the tools are {', '.join(self.tools)}",
            )
        raw, complete = self.constrained(
            f"{prompt}\nAction: {name}\nAction Input:", schema=self.tools[name].parameters
        )
        text = umi.format_call(name, raw)
        try:
            args = json.loads(raw)
        except ValueError:
            why = "it was cut at the token limit" if not complete else "it is not JSON"
            return None, text, f"the arguments for {name} did not parse ({why})"
        if not isinstance(args, dict):
            return None, text, f"the arguments for {name} must be a JSON object, got {raw[:80]}"
        return PendingCall(name=name, arguments=args), text, ""

    def _free_call(self, prompt: str, specs: list[Any]) -> tuple[PendingCall | None, str, str]:
        from ratiocinator.models.toolcalls import ToolCallParseError, parse_tool_call

        text, problem = "", ""
        for _ in range(self.config.caller_retries + 1):
            text = self.text("caller", prompt, self.config.caller_max_tokens, stream=False).strip()
            try:
                call = parse_tool_call(text, specs)
            except ToolCallParseError as exc:
                problem = exc.feedback
                prompt = f"{prompt}\nYour previous answer was:\n{text}\nIt could not be used: {exc.feedback}"
                continue
            return PendingCall(name=call.name, arguments=dict(call.arguments)), text, ""
        return None, text, f"the call did not parse: {problem}"


def _checked(turns: Sequence[Turn]) -> bool:
    return any(t.role == "observation" and t.status == "ok" for t in request_turns(turns))


def _succeeded_before(state: AgentState, call_text: str) -> bool:
    turns = request_turns(state.get("turns", []))
    return any(
        a.role == "caller"
        and a.content == call_text
        and b.role == "observation"
        and b.status == "ok"
        for a, b in itertools.pairwise(turns)
    )


def _remaining(state: AgentState) -> float:
    return state.get("deadline", time.time() + 1e9) - time.time()


def limits(state: AgentState, config: ToolAgentConfig) -> str | None:
    if state.get("steps", 0) >= config.max_steps:
        return f"the step limit ({config.max_steps} planner steps) was reached before an answer"
    if _remaining(state) <= 0:
        return f"the time limit ({config.total_timeout:g} s) was reached before an answer"
    return None


def tool_node(
    tools: dict[str, Tool], config: ToolAgentConfig
) -> Callable[[AgentState], dict[str, Any]]:
    def run_tool(state: AgentState) -> dict[str, Any]:
        call = state.get("call")
        assert call is not None, "the tool node runs only after a parsed call"
        limit = max(0.1, min(config.tool_timeout, _remaining(state)))
        result: ToolResult = tools[call.name].run(call.arguments, timeout=limit)
        turn = Turn(
            role="observation",
            content=result.content,
            tool=result.name,
            status=result.status,
            verified=result.verified,
        )
        return {"turns": [turn], "call": None}

    return run_tool


def give_up_node(state: AgentState) -> dict[str, Any]:
    reason = state.get("reason") or "the planner gave up"
    answer = f"I could not answer this: {reason}"
    return {
        "status": "gave-up",
        "answer": answer,
        "turns": [Turn(role="conclusion", content=answer)],
    }


def build_alpha_umi(
    backend: Any, tools: dict[str, Tool], config: ToolAgentConfig, checkpointer: Any = None
) -> Any:
    """The compiled alpha-UMi graph (planner, caller, tool, summarizer, give_up) on one backend."""
    from langgraph.graph import END, START, StateGraph

    roles = Roles(backend, tools, config)

    def planner(state: AgentState) -> dict[str, Any]:
        stop = limits(state, config)
        if stop:
            return {"decision": "give up", "reason": stop}
        prompt = config.planner_prompt.format(
            doc=roles.docs, history=roles.history(state.get("turns", []))
        )
        thought, decision = umi.parse_decision(
            roles.text("planner", prompt, config.planner_max_tokens)
        )
        if decision is None:  # as the reference pipeline: no marker means the caller's turn
            decision = "caller"
        if decision == "caller" and not tools:
            decision = "conclusion"
        turns = state.get("turns", [])
        if decision == "conclusion" and tools and config.require_tool and not _checked(turns):
            decision = "caller"  # an answer that a tool can check is checked before it is given
        update: dict[str, Any] = {
            "thought": thought,
            "decision": decision,
            "steps": state.get("steps", 0) + 1,
            "turns": [Turn(role="assistant", content=f"{thought} Next: {decision}.")],
        }
        if decision == "give up":
            update["reason"] = (
                f"the planner gave up: {thought}" if thought else "the planner gave up"
            )
        return update

    def caller(state: AgentState) -> dict[str, Any]:
        prompt = umi.CALLER.format(
            doc=roles.docs,
            history=roles.history(state.get("turns", [])),
            thought=state.get("thought", ""),
            tool_names=", ".join(tools),
        )
        call, text, problem = roles.call(prompt)
        turns = [Turn(role="caller", content=text, tool=call.name if call else None)]
        if call is not None and config.stop_on_repeat and _succeeded_before(state, text):
            note = (
                "this exact call already succeeded; its result is above, so it is time to conclude"
            )
            turns.append(Turn(role="observation", content=note, tool=call.name, status="repeat"))
            return {"turns": turns, "call": None, "decision": "conclusion"}
        if call is None:
            turns.append(
                Turn(role="observation", content=f"error: {problem}", status="invalid-call")
            )
        return {"turns": turns, "call": call}

    def after_caller(state: AgentState) -> str:
        if state.get("call"):
            return "tool"
        return "summarizer" if state.get("decision") == "conclusion" else "planner"

    def summarizer(state: AgentState) -> dict[str, Any]:
        prompt = config.summarizer_prompt.format(
            history=roles.history(request_turns(state.get("turns", [])))
        )
        answer = roles.text("summarizer", prompt, config.summarizer_max_tokens).strip()
        return {
            "status": "answered",
            "answer": answer,
            "turns": [Turn(role="conclusion", content=answer)],
        }

    def after_planner(state: AgentState) -> str:
        return {"caller": "caller", "conclusion": "summarizer"}.get(
            state.get("decision") or "", "give_up"
        )

    graph = StateGraph(AgentState)
    graph.add_node("planner", planner)
    graph.add_node("caller", caller)
    graph.add_node("tool", tool_node(tools, config))
    graph.add_node("summarizer", summarizer)
    graph.add_node("give_up", give_up_node)
    graph.add_edge(START, "planner")
    graph.add_conditional_edges("planner", after_planner, ["caller", "summarizer", "give_up"])
    graph.add_conditional_edges("caller", after_caller, ["tool", "planner", "summarizer"])

    graph.add_edge("tool", "planner")
    graph.add_edge("summarizer", END)
    graph.add_edge("give_up", END)
    return graph.compile(checkpointer=checkpointer)
