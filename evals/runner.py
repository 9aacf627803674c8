"""Run a benchmark into a run directory: resumable (results.jsonl), cached model calls, a worker pool or Ray.

    summary = run(RunConfig(benchmark="planning-gold", workers=2, out="runs/pg")).summary

A run directory holds config.json (the config that determines the results, its hash, the versions
of the package, its main dependencies and the model files), results.jsonl (one line per finished
item, durable at once), sessions.jsonl (one line per start) and summary.json. `resume=True`
continues a run: finished items are skipped, a line cut short by the interruption is redone, and a
config that differs from the recorded one is refused (so results of two configs never mix).

Model calls go through the SQLite response cache (`ResponseCache`), so a re-run with the same seed
and config is bit-identical and costs no decoding. Items run on a pool of `workers` threads (model
calls serialised, solver and sandbox work in parallel), on `workers` spawned processes for benchmarks
that are not thread safe and for llama.cpp models (each loads its own model; this process then loads
none), or on Ray actors (`executor="ray"`). What runs inside a worker is in evals/worker.py.
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

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ratiocinator.errors import InvalidInput
from ratiocinator.evals import benchmark as registry
from ratiocinator.evals.benchmark import (
    Benchmark,
    Item,
    canonical_json,
    options_identity,
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
from ratiocinator.evals.worker import (
    WorkerSpec,
    execute_item,
    init_process,
    process_provenance,
    raise_remote,
    run_in_process,
)

#: fields of RunConfig that determine the results; a resumed run must match them
IDENTITY_FIELDS = ("benchmark", "model", "options", "seed", "dtype", "compress", "device")


class RunConfig(BaseModel):
    """Everything a run is started with. Only IDENTITY_FIELDS change results; the rest is how it runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    benchmark: str
    model: str | None = None  # None: the default model, if the benchmark needs one
    options: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    dtype: str = "auto"
    limit: int | None = Field(None, ge=1)
    #: a fixed seeded sample of N items (Benchmark.sample; not the first N), the same for every model;
    #: like `limit` it may change between sessions (a larger sample holds the smaller one)
    sample: int | None = Field(None, ge=1)
    sample_seed: int = 0
    workers: int = Field(1, ge=1, le=256)
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None  # None: start a local Ray instance
    data_dir: str | None = None
    out: str | None = None  # None: eval-runs/<benchmark>-<model>-s<seed>
    resume: bool = False
    retry_errors: bool = False  # with resume: items recorded with an error are run again
    require_run: bool = False  # with resume: an out directory that holds no run is an error (the CLI's --resume)

    @model_validator(mode="after")
    def _retry_needs_resume(self) -> RunConfig:
        if self.retry_errors and not self.resume:
            raise ValueError("retry_errors: re-running the items that ended in an error needs resume")
        return self
    cache: bool = True
    cache_path: str | None = None  # None: the package's default response cache
    threads: int | None = None
    compress: str | None = None  # a compression spec, e.g. "int4+eora64+gear-kv4" (CompressionConfig.parse)
    device: str | None = None  # cpu, cuda or cuda:N; None: the backend's default

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str | None) -> str | None:
        from ratiocinator.models.device import check_device

        return None if value is None else check_device(value)


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What `run` did: where, how many items it ran now and skipped as done, and the summary of the whole run."""

    out_dir: Path
    ran: int
    skipped: int
    summary: Summary
    seconds: float


def uses_processes(cls: type[Benchmark], workers: int, model: str | None = None) -> bool:
    """Whether `workers` local workers of `cls` are spawned processes: for benchmarks that are not thread
    safe, and for a llama.cpp model, whose calls one process serialises (its --threads are per call: K
    processes of T threads use K × T cores, K threads of one process T). A server (`openai:`) batches
    the threads' calls itself; transformers spreads one call over every core already."""
    if workers <= 1:
        return False
    if not cls.thread_safe:
        return True
    if cls.needs_model and model is not None:
        from ratiocinator.models.loading import split_spec

        return split_spec(model)[0] == "llamacpp"
    return False


class LocalPool:
    """The local executor: items on threads or on spawned processes, records handed back in this thread.

    Threads for thread-safe benchmarks: this process builds the benchmark and holds the one model
    (calls serialised). For the others (`thread_safe = False`, e.g. unified-planning's global
    environment) and for a llama.cpp model (`uses_processes`), `workers` > 1 means that many spawned
    processes, each building its own benchmark and model: this process then loads none, so K workers
    hold K models, not K + 1.
    """

    def __init__(self, spec: WorkerSpec, *, workers: int, backend: Any = None) -> None:
        self.spec, self.workers = spec, workers
        self.processes = uses_processes(spec.benchmark_cls, workers, spec.model if backend is None else None)
        self.backend, self._owned = backend, False
        self._pool: Executor
        if self.processes:
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=init_process, initargs=(spec,))
            return
        if backend is None and spec.benchmark_cls.needs_model:
            self.backend, self._owned = spec.load_backend(), True
        try:
            self._bench, self._ctx = spec.build(self.backend)
        except BaseException:
            if self._owned:
                self.backend.close()
            raise
        self._model = self._ctx.backend.info.model if self._ctx.backend is not None else None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eval")

    def provenance(self) -> dict[str, Any] | None:
        """The model's provenance as the workers loaded it (asked of one worker process when they are processes)."""
        if not self.processes:
            return model_provenance(self.spec.model, self.backend)
        status, value = self._pool.submit(process_provenance).result()
        if status == "error":
            raise_remote(*value)
        return value

    def submit(self, item: Item) -> Future[ResultRecord]:
        if self.processes:
            return self._pool.submit(run_in_process, item)
        return self._pool.submit(execute_item, self._bench, item, self._ctx, config_hash=self.spec.config_hash,
                                 model=self._model)

    def run(self, items: Iterable[Item], on_record: Callable[[ResultRecord], None]) -> None:
        """Run items, handing each record to `on_record` (in this thread) as it finishes, in item order when
        several finish together; at most 2 × workers in flight, so an interrupt loses little."""
        running: set[Future[ResultRecord]] = set()
        order: dict[Future[ResultRecord], int] = {}

        def record(done: set[Future[ResultRecord]]) -> None:
            for f in sorted(done, key=order.__getitem__):
                on_record(f.result())
                del order[f]

        for index, item in enumerate(items):
            future = self.submit(item)
            order[future] = index
            running.add(future)
            while len(running) >= 2 * self.workers:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                record(done)
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            record(done)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._owned:
            self.backend.close()


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
    for flag, value in (("--model", config.model), ("--compress", config.compress), ("--device", config.device)):
        if value is not None and not cls.needs_model:  # before the data is looked for: the flag is the mistake
            raise InvalidInput(f"{cls.name} runs no model; drop {flag} {value}")
    model = config.model
    if cls.needs_model and model is None:  # the measured default engine, as `generate` and `chat` choose it
        from ratiocinator.models.loading import default_spec

        model = backend.info.model if backend is not None else default_spec(
            dtype=config.dtype, device=config.device, compress=config.compress)
    data_dir = registry.resolve_data_dir(cls, config.data_dir)
    identity = {"benchmark": cls.name, "model": model, "options": options_identity(options),
                "seed": config.seed, "dtype": config.dtype if cls.needs_model else None}
    compress = None
    if config.compress is not None:
        from ratiocinator.models.loading import describe_compression

        compress = describe_compression(model, config.compress)  # fails fast on a bad spec
        identity["compress"] = compress  # only when set: uncompressed runs keep their hashes
    if config.device is not None:
        identity["device"] = config.device  # only when set, as compress: runs without it keep their hashes
    config_hash = sha256_text(canonical_json(identity))[:16]

    bench = cls(options, data_dir)
    items = bench.items()
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise InvalidInput(f"{cls.name}: item ids must be unique; repeated: {dup}")
    if config.sample is not None:
        items = bench.sample(items, config.sample, config.sample_seed)
    if config.limit is not None:
        items = items[: config.limit]

    out = Path(config.out) if config.out else default_out(config, model)
    results_path = out / RESULTS_FILE
    existing = (out / CONFIG_FILE).exists() or results_path.exists()
    if existing and not config.resume:
        raise InvalidInput(f"{out} already holds a run; pass --resume to continue it, or --out NEW_DIR")
    if config.resume and config.require_run and not existing:
        raise InvalidInput(f"nothing to resume: {out} holds no run (no {CONFIG_FILE} or {RESULTS_FILE}); check "
                           "--out (and --seed, --model, which name the default directory), or drop --resume to "
                           "start a new run")
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
                      compress=compress, device=config.device)
    if config.executor == "ray":
        from ratiocinator.evals.ray_executor import require_ray

        require_ray()  # before anything is written
    # The local pool loads the model where the items run: here for threads, in each process otherwise.
    pool = LocalPool(spec, workers=config.workers, backend=backend) if todo and config.executor == "local" else None
    try:
        provenance = None
        if cls.needs_model:
            provenance = pool.provenance() if pool is not None else model_provenance(model, backend)
        return _run_items(config, spec, cls, items, todo, records, out, identity, provenance, pool, progress)
    finally:
        if pool is not None:
            pool.close()


def _run_items(config: RunConfig, spec: WorkerSpec, cls: type[Benchmark], items: list[Item], todo: list[Item],
               records: list[ResultRecord], out: Path, identity: dict[str, Any], provenance: dict[str, Any] | None,
               pool: LocalPool | None, progress: ProgressSink | None) -> RunResult:
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
        "sample": config.sample, "sample_seed": config.sample_seed if config.sample is not None else None,
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
                assert pool is not None
                pool.run(todo, on_record)
        finally:
            sink.close()
    summary = summarize(records, benchmark=cls.name, model=model, config_hash=config_hash,
                        harmonic=cls.harmonic_means)
    write_json(out / SUMMARY_FILE, summary.model_dump(mode="json"))
    return RunResult(out_dir=out, ran=len(todo), skipped=len(items) - len(todo), summary=summary,
                     seconds=time.perf_counter() - started)
