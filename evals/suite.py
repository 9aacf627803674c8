"""Eval suites declared as data: named lists of benchmark runs (members), each with its fixed sample and anchor.

A suite is a TOML file, one per suite, in `evals/suites/` (`smoke`, `core`, `full`) or anywhere
(`ratiocinator eval suite path/to/mine.toml`):

    name = "core"
    description = "..."
    sample_seed = 0                       # every member's sample seed unless it names its own

    [[members]]
    id = "optimization-nl4opt"            # unique in the suite: the member's run directory
    benchmark = "optimization"
    options = { set = "nl4opt" }          # the benchmark's options (as `--set`)
    sample = 40                           # a fixed seeded sample of 40 items; absent: every item
    cost = { prompt_tokens = 2500, completion_tokens = 400, seconds = 2, source = "..." }  # per item
    [[members.anchors]]                   # the paper's figure this member is compared with
    metric = "score"                      # the summary row (metric, and group: a domain, say)
    value = 0.973
    citation = "Jiang et al. 2025 (ICLR), LLMOPT ..."
    measured_with = "LLMOPT-Qwen2.5-14B (fine-tuned), every item"

`extends = "core"` starts from another suite's members; `sample = "all"` at the top drops every
member's sample (so `full` is `core` on every item). `cost` is what one item costs, recorded from
earlier runs on Qwen2.5-Coder-0.5B: the suite's time estimate multiplies it by the model's measured
speed (evals/suite_run.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ratiocinator.errors import InvalidInput

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: the suites that ship with the package
SUITES_DIR = Path(__file__).parent / "suites"


class Anchor(BaseModel):
    """A reference figure: the value a paper (or a reproduction of its code) reports for one summary row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str = "score"
    group: str | None = None
    value: float | None = None  # None: the paper reports no comparable figure (the note says why)
    citation: str
    measured_with: str = ""
    kind: Literal["paper", "reproduction"] = "paper"
    note: str = ""


class Cost(BaseModel):
    """What one item costs (recorded on an earlier run): tokens through the model, and seconds outside it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_tokens: float = Field(0, ge=0)
    completion_tokens: float = Field(0, ge=0)
    seconds: float = Field(0, ge=0)  # solver, sandbox and other work that is not decoding
    source: str = ""


class Member(BaseModel):
    """One run of a suite: a benchmark with options on a fixed sample of its items."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    benchmark: str
    options: dict[str, Any] = Field(default_factory=dict)
    sample: int | None = Field(None, ge=1)  # None: every item
    sample_seed: int | None = None  # None: the suite's
    metric: str = "score"  # the headline row of the report
    anchors: tuple[Anchor, ...] = ()
    cost: Cost = Cost()
    note: str = ""


class Suite(BaseModel):
    """A named list of members; `source` is the file it was read from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    sample_seed: int = 0
    members: tuple[Member, ...]
    source: str = ""

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        ids = [m.id for m in self.members]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"member ids must be unique; repeated: {', '.join(repeated)}")
        if not self.members:
            raise ValueError("a suite needs at least one member")
        return self

    def seed_of(self, member: Member) -> int:
        return self.sample_seed if member.sample_seed is None else member.sample_seed

    def member(self, member_id: str) -> Member:
        for m in self.members:
            if m.id == member_id:
                return m
        raise InvalidInput(f"suite {self.name} has no member {member_id!r}; members: "
                           f"{', '.join(m.id for m in self.members)}")

    def only(self, ids: list[str]) -> Suite:
        """The suite restricted to these member ids (each must exist), in the suite's order."""
        for i in ids:
            self.member(i)
        return self.model_copy(update={"members": tuple(m for m in self.members if m.id in ids)})


def suite_names() -> list[str]:
    """The suites that ship with the package."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def _path_of(name: str) -> Path:
    if name.endswith(".toml") or "/" in name:
        path = Path(name)
        if not path.is_file():
            raise InvalidInput(f"suite file {name} not found; give a suite name ({', '.join(suite_names())}) "
                               "or the path of a .toml suite file")
        return path
    path = SUITES_DIR / f"{name}.toml"
    if not path.is_file():
        raise InvalidInput(f"unknown suite {name!r}; known suites: {', '.join(suite_names())} "
                           "(or the path of a .toml suite file)")
    return path


def _raw(name: str, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], Path]:
    path = _path_of(name).resolve()
    if path in seen:
        raise InvalidInput(f"suite file {seen[-1]}: `extends` loops ({' -> '.join(str(p) for p in (*seen, path))})")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"suite file {path}: not valid TOML ({exc})") from None
    base = data.pop("extends", None)
    if base is not None:
        if not isinstance(base, str):
            raise InvalidInput(f"suite file {path}: `extends` must name a suite or a .toml file")
        if (base.endswith(".toml") or "/" in base) and not Path(base).is_absolute():
            base = str(path.parent / base)  # a file next to the one that extends it
        parent, _ = _raw(base, (*seen, path))
        data["members"] = [*parent.get("members", []), *data.get("members", [])]
        for key in ("description", "sample_seed"):
            data.setdefault(key, parent.get(key))
        data = {k: v for k, v in data.items() if v is not None}
    if data.pop("sample", None) == "all":
        data["members"] = [{k: v for k, v in m.items() if k != "sample"} for m in data.get("members", [])]
    return data, path


def load_suite(name: str) -> Suite:
    """A suite by name (one that ships) or by the path of its TOML file; InvalidInput naming what is wrong."""
    data, path = _raw(name)
    data.setdefault("name", path.stem)
    try:
        return Suite.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'suite'}: "
                             + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"])
                             for e in exc.errors()[:5])
        raise InvalidInput(f"suite file {path}: {problems}") from None


def _packaged(suite: Suite) -> Suite | None:
    """The packaged suite a run's suite was read from (<package>/evals/suites/NAME.toml), else None."""
    source = Path(suite.source)
    if suite.name not in suite_names() or source.parent.name != SUITES_DIR.name or \
            source.parent.parent.name != SUITES_DIR.parent.name:
        return None
    return load_suite(suite.name)


def with_packaged_members(suite: Suite) -> Suite:
    """A packaged suite as run, with the members of the packaged file that no session has run yet added after
    the others (in the file's order): the report of a `core` run lists every member of `core`, "not run"
    where none began. A suite that does not ship is returned as is."""
    packaged = _packaged(suite)
    if packaged is None:
        return suite
    known = {m.id for m in suite.members}
    missing = tuple(m for m in packaged.members if m.id not in known)
    return suite.model_copy(update={"members": (*suite.members, *missing)}) if missing else suite


def with_current_anchors(suite: Suite) -> Suite:
    """A suite as run, each member's report fields (anchors, headline metric, note, cost) taken from the
    packaged suite of the same name where what the member runs is unchanged.

    Those fields are references, not part of what ran: a figure found or corrected after a run (a paper's
    value recorded later) reaches the reports of runs made before it. A member whose benchmark, options or
    sample changed since keeps what it ran with; a suite that does not ship (a file) is returned as is.
    """
    packaged = _packaged(suite)
    if packaged is None:
        return suite
    current = {m.id: m for m in packaged.members}
    members = []
    for m in suite.members:
        now = current.get(m.id)
        if now is not None and (now.benchmark, now.options, now.sample, packaged.seed_of(now)) == \
                (m.benchmark, m.options, m.sample, suite.seed_of(m)):
            m = m.model_copy(update={k: getattr(now, k) for k in ("anchors", "metric", "note", "cost")})
        members.append(m)
    return suite.model_copy(update={"members": tuple(members)})
