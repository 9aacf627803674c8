"""The registry walk's case for `derivation`: a generated item and a scripted model that writes its known derivation."""

from __future__ import annotations

from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.reasoning.symbolic_steps import DerivationItem, generate_item


def make_input() -> DerivationItem:
    return generate_item(0)


def make_backend() -> ScriptedBackend:
    return ScriptedBackend(["\n".join(generate_item(0).steps[1:]) + "\n"])


def check(result) -> None:
    assert result.fully_valid and len(result.attempts) == 1
    assert result.verdict.status == "verified"
