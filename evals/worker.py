"""What runs inside an eval worker (a thread, a spawned process, a Ray actor): rebuild the benchmark and model, run items.

`WorkerSpec` is everything a worker needs (picklable); `execute_item` turns one item into its
record. A spawned process of the local pool builds its benchmark (and loads its model) on its first
task, so a load error comes back to the parent as that task's error instead of breaking the pool.
The runner (evals/runner.py) and the Ray executor (evals/ray_executor.py) both import this module;
it imports neither of them.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ratiocinator import errors
from ratiocinator.errors import InvalidInput, RatiocinatorError
from ratiocinator.evals.benchmark import Benchmark, Context, Item, SharedBackend, canonical_json
from ratiocinator.evals.provenance import model_provenance
from ratiocinator.evals.results import ResultRecord
from ratiocinator.reaper import die_with_parent


@dataclass(frozen=True, kw_only=True)
class WorkerSpec:
    """Everything a worker (a thread, a process, a Ray actor) needs to rebuild the benchmark and its model."""

    benchmark_cls: type[Benchmark]
    options: BaseModel
    data_dir: Path | None
    model: str | None
    dtype: str
    threads: int | None
    cache_path: str | None
    seed: int
    config_hash: str
    compress: str | None = None
    device: str | None = None

    def load_backend(self) -> Any:
        if self.model is None:
            return None
        from ratiocinator.models import ResponseCache, load_backend

        cache = ResponseCache(self.cache_path) if self.cache_path else None
        return load_backend(self.model, dtype=self.dtype, threads=self.threads, device=self.device, cache=cache,
                            compress=self.compress)

    def build(self, backend: Any = None) -> tuple[Benchmark, Context]:
        bench = self.benchmark_cls(self.options, self.data_dir)
        if backend is None and self.benchmark_cls.needs_model:
            backend = self.load_backend()
        ctx = Context(backend=SharedBackend(backend) if backend is not None else None, seed=self.seed)
        bench.setup(ctx)
        return bench, ctx


def _json_value(value: Any) -> Any:
    return json.loads(canonical_json(value))


def execute_item(bench: Benchmark, item: Item, ctx: Context, *, config_hash: str, model: str | None) -> ResultRecord:
    """Run one item and turn what happened (an Outcome or an exception) into its record."""
    start = time.perf_counter()
    base = {"item_id": item.id, "inputs_hash": item.inputs_hash, "inputs": _json_value(dict(item.inputs)),
            "group": item.group, "model": model, "config_hash": config_hash}
    try:
        outcome = bench.run(item, ctx)
        score = float(outcome.score)
        if not math.isfinite(score):
            raise InvalidInput(f"{bench.name}: item {item.id} scored {score}; a score must be a finite number")
        return ResultRecord(**base, output=_json_value(outcome.output), score=score,
                            metrics={k: float(v) for k, v in outcome.metrics.items()},
                            seconds=time.perf_counter() - start, prompt_tokens=outcome.prompt_tokens,
                            completion_tokens=outcome.completion_tokens)
    except Exception as exc:  # the item failed, the run goes on; the error is in its record
        return ResultRecord(**base, error=f"{type(exc).__name__}: {exc}"[:2000], seconds=time.perf_counter() - start,
                            metrics={k: float(v) for k, v in bench.metrics_on_error(item).items()})


# --- one spawned process of the local pool --------------------------------------------------------

_WORKER: dict[str, Any] = {}


def init_process(spec: WorkerSpec) -> None:
    """The pool's initializer: remember the spec; the benchmark and model are built on the first task."""
    import warnings

    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")  # up-lpg, at import
    die_with_parent(os.getppid())  # a worker (and, through its own watchdog, its planners) ends with the run
    _WORKER.clear()
    _WORKER["spec"] = spec


def _built() -> dict[str, Any]:
    if "bench" not in _WORKER:
        bench, ctx = _WORKER["spec"].build()
        _WORKER.update(bench=bench, ctx=ctx, model=ctx.backend.info.model if ctx.backend is not None else None)
    return _WORKER


def run_in_process(item: Item) -> ResultRecord:
    """One item in this process (the benchmark and model built on the first call)."""
    worker = _built()
    return execute_item(worker["bench"], item, worker["ctx"], config_hash=worker["spec"].config_hash,
                        model=worker["model"])


def process_provenance() -> tuple[str, Any]:
    """("ok", the model's provenance as this process loaded it) or ("error", (class name, message)).

    Errors travel as words: a RatiocinatorError with its own constructor (MissingPackage, say) does
    not survive pickling; `raise_remote` rebuilds it in the parent.
    """
    try:
        worker = _built()
    except RatiocinatorError as exc:
        return "error", (type(exc).__name__, str(exc))
    return "ok", model_provenance(worker["spec"].model, worker["ctx"].backend)


def raise_remote(name: str, message: str) -> None:
    """Raise, in this process, the ratiocinator error a worker reported as (class name, message)."""
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, RatiocinatorError)):
        cls = RatiocinatorError
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    raise exc
