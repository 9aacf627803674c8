"""Shared fixtures: the real embedded models (loaded once per session), the llama.cpp default (once per module)."""

from __future__ import annotations

import pytest

SMOLLM = "embedded:smollm2-135m-instruct"
QWEN = "embedded:qwen2.5-coder-0.5b-instruct"


@pytest.fixture(scope="session")
def smollm():
    """SmolLM2-135M in float32 (exact greedy comparisons); converted on first use."""
    from ratiocinator.models import load_backend

    backend = load_backend(SMOLLM, dtype="float32")
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def qwen():
    """The default model, Qwen2.5-Coder-0.5B-Instruct, in the default dtype."""
    from ratiocinator.models import load_backend

    backend = load_backend(QWEN)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def qwen_llamacpp():
    """The default model on the default CPU engine (llama.cpp, 2 threads); one per test module, so that no
    module's cached prefixes change another's scores."""
    from ratiocinator.models import load_backend

    backend = load_backend("llamacpp:qwen2.5-coder-0.5b-instruct", threads=2)
    yield backend
    backend.close()
