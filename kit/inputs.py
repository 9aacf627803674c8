"""The checks every method's `run` makes on its arguments, so that each refuses bad input the same way."""

from __future__ import annotations

from typing import Any, TypeVar

from ratiocinator.errors import InvalidInput

C = TypeVar("C")


def require_text(value: Any, *, name: str, expected: str) -> str:
    """`value` if it is a non-empty string, else InvalidInput naming `name` and what was `expected`."""
    if isinstance(value, str) and not value.strip():
        raise InvalidInput(f"{name}: expected {expected}, got an empty string")
    if not isinstance(value, str):
        raise InvalidInput(f"{name}: expected {expected}, got {type(value).__name__} {value!r:.80}")
    return value


def require_backend(backend: Any) -> Any:
    """`backend` if it can generate, else InvalidInput saying how to get one."""
    if backend is None or not callable(getattr(backend, "generate", None)):
        raise InvalidInput(f"backend: expected a models.Backend (e.g. load_backend()), got {backend!r}")
    return backend


def resolve_config(config: Any, config_cls: type[C]) -> C:
    """`config`, or the defaults when it is None; a config of another method is refused by name."""
    if config is None:
        return config_cls()
    if not isinstance(config, config_cls):
        raise InvalidInput(
            f"config: expected a {config_cls.__name__} (or None for its defaults), got {type(config).__name__}"
        )
    return config
