"""The one inference backend layer: typed messages and params, load_backend, embedded models, caching."""

from ratiocinator.models.backend import Backend, BaseBackend
from ratiocinator.models.cache import ResponseCache
from ratiocinator.models.catalog import DEFAULT_MODEL
from ratiocinator.models.loading import load_backend
from ratiocinator.models.types import (
    BackendInfo,
    Completion,
    Message,
    SamplingParams,
    TokenLogprob,
    ToolCall,
    ToolSpec,
)

__all__ = [
    "DEFAULT_MODEL",
    "Backend",
    "BackendInfo",
    "BaseBackend",
    "Completion",
    "Message",
    "ResponseCache",
    "SamplingParams",
    "TokenLogprob",
    "ToolCall",
    "ToolSpec",
    "load_backend",
]
