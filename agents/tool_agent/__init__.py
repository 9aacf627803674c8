"""The alpha-UMi tool agent (Shen et al. 2024): planner, caller and summarizer on one backend, with typed, checking tools.

    from ratiocinator.agents.tool_agent import ToolAgentConfig, run, tool_agent
    result = run("What is 17*23?", backend=backend)                  # one request -> ToolAgentResult
    agent = tool_agent(model=backend, checkpoint="chat.sqlite")       # conversations: invoke/resume/stream
"""

from ratiocinator.agents.tool_agent.agent import ToolAgent, make_checkpointer, tool_agent
from ratiocinator.agents.tool_agent.config import ToolAgentConfig
from ratiocinator.agents.tool_agent.context import ToolAgentContext, tool_context, tool_docs
from ratiocinator.agents.tool_agent.graph import build_graph, run
from ratiocinator.agents.tool_agent.nodes import AgentState
from ratiocinator.agents.tool_agent.result import ToolAgentResult
from ratiocinator.agents.tool_agent.turns import (
    PendingCall,
    TokenEvent,
    Turn,
    request_turns,
    verification,
)

__all__ = [
    "AgentState",
    "PendingCall",
    "TokenEvent",
    "ToolAgent",
    "ToolAgentConfig",
    "ToolAgentContext",
    "ToolAgentResult",
    "Turn",
    "build_graph",
    "make_checkpointer",
    "request_turns",
    "run",
    "tool_agent",
    "tool_context",
    "tool_docs",
    "verification",
]
