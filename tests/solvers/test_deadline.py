"""solvers.deadline: values and errors cross the fork, the deadline kills the whole group, the clock starts in the child."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from ratiocinator.solvers import deadline
from ratiocinator.solvers.deadline import ChildDied, DeadlineExceeded, call_with_deadline


def test_the_value_and_the_exception_come_back() -> None:
    assert call_with_deadline(lambda: {"answer": [1, 2.5, "x"]}, 5.0) == {"answer": [1, 2.5, "x"]}
    with pytest.raises(ZeroDivisionError):
        call_with_deadline(lambda: 1 / 0, 5.0)


def test_a_job_past_its_deadline_is_killed_with_its_subprocesses(tmp_path) -> None:
    marker = tmp_path / "grandchild.pid"

    def job() -> None:
        child = subprocess.Popen(["sleep", "60"])
        marker.write_text(str(child.pid))
        time.sleep(60)

    start = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"inconclusive: timeout \(the sleeper did not finish within 0.5 s"):
        call_with_deadline(job, 0.5, what="the sleeper")
    assert time.monotonic() - start < 5.0
    grandchild = int(marker.read_text())
    for _ in range(50):  # SIGKILL is delivered at once; reaping by init may take a moment
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{grandchild}/stat") as f:
            if f.read().split(")")[1].split()[0] == "Z":
                break
        time.sleep(0.1)
    else:
        pytest.fail(f"the job's subprocess {grandchild} outlived the deadline")


def test_a_child_that_dies_is_reported() -> None:
    with pytest.raises(ChildDied, match="killed by signal 9"):
        call_with_deadline(lambda: os.kill(os.getpid(), signal.SIGKILL), 5.0)


def test_the_clock_starts_when_the_child_runs_not_at_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    # a slow start (a big parent to copy, a busy machine) is not charged to the job's timeout
    monkeypatch.setattr(deadline.gc, "freeze", lambda: time.sleep(1.5))
    assert call_with_deadline(lambda: "done", 1.0) == "done"


def test_a_child_that_never_starts_still_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadline.gc, "freeze", lambda: time.sleep(60))
    monkeypatch.setattr(deadline, "START_LIMIT", 0.5)
    start = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        call_with_deadline(lambda: "never", 0.5)
    assert time.monotonic() - start < 5.0
