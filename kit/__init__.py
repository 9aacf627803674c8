"""The parts every method kit shares: its config base, the Verdict and Usage of its result, and its runtime context.

A method of agents/ or reasoning/ is a subpackage with the same four parts (see DESIGN.md):

    config.py   class FooConfig(MethodConfig): the paper's defaults, frozen, keyword-only
    nodes.py    def step(state, runtime: Runtime[MethodContext[FooConfig]]) -> dict: ...
    graph.py    @functools.cache def build_graph(): ... compile();  def run(input, *, backend, config=None)
    result.py   @dataclass(frozen=True, kw_only=True) class FooResult(MethodResult): ...

`invoke(graph, state, backend=..., config=...)` runs a compiled graph with a fresh context whose
backend counts every model call, and returns the final state with the run's `Usage`.
"""

from ratiocinator.kit.config import IDENTITY_WHEN_SET, MethodConfig
from ratiocinator.kit.context import MethodContext, StaticRuntime, invoke, method_context
from ratiocinator.kit.inputs import require_backend, require_text, resolve_config
from ratiocinator.kit.result import MethodResult
from ratiocinator.kit.usage import CountingBackend, Usage, UsageCounter
from ratiocinator.kit.verdict import Verdict, VerdictStatus, failed, gave_up, unverified, verified

__all__ = [
    "IDENTITY_WHEN_SET",
    "CountingBackend",
    "MethodConfig",
    "MethodContext",
    "MethodResult",
    "StaticRuntime",
    "Usage",
    "UsageCounter",
    "Verdict",
    "VerdictStatus",
    "failed",
    "gave_up",
    "invoke",
    "method_context",
    "require_backend",
    "require_text",
    "resolve_config",
    "unverified",
    "verified",
]
