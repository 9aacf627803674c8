"""reaper.py: planners, solver children and sandboxes end with the process that started them, however it ends.

With real processes: `ratiocinator plan` and `ratiocinator eval run` on a problem no planner finishes
(12 pigeons, 11 holes: unsolvable, and the search must exhaust a huge space), stopped by SIGTERM,
SIGINT, SIGHUP or SIGKILL once Fast Downward runs; then nothing they started may still run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from ratiocinator import reaper

PIGEONS = 12
DOMAIN = """(define (domain pigeons) (:requirements :strips :typing) (:types pigeon hole)
 (:predicates (free ?h - hole) (placed ?p - pigeon) (in ?p - pigeon ?h - hole))
 (:action put :parameters (?p - pigeon ?h - hole) :precondition (free ?h)
  :effect (and (in ?p ?h) (placed ?p) (not (free ?h)))))"""
PROBLEM = (
    "(define (problem ph) (:domain pigeons) "
    f"(:objects {' '.join(f'p{i}' for i in range(PIGEONS))} - pigeon "
    f"{' '.join(f'h{i}' for i in range(PIGEONS - 1))} - hole) "
    f"(:init {' '.join(f'(free h{i})' for i in range(PIGEONS - 1))}) "
    f"(:goal (and {' '.join(f'(placed p{i})' for i in range(PIGEONS))})))"
)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(procs: list[psutil.Process]) -> list[str]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(" ".join(p.cmdline())[:120])
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.fixture
def started() -> Iterator[list[psutil.Process]]:
    """Processes a test saw; whatever is still alive at the end is killed (a failing test leaves no orphan)."""
    seen: list[psutil.Process] = []
    yield seen
    for p in seen:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass


def _wait_for_search(proc: subprocess.Popen[bytes], seen: list[psutil.Process]) -> list[str]:
    """Wait until Fast Downward's search runs under `proc`; every descendant seen, and the planners' folders."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        family = _descendants(proc.pid)
        seen[:] = list({p.pid: p for p in [*seen, *family]}.values())
        searches = [p for p in family if p.name() == "downward"]
        if searches:
            folders = []
            for p in family:
                try:
                    if os.path.basename(p.cwd()).startswith("ratiocinator-"):
                        folders.append(p.cwd())
                except psutil.Error:
                    pass
            return folders
        time.sleep(0.2)
    raise AssertionError("Fast Downward's search never started")


def _files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "domain.pddl").write_text(DOMAIN)
    (tmp_path / "p01.pddl").write_text(PROBLEM)
    return tmp_path / "domain.pddl", tmp_path / "p01.pddl"


def _assert_all_gone(proc: subprocess.Popen[bytes], seen: list[psutil.Process], folders: list[str]) -> None:
    proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while _alive(seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(seen) == []
    assert [f for f in folders if os.path.exists(f)] == []


def _default_signals() -> None:
    """The command as a terminal starts it: a test run under `nohup` would hand it SIGHUP ignored."""
    for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGHUP, signal.SIGINT])
def test_plan_stopped_by_a_signal_leaves_no_planner_running(tmp_path: Path, started: list[psutil.Process],
                                                            sig: signal.Signals) -> None:
    domain, problem = _files(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "ratiocinator.cli", "plan", "-d", str(domain), "-p", str(problem),
                             "--optimal", "--timeout", "600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=_default_signals)
    folders = _wait_for_search(proc, started)
    proc.send_signal(sig)  # to the command alone, as `kill`, `timeout` or a container stop sends it
    _assert_all_gone(proc, started, folders)


@pytest.mark.slow
def test_eval_run_stopped_by_sigterm_leaves_no_worker_or_planner_running(tmp_path: Path,
                                                                         started: list[psutil.Process]) -> None:
    data = tmp_path / "data"
    (data / "planning" / "pigeons").mkdir(parents=True)
    _files(data / "planning" / "pigeons")
    (data / "planning" / "pigeons" / "p02.pddl").write_text(PROBLEM)
    env = {**os.environ, "RATIOCINATOR_DATA": str(data)}
    proc = subprocess.Popen([sys.executable, "-m", "ratiocinator.cli", "eval", "run", "planning-gold", "--workers", "2",
                             "--out", str(tmp_path / "run"), "--set", "timeout=600"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    folders = _wait_for_search(proc, started)
    proc.send_signal(signal.SIGTERM)
    _assert_all_gone(proc, started, folders)


def test_a_group_registered_is_killed_and_its_folder_removed_when_this_process_dies(tmp_path: Path) -> None:
    """The watchdog, alone: a child Python registers a sleeping group and a folder, then is SIGKILLed."""
    folder = tmp_path / "run"
    folder.mkdir()
    code = ("import subprocess, sys, time; from ratiocinator import reaper\n"
            "p = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
            f"reaper.register(p.pid, cleanup={str(folder)!r}); print(p.pid, reaper.watchdog_pid(), flush=True)\n"
            "time.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    sleeper, watchdog = (psutil.Process(int(x)) for x in parent.stdout.readline().split())
    try:
        parent.kill()
        parent.wait()
        assert sleeper.wait(timeout=10) is not None or not sleeper.is_running()
        watchdog.wait(timeout=10)
        assert not folder.exists()
    finally:
        for p in (sleeper, watchdog):
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass


def test_unregistered_groups_are_left_alone() -> None:
    sleeper = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        reaper.register(sleeper.pid)
        reaper.unregister(sleeper.pid)
        code = ("from ratiocinator import reaper; import subprocess\n"
                f"reaper.register({sleeper.pid}); reaper.unregister({sleeper.pid})")
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
        time.sleep(0.5)
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_forked_child_dies_with_its_parent() -> None:
    """solvers/deadline.py's child: parent SIGKILLed while the child computes -> the child is gone too."""
    code = ("import os, time; from ratiocinator.solvers.deadline import call_with_deadline\n"
            "def job():\n    print(os.getpid(), flush=True); time.sleep(600)\n"
            "call_with_deadline(job, 600)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = psutil.Process(int(parent.stdout.readline()))
    try:
        parent.kill()
        parent.wait()
        child.wait(timeout=10)
    finally:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def test_a_sandbox_ends_with_the_process_that_started_it(started: list[psutil.Process]) -> None:
    """Code running in the sandbox (selection/sandbox.py), its parent SIGKILLed: nothing of it stays."""
    code = ("import threading, time\nfrom ratiocinator.selection.sandbox import Sandbox\n"
            "threading.Thread(target=lambda: Sandbox().run('import time; time.sleep(600)', timeout=600),"
            " daemon=True).start()\ntime.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-W", "ignore", "-c", code], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        family = _descendants(parent.pid)
        started[:] = list({p.pid: p for p in [*started, *family]}.values())
        if any("sleep(600)" in " ".join(p.cmdline()) or "_sandbox_runner" in " ".join(p.cmdline())
               for p in family if p.is_running()):
            break
        time.sleep(0.2)
    time.sleep(1.0)  # the job forked inside the sandbox
    started[:] = list({p.pid: p for p in [*started, *_descendants(parent.pid)]}.values())
    assert len(started) >= 2  # the watchdog and the sandbox, at least
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(started) == []


def test_a_plan_stopped_at_its_limit_leaves_no_planner_folder(tmp_path: Path) -> None:
    """The forked `plan` child killed at a 1 s limit while Fast Downward's driver was being located (its package
    import took 2 s) left the planner's folder behind."""
    domain, problem = _files(tmp_path)
    scratch = tmp_path / "tmp"  # the planners' folders go here (TMPDIR), so that no other run's count
    scratch.mkdir()
    done = subprocess.run([sys.executable, "-m", "ratiocinator.cli", "plan", "-d", str(domain), "-p", str(problem),
                           "--optimal", "--timeout", "1"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 1, done.stderr
    deadline = time.monotonic() + 10
    while list(scratch.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(scratch.iterdir()) == []
