"""The run directory on disk: config.json (what was run, with versions), results.jsonl (one line per item).

Every finished item is appended to results.jsonl as one JSON line, flushed and fsync'ed before the
next one is written, by a single writer. So after any interruption (Ctrl-C, SIGKILL, power loss)
the file holds complete lines plus at most one partial last line; `load_results` drops that partial
line (truncating the file back to the last complete line) so the item is redone, and a damaged line
anywhere else is an error. Duplicate item ids are never written: the runner skips finished items
(`--retry-errors` first rewrites the file without the records that ended in an error).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.errors import InvalidInput

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.jsonl"
SESSIONS_FILE = "sessions.jsonl"
SUMMARY_FILE = "summary.json"


class ResultRecord(BaseModel):
    """One finished item: what it was, what came out, its score, and what it cost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item_id: str
    inputs_hash: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    group: str | None = None
    output: Any = None
    score: float | None = None  # None when the item raised
    metrics: dict[str, float] = Field(default_factory=dict)
    error: str | None = None
    seconds: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str | None = None
    config_hash: str

    def result_key(self) -> tuple[Any, ...]:
        """What must be identical between two runs of the same config (no timings)."""
        return (self.item_id, self.inputs_hash, json.dumps(self.output, sort_keys=True), self.score,
                tuple(sorted(self.metrics.items())), self.error, self.prompt_tokens, self.completion_tokens)


def load_results(path: Path, *, repair: bool = True) -> list[ResultRecord]:
    """The records of a results.jsonl; a partial last line is dropped (and cut from the file if `repair`)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    *complete, tail = data.split(b"\n")  # `tail` is b"" when the file ends with a newline
    records: list[ResultRecord] = []
    good_end = 0
    for number, raw in enumerate(complete, 1):
        if raw.strip(b"\x00 \t\r"):
            try:
                record = ResultRecord.model_validate_json(raw)
            except ValueError:
                if number == len(complete) and not tail:
                    break  # the last line, damaged by the interruption: redo that item
                raise InvalidInput(f"{path}, line {number}: not a valid result record ({raw[:80]!r}). Only "
                                   "the last line can be cut short by an interruption; this file was edited "
                                   "or damaged. Remove the line (its item is then redone) and resume.") from None
            records.append(record)
        good_end += len(raw) + 1
    if repair and good_end < len(data):
        with path.open("r+b") as f:
            f.truncate(good_end)
            f.flush()
            os.fsync(f.fileno())
    return records


def drop_errors(path: Path, records: list[ResultRecord]) -> list[ResultRecord]:
    """Rewrite results.jsonl without the records that ended in an error (their items are then redone,
    e.g. after the model server went away); the file is replaced atomically. The kept records."""
    kept = [r for r in records if r.error is None]
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in kept:
            f.write(r.model_dump_json() + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return kept


class ResultsWriter:
    """Appends records to results.jsonl, one complete line each, durable before `append` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("ab")

    def append(self, record: ResultRecord) -> None:
        line = record.model_dump_json().encode() + b"\n"
        self._file.write(line)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_json(path: Path, value: Any) -> None:
    """Write JSON atomically (temporary file, fsync, rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as f:
        json.dump(value, f, indent=2, sort_keys=True, default=str)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read it ({exc.strerror}); is this a run directory?") from None
    except ValueError as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from None


def append_json_line(path: Path, value: Any) -> None:
    with path.open("a") as f:
        f.write(json.dumps(value, sort_keys=True, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())
