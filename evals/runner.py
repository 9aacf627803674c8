"""Run a benchmark into a run directory: resumable (results.jsonl), cached model calls, a worker pool or Ray.

    summary = run(RunConfig(benchmark="planning-gold", workers=2, out="runs/pg")).summary

A run directory holds config.json (the config that determines the results, its hash, the versions
of the package, its main dependencies and the model files), results.jsonl (one line per finished
item, durable at once), sessions.jsonl (one line per start) and summary.json. `resume=True`
continues a run: finished items are skipped, a line cut short by the interruption is redone, and a
config that differs from the recorded one is refused (so results of two configs never mix).

Model calls go through the SQLite response cache (`ResponseCache`), so a re-run with the same seed
and config is bit-identical and costs no decoding. Items run on a pool of `workers` threads (model
calls serialised, solver and sandbox work in parallel) or on Ray actors (`executor="ray"`).
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ratiocinator.errors import InvalidInput
from ratiocinator.evals import benchmark as registry
from ratiocinator.evals.benchmark import (
    Benchmark,
    Context,
    Item,
    SharedBackend,
    canonical_json,
    sha256_text,
)
from ratiocinator.evals.progress import NoProgress, ProgressSink
from ratiocinator.evals.provenance import model_provenance, versions
from ratiocinator.evals.results import (
    CONFIG_FILE,
    RESULTS_FILE,
    SESSIONS_FILE,
    SUMMARY_FILE,
    ResultRecord,
    ResultsWriter,
    append_json_line,
    drop_errors,
    load_results,
    read_json,
    write_json,
)
from ratiocinator.evals.summary import Summary, summarize

#: fields of RunConfig that determine the results; a resumed run must match them
IDENTITY_FIELDS = ("benchmark", "model", "options", "seed", "dtype", "compress")


class RunConfig(BaseModel):
    """Everything a run is started with. Only IDENTITY_FIELDS change results; the rest is how it runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    benchmark: str
    model: str | None = None  # None: the default model, if the benchmark needs one
    options: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    dtype: str = "auto"
    limit: int | None = Field(None, ge=1)
    workers: int = Field(1, ge=1, le=256)
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None  # None: start a local Ray instance
    data_dir: str | None = None
    out: str | None = None  # None: eval-runs/<benchmark>-<model>-s<seed>
    resume: bool = False
    retry_errors: bool = False  # with resume: items recorded with an error are run again

    @model_validator(mode="after")
    def _retry_needs_resume(self) -> RunConfig:
        if self.retry_errors and not self.resume:
            raise ValueError("retry_errors: re-running the items that ended in an error needs resume")
        return self
    cache: bool = True
    cache_path: str | None = None  # None: the package's default response cache
    threads: int | None = None
    compress: str | None = None  # a compression spec, e.g. "int4+eora64+gear-kv4" (CompressionConfig.parse)


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What `run` did: where, how many items it ran now and skipped as done, and the summary of the whole run."""

    out_dir: Path
    ran: int
    skipped: int
    summary: Summary
    seconds: float


@dataclass(frozen=True, kw_only=True)
class WorkerSpec:
    """Everything a worker (a thread, a Ray actor) needs to rebuild the benchmark and its model."""

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

    def load_backend(self) -> Any:
        if self.model is None:
            return None
        from ratiocinator.models import ResponseCache, load_backend

        cache = ResponseCache(self.cache_path) if self.cache_path else None
        return load_backend(self.model, dtype=self.dtype, threads=self.threads, cache=cache, compress=self.compress)

    def build(self, backend: Any = None) -> tuple[Benchmark, Context]:
        bench = self.benchmark_cls(self.options, self.data_dir)
        if backend is None and self.benchmark_cls.needs_model:
            backend = self.load_backend()
        ctx = Context(backend=SharedBackend(backend) if backend is not None else None, seed=self.seed)
        bench.setup(ctx)
        return bench, ctx


def _json_value(value: Any) -> Any:
    import json

    return json.loads(canonical_json(value))


def execute_item(bench: Benchmark, item: Item, ctx: Context, *, config_hash: str, model: str | None) -> ResultRecord:
    """Run one item and turn what happened (an Outcome or an exception) into its record."""
    import math

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
        return ResultRecord(**base, error=f"{type(exc).__name__}: {exc}"[:2000], seconds=time.perf_counter() - start)


_WORKER: dict[str, Any] = {}


def _init_process(spec: WorkerSpec) -> None:
    import warnings

    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")  # up-lpg, at import
    bench, ctx = spec.build()
    _WORKER.update(bench=bench, ctx=ctx, spec=spec,
                   model=ctx.backend.info.model if ctx.backend is not None else None)


def _run_in_process(item: Item) -> ResultRecord:
    return execute_item(_WORKER["bench"], item, _WORKER["ctx"], config_hash=_WORKER["spec"].config_hash,
                        model=_WORKER["model"])


def execute_local(spec: WorkerSpec, items: list[Item], on_record: Callable[[ResultRecord], None], *,
                  workers: int, backend: Any = None) -> None:
    """Run items on a pool, handing each record to `on_record` (in this thread) as it finishes.

    Threads for thread-safe benchmarks (one model in memory, calls serialised); for the others
    (`thread_safe = False`, e.g. unified-planning's global environment) `workers` > 1 means that many
    spawned processes, each building its own benchmark (and model).
    """
    pool: Executor
    if workers > 1 and not spec.benchmark_cls.thread_safe:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_process, initargs=(spec,))

        def submit(item: Item) -> Future[ResultRecord]:
            return pool.submit(_run_in_process, item)
    else:
        bench, ctx = spec.build(backend)
        model = ctx.backend.info.model if ctx.backend is not None else None
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eval")

        def submit(item: Item) -> Future[ResultRecord]:
            return pool.submit(execute_item, bench, item, ctx, config_hash=spec.config_hash, model=model)
    pending: Iterable[Item] = iter(items)
    running: set[Future[ResultRecord]] = set()
    order: dict[Future[ResultRecord], int] = {}  # items finished together are recorded in item order

    def record(done: set[Future[ResultRecord]]) -> None:
        for f in sorted(done, key=order.__getitem__):
            on_record(f.result())
            del order[f]

    try:
        for index, item in enumerate(pending):  # at most 2 × workers in flight: an interrupt loses little
            future = submit(item)
            order[future] = index
            running.add(future)
            while len(running) >= 2 * workers:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                record(done)
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            record(done)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def default_out(config: RunConfig, model: str | None) -> Path:
    slug = "" if model is None else "-" + model.replace("embedded:", "").replace(":", "-").replace("/", "_")
    if config.compress:
        slug += "-" + config.compress.replace(":", "_").replace("+", "_")
    return Path("eval-runs") / f"{config.benchmark}{slug}-s{config.seed}"


def _check_resume(out: Path, identity: dict[str, Any], provenance: dict[str, Any] | None) -> None:
    recorded = read_json(out / CONFIG_FILE)
    old = recorded.get("identity", {})
    diff = [f"{k}: recorded {old.get(k)!r}, now {identity.get(k)!r}" for k in IDENTITY_FIELDS
            if canonical_json(old.get(k)) != canonical_json(identity.get(k))]
    if diff:
        raise InvalidInput(f"cannot resume {out}: the config differs from the recorded one ({'; '.join(diff)}). "
                           "Resume with the same benchmark, model, options, seed, dtype and compression, or start a new "
                           "run with another --out.")
    old_model = (recorded.get("model") or {}).get("identity")
    new_model = (provenance or {}).get("identity")
    if old_model and new_model and old_model != new_model:
        raise InvalidInput(f"cannot resume {out}: the model's weights or settings changed (identity "
                           f"{old_model[:12]}… recorded, {new_model[:12]}… now); start a new run with another --out")


def run(config: RunConfig, *, backend: Any = None, progress: ProgressSink | None = None) -> RunResult:
    """Run (or resume) a benchmark; `backend` overrides loading `config.model` (tests pass a ScriptedBackend)."""
    cls = registry.get(config.benchmark)
    options = cls.parse_options(config.options)
    if config.model is not None and not cls.needs_model:
        raise InvalidInput(f"{cls.name} runs no model; drop --model {config.model}")
    model = config.model
    if cls.needs_model and model is None:
        from ratiocinator.models import DEFAULT_MODEL

        model = backend.info.model if backend is not None else DEFAULT_MODEL
    data_dir = registry.resolve_data_dir(cls, config.data_dir)
    identity = {"benchmark": cls.name, "model": model, "options": options.model_dump(mode="json"),
                "seed": config.seed, "dtype": config.dtype if cls.needs_model else None}
    compress = None
    if config.compress is not None:
        if not cls.needs_model:
            raise InvalidInput(f"{cls.name} runs no model; drop --compress {config.compress}")
        from ratiocinator.models.compress.config import CompressionConfig

        compress = CompressionConfig.parse(config.compress).describe()  # fails fast on a bad spec
        identity["compress"] = compress  # only when set: uncompressed runs keep their hashes
    config_hash = sha256_text(canonical_json(identity))[:16]

    bench = cls(options, data_dir)
    items = bench.items()
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise InvalidInput(f"{cls.name}: item ids must be unique; repeated: {dup}")
    if config.limit is not None:
        items = items[: config.limit]

    out = Path(config.out) if config.out else default_out(config, model)
    results_path = out / RESULTS_FILE
    existing = (out / CONFIG_FILE).exists() or results_path.exists()
    if existing and not config.resume:
        raise InvalidInput(f"{out} already holds a run; pass --resume to continue it, or --out NEW_DIR")
    if config.resume and (out / CONFIG_FILE).exists():
        _check_resume(out, identity, None)  # before loading a model: fail fast
    records = load_results(results_path)
    by_id = {it.id: it for it in items}
    for r in records:
        if r.item_id in by_id and r.inputs_hash != by_id[r.item_id].inputs_hash:
            raise InvalidInput(f"cannot resume {out}: item {r.item_id}'s inputs changed since it was recorded "
                               "(the data is not the same); start a new run with another --out")
        if r.config_hash != config_hash:
            raise InvalidInput(f"{results_path}: item {r.item_id} was run with config {r.config_hash}, this run "
                               f"is {config_hash}; results of two configs cannot share a run directory")
    done = {r.item_id for r in records if not (config.retry_errors and r.error is not None)}
    todo = [it for it in items if it.id not in done]

    cache_path = None
    if cls.needs_model and config.cache:
        from ratiocinator.models import catalog

        cache_path = config.cache_path or str(catalog.home() / "cache" / "responses.sqlite")
    spec = WorkerSpec(benchmark_cls=cls, options=options, data_dir=data_dir, model=model, dtype=config.dtype,
                      threads=config.threads, cache_path=cache_path, seed=config.seed, config_hash=config_hash,
                      compress=compress)
    if config.executor == "ray":
        from ratiocinator.evals.ray_executor import require_ray

        require_ray()  # before anything is written
    owned = cls.needs_model and bool(todo) and config.executor == "local" and backend is None
    if owned:
        backend = spec.load_backend()
    provenance = model_provenance(model, backend) if cls.needs_model else None
    try:
        return _run_items(config, spec, cls, items, todo, records, out, identity, provenance, backend, progress)
    finally:
        if owned:
            backend.close()


def _run_items(config: RunConfig, spec: WorkerSpec, cls: type[Benchmark], items: list[Item], todo: list[Item],
               records: list[ResultRecord], out: Path, identity: dict[str, Any], provenance: dict[str, Any] | None,
               backend: Any, progress: ProgressSink | None) -> RunResult:
    started = time.perf_counter()
    config_hash, data_dir, model = spec.config_hash, spec.data_dir, spec.model
    results_path = out / RESULTS_FILE
    done = {r.item_id for r in records}
    by_id = {it.id for it in items}
    out.mkdir(parents=True, exist_ok=True)
    if config.resume and (out / CONFIG_FILE).exists():
        _check_resume(out, identity, provenance)
        if config.retry_errors and any(r.error is not None for r in records):
            records[:] = drop_errors(results_path, records)  # only once the resume is accepted
            done = {r.item_id for r in records}
    else:
        write_json(out / CONFIG_FILE, {"identity": identity, "config_hash": config_hash,
                                       "config": config.model_dump(mode="json"), "data_dir": str(data_dir) if data_dir else None,
                                       "model": provenance, "versions": versions(),
                                       "created": datetime.now(timezone.utc).isoformat()})
    append_json_line(out / SESSIONS_FILE, {
        "started": datetime.now(timezone.utc).isoformat(), "host": socket.gethostname(), "pid": os.getpid(),
        "executor": config.executor, "workers": config.workers, "limit": config.limit,
        "done_before": len(done), "todo": len(todo)})

    sink = progress or NoProgress()
    sink.start(total=len(items), done=len(items) - len(todo), label=cls.name,
               score_sum=sum(r.score or 0.0 for r in records if r.item_id in by_id))
    with ResultsWriter(results_path) as writer:

        def on_record(record: ResultRecord) -> None:
            writer.append(record)
            records.append(record)
            sink.advance(record)

        try:
            if not todo:
                pass
            elif config.executor == "ray":
                from ratiocinator.evals.ray_executor import execute_ray

                execute_ray(spec, todo, on_record, workers=config.workers, address=config.ray_address)
            else:
                execute_local(spec, todo, on_record, workers=config.workers, backend=backend)
        finally:
            sink.close()
    summary = summarize(records, benchmark=cls.name, model=model, config_hash=config_hash)
    write_json(out / SUMMARY_FILE, summary.model_dump(mode="json"))
    return RunResult(out_dir=out, ran=len(todo), skipped=len(items) - len(todo), summary=summary,
                     seconds=time.perf_counter() - started)
