"""ratiocinator: small local language models made reliable by exact engines.

The public API: `load_backend` and the `Backend` protocol (one shared inference backend), the typed
values it exchanges, the error hierarchy, and for every registered method (ratiocinator.methods) its
`run` (under the method's API name, e.g. `run_cqot`), its config and its result class, loaded on
first use.
"""

from ratiocinator.errors import (
    HashMismatch,
    InvalidInput,
    MissingPackage,
    ModelLoadError,
    ModelNotFound,
    ModelOutputError,
    RatiocinatorError,
    UnsupportedFeature,
)
from ratiocinator.methods import METHODS
from ratiocinator.models import (
    DEFAULT_MODEL,
    Backend,
    BackendInfo,
    Completion,
    Message,
    ResponseCache,
    SamplingParams,
    ToolCall,
    ToolSpec,
    load_backend,
)

__version__ = "0.1.0"

#: public names loaded on first use (their modules import langgraph, pyomo, ...): name -> "module:attribute"
_LAZY = {
    "tool_agent": "ratiocinator.agents.tool_agent:tool_agent",
    "ToolAgent": "ratiocinator.agents.tool_agent:ToolAgent",
    "tool": "ratiocinator.agents.tools:tool",
    "CodeSelectionTask": "ratiocinator.agents.code_selection:CodeSelectionTask",
}

for _m in METHODS:  # every method's run, config and result, from the registry
    if _m.api_name:
        _LAZY[_m.api_name] = f"{_m.kit}:run"
    _LAZY[_m.config_name] = f"{_m.kit}:{_m.config_name}"
    _LAZY[_m.result_name] = f"{_m.kit}:{_m.result_name}"


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, _, attribute = _LAZY[name].partition(":")
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'ratiocinator' has no attribute {name!r}")


__all__ = [
    "DEFAULT_MODEL",
    "Backend",
    "BackendInfo",
    "Completion",
    "HashMismatch",
    "InvalidInput",
    "Message",
    "MissingPackage",
    "ModelLoadError",
    "ModelNotFound",
    "ModelOutputError",
    "RatiocinatorError",
    "ResponseCache",
    "SamplingParams",
    "ToolCall",
    "ToolSpec",
    "UnsupportedFeature",
    "load_backend",
    *sorted(_LAZY),
]
