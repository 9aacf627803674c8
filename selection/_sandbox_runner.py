"""The program that runs inside the sandbox: reads a batch of jobs, runs each in its own confined child.

Standard library only, started by `sandbox.py` as `python -I -S _sandbox_runner.py` inside bubblewrap
(or the weaker fallbacks). Protocol: one JSON document on stdin (see `sandbox._batch_request`), one
JSON line per job on stdout, in job order. The runner itself is trusted; for each job it forks a child
that puts itself in its own process group, redirects stdin/stdout/stderr, closes every other
descriptor but the result pipe, applies the rlimits, drops to the unprivileged uid, moves into a fresh
job directory, and only then executes untrusted code. The runner enforces the job's wall clock
(SIGKILL to the process group and, inside a private PID namespace, to every leftover process), keeps
at most `output_limit` bytes of stdout/stderr while draining the rest, and deletes the job directory.

Result pipe lines written by the child: `S ok` | `S error <json msg>` | `S timeout`, then
`T <i> pass|fail|error|timeout` per test, then `D`. Untrusted code runs in the same interpreter as
these writes, so it can forge its own results: that is a limit of in-process testing, not isolation.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import sys
import time

_LIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "as": resource.RLIMIT_AS,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "nproc": resource.RLIMIT_NPROC,
    "core": resource.RLIMIT_CORE,
}


class _Timeout(BaseException):
    """Raised by SIGALRM inside a job; a BaseException so that `except Exception` does not swallow it."""


def _alarm(signum, frame):
    raise _Timeout("time limit")


def _child(job, req, res_w, out_w, err_w, jobdir):
    """Runs in the forked child; never returns."""
    pid = os.getpid()
    try:
        os.setpgid(0, 0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        keep = sorted({0, 1, 2, res_w})
        lo = 3
        for fd in keep[3:]:
            os.closerange(lo, fd)
            lo = fd + 1
        os.closerange(lo, 65536)
        os.chdir(jobdir)
        for name, value in req["limits"].items():
            if value is not None:
                resource.setrlimit(_LIMITS[name], (value, value))
        if req.get("uid") is not None:
            os.setgroups([])
            os.setresgid(req["gid"], req["gid"], req["gid"])
            os.setresuid(req["uid"], req["uid"], req["uid"])
        os.environ.clear()
        os.environ.update({"PATH": "/usr/bin:/bin", "HOME": jobdir, "TMPDIR": jobdir, "LANG": "C.UTF-8"})
        signal.signal(signal.SIGALRM, _alarm)
    except BaseException as exc:  # the confinement failed: run nothing
        os.write(res_w, f"S error {json.dumps('sandbox setup failed: ' + repr(exc))}\n".encode())
        os._exit(3)

    def report(line):
        if os.getpid() != pid:  # a fork made by untrusted code must not report or run our code
            os._exit(0)
        os.write(res_w, (line + "\n").encode())

    def timed(code, env, seconds):
        if os.getpid() != pid:
            os._exit(0)
        if seconds:
            signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            exec(code, env)
            return None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if os.getpid() != pid:
                os._exit(0)

    env = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        timed(compile(job["setup"], "<solution>", "exec"), env, job.get("setup_timeout"))
        report("S ok")
    except _Timeout:
        report("S timeout")
        os._exit(0)
    except BaseException as exc:
        report(f"S error {json.dumps(f'{type(exc).__name__}: {exc}'[:500])}")
        os._exit(0)
    for i, test in enumerate(job.get("tests", ())):
        try:
            timed(compile(test, f"<test {i}>", "exec"), env, job.get("test_timeout"))
            status = "pass"
        except _Timeout:
            status = "timeout"
        except AssertionError:
            status = "fail"
        except BaseException:
            status = "error"
        report(f"T {i} {status}")
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    report("D")
    os._exit(0)


def _kill_strays(req, own_pgid):
    """SIGKILL the job's process group and, in a private PID namespace, every process but us and init."""
    try:
        os.killpg(own_pgid, signal.SIGKILL)
    except OSError:
        pass
    if not req.get("pid_namespace"):
        return
    me = os.getpid()
    for _ in range(200):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        if not others:
            return
        for p in others:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.005)


def _run_job(job, req, index):
    limit = req["output_limit"]
    jobdir = os.path.join(req["workroot"], f"job-{os.getpid()}-{index}")
    os.mkdir(jobdir, 0o700)
    if req.get("uid") is not None:
        os.chown(jobdir, req["uid"], req["gid"])
    res_r, res_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        for fd in (res_r, out_r, err_r):
            os.close(fd)
        _child(job, req, res_w, out_w, err_w, jobdir)
    for fd in (res_w, out_w, err_w):
        os.close(fd)
    bufs = {res_r: bytearray(), out_r: bytearray(), err_r: bytearray()}
    seen = {out_r: 0, err_r: 0}
    open_fds = set(bufs)
    deadline = start + job["timeout"]
    timed_out = False

    def take(fd):
        chunk = os.read(fd, 65536)
        if not chunk:
            open_fds.discard(fd)
        elif fd == res_r:
            if len(bufs[fd]) < 4 * 1024 * 1024:
                bufs[fd] += chunk
        else:
            seen[fd] += len(chunk)
            room = limit - len(bufs[fd])
            if room > 0:
                bufs[fd] += chunk[:room]

    # Until the child reports D or closes its result pipe (a fork left behind may hold stdout open).
    while res_r in open_fds and not bufs[res_r].endswith(b"D\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for fd in select.select(list(open_fds), [], [], left)[0]:
            take(fd)
    status = None
    if not timed_out:  # the job finished: give it a moment to exit by itself
        end = min(deadline, time.monotonic() + 1.0)
        while status is None and time.monotonic() < end:
            done_pid, st = os.waitpid(pid, os.WNOHANG)
            if done_pid:
                status = st
            else:
                for fd in select.select([fd for fd in open_fds if fd != res_r], [], [], 0.002)[0]:
                    take(fd)
    for fd in select.select([fd for fd in open_fds if fd != res_r], [], [], 0)[0]:
        take(fd)
    _kill_strays(req, pid)
    if status is None:
        try:
            status = os.waitpid(pid, 0)[1]
        except ChildProcessError:
            status = None
    for fd in bufs:
        os.close(fd)
    shutil.rmtree(jobdir, ignore_errors=True)

    setup, setup_error, tests, done = None, None, {}, False
    for line in bufs[res_r].decode("utf-8", "replace").splitlines():
        parts = line.split(" ", 2)
        if parts[0] == "S" and setup is None and len(parts) >= 2:
            setup = parts[1]
            if len(parts) == 3:
                try:
                    setup_error = str(json.loads(parts[2]))
                except ValueError:
                    setup_error = parts[2][:500]
        elif parts[0] == "T" and len(parts) == 3 and parts[1].isdigit():
            tests.setdefault(int(parts[1]), parts[2])
        elif parts[0] == "D":
            done = True
    n = len(job.get("tests", ()))
    # A test that was running or never started when the job ended: timeout if the wall clock ran
    # out, error if the process died (crash, os._exit, rlimit kill).
    missing = "timeout" if timed_out else "error"
    if setup is None:
        setup = missing
        if not timed_out and setup_error is None:
            setup_error = "the process ended before the code finished"
    statuses = [tests.get(i, missing if setup == "ok" else "error") for i in range(n)]
    result = {
        "setup": setup,
        "setup_error": setup_error,
        "tests": statuses,
        "completed": done and not timed_out,
        "timed_out": timed_out,
        "stdout": bufs[out_r].decode("utf-8", "replace"),
        "stderr": bufs[err_r].decode("utf-8", "replace"),
        "truncated": seen[out_r] > limit or seen[err_r] > limit,
        "exit_code": os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None,
        "seconds": time.monotonic() - start,
    }
    return result


def main():
    req = json.loads(sys.stdin.buffer.read())
    for name in req.get("preimport", ()):
        try:
            __import__(name)
        except ImportError:
            pass
    out = sys.stdout
    for index, job in enumerate(req["jobs"]):
        out.write(json.dumps(_run_job(job, req, index)) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
