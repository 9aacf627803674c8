"""Run a function in a forked child process that is SIGKILLed at a deadline: a time bound nothing can ignore.

    value = call_with_deadline(lambda: sympy.simplify(expr), 5.0)   # or DeadlineExceeded after 5 s

The child is a fork of this process (so the function needs no pickling and modules imported before
the call cost nothing), runs in its own session, and sends back its return value or its exception,
pickled, through a pipe. At the deadline the child's whole process group is killed, whatever it is
doing (a C extension, a loop that never checks a flag, a subprocess of its own). Needs `os.fork`
(Linux, macOS); elsewhere `UnsupportedFeature` is raised.

The `timeout` is the job's: the clock starts when the child says it is running, not when fork() is
called. Forking a process that holds a model (millions of Python objects) and scheduling the child
on a busy machine took most of a 1 s budget on a 2-core CI machine (a 15 ms sympy step timed out);
the child's start is bounded separately (`START_LIMIT`), so a child that never starts still ends.
The child also freezes the garbage collector's view of the parent's objects (`gc.freeze`), so its
collections do not touch, and copy, every page of the parent's heap.

The child never outlives its caller: it is SIGKILLed when the thread that forked it ends
(PR_SET_PDEATHSIG, Linux), its session is registered with the reaper (reaper.py: killed if this
process dies in any way), and an interrupt of the caller (KeyboardInterrupt) kills it too.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ratiocinator import reaper
from ratiocinator.errors import InvalidInput, RatiocinatorError, UnsupportedFeature
from ratiocinator.reaper import die_with_parent

T = TypeVar("T")

#: seconds a forked child may take to start running the job (on top of `timeout`)
START_LIMIT = 30.0
_STARTED = b"\x01"


class DeadlineExceeded(RatiocinatorError, TimeoutError):
    """The work did not finish within its time limit and was stopped."""

    def __init__(self, what: str, timeout: float) -> None:
        super().__init__(f"inconclusive: timeout ({what} did not finish within {timeout:g} s and was stopped)")
        self.what, self.timeout = what, timeout

    def __reduce__(self) -> tuple[Any, ...]:  # raised in a child, re-raised here: pickled by its arguments
        return (type(self), (self.what, self.timeout))


class ChildDied(RatiocinatorError, RuntimeError):
    """The child process ended without a result (killed by a signal, out of memory, ...)."""


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by `pid`, then `pid` itself (if it left the group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _child(job: Callable[[], Any], write_fd: int, parent: int) -> None:
    code = 0
    try:
        die_with_parent(parent)
        os.setsid()
        gc.freeze()  # the parent's objects: never collected here, so their pages are not copied
        os.write(write_fd, _STARTED)
        payload = pickle.dumps((True, job()))
    except BaseException as exc:  # the parent re-raises it
        code = 1
        try:
            payload = pickle.dumps((False, exc))
            pickle.loads(payload)  # an exception whose __init__ takes other arguments does not come back
        except Exception:
            kind = InvalidInput if isinstance(exc, InvalidInput) else RatiocinatorError \
                if isinstance(exc, RatiocinatorError) else RuntimeError
            payload = pickle.dumps((False, kind(str(exc) if kind is not RuntimeError
                                                else f"{type(exc).__name__}: {exc}")))
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(code)


def call_with_deadline(job: Callable[[], T], timeout: float, *, what: str = "the computation") -> T:
    """`job()` run in a forked child; its value, or its exception re-raised here, or DeadlineExceeded."""
    if not hasattr(os, "fork"):
        raise UnsupportedFeature(f"{what} needs os.fork to be bounded in time; pass timeout=None to run it "
                                 "unbounded on this platform")
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(job, write_fd, parent)
    os.close(write_fd)
    reaper.register(pid)  # its session is killed if this process dies first
    deadline = time.monotonic() + START_LIMIT + max(timeout, 0.0)
    started = False
    chunks: list[bytes] = []
    timed_out = False
    ended = False  # the loop ended: the child closed the pipe, or the deadline passed
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            if not started:  # the job's own clock starts now (a pickle never begins with _STARTED)
                started = True
                if chunk.startswith(_STARTED):
                    chunk = chunk[len(_STARTED):]
                    deadline = time.monotonic() + max(timeout, 0.0)
            chunks.append(chunk)
        ended = True
    finally:
        os.close(read_fd)
        if timed_out or not ended:  # the deadline, or an interrupt (KeyboardInterrupt) here: stop the child
            kill_group(pid)
        _, status = os.waitpid(pid, 0)
        reaper.unregister(pid)
    if timed_out:
        raise DeadlineExceeded(what, timeout)
    try:
        ok, value = pickle.loads(b"".join(chunks))
    except Exception:
        cause = f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "no result"
        raise ChildDied(f"{what}: the child process ended without a result ({cause}; out of memory?)") from None
    if not ok:
        raise value
    return value
