"""The chat: each request routed by kind to the tool agent with the tools (or registered methods) it needs.

    from ratiocinator.agents.chat import ChatAgent
    chat = ChatAgent(backend, checkpoint="chat.sqlite")
    for event in chat.reply("What is 17*23?"): ...     # ChatEvent: status notes, answer tokens, the result
"""

from ratiocinator.agents.chat.agent import ChatAgent, ChatEvent, describe, verification_line
from ratiocinator.agents.chat.prompts import CHAT_CONFIG, CHAT_PLANNER, CHAT_SUMMARIZER
from ratiocinator.agents.chat.routes import ROUTES, Kind, classify

__all__ = [
    "CHAT_CONFIG",
    "CHAT_PLANNER",
    "CHAT_SUMMARIZER",
    "ROUTES",
    "ChatAgent",
    "ChatEvent",
    "Kind",
    "classify",
    "describe",
    "verification_line",
]
