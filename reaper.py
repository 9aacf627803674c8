"""Every process group this process starts ends when this process ends, however it ends (SIGTERM, SIGHUP, SIGKILL).

    proc = subprocess.Popen(cmd, start_new_session=True)
    register(proc.pid, cleanup="/tmp/run-dir")   # killed (and the folder removed) if we die first
    ...
    unregister(proc.pid)                          # once it has ended, or been killed, here

A planner, a solver child or a sandbox runs in a session of its own, so that it can be killed as a
group at its deadline; but then nothing ends it when this process is killed (a `timeout`, a CI cancel
or a container stop sends SIGTERM, which Python does not turn into an exception), and Fast Downward
ran on for 23 minutes after the command that started it was gone. So the first `register` starts a
watchdog: a tiny Python process in a session of its own that reads a pipe only this process writes.
When this process ends, in any way, the kernel closes the pipe; the watchdog reads end-of-file, kills
every group still registered, removes their folders and exits. It ignores SIGINT, SIGTERM and SIGHUP,
which are meant for this process (or its group), not for it.

A forked child (solvers/deadline.py) does not inherit the pipe: it starts a watchdog of its own if it
registers anything, and it is itself registered by its parent.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

_WATCHDOG = r"""
import os, shutil, signal
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
groups, buf = {}, b""
while True:
    try:
        data = os.read(0, 65536)
    except InterruptedError:
        continue
    if not data:
        break
    buf += data
    *lines, buf = buf.split(b"\n")
    for line in lines:
        op, _, rest = line.decode().partition(" ")
        pgid, _, path = rest.partition(" ")
        if op == "+":
            groups[int(pgid)] = path
        elif op == "-":
            groups.pop(int(pgid), None)
for pgid, path in groups.items():
    for kill in (os.killpg, os.kill):
        try:
            kill(pgid, signal.SIGKILL)
        except OSError:
            pass
    if path:
        shutil.rmtree(path, ignore_errors=True)
"""

_lock = threading.Lock()
_state: dict[str, Any] = {"proc": None, "groups": {}}


def _forget_in_child() -> None:
    """After fork: the pipe belongs to the parent; this child starts its own watchdog when it needs one."""
    proc = _state["proc"]
    if proc is not None and proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()  # this child's copy of the pipe; the parent's stays open
        proc.returncode = 0  # not ours to wait for
    _state["proc"], _state["groups"] = None, {}
    global _lock
    _lock = threading.Lock()  # another thread may have held it at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


@atexit.register
def _close() -> None:
    """At a normal exit: close the pipe (the watchdog kills what is still registered) and let it finish."""
    proc = _state["proc"]
    if proc is None or proc.stdin is None:
        return
    with contextlib.suppress(OSError):
        proc.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _send(line: str) -> None:
    """Write one line to the watchdog, starting it (again, with every registered group) when needed."""
    proc = _state["proc"]
    if proc is None or proc.poll() is not None:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _WATCHDOG], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                close_fds=True)
        _state["proc"] = proc
        line = "".join(f"+ {g} {p}\n" for g, p in _state["groups"].items()) + line
    try:
        os.write(proc.stdin.fileno(), line.encode())
    except OSError:  # the watchdog was killed: a new one next time
        _state["proc"] = None


def register(pgid: int, cleanup: str | None = None) -> None:
    """Kill process group `pgid` (and remove folder `cleanup`) if this process ends before `unregister`."""
    if os.name != "posix":
        return
    with _lock:
        _state["groups"][pgid] = cleanup or ""
        _send(f"+ {pgid} {cleanup or ''}\n")


def unregister(pgid: int) -> None:
    """`pgid` has ended (or was killed here): the watchdog forgets it."""
    if os.name != "posix":
        return
    with _lock:
        if _state["groups"].pop(pgid, None) is not None and _state["proc"] is not None:
            _send(f"- {pgid}\n")


@contextlib.contextmanager
def reaped(pgid: int, cleanup: str | None = None) -> Iterator[None]:
    """register(pgid) for the block; unregister at its end (the caller kills the group before, if need be)."""
    register(pgid, cleanup)
    try:
        yield
    finally:
        unregister(pgid)


def watchdog_pid() -> int | None:
    """The watchdog's pid, if one runs (for tests)."""
    proc = _state["proc"]
    return proc.pid if proc is not None and proc.poll() is None else None


def die_with_parent(parent: int) -> None:
    """In a child just forked from `parent`: be SIGKILLed when the thread that forked it ends (Linux), and
    end at once if the parent is already gone."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)
