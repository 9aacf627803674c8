"""The tool agent's history: a Turn per role output or observation, the pending call, the streamed tokens.

These types live in the graph's state and so in its checkpoints (the serializer is allowed to
restore exactly `Turn` and `PendingCall` of this module).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Turn(BaseModel):
    """One turn of the agent's history (the alpha-UMi roles), with the tool's status on observations.

    On an observation of a checking tool, `verified` says how the result was checked and `checked`
    whether the check holds (False: the tool ran its engine, but says its result is not verified).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["user", "assistant", "caller", "observation", "conclusion"]
    content: str
    tool: str | None = None
    status: str | None = None
    verified: str | None = None
    checked: bool = True


class PendingCall(BaseModel):
    """A parsed call the tool node runs next."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    arguments: dict[str, Any]


class TokenEvent(BaseModel):
    """A piece of text one role produced, sent on the `custom` stream while it is generated."""

    model_config = ConfigDict(frozen=True)

    role: str
    text: str


def request_turns(turns: Sequence[Turn]) -> list[Turn]:
    """The turns of the latest request (from its user turn on)."""
    last = max((i for i, t in enumerate(turns) if t.role == "user"), default=0)
    return list(turns[last:])


def checking_turns(turns: Sequence[Turn]) -> list[Turn]:
    """The latest request's observations of checking tools (those that say how they checked)."""
    return [t for t in request_turns(turns) if t.role == "observation" and t.verified]


def verification(turns: Sequence[Turn]) -> list[str]:
    """How the latest request's answer was checked: the tools' verification sentences, in order."""
    return [f"{t.tool}: {t.verified}" for t in checking_turns(turns)]
