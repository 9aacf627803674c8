"""Solutions × tests → passing matrix: CodeT-style parsing, deduplication, parallel sandboxed runs, disk cache.

One sandboxed job per unique solution runs every unique test in one process (per-test SIGALRM
timeout, 0.1 s by default as in the B4 repository); jobs are batched into one sandbox process per
chunk of solutions and the chunks run on a pool of `workers` threads (one sandbox process each).
Ground-truth checking uses the same path: the dataset's test program is a single "test".
Finished matrices are stored under `cache_dir`, keyed by a hash of everything that determines them.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ratiocinator.errors import InvalidInput
from ratiocinator.selection.sandbox import Job, Sandbox

STOP_MARKERS: tuple[str, ...] = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")  # CodeT / B4
STATUSES: tuple[str, ...] = ("pass", "fail", "error", "timeout")  # the codes 0..3 of `status`
_CACHE_VERSION = 1


def truncate(text: str, markers: Sequence[str] = STOP_MARKERS) -> str:
    """Cut `text` at the first occurrence of each stop marker, in turn (CodeT's `solution_extract`)."""
    for marker in markers:
        if marker in text:
            text = text.split(marker)[0]
    return text


def _compiles_in_try_block(test: str) -> bool:
    if not test.strip() or "assert" not in test:
        return False
    body = test.replace("\n", "\n    ")
    try:
        compile(f"try:\n    {body}\nexcept:\n    pass\n", "<test>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def extract_tests(sample: str, entry_point: str) -> list[str]:
    """Split one generated test sample into `assert` statements, as CodeT/B4 do.

    The sample continues a prompt that ends in ``assert ``. Each piece between ``assert `` markers that
    mentions `entry_point` becomes ``assert <piece>``, truncated at the stop markers and kept if it
    compiles inside a ``try:`` block.
    """
    pieces = [f"assert {part}".strip() for part in f"assert {sample}".split("assert ")
              if entry_point.strip() in part and part.strip()]
    cut = [truncate(p).strip() for p in pieces]
    return [t for t in cut if _compiles_in_try_block(t)]


def unique(items: Sequence[str]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(distinct items in first-seen order, index of each input item among them)."""
    seen: dict[str, int] = {}
    index = tuple(seen.setdefault(item, len(seen)) for item in items)
    return tuple(seen), index


def check_program(test_program: str, entry_point: str) -> str:
    """A HumanEval-style `check(candidate)` program and its call, as one test."""
    return f"{test_program}\ncheck({entry_point})\n"


def solutions_from_samples(samples: Sequence[str]) -> tuple[str, ...]:
    """The distinct candidate solutions of raw solution samples: each truncated at the stop markers (CodeT)."""
    return unique([truncate(s) for s in samples])[0]


def tests_from_samples(samples: Sequence[str], entry_point: str) -> tuple[str, ...]:
    """The distinct tests of raw test samples: the `assert` statements each sample holds (CodeT)."""
    return unique([t for sample in samples for t in extract_tests(sample, entry_point)])[0]


@dataclass(frozen=True, kw_only=True)
class ExecutionConfig:
    """How a passing matrix is computed."""

    test_timeout: float = 0.1  # seconds per test, as in the B4 repository
    setup_timeout: float = 2.0  # seconds to define the solution (prompt + completion)
    slack: float = 1.0  # extra wall-clock seconds per job beyond setup + tests × test_timeout
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    solutions_per_batch: int = 20  # unique solutions per sandbox process
    cache_dir: Path | None = None  # None: no cache

    def __post_init__(self) -> None:
        if self.test_timeout <= 0 or self.setup_timeout <= 0 or self.slack < 0:
            raise InvalidInput("ExecutionConfig timeouts must be positive seconds")
        if self.workers < 1 or self.solutions_per_batch < 1:
            raise InvalidInput("ExecutionConfig.workers and .solutions_per_batch must be at least 1")


@dataclass(frozen=True, kw_only=True, eq=False)
class PassingMatrix:
    """Unique solutions × unique tests: a status code per cell and whether each solution loaded."""

    solutions: tuple[str, ...]
    tests: tuple[str, ...]
    status: np.ndarray  # (N, M) uint8, codes into STATUSES
    loaded: np.ndarray  # (N,) bool: prompt + solution executed without error or timeout
    cached: bool = False

    @property
    def passed(self) -> np.ndarray:
        """(N, M) int8 0/1 matrix E."""
        return (self.status == 0).astype(np.int8)

    def cell(self, i: int, j: int) -> str:
        return STATUSES[int(self.status[i, j])]


@dataclass(frozen=True, kw_only=True)
class MatrixRequest:
    """One task: the prompt each solution is appended to, the solutions and the tests."""

    prompt: str
    solutions: tuple[str, ...]
    tests: tuple[str, ...]
    test_timeout: float | None = None  # None: the executor's config


@dataclass
class ExecutionStats:
    """Counters of what an executor actually ran (cache hits excluded)."""

    jobs: int = 0
    cells: int = 0
    matrices_cached: int = 0
    matrices_built: int = 0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class Executor:
    """Builds passing matrices in a sandbox, in parallel, with an optional on-disk cache."""

    def __init__(self, config: ExecutionConfig | None = None, sandbox: Sandbox | None = None) -> None:
        self.config = config or ExecutionConfig()
        self.sandbox = sandbox or Sandbox()
        self.stats = ExecutionStats()

    def matrix(self, prompt: str, solutions: Sequence[str], tests: Sequence[str]) -> PassingMatrix:
        """The passing matrix of one task (solutions and tests deduplicated, first-seen order)."""
        return self.matrices([MatrixRequest(prompt=prompt, solutions=tuple(solutions), tests=tuple(tests))])[0]

    def ground_truth(self, prompt: str, solutions: Sequence[str], test_program: str, entry_point: str,
                     *, timeout: float = 1.0) -> PassingMatrix:
        """Check solutions with a HumanEval-style `check(candidate)` program: one column."""
        test = check_program(test_program, entry_point)
        return self.matrices([MatrixRequest(prompt=prompt, solutions=tuple(solutions), tests=(test,),
                                            test_timeout=timeout)])[0]

    def matrices(self, requests: Sequence[MatrixRequest],
                 progress: Callable[[int, int], None] | None = None) -> list[PassingMatrix]:
        """Passing matrices of many tasks; all chunks of all tasks share one worker pool."""
        import time

        start = time.perf_counter()
        plans = []
        for req in requests:
            sols, _ = unique(req.solutions)
            tests, _ = unique(req.tests)
            timeout = req.test_timeout or self.config.test_timeout
            key = self._key(req.prompt, sols, tests, timeout)
            plans.append((req, sols, tests, timeout, key, self._load(key, sols, tests)))
        chunks = []
        step = self.config.solutions_per_batch
        for p, plan in enumerate(plans):
            if plan[5] is None:
                sols = plan[1]
                chunks += [(p, lo, sols[lo:lo + step]) for lo in range(0, len(sols), step)]
        status = {p: np.zeros((len(plan[1]), len(plan[2])), np.uint8) for p, plan in enumerate(plans) if plan[5] is None}
        loaded = {p: np.zeros(len(plan[1]), bool) for p, plan in enumerate(plans) if plan[5] is None}
        done = [0]

        def run_chunk(chunk: tuple[int, int, tuple[str, ...]]) -> None:
            p, lo, sols = chunk
            req, _, tests, timeout, _, _ = plans[p]
            job_timeout = self.config.setup_timeout + len(tests) * timeout + self.config.slack
            jobs = [Job(setup=req.prompt + s + "\n", tests=tests, setup_timeout=self.config.setup_timeout,
                        test_timeout=timeout, timeout=job_timeout) for s in sols]
            for k, res in enumerate(self.sandbox.run_batch(jobs)):
                loaded[p][lo + k] = res.setup == "ok"
                codes = [STATUSES.index(t) for t in res.tests] if res.setup == "ok" else [2] * len(tests)
                status[p][lo + k] = codes
            with self.stats.lock:
                self.stats.jobs += len(jobs)
                self.stats.cells += len(jobs) * len(tests)
                done[0] += 1
                if progress:
                    progress(done[0], len(chunks))

        # Longest chunks first keeps both workers busy to the end.
        chunks.sort(key=lambda c: -len(c[2]) * (len(plans[c[0]][2]) + 1))
        with ThreadPoolExecutor(max_workers=self.config.workers) as pool:
            list(pool.map(run_chunk, chunks))
        out = []
        for p, (_req, sols, tests, _timeout, key, hit) in enumerate(plans):
            if hit is not None:
                out.append(hit)
                self.stats.matrices_cached += 1
                continue
            matrix = PassingMatrix(solutions=sols, tests=tests, status=status[p], loaded=loaded[p])
            self._store(key, matrix)
            self.stats.matrices_built += 1
            out.append(matrix)
        self.stats.seconds += time.perf_counter() - start
        return out

    def _key(self, prompt: str, sols: Sequence[str], tests: Sequence[str], timeout: float) -> str:
        doc = json.dumps({"v": _CACHE_VERSION, "prompt": prompt, "solutions": sorted(sols), "tests": sorted(tests),
                          "test_timeout": timeout, "setup_timeout": self.config.setup_timeout})
        return hashlib.sha256(doc.encode()).hexdigest()

    def _load(self, key: str, sols: tuple[str, ...], tests: tuple[str, ...]) -> PassingMatrix | None:
        if self.config.cache_dir is None:
            return None
        path = Path(self.config.cache_dir) / f"{key}.npz"
        if not path.exists():
            return None
        try:
            data = np.load(path, allow_pickle=False)
            stored_sols = json.loads(str(data["solutions"]))
            stored_tests = json.loads(str(data["tests"]))
            row = {s: i for i, s in enumerate(stored_sols)}
            col = {t: j for j, t in enumerate(stored_tests)}
            rows = np.array([row[s] for s in sols], dtype=np.int64)
            cols = np.array([col[t] for t in tests], dtype=np.int64)
            status = data["status"][rows][:, cols] if len(cols) else np.zeros((len(rows), 0), np.uint8)
            return PassingMatrix(solutions=sols, tests=tests, status=status.astype(np.uint8),
                                 loaded=data["loaded"][rows].astype(bool), cached=True)
        except (OSError, KeyError, ValueError):
            return None  # a corrupt or foreign file: recompute

    def _store(self, key: str, matrix: PassingMatrix) -> None:
        if self.config.cache_dir is None:
            return
        folder = Path(self.config.cache_dir)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.{threading.get_ident()}.npz"
        np.savez_compressed(tmp, status=matrix.status, loaded=matrix.loaded,
                            solutions=np.array(json.dumps(matrix.solutions)), tests=np.array(json.dumps(matrix.tests)))
        os.replace(tmp, folder / f"{key}.npz")
