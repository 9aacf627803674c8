"""The base of every method's result: its Verdict and its Usage; each method adds its own fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from ratiocinator.kit.usage import Usage
from ratiocinator.kit.verdict import Verdict


@dataclass(frozen=True, kw_only=True)
class MethodResult:
    """What every `run` returns at least: how far to trust the answer (`verdict`) and what it cost (`usage`)."""

    verdict: Verdict
    usage: Usage = field(default_factory=Usage)

    @property
    def verified(self) -> bool:
        return self.verdict.verified

    def report(self) -> str:
        """What a user reads: the answer (each method says it), then the verdict in words."""
        return str(self.verdict)
