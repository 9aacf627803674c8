"""Run a suite: its size and time estimate first, then every member through the runner into its own run directory.

    plans = plan_suite(suite, out, data_dir=..., resume=False)
    print(format_estimate(estimate(plans, measure_speed(backend)), speed))
    run_suite(suite, SuiteOptions(model=..., out=...), backend=backend)

The suite directory holds `suite.json` (the suite as run, the model, one line per session) and one
run directory per member (`DIR/<member id>/`, a normal resumable run of evals/runner.py). The model
is loaded once and shared by the members; its calls go through one response cache. Ctrl-C stops
after the items in flight (KeyboardInterrupt reaches the caller); `resume=True` continues every
member where it stopped (members not started yet start then).

The time estimate (printed before a run): for a member with finished items in its run directory,
their mean seconds per item; otherwise the suite's recorded cost per item (`Member.cost`: prompt and
completion tokens per item measured on an earlier run, and seconds of non-model work) at the model's
measured speed: a probe of uncached requests (`measure_speed`: after a warm-up, one token after a
~400-token prompt gives the prompt rate, 48 more tokens on another prompt the decode rate). It ignores prefix reuse and batching,
so it is an upper bound for engines that share prompt prefixes across calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ratiocinator.errors import InvalidInput, RatiocinatorError
from ratiocinator.evals import benchmark as registry
from ratiocinator.evals.results import RESULTS_FILE, load_results, read_json, write_json
from ratiocinator.evals.suite import Member, Suite

SUITE_FILE = "suite.json"


class SuiteOptions(BaseModel):
    """How a suite runs (the members' runs get these); only `model` and `seed` change results."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = None  # the model of every member that runs one; None: the default model
    out: str
    seed: int = 0
    workers: int = Field(1, ge=1, le=256)
    resume: bool = False
    retry_errors: bool = False  # with resume: items recorded with an error are run again
    data_dir: str | None = None
    executor: str = "local"
    ray_address: str | None = None
    cache: bool = True
    cache_path: str | None = None
    dtype: str = "auto"
    threads: int | None = None
    device: str | None = None

    @model_validator(mode="after")
    def _retry_needs_resume(self) -> SuiteOptions:
        if self.retry_errors and not self.resume:
            raise ValueError("retry_errors: running the failed items again needs resume")
        return self


@dataclass(frozen=True, kw_only=True)
class MemberPlan:
    """A member as it will run: its sample's size, the items of it already finished, or why it cannot run."""

    member: Member
    needs_model: bool
    total: int
    done: int
    error: str | None = None

    @property
    def todo(self) -> int:
        return self.total - self.done


def plan_suite(suite: Suite, out: Path | str, *, data_dir: str | None = None,
               retry_errors: bool = False) -> list[MemberPlan]:
    """Every member's sample size and finished items (from `out/<id>/results.jsonl`; with `retry_errors`, an
    item that ended in an error is not finished); a member whose data or options are wrong gets its error
    instead (so that all problems are reported at once)."""
    plans = []
    for m in suite.members:
        try:
            cls = registry.get(m.benchmark)
            bench = cls(cls.parse_options(m.options), registry.resolve_data_dir(cls, data_dir))
            items = bench.items()
            if m.sample is not None:
                items = bench.sample(items, m.sample, suite.seed_of(m))
        except RatiocinatorError as exc:
            plans.append(MemberPlan(member=m, needs_model=False, total=0, done=0, error=str(exc)))
            continue
        ids = {it.id for it in items}
        records = load_results(Path(out) / m.id / RESULTS_FILE, repair=False)
        done = len({r.item_id for r in records if r.item_id in ids and not (retry_errors and r.error is not None)})
        plans.append(MemberPlan(member=m, needs_model=cls.needs_model, total=len(items), done=done))
    return plans


# ---------------------------------------------------------------- the time estimate


@dataclass(frozen=True, kw_only=True)
class Speed:
    """A model's measured throughput on this machine: prompt tokens and generated tokens per second."""

    prefill_tps: float
    decode_tps: float
    seconds: float  # what the probe took


_PROBE = ("Summarise the following notes in one sentence. " + " ".join(
    f"Note {i}: the {w} shipment of crate {i * 7 % 31} left the warehouse at {i % 12 + 1} o'clock."
    for i, w in enumerate(["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                           "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
                           "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"])))


def measure_speed(backend: Any, *, clock: Callable[[], float] = time.perf_counter) -> Speed:
    """Three uncached greedy requests: a warm-up (the first call after loading pays for page faults and
    allocations), then two on different prompts of the same length (so no prefix is reused): one token
    (the prompt rate) and up to 49 tokens (the decode rate from the difference; from the whole second
    request, a lower bound, when load noise makes the difference meaningless)."""
    from ratiocinator.models import SamplingParams

    backend.generate("Hello.", SamplingParams(max_tokens=1), cache=False)
    start = clock()
    (a,) = backend.generate("A. " + _PROBE, SamplingParams(max_tokens=1), cache=False)
    mid = clock()
    (b,) = backend.generate("B. " + _PROBE, SamplingParams(max_tokens=49), cache=False)
    end = clock()
    first, second = max(mid - start, 1e-6), max(end - mid, 1e-6)
    prefill = max(a.prompt_tokens, 1) / first
    generated = max(b.completion_tokens - 1, 1)
    decode_time = second - first if second - first > 0.2 * second else second
    return Speed(prefill_tps=prefill, decode_tps=generated / decode_time, seconds=end - start)


@dataclass(frozen=True, kw_only=True)
class EstimateRow:
    """One member's share of the estimate."""

    id: str
    total: int
    todo: int
    seconds_per_item: float | None
    method: str
    error: str | None = None

    @property
    def seconds(self) -> float:
        return (self.seconds_per_item or 0.0) * self.todo


def estimate(plans: list[MemberPlan], speed: Speed | None, out: Path | str) -> list[EstimateRow]:
    """Each member's seconds per item: measured in its run directory, else its recorded cost at `speed`."""
    rows = []
    for p in plans:
        m = p.member
        if p.error is not None:
            rows.append(EstimateRow(id=m.id, total=0, todo=0, seconds_per_item=None, method="cannot run",
                                    error=p.error))
            continue
        records = [r for r in load_results(Path(out) / m.id / RESULTS_FILE, repair=False) if r.error is None]
        if records:
            per = sum(r.seconds for r in records) / len(records)
            how = f"measured on {len(records)} finished items"
        elif not p.needs_model:
            per, how = m.cost.seconds, "recorded seconds per item"
        elif speed is None:
            per, how = None, "no speed measured"
        else:
            per = (m.cost.prompt_tokens / speed.prefill_tps + m.cost.completion_tokens / speed.decode_tps
                   + m.cost.seconds)
            how = (f"{m.cost.prompt_tokens:.0f} + {m.cost.completion_tokens:.0f} tokens/item at measured speed"
                   + (f" + {m.cost.seconds:g} s" if m.cost.seconds else ""))
        rows.append(EstimateRow(id=m.id, total=p.total, todo=p.todo, seconds_per_item=per, method=how))
    return rows


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def format_estimate(suite: Suite, rows: list[EstimateRow], speed: Speed | None, workers: int = 1) -> str:
    """The size and time estimate as a plain-text table (what the CLI prints before running); with `workers`
    > 1 the wall time beside the worker time (an even split: items of one member run side by side)."""
    head = f"suite {suite.name}: {len(rows)} members, {sum(r.total for r in rows)} items"
    todo = sum(r.todo for r in rows)
    if todo != sum(r.total for r in rows):
        head += f" ({todo} to run)"
    lines = [head]
    if speed is not None:
        lines.append(f"measured speed: {speed.prefill_tps:.0f} prompt tok/s, {speed.decode_tps:.1f} generated tok/s "
                     f"(probe {speed.seconds:.1f} s)")
    width = max(len(r.id) for r in rows)
    for r in rows:
        if r.error is not None:
            lines.append(f"  {r.id:<{width}}  cannot run: {r.error}")
            continue
        per = "?" if r.seconds_per_item is None else f"{r.seconds_per_item:.1f} s/item"
        lines.append(f"  {r.id:<{width}}  {r.todo:>5} of {r.total:<5} {per:>14}  {_duration(r.seconds):>8}  "
                     f"({r.method})")
    unknown = [r.id for r in rows if r.seconds_per_item is None and r.error is None]
    total = sum(r.seconds for r in rows)
    wall = f", about {_duration(total / workers)} with {workers} workers" if workers > 1 else ""
    lines.append(f"estimated time: {_duration(total)}{wall}" + (f" plus {', '.join(unknown)} (no estimate)"
                                                                 if unknown else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------- running


@dataclass(frozen=True, kw_only=True)
class SuiteResult:
    """What a suite run did: its directory, the members that ran, and those that could not (with why)."""

    out_dir: Path
    ran: dict[str, int]
    failed: dict[str, str]


def _begin(suite: Suite, options: SuiteOptions, out: Path) -> None:
    path = out / SUITE_FILE
    now = datetime.now(timezone.utc).isoformat()
    session = {"started": now, "members": [m.id for m in suite.members], "workers": options.workers}
    if path.exists():
        if not options.resume:
            raise InvalidInput(f"{out} already holds a suite run; pass --resume to continue it, or --out NEW_DIR")
        state = read_json(path)
        if state.get("model") is None and options.model == _default_model(options):  # begun before the CLI
            state["model"] = options.model  # resolved the default: it ran the default
        if state.get("model") != options.model or state.get("seed") != options.seed:
            raise InvalidInput(f"cannot resume {out}: it ran model {state.get('model')!r} seed {state.get('seed')}, "
                               f"now {options.model!r} seed {options.seed}; use another --out")
        state["sessions"] = [*state.get("sessions", []), session]
        state["suite"] = _merged(state.get("suite") or {}, suite)
    else:
        if options.resume and out.exists() and any(out.iterdir()):
            raise InvalidInput(f"nothing to resume: {out} holds no {SUITE_FILE}; check --out")
        state = {"name": suite.name, "model": options.model, "seed": options.seed, "created": now,
                 "suite": suite.model_dump(mode="json"), "sessions": [session], "failed": {}}
    out.mkdir(parents=True, exist_ok=True)
    write_json(path, state)


def _merged(stored: dict[str, Any], suite: Suite) -> dict[str, Any]:
    """The stored suite with this session's members (re)defined: a session run with --only keeps the members
    that earlier sessions ran (the report covers them all), in the stored order, new members after."""
    current = suite.model_dump(mode="json")
    now = {m["id"]: m for m in current["members"]}
    members = [now.pop(m["id"], m) for m in stored.get("members", [])]
    return {**current, "members": [*members, *now.values()]}


def _record_failure(out: Path, member: str, error: str | None) -> None:
    state = read_json(out / SUITE_FILE)
    failed = dict(state.get("failed") or {})
    if error is None:
        failed.pop(member, None)
    else:
        failed[member] = error
    write_json(out / SUITE_FILE, {**state, "failed": failed})


def load_suite_backend(options: SuiteOptions) -> Any:
    """The model every member shares, with the response cache (None when the executor is Ray: actors load it)."""
    if options.executor == "ray":
        return None
    from ratiocinator.models import ResponseCache, catalog, load_backend

    cache = None
    if options.cache:
        cache = ResponseCache(options.cache_path or str(catalog.home() / "cache" / "responses.sqlite"))
    return load_backend(options.model or _default_model(options), dtype=options.dtype, threads=options.threads,
                        device=options.device, cache=cache)


def _default_model(options: SuiteOptions) -> str:
    """The measured default engine's spec for the default model (models/loading.default_spec), as `eval run` uses."""
    from ratiocinator.models.loading import default_spec

    return default_spec(dtype=options.dtype, device=options.device)


def shares_the_model(plan: MemberPlan, options: SuiteOptions) -> bool:
    """Whether a member runs on the suite's one loaded model: it needs one, can run, and its workers are not
    processes that load their own (a llama.cpp model with --workers K > 1: evals/runner.uses_processes)."""
    from ratiocinator.evals.runner import uses_processes

    if not plan.needs_model or plan.error is not None:
        return False
    cls = registry.get(plan.member.benchmark)
    return not uses_processes(cls, options.workers, options.model or _default_model(options))


def run_suite(suite: Suite, options: SuiteOptions, *, backend: Any = None, plans: list[MemberPlan] | None = None,
              progress: Any = None) -> SuiteResult:
    """Run (or resume) every member in order; a member that cannot run is recorded and the others go on.

    `backend` is the shared model (tests pass a ScriptedBackend; None: loaded once here when a member
    shares it; members whose workers are llama.cpp processes load their own, `shares_the_model`).
    `progress` is a SuiteProgress (or None). KeyboardInterrupt propagates after the members' runs have
    closed their files: everything finished is kept for `resume`.
    """
    from ratiocinator.evals.runner import RunConfig, run

    out = Path(options.out)
    _begin(suite, options, out)
    plans = plans if plans is not None else plan_suite(suite, out, data_dir=options.data_dir,
                                                        retry_errors=options.retry_errors)
    owned = None
    if backend is None and any(shares_the_model(p, options) for p in plans):
        backend = owned = load_suite_backend(options)
    ran: dict[str, int] = {}
    failed: dict[str, str] = {}
    if progress is not None:
        progress.begin(suite.name, total=sum(p.total for p in plans), done=sum(p.done for p in plans))
    try:
        for p in plans:
            m = p.member
            if p.error is not None:
                failed[m.id] = p.error
                _record_failure(out, m.id, p.error)
                continue
            model = options.model if p.needs_model else None
            if p.needs_model and model is None:
                model = backend.info.model if backend is not None else _default_model(options)
            shared = backend if p.needs_model and (owned is None or shares_the_model(p, options)) else None
            config = RunConfig(benchmark=m.benchmark, model=model, options=dict(m.options), seed=options.seed,
                               sample=m.sample, sample_seed=suite.seed_of(m), workers=options.workers,
                               executor=options.executor, ray_address=options.ray_address,  # type: ignore[arg-type]
                               data_dir=options.data_dir, out=str(out / m.id), resume=options.resume,
                               retry_errors=options.retry_errors,
                               cache=options.cache, cache_path=options.cache_path, dtype=options.dtype,
                               threads=options.threads, device=options.device if p.needs_model else None)
            if progress is not None:
                progress.member(m.id)
            try:
                result = run(config, backend=shared, progress=progress)
            except RatiocinatorError as exc:
                failed[m.id] = str(exc)
                _record_failure(out, m.id, str(exc))
                continue
            ran[m.id] = result.ran
            _record_failure(out, m.id, None)
    finally:
        if progress is not None:
            progress.end()
        if owned is not None:
            owned.close()
    return SuiteResult(out_dir=out, ran=ran, failed=failed)
