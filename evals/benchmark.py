"""What a benchmark is (items in, scored outcomes out), the context a run hands it, and the registry by name.

A benchmark is a small class (cf. nanochat `tasks/common.py`):

    @register
    class Arithmetic(Benchmark):
        name = "arithmetic"
        description = "two-digit sums, exact match"
        needs_model = True

        def items(self) -> list[Item]:
            return [Item(id=f"{a}+{b}", inputs={"a": a, "b": b}) for a in range(10) for b in range(10)]

        def run(self, item: Item, ctx: Context) -> Outcome:
            (c,) = ctx.backend.generate(f"{item.inputs['a']}+{item.inputs['b']}=", SamplingParams(max_tokens=4))
            return Outcome(output=c.text, score=float(c.text.strip() == str(item.inputs["a"] + item.inputs["b"])))

`items()` must be deterministic (same data, same items in the same order); `inputs` is what gets
hashed and recorded, so a change in the data is caught on resume. `run` must be safe to call from
several threads at once (model calls are serialised by the runner) and may raise: the runner records
the error against the item. Options are a pydantic model (`Options`), set from the command line with
`--set key=value`; the data directory is resolved once (`--data-dir`, `$RATIOCINATOR_DATA`, or the
team's `shared/data` next to the checkout).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ratiocinator.datadirs import PACKAGED, VENDORED, data_roots, find
from ratiocinator.errors import InvalidInput
from ratiocinator.kit.config import IDENTITY_WHEN_SET  # noqa: F401  (the benchmarks import it from here)

#: Data shipped with the package (small, permissively licensed sets, each with its licence).
VENDORED_DATA = VENDORED


class NoOptions(BaseModel):
    """A benchmark without options."""

    model_config = ConfigDict(frozen=True, extra="forbid")



def options_identity(options: BaseModel) -> dict[str, Any]:
    """The options as a run's identity records them: every field, less the IDENTITY_WHEN_SET ones at their
    default (kit.config), in the options and in the configs they hold."""
    dumped = options.model_dump(mode="json")
    for name, info in type(options).model_fields.items():
        value = getattr(options, name)
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("identity") == "when set":
            if value == info.get_default(call_default_factory=True):
                dumped.pop(name, None)
                continue
        if isinstance(value, BaseModel):
            dumped[name] = options_identity(value)
    return dumped


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal strings (and hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class Item:
    """One unit of a benchmark: a stable id, the JSON inputs that define it, an optional group (e.g. domain)."""

    id: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    group: str | None = None

    @property
    def inputs_hash(self) -> str:
        return sha256_text(canonical_json(dict(self.inputs)))[:16]


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What running one item produced: a JSON output, the primary score, secondary metrics, token counts.

    `metrics` may differ between items (a metric absent from an item is not averaged over it).
    """

    output: Any
    score: float
    metrics: Mapping[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class SharedBackend:
    """A backend shared by the worker threads of a run: generate/score/stream take one lock.

    Other attributes pass through to the wrapped backend; code that uses the model in other ways (the
    hidden states of `nuclear-norm`, say) holds `with shared.exclusive():` around it. A backend whose
    class sets `concurrent = True` (a client of a server fleet) is not serialised: `--workers K` then
    keeps K requests in flight.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._lock: Any = _NoLock() if getattr(inner, "concurrent", False) is True else threading.RLock()

    @contextmanager
    def exclusive(self) -> Iterator[Any]:
        with self._lock:
            yield self.inner

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self.inner.generate(*args, **kwargs)

    def score(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self.inner.score(*args, **kwargs)

    def score_tokens(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self.inner.score_tokens(*args, **kwargs)

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return list(self.inner.stream(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass(frozen=True, kw_only=True)
class Context:
    """What `Benchmark.run` gets besides the item: the (shared) model backend, if any, and the run's seed."""

    backend: Any = None  # a SharedBackend around a models.Backend, or None when the benchmark needs none
    seed: int = 0

    def item_seed(self, item: Item) -> int:
        """A per-item seed that depends on the run's seed and the item id, not on the order of execution."""
        digest = hashlib.sha256(f"{self.seed}:{item.id}".encode()).digest()
        return int.from_bytes(digest[:4], "little")


class Benchmark(ABC):
    """Base class of every benchmark; subclasses set the class attributes and implement items/run."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    needs_model: ClassVar[bool] = False
    #: pydantic model of the benchmark's options (frozen, extra="forbid")
    Options: ClassVar[type[BaseModel]] = NoOptions
    #: sub-folder of the data directory this benchmark reads, or None if it reads only vendored data
    data_subdir: ClassVar[str | None] = None
    #: the part of `data_subdir` the package's data/ holds whole (e.g. pursuit/20q), read when no data
    #: folder holds `data_subdir`; None: the benchmark always needs a data folder
    shipped: ClassVar[str | None] = None
    #: False when `run` must not be called from two threads at once; workers are then processes
    thread_safe: ClassVar[bool] = True
    #: the registered method (ratiocinator.methods) this benchmark runs, if any; its config is the
    #: option `config` of `Options`, so `--set` reaches every field of it
    method: ClassVar[str | None] = None
    #: derived summary rows (name, metric a, metric b): the harmonic mean of the two metrics' means with a
    #: bootstrap interval (ProcessBench's F1 of the accuracies on erroneous and on correct solutions)
    harmonic_means: ClassVar[tuple[tuple[str, str, str], ...]] = ()

    def metrics_on_error(self, item: Item) -> dict[str, float]:
        """The metrics an item that raised counts as failing (its score is 0 anyway): those whose group the
        item belongs to, so that an error is a miss there too (e.g. a harmonic mean's), not a dropped item."""
        return {}

    def __init__(self, options: BaseModel | None = None, data_dir: Path | None = None) -> None:
        self.options = options if options is not None else self.Options()
        self.data_dir = data_dir

    @classmethod
    def parse_options(cls, values: Mapping[str, Any]) -> BaseModel:
        """Validate `--set` values against `Options`; an error names the key and what was expected.

        A benchmark that runs a method holds the method's config as its option `config`: every field
        of that config is set by its own name (`--set k=3`, or `--set config.k=3`), on top of the
        benchmark's default config.
        """
        from pydantic import ValidationError

        values = dict(values)
        config_cls = method_config_class(cls.Options)
        if config_cls is not None:
            nested = dict(values.pop("config", None) or {})
            for key in list(values):
                name = key.removeprefix("config.")
                if name in config_cls.model_fields and (
                    key.startswith("config.") or key not in cls.Options.model_fields
                ):
                    nested[name] = values.pop(key)
            if nested:
                default = cls.Options.model_fields["config"].get_default(call_default_factory=True)
                nested = {**default.model_dump(), **_split_lists(config_cls, nested)}
                try:
                    values["config"] = config_cls(**nested)
                except InvalidInput as exc:
                    raise InvalidInput(f"{cls.name} options: {exc}") from None
        values = _split_lists(cls.Options, values)
        try:
            return cls.Options.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: "
                + ("unknown option" if e["type"] == "extra_forbidden" else e["msg"])
                for e in exc.errors()
            )
            fields = {k: f.default for k, f in cls.Options.model_fields.items() if k != "config"}
            if config_cls is not None:
                default = cls.Options.model_fields["config"].get_default(call_default_factory=True)
                fields.update(default.model_dump())
            known = ", ".join(f"{k} (default {v!r})" for k, v in fields.items())
            raise InvalidInput(f"{cls.name} options: {problems}. Known options: {known or 'none'}") from None

    def setup(self, ctx: Context) -> None:  # noqa: B027  (an optional hook)
        """Called once per process before the first `run` (load shared data, warm caches)."""

    @abstractmethod
    def items(self) -> list[Item]:
        """Every item of the benchmark, in a stable order."""

    def sample(self, items: list[Item], n: int, seed: int) -> list[Item]:
        """A fixed sample of `n` of `items` for `seed` (`RunConfig.sample`): `sample_items` unless overridden."""
        return sample_items(items, n, seed)

    @abstractmethod
    def run(self, item: Item, ctx: Context) -> Outcome:
        """Run and score one item."""


def sample_key(item_id: str, seed: int) -> bytes:
    """An item's place in the seeded sample order: sha256 of "seed:id" (no other item, model or order matters)."""
    return hashlib.sha256(f"sample:{seed}:{item_id}".encode()).digest()


def sample_items(items: list[Item], n: int, seed: int) -> list[Item]:
    """The `n` items whose `sample_key` is smallest, kept in the benchmark's order (all of them when n >= len).

    The sample depends only on the ids and the seed: the same for every model, independent of the
    order items come in, and nested (the sample of 40 holds the sample of 20), so a run grown from
    `sample=20` to `sample=40` keeps its finished items. Not the first N: several sets are ordered
    (by difficulty, by source), so their first items are not representative.
    """
    if n < 1:
        raise InvalidInput(f"sample: expected a positive number of items, got {n}")
    if n >= len(items):
        return list(items)
    chosen = set(sorted(range(len(items)), key=lambda i: sample_key(items[i].id, seed))[:n])
    return [it for i, it in enumerate(items) if i in chosen]


def method_config_class(options: type[BaseModel]) -> type[BaseModel] | None:
    """The method config class an Options model holds as its field `config`, if any."""
    from ratiocinator.kit import MethodConfig

    field_ = options.model_fields.get("config")
    annotation = field_.annotation if field_ is not None else None
    if isinstance(annotation, type) and issubclass(annotation, MethodConfig):
        return annotation
    return None


def _split_lists(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """"a,b" (from the command line) for a list or tuple field becomes ["a", "b"]."""
    out = dict(values)
    for key, value in values.items():
        field_ = model.model_fields.get(key)
        if field_ is not None and isinstance(value, str) and _is_sequence_type(field_.annotation):
            out[key] = [v.strip() for v in value.split(",") if v.strip()]
    return out


def _is_sequence_type(annotation: Any) -> bool:
    import typing

    if typing.get_origin(annotation) in (tuple, list):
        return True
    return any(typing.get_origin(a) in (tuple, list) for a in typing.get_args(annotation))


# ---------------------------------------------------------------- the registry

#: built-in benchmarks, imported only when asked for (so that `eval list` stays light)
_BUILTIN: dict[str, str] = {
    "generate-smoke": "ratiocinator.evals.benchmarks.generate_smoke:GenerateSmoke",
    "planning-gold": "ratiocinator.evals.benchmarks.planning_gold:PlanningGold",
    "optimization": "ratiocinator.evals.benchmarks.optimization:Optimization",
    "mamo-ode": "ratiocinator.evals.benchmarks.mamo_ode:MamoODE",
    "planning": "ratiocinator.evals.benchmarks.planning:Planning",
    "selection": "ratiocinator.evals.benchmarks.selection:Selection",
    "nuclear-norm": "ratiocinator.evals.benchmarks.nuclear_norm:NuclearNorm",
    "toolbench-static": "ratiocinator.evals.benchmarks.toolbench_static:ToolBenchStatic",
    "cqot": "ratiocinator.evals.benchmarks.cqot:CQoTBench",
    "critique": "ratiocinator.evals.benchmarks.critique:CritiqueBench",
    "derivation": "ratiocinator.evals.benchmarks.derivation:DerivationBench",
    "pursuit-20q": "ratiocinator.evals.benchmarks.pursuit:TwentyQuestions",
    "pursuit-mediq": "ratiocinator.evals.benchmarks.pursuit:MediQ",
}
_REGISTERED: dict[str, type[Benchmark]] = {}


def register(cls: type[Benchmark]) -> type[Benchmark]:
    """Class decorator: make a benchmark available by its `name` (a later registration replaces it)."""
    if not getattr(cls, "name", None) or not isinstance(cls.name, str):
        raise InvalidInput(f"{cls.__name__}: a benchmark needs a class attribute `name` (a string)")
    _REGISTERED[cls.name] = cls
    return cls


def names() -> list[str]:
    """Every benchmark name: the built-in ones and those registered in this process."""
    return sorted(set(_BUILTIN) | set(_REGISTERED))


def get(name: str) -> type[Benchmark]:
    """The benchmark class registered under `name`, or InvalidInput listing the known names."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in _BUILTIN:
        module, _, attr = _BUILTIN[name].partition(":")
        cls = getattr(importlib.import_module(module), attr)
        _REGISTERED.setdefault(name, cls)
        return cls
    raise InvalidInput(f"unknown benchmark {name!r}; known benchmarks: {', '.join(names())} "
                       "(`ratiocinator eval list` describes them)")


# ---------------------------------------------------------------- data directories


def default_data_dirs() -> list[Path]:
    """Where the team's offline data is looked for when no --data-dir is given, in order."""
    return data_roots()


def resolve_data_dir(cls: type[Benchmark], data_dir: Path | str | None) -> Path | None:
    """The data directory a benchmark reads (None for vendored-only ones); checks that its sub-folder exists."""
    if cls.data_subdir is None:
        return Path(data_dir).resolve() if data_dir is not None else None
    try:
        return find(cls.data_subdir, data_dir, who=cls.name, packaged=False)
    except InvalidInput:
        if data_dir is None and cls.shipped is not None and (PACKAGED / cls.shipped).is_dir():
            return PACKAGED.resolve()  # the whole set ships in the package: the team's copy wins when found
        raise
