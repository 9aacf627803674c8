"""The chat REPL's agent: each request goes through the alpha-UMi tool agent with the tools its kind of request needs.

A request is sorted by keywords into planning, optimization, coding, math, arithmetic or general
(cheap and predictable: a 0.5B model is better spent on the roles than on routing); the kind picks
the tools the planner and caller see. Planning and optimization requests go to the LLM+P and
LLMOPT graphs (agents/planning.py, agents/optimization.py) when those are installed, else to the
solver-level tools. Every answer ends with how it was verified: the checking tools' own sentences,
or a plain statement that the model answered alone.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ratiocinator.agents.agent import AgentResult, ToolAgent, make_checkpointer
from ratiocinator.agents.builtin_tools import builtin_tools
from ratiocinator.agents.toolagent import TokenEvent, ToolAgentConfig, Turn
from ratiocinator.agents.tools import Tool, Verified, make_tool

Kind = Literal[
    "pddl", "blocksworld", "planning", "optimization", "coding", "math", "arithmetic", "general"
]
#: One checking tool per kind where possible: a 0.5B caller picks badly among similar tools.
ROUTES: dict[Kind, tuple[str, ...]] = {
    "pddl": ("plan",),
    "blocksworld": ("blocksworld",),
    "planning": ("plan",),  # plan_request (LLM+P) instead, when agents/planning.py is installed
    "optimization": ("optimize",),
    "coding": ("run_python",),
    "math": ("solve_equation", "check_math", "calculator"),
    "arithmetic": ("calculator",),
    "general": (),
}
_KEYWORDS: list[tuple[Kind, re.Pattern[str]]] = [
    ("pddl", re.compile(r"\(define\s*\((domain|problem)\b", re.I)),
    ("blocksworld", re.compile(r"\b(blocks?(world)?|unstack)\b", re.I)),
    ("planning", re.compile(r"\b(plan|pddl|gripper|robot arm|logistics)\b", re.I)),
    (
        "optimization",
        re.compile(
            r"\b(maximi[sz]e|minimi[sz]e|optimi[sz]e|optimal|profit|knapsack|linear program|"
            r"constraints?|allocat\w*|schedul\w*)\b",
            re.I,
        ),
    ),
    ("coding", re.compile(r"\b(python|function|code|program|script|implement|def)\b", re.I)),
    (
        "math",
        re.compile(
            r"\b(solve|equation|derivative|integral|simplify|prove|derivation|factor)\b|[a-z]\s*\^|=",
            re.I,
        ),
    ),
    (
        "arithmetic",
        re.compile(
            r"\d\s*[-+*/^%]\s*\(?\d|\bsqrt\b|\bpercent\b|\d\s*(times|plus|minus)\s*\d", re.I
        ),
    ),
]
#: The paper's planner prompt with the three endings spelled out: an untuned small model copies the
#: paper's one-line format literally ("…followed by Next: caller") and so never concludes.
CHAT_PLANNER = """You have access to the following apis:
{doc}
The conversation history is:
{history}
You are the assistant to plan what to do next and whether is caller's or conclusion's turn to answer.
Write one short thought about the user's last request, then end with exactly one of:
Next: caller. (an api must be called now)
Next: conclusion. (an observation above already answers the user's last request)
Next: give up. (no api can help)"""
CHAT_SUMMARIZER = """Make a conclusion based on the conversation history:
{history}
Now answer the user's last request in one or two sentences with the result the observations show."""
CHAT_CONFIG = ToolAgentConfig(
    max_steps=4,
    total_timeout=600.0,
    planner_max_tokens=96,
    summarizer_max_tokens=160,
    planner_prompt=CHAT_PLANNER,
    summarizer_prompt=CHAT_SUMMARIZER,
    require_tool=True,
)


def classify(request: str) -> Kind:
    """The kind of request, by the first matching keyword family (planning before optimization, …)."""
    for kind, pattern in _KEYWORDS:
        if pattern.search(request):
            return kind
    return "general"


@dataclass(frozen=True, kw_only=True)
class ChatEvent:
    """What the REPL shows: a progress note (stderr), a piece of the answer, or the final result."""

    kind: Literal["status", "token", "result"]
    text: str = ""
    result: AgentResult | None = None


class ChatAgent:
    """One conversation (a thread in the SQLite checkpoint) with a tool agent per kind of request."""

    def __init__(
        self,
        backend: Any,
        *,
        checkpoint: str | Path | None = None,
        thread_id: str | None = None,
        config: ToolAgentConfig = CHAT_CONFIG,
        ask_user: bool = False,
    ) -> None:
        self.backend, self.config = backend, config
        self.checkpointer, self._conn = make_checkpointer(checkpoint)
        self.thread_id = thread_id or f"chat-{uuid.uuid4().hex[:8]}"
        self.ask_user = ask_user
        self._request = ""
        self._tools = {t.name: t for t in builtin_tools()}
        self._tools.update({t.name: t for t in self._text_tools()})
        self._agents: dict[Kind, ToolAgent] = {}
        self._pending: Kind | None = None

    # --- tools --------------------------------------------------------------------------------

    def _text_tools(self) -> list[Tool]:
        """Tools over the LLM+P / LLMOPT graphs, when those modules are installed (they take the request itself)."""
        made = []
        try:
            from ratiocinator.agents.llmp import plan_from_text
        except ImportError:
            plan_from_text = None
        if plan_from_text is not None:

            def plan_request() -> Verified:
                """Turn the user's planning request into a validated plan (LLM+P: words -> PDDL -> planner -> validator)."""
                r = plan_from_text(self._request, backend=self.backend)
                if not r.verified or r.plan is None:
                    raise RuntimeError(f"no verified plan: {r.message}")
                return Verified(
                    value={"plan": list(r.plan), "explanation": r.explanation},
                    how=f"plan found by {r.planner} and validated by unified-planning for the PDDL "
                    f"problem translated from the request",
                )

            made.append(make_tool(plan_request, timeout=300))
        try:
            from ratiocinator.agents.llmopt import run as optimize_from_text
        except ImportError:
            optimize_from_text = None
        if optimize_from_text is not None:

            def optimize_request() -> Verified:
                """Turn the user's optimization problem into a model, solve it and check the solution (LLMOPT)."""
                r = optimize_from_text(self._request, backend=self.backend)
                if r.verdict.status == "failed":
                    raise RuntimeError(f"not solved: {r.answer}")
                value = {"answer": r.answer, "objective": r.objective, "values": r.values}
                how = (
                    "solved by the solver; objective and constraints re-checked from the values"
                    if r.verdict.status == "verified"
                    else "solved, but NOT verified (the samples disagree or the check failed)"
                )
                return Verified(value=value, how=how)

            made.append(make_tool(optimize_request, timeout=300))
        return made

    def tools_for(self, kind: Kind) -> list[Tool]:
        names = list(ROUTES[kind])
        if kind == "planning" and "plan_request" in self._tools:
            names = ["plan_request"]
        if kind == "optimization" and "optimize_request" in self._tools:
            names = ["optimize_request"]
        if self.ask_user:
            names.append("ask_user")
        return [self._tools[n] for n in names]

    def agent(self, kind: Kind) -> ToolAgent:
        if kind not in self._agents:
            self._agents[kind] = ToolAgent(
                self.backend, self.tools_for(kind), config=self.config, checkpoint=self.checkpointer
            )
        return self._agents[kind]

    # --- conversation ---------------------------------------------------------------------------

    @property
    def pending_question(self) -> str | None:
        return self.agent(self._pending).pending_question(self.thread_id) if self._pending else None

    def reply(self, text: str) -> Iterator[ChatEvent]:
        """Stream one request (or, when a question is pending, the user's answer to it) through the agent."""
        if self._pending is not None:
            kind, payload = self._pending, {"resume": text}
        else:
            kind, payload = classify(text), {"request": text}
            self._request = text
            yield ChatEvent(
                kind="status",
                text=f"[{kind}] tools: {', '.join(t.name for t in self.tools_for(kind))}",
            )
        agent = self.agent(kind)
        request = payload.get("request")
        for mode, data in agent.stream(
            request, thread_id=self.thread_id, resume=payload.get("resume")
        ):
            if mode == "token" and isinstance(data, TokenEvent):
                if data.role == "summarizer":
                    yield ChatEvent(kind="token", text=data.text)
                continue
            for node, update in data.items():
                note = _describe(node, update)
                if note:
                    yield ChatEvent(kind="status", text=note)
        result = agent.result(self.thread_id)
        self._pending = kind if result.status == "interrupted" else None
        yield ChatEvent(kind="result", result=result)

    def history(self) -> list[Turn]:
        return self.agent("general").history(self.thread_id)

    def new_thread(self, turns: list[Turn] | None = None) -> None:
        """Start over (optionally seeded with earlier turns: /load, /compress)."""
        self.thread_id = f"chat-{uuid.uuid4().hex[:8]}"
        self._pending = None
        if turns:
            agent = self.agent("general")
            agent.graph.update_state(
                agent._config(self.thread_id), {"turns": turns}, as_node="summarizer"
            )

    def switch_backend(self, backend: Any) -> None:
        """Use another model for every role; the conversation (checkpoint thread) stays."""
        self.backend = backend
        self._agents.clear()
        self._tools.update({t.name: t for t in self._text_tools()})

    def compress(self) -> str:
        """Replace the conversation with a model-written summary of it (one user turn), to save context."""
        from ratiocinator.models.types import Message, SamplingParams

        turns = self.history()
        if not turns:
            return ""
        text = "\n".join(
            f"{t.role}: {t.content}" for t in turns if t.role in ("user", "conclusion")
        )
        prompt = f"Summarize this conversation in a few sentences, keeping every fact and result:\n{text}"
        (c,) = self.backend.generate(
            [[Message(role="user", content=prompt)]], SamplingParams(max_tokens=160)
        )
        summary = c.text.strip()
        self.new_thread(
            [Turn(role="user", content=f"(summary of the earlier conversation) {summary}")]
        )
        return summary

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _describe(node: str, update: Any) -> str:
    """A one-line progress note for a node's update (what the planner decided, which tool ran and how)."""
    if not isinstance(update, dict):
        return ""
    if node == "planner" and update.get("decision"):
        return f"planner -> {update['decision']}"
    if node == "caller":
        call = update.get("call")
        if call is not None:
            return f"call {call.name}({', '.join(f'{k}={v!r}' for k, v in call.arguments.items())})"
        obs = [t for t in update.get("turns", []) if t.role == "observation"]
        return f"caller: {obs[0].content}" if obs else ""
    if node == "tool":
        (turn,) = update["turns"]
        short = turn.content if len(turn.content) <= 300 else turn.content[:300] + " …"
        return f"{turn.tool} [{turn.status}]: {short}"
    if node == "give_up":
        return "gave up"
    return ""


def verification_line(result: AgentResult) -> str:
    if result.status == "gave-up":
        return f"(not answered: {result.reason})"
    if result.verified:
        return "verified: " + "; ".join(result.verified)
    return "(not verified: the model answered without a checking tool)"
