"""Planner back ends for `pddl.solve`: each run ends within a hard time bound, whatever the planner does.

Three ways to run a planner, chosen by what the planner is:

- Fast Downward (`fast-downward`, `fast-downward-opt`) and LPG (in `auto`'s portfolio) run directly
  on the caller's PDDL text, each in its own session, killed as a process group at the deadline. The
  caller parses the same text with unified-planning while the search runs (`FastDownwardRun.start`
  then `.wait`, or `wait_first` over several runs), so the only overhead over calling the planner by
  hand is reading the plan back and validating it.
- unified-planning engines that wrap an external binary (symk, lpg, enhsp) run in this process with
  UP's own `timeout`, which kills the binary's process group.
- unified-planning engines written in Python (pyperplan, tamer) ignore `timeout`; they run in a
  forked child (own session) that is SIGKILLed at the deadline.

Every planner process (and each binary unified-planning starts) is registered with the reaper
(reaper.py), so that none outlives this process, however this process ends.

Nothing here validates a plan; `pddl.py` does that for every result.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import math
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

from ratiocinator import reaper
from ratiocinator.errors import UnsupportedFeature, pip_install
from ratiocinator.solvers.deadline import DeadlineExceeded, call_with_deadline, kill_group

RawStatus = Literal["solved", "solved_optimally", "unsolvable", "not_found", "timeout", "error"]

#: Fast Downward configurations: satisficing LAMA (first plan) and optimal A* with LM-cut.
#: Driver options go before the input files, search options after them.
FD_CONFIGS: dict[bool, tuple[list[str], list[str]]] = {
    False: (["--alias", "lama-first"], []),
    True: ([], ["--search", "astar(lmcut())"]),
}

# https://www.fast-downward.org/latest/documentation/exit-codes/
_FD_EXIT: dict[int, tuple[RawStatus, str]] = {
    0: ("solved", ""),
    1: ("solved", "plan found, then out of memory"),
    2: ("solved", "plan found, then out of time"),
    3: ("solved", "plan found, then out of memory and time"),
    10: ("unsolvable", "the translator proved the task unsolvable"),
    11: ("unsolvable", "the search proved the task unsolvable"),
    12: ("not_found", "the search ended without a plan and without proof (incomplete search)"),
    13: ("not_found", "no plan within the cost bound"),
    20: ("error", "translator out of memory"),
    21: ("timeout", "translator out of time"),
    22: ("error", "search out of memory"),
    23: ("timeout", "search out of time"),
    24: ("error", "search out of memory and time"),
}


@dataclass(frozen=True, kw_only=True)
class RawRun:
    """What a planner returned, before validation: actions as PDDL strings like `(stack b1 b2)`."""

    status: RawStatus
    actions: tuple[str, ...] | None = None
    engine: str = ""
    message: str = ""
    metrics: dict[str, str] = field(default_factory=dict)


def fast_downward_script() -> str:
    """Path of the Fast Downward driver shipped by `up-fast-downward`, found without importing the package
    (its import pulls in ConfigSpace: 2 s on a cold start, in which a planner's folder would wait for it)."""
    spec = importlib.util.find_spec("up_fast_downward")
    for where in (spec.submodule_search_locations or []) if spec is not None else []:
        path = os.path.join(where, "downward", "fast-downward.py")
        if os.path.isfile(path):
            return path
    res = importlib.resources.files("up_fast_downward").joinpath("downward/fast-downward.py")
    return str(res)


def fast_downward_command(domain_path: str, problem_path: str, plan_path: str, *, optimal: bool) -> list[str]:
    """The command line that runs Fast Downward on two PDDL files (what the benchmark compares with)."""
    before, after = FD_CONFIGS[optimal]
    return [sys.executable, fast_downward_script(), "--plan-file", plan_path, *before, domain_path, problem_path,
            *after]


class PlannerRun:
    """One planner process on PDDL text, in its own directory and session; the constructor returns at once.

    `wait(timeout)` collects the result (killing the process at the timeout); several runs are raced
    with `wait_first`, then `collect()` on the one that ended. `kill()` is always safe to call.
    """

    engine = ""

    def __init__(self, domain_text: str, problem_text: str) -> None:
        self._dir = tempfile.mkdtemp(prefix=f"ratiocinator-{self.engine}-")
        paths = [os.path.join(self._dir, n) for n in ("domain.pddl", "problem.pddl", "plan", "log")]
        self._domain, self._problem, self._plan, self._log = paths
        for path, text in ((self._domain, domain_text), (self._problem, problem_text)):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        with open(self._log, "wb") as log:
            self._proc = subprocess.Popen(self.command(), cwd=self._dir, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        reaper.register(self._proc.pid, cleanup=self._dir)  # killed with its folder if this process dies
        try:  # readable when the process exits (Linux >= 5.3); else wait_first polls
            self.pidfd: int | None = os.pidfd_open(self._proc.pid)
        except (AttributeError, OSError):
            self.pidfd = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def result(self, code: int) -> RawRun:
        """The outcome, from the exit code and the files the planner left (called once it has exited)."""
        raise NotImplementedError

    def exited(self) -> bool:
        return self._proc.poll() is not None

    def kill(self) -> None:
        """Stop the planner (and any children in its session) and remove its files."""
        if self._proc.poll() is None:
            kill_group(self._proc.pid)
            self._proc.wait()
        reaper.unregister(self._proc.pid)
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def collect(self) -> RawRun:
        """The result of a run that has exited (see `wait_first`); its files are removed."""
        try:
            return self.result(self._proc.wait())
        finally:
            self.kill()

    def wait(self, timeout: float) -> RawRun:
        """Wait at most `timeout` seconds; on expiry the process group is killed and the status is timeout."""
        try:
            if wait_first([self], timeout) is None:
                return RawRun(status="timeout", engine=self.engine, message="stopped at the time limit")
            return self.collect()
        finally:
            self.kill()

    def _log_tail(self, n: int = 15) -> str:
        try:
            with open(self._log, encoding="utf-8", errors="replace") as fh:
                return "".join(fh.readlines()[-n:])
        except OSError:
            return ""


def wait_first(runs: list[PlannerRun], timeout: float) -> PlannerRun | None:
    """The first of `runs` whose process has exited, waiting at most `timeout` seconds; None on expiry.

    Waits on pidfds, which become readable at the exit itself (Popen.wait with a timeout polls with
    sleeps of up to 50 ms, a quarter of a small planning run); without pidfds, polls every 10 ms.
    """
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        done = next((r for r in runs if r.exited()), None)
        left = deadline - time.monotonic()
        if done is not None or left <= 0 or not runs:
            return done
        fds = [r.pidfd for r in runs if r.pidfd is not None]
        if len(fds) == len(runs):
            select.select(fds, [], [], left)
        else:
            time.sleep(min(left, 0.01))


class FastDownwardRun(PlannerRun):
    """One Fast Downward process (lama-first, or A* + LM-cut when `optimal`) on PDDL text."""

    def __init__(self, domain_text: str, problem_text: str, *, optimal: bool) -> None:
        self.optimal = optimal
        self.engine = "fast-downward-opt" if optimal else "fast-downward"
        super().__init__(domain_text, problem_text)

    @classmethod
    def start(cls, domain_text: str, problem_text: str, *, optimal: bool) -> FastDownwardRun:
        return cls(domain_text, problem_text, optimal=optimal)

    def command(self) -> list[str]:
        return fast_downward_command(self._domain, self._problem, self._plan, optimal=self.optimal)

    def result(self, code: int) -> RawRun:
        status, message = _FD_EXIT.get(code, ("error", f"Fast Downward exited with code {code}"))
        actions = None
        if status == "solved":
            with open(self._plan, encoding="utf-8") as fh:
                actions = tuple(ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith(";"))
            if self.optimal and code == 0:
                status = "solved_optimally"
        if status == "error":
            message = f"{message}; log tail:\n{self._log_tail()}"
        return RawRun(status=status, actions=actions, engine=self.engine, message=message)


def lpg_binary() -> str | None:
    """Path of the LPG-td binary shipped by `up-lpg`, found without importing it; None if not installed."""
    spec = importlib.util.find_spec("up_lpg")
    for where in (spec.submodule_search_locations or []) if spec is not None else []:
        path = os.path.join(where, "lpg")
        if os.access(path, os.X_OK):
            return path
    return None


class LpgRun(PlannerRun):
    """One LPG-td process (first plan, `-n 1`, as up-lpg runs it) on PDDL text; CPU-capped at `timeout` too."""

    engine = "lpg"

    def __init__(self, domain_text: str, problem_text: str, *, timeout: float) -> None:
        self._cputime = max(1, math.ceil(timeout))
        super().__init__(domain_text, problem_text)

    @classmethod
    def start(cls, domain_text: str, problem_text: str, *, timeout: float) -> LpgRun:
        return cls(domain_text, problem_text, timeout=timeout)

    def command(self) -> list[str]:
        binary = lpg_binary()
        if binary is None:
            raise UnsupportedFeature(f"LPG is not installed ({pip_install('up-lpg')})")
        return [binary, "-o", self._domain, "-f", self._problem, "-n", "1", "-out", self._plan,
                "-cputime", str(self._cputime)]

    def result(self, code: int) -> RawRun:
        try:
            with open(self._plan, encoding="utf-8", errors="replace") as fh:
                lines = [ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith(";")]
        except OSError:
            lines = None
        if code == 0 and lines is not None and not any(ln.lower() == "no solution" for ln in lines):
            # "0:   (DOWN ROBOT2 TILE_4-3 TILE_3-3) [1]": pddl.plan_steps drops the time and duration
            return RawRun(status="solved", actions=tuple(ln.lower() for ln in lines), engine=self.engine)
        if code == 0 or lines is not None:
            return RawRun(status="not_found", engine=self.engine,
                          message="LPG (local search, incomplete) ended without a plan")
        return RawRun(status="error", engine=self.engine,
                      message=f"LPG exited with code {code}; log tail:\n{self._log_tail()}")


def _up_status(result: Any, optimal_engine: bool, has_metric: bool) -> tuple[RawStatus, str]:
    from unified_planning.engines import PlanGenerationResultStatus as S

    st = result.status
    if st == S.SOLVED_OPTIMALLY:
        return "solved_optimally", ""
    if st in (S.SOLVED_SATISFICING, S.INTERMEDIATE):
        # UP's optimal engines say SOLVED_OPTIMALLY only when the problem has a metric; without one
        # they still minimise plan length.
        return ("solved_optimally" if optimal_engine and not has_metric else "solved"), ""
    if st == S.UNSOLVABLE_PROVEN:
        return "unsolvable", ""
    if st == S.UNSOLVABLE_INCOMPLETELY:
        return "not_found", "the planner gave up without a proof that no plan exists"
    if st == S.TIMEOUT:
        return "timeout", ""
    logs = " ".join(str(m.message)[-400:] for m in (result.log_messages or []) if str(m.message).strip())
    return "error", f"{st.name}: {logs}".strip()


def _action_strings(plan: Any) -> tuple[str, ...]:
    out = []
    for ai in plan.actions:
        args = " ".join(str(p.object().name) if p.is_object_exp() else str(p) for p in ai.actual_parameters)
        out.append(f"({ai.action.name}{' ' + args if args else ''})")
    return tuple(out)


def _make_planner(name: str, problem: Any) -> Any:
    from unified_planning.shortcuts import OneshotPlanner

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return OneshotPlanner(name=name, problem_kind=problem.kind)


class _ReapedPopen(subprocess.Popen):  # type: ignore[type-arg]
    """The Popen unified-planning starts engine binaries with (each in a session of its own): registered
    with the reaper, so that a binary does not outlive this process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reaper.register(self.pid)

    def wait(self, timeout: float | None = None) -> int:
        code = super().wait(timeout)
        reaper.unregister(self.pid)
        return code

    def communicate(self, *args: Any, **kwargs: Any) -> Any:
        out = super().communicate(*args, **kwargs)
        if self.returncode is not None:
            reaper.unregister(self.pid)
        return out


class _SubprocessForUP:
    """`subprocess` as unified-planning's PDDL engines see it: the same, with _ReapedPopen."""

    Popen = _ReapedPopen

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)


def run_up_engine(name: str, problem: Any, *, timeout: float, optimal_engine: bool) -> RawRun:
    """Run the unified-planning engine `name` on a parsed problem within `timeout` seconds."""
    from unified_planning.engines import pddl_planner
    from unified_planning.engines.pddl_planner import PDDLPlanner

    pddl_planner.subprocess = _SubprocessForUP()  # type: ignore[assignment]

    has_metric = bool(problem.quality_metrics)
    planner = _make_planner(name, problem)
    if isinstance(planner, PDDLPlanner):  # an external binary: UP kills its process group at the timeout
        with planner, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = planner.solve(problem, timeout=max(timeout, 0.01))
        status, msg = _up_status(result, optimal_engine, has_metric)
        actions = _action_strings(result.plan) if result.plan is not None and status.startswith("solved") else None
        return RawRun(status=status, actions=actions, engine=name, message=msg)
    return _run_forked(lambda: _solve_in_child(planner, problem, optimal_engine, has_metric), timeout, name)


def _solve_in_child(planner: Any, problem: Any, optimal_engine: bool, has_metric: bool) -> dict[str, Any]:
    with planner, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = planner.solve(problem)
    status, msg = _up_status(result, optimal_engine, has_metric)
    actions = _action_strings(result.plan) if result.plan is not None and status.startswith("solved") else None
    return {"status": status, "actions": list(actions) if actions is not None else None, "message": msg}


def _run_forked(job: Any, timeout: float, engine: str) -> RawRun:
    """Run `job()` (returning a dict like _solve_in_child's) in a forked child SIGKILLed at the deadline."""
    try:
        data = call_with_deadline(job, timeout, what=f"planner {engine!r}")
    except DeadlineExceeded:
        return RawRun(status="timeout", engine=engine, message=f"killed after {timeout:.1f} s")
    except UnsupportedFeature:
        raise
    except Exception as exc:  # the planner's own error, or the child died
        return RawRun(status="error", engine=engine, message=f"{type(exc).__name__}: {exc}")
    actions = tuple(data["actions"]) if data.get("actions") is not None else None
    return RawRun(status=data["status"], actions=actions, engine=engine, message=data.get("message", ""))
