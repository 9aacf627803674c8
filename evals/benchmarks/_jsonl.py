"""Read a JSON-lines prompt set (vendored or from a data directory) with errors that name the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ratiocinator.errors import InvalidInput


def read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every object of a .jsonl file; each must hold the `required` keys and a unique `id`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read it ({exc.strerror})") from None
    rows, seen = [], set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InvalidInput(f"{path}, line {number}: not valid JSON ({exc})") from None
        missing = [k for k in ("id", *required) if k not in row] if isinstance(row, dict) else ["id", *required]
        if missing:
            raise InvalidInput(f"{path}, line {number}: expected an object with keys {['id', *required]}, "
                               f"missing {missing}")
        if row["id"] in seen:
            raise InvalidInput(f"{path}, line {number}: id {row['id']!r} repeats an earlier line")
        seen.add(row["id"])
        rows.append(row)
    if not rows:
        raise InvalidInput(f"{path}: no items")
    return rows
