"""Progress of a run on stderr: a rich bar with items/s, ETA and the running score, or nothing."""

from __future__ import annotations

import time
from typing import Any, Protocol

from ratiocinator.evals.results import ResultRecord


class ProgressSink(Protocol):
    """What the runner reports to: the total once, then each finished record."""

    def start(self, *, total: int, done: int, score_sum: float, label: str) -> None: ...

    def advance(self, record: ResultRecord) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """Reports nothing."""

    def start(self, *, total: int, done: int, score_sum: float, label: str) -> None:
        pass

    def advance(self, record: ResultRecord) -> None:
        pass

    def close(self) -> None:
        pass


class RichProgress:
    """A rich progress bar on stderr: done/total, items/s, elapsed, ETA, running mean score, errors."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._scored = 0
        self._sum = 0.0
        self._errors = 0
        self._session = 0
        self._t0 = 0.0

    def start(self, *, total: int, done: int, score_sum: float, label: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._scored, self._sum = done, score_sum
        self._session, self._t0 = 0, time.monotonic()
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                             TimeRemainingColumn(), TextColumn("{task.fields[score]}"),
                             console=Console(stderr=True), transient=False)
        self._bar.start()
        self._task = self._bar.add_task(label, total=total, completed=done, rate="", score=self._score_text())

    def _score_text(self) -> str:
        text = f"score {self._sum / self._scored:.4g}" if self._scored else "score -"
        return text + (f" ({self._errors} errors)" if self._errors else "")

    def advance(self, record: ResultRecord) -> None:
        if self._bar is None:
            return
        self._scored += 1
        self._sum += record.score or 0.0
        self._errors += record.error is not None
        self._session += 1
        elapsed = time.monotonic() - self._t0
        speed = self._session / elapsed if elapsed > 0 else 0.0  # over this session, not a short window
        rate = (f"{speed:.2f} it/s" if speed >= 0.1 else f"{1 / speed:.1f} s/it") if speed else ""
        self._bar.update(self._task, advance=1, score=self._score_text(), rate=rate)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class SuiteProgress:
    """One rich display over a whole suite: a bar over every member's items, and a bar for the running member.

    The suite runner calls `begin` once and `member(id)` before each member's run; each run then
    reports to it as to any ProgressSink (start / advance / close); `end` stops the display.
    """

    def __init__(self, console: Any = None) -> None:
        self._console = console
        self._bar: Any = None
        self._overall: Any = None
        self._task: Any = None
        self._label = ""
        self._inner = RichProgress()

    def begin(self, name: str, *, total: int, done: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                             TimeRemainingColumn(), TextColumn("{task.fields[score]}"),
                             console=self._console or Console(stderr=True), transient=False)
        self._bar.start()
        self._overall = self._bar.add_task(f"suite {name}", total=total, completed=done, rate="", score="")

    def member(self, label: str) -> None:
        self._label = label

    def start(self, *, total: int, done: int, score_sum: float, label: str) -> None:
        if self._bar is None:
            return
        inner = self._inner
        inner._scored, inner._sum, inner._errors, inner._session, inner._t0 = done, score_sum, 0, 0, time.monotonic()
        self._task = self._bar.add_task(f"  {self._label or label}", total=total, completed=done, rate="",
                                        score=inner._score_text())

    def advance(self, record: ResultRecord) -> None:
        if self._bar is None or self._task is None:
            return
        inner = self._inner
        inner._scored += 1
        inner._sum += record.score or 0.0
        inner._errors += record.error is not None
        inner._session += 1
        elapsed = time.monotonic() - inner._t0
        speed = inner._session / elapsed if elapsed > 0 else 0.0
        rate = (f"{speed:.2f} it/s" if speed >= 0.1 else f"{1 / speed:.1f} s/it") if speed else ""
        self._bar.update(self._task, advance=1, score=inner._score_text(), rate=rate)
        self._bar.update(self._overall, advance=1)

    def close(self) -> None:
        self._task = None

    def end(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
