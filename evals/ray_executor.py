"""`--executor ray`: shard a run's items over Ray actors (a local instance or a cluster), same results file.

Each of `workers` actors builds the benchmark (and loads the model, through the shared response
cache) once, then takes items one at a time; the driver receives each record as soon as its item
finishes and appends it to results.jsonl itself, so the file semantics (one durable line per item,
resume, no duplicates) are exactly those of the local executor. Only `workers` items are in flight,
so an interrupted run loses at most those.

With `address=None` a local Ray instance is started (and shut down afterwards); pass
`--ray-address auto` or `ray://head:10001` to use a running cluster. On a cluster, every node needs
this package installed and the data directory at the same path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from ratiocinator.errors import MissingPackage, pip_install
from ratiocinator.evals.benchmark import Item
from ratiocinator.evals.results import ResultRecord
from ratiocinator.evals.worker import WorkerSpec, execute_item

PIP = pip_install('"ray>=2.40,<3"')


class RayWorker:
    """The body of one Ray actor: a benchmark and its model, built once."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.bench, self.ctx = spec.build()
        self.model = self.ctx.backend.info.model if self.ctx.backend is not None else None

    def run(self, item: Item) -> ResultRecord:
        return execute_item(self.bench, item, self.ctx, config_hash=self.spec.config_hash, model=self.model)

    def pid(self) -> int:
        return os.getpid()


def require_ray() -> Any:
    try:
        import ray
        from ray.util import ActorPool  # noqa: F401  (checked here: part of the API we need)
    except ImportError:
        raise MissingPackage("--executor ray needs Ray, which is not installed", pip_command=PIP) from None
    return ray


def _ship_by_value(cls: type) -> None:
    """Benchmarks defined outside the package (a script, a test) travel by value to the workers."""
    from ray import cloudpickle

    module = sys.modules.get(cls.__module__)
    if module is not None and cls.__module__ != "__main__" and not cls.__module__.startswith("ratiocinator."):
        cloudpickle.register_pickle_by_value(module)


def execute_ray(spec: WorkerSpec, items: list[Item], on_record: Callable[[ResultRecord], None], *, workers: int,
                address: str | None = None) -> None:
    """Run `items` on `workers` Ray actors, handing each record to `on_record` (in this thread) as it finishes."""
    ray = require_ray()
    from ray.util import ActorPool

    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if address is None:
            kwargs["num_cpus"] = max(workers, os.cpu_count() or 1)
        ray.init(address=address, **kwargs)
    _ship_by_value(spec.benchmark_cls)
    actor_cls = ray.remote(num_cpus=1)(RayWorker)
    actors = [actor_cls.remote(spec) for _ in range(min(workers, len(items)))]
    try:
        pool = ActorPool(actors)
        for record in pool.map_unordered(lambda actor, item: actor.run.remote(item), items):
            on_record(record)
    finally:
        for actor in actors:
            ray.kill(actor)
        if started_here:
            ray.shutdown()
