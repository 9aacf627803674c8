"""Fixtures of the solver tests: a check that no planner process outlives the call that started it."""

from __future__ import annotations

import time
from collections.abc import Callable

import psutil
import pytest

from ratiocinator import reaper


def _children() -> set[int]:
    return {c.pid for c in psutil.Process().children(recursive=True)}


@pytest.fixture
def no_leftover_planners() -> Callable[[], bool]:
    """Call it at the end of a test: True when no process started during the test is still alive.

    Processes that existed before the test (e.g. a multiprocessing resource tracker of an earlier
    test) are not judged, nor is the reaper's watchdog (started by the first planner of the process and
    meant to live as long as it); a killed child gets a moment to go.
    """
    before = _children()

    def check() -> bool:
        deadline = time.monotonic() + 1.0
        while True:
            alive = []
            for pid in _children() - before - {reaper.watchdog_pid()}:
                try:
                    if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                        alive.append(pid)
                except psutil.NoSuchProcess:
                    pass
            if not alive or time.monotonic() > deadline:
                return not alive
            time.sleep(0.05)

    return check
