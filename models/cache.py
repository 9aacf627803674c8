"""Content-addressed response cache (SQLite): same model, prompt and sampling params give the same Completions.

The key is the sha256 of the backend's identity (model weights and settings), the prompt (text or
conversation) and every sampling parameter. A hit returns Completions identical to the stored ones,
marked `cached=True`. Requests that are not reproducible (sampling with temperature > 0 and no seed)
are never cached. Safe to share between threads and processes (WAL mode, one write per put).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

from ratiocinator.models.types import Completion, Message, SamplingParams

PromptItem = str | tuple[Message, ...]


def cacheable(params: SamplingParams) -> bool:
    """Only reproducible requests are cached: greedy, or sampled with a seed."""
    return params.temperature == 0 or params.seed is not None


def prompt_repr(prompt: PromptItem) -> str:
    if isinstance(prompt, str):
        return json.dumps({"text": prompt})
    return json.dumps({"messages": [m.model_dump(mode="json") for m in prompt]}, sort_keys=True)


def cache_key(identity: str, prompt: PromptItem, params: SamplingParams) -> str:
    h = hashlib.sha256()
    for part in (identity, prompt_repr(prompt), params.cache_key()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


class ResponseCache:
    """A SQLite table from request key to the JSON list of its Completions."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL)"
        )
        self._db.commit()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> list[Completion] | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return [Completion.model_validate({**c, "cached": True}) for c in json.loads(row[0])]

    def put(self, key: str, completions: list[Completion]) -> None:
        value = json.dumps([c.model_dump(mode="json", exclude={"cached"}) for c in completions])
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)",
                (key, value, time.time()),
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
