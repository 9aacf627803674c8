"""Reproduce B4's HumanEval experiment on CodeT's CodeGen-16B solutions and generated tests.

Follows the B4 reference pipeline (ZJU-CTAG/B4 `main.py`): solutions truncated at the stop markers
and deduplicated per task; tests parsed from the generated samples (`execution.extract_tests`) and
deduplicated; a solution whose code does not even load (syntax error, module-level exception or
timeout) is dropped from the candidates, as B4 drops executions that did not return a result list;
pass@1 is the expected ground-truth correctness of a uniform pick from the top-ranked group. The
"subset" is B4's: tasks with tests and with a ground-truth pass rate (over the kept candidates)
strictly between 0 and 1. "All" averages over every task of the dataset (a task without any kept
candidate scores 0; a task without tests falls back to a uniform pick among its candidates).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ratiocinator.errors import InvalidInput
from ratiocinator.selection.api import strategy_fn
from ratiocinator.selection.b4 import BETA0_GRID, B4Config
from ratiocinator.selection.execution import (
    ExecutionConfig,
    Executor,
    MatrixRequest,
    check_program,
    solutions_from_samples,
    tests_from_samples,
)
from ratiocinator.selection.sandbox import Sandbox, SandboxConfig

HEURISTICS = ("random", "maxpass", "mbr_exec", "codet")


@dataclass(frozen=True, kw_only=True)
class CodeTask:
    """One HumanEval task with CodeT's generated solutions (raw samples) and test samples."""

    task_id: str
    prompt: str
    entry_point: str
    test: str  # the dataset's ground-truth `check(candidate)` program
    solution_samples: tuple[str, ...]
    test_samples: tuple[str, ...]

    @property
    def solutions(self) -> tuple[str, ...]:
        return solutions_from_samples(self.solution_samples)

    @property
    def tests(self) -> tuple[str, ...]:
        return tests_from_samples(self.test_samples, self.entry_point)


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise InvalidInput(f"{path} is missing; expected CodeT's HumanEval files in {path.parent}")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_codet_humaneval(data_dir: Path | str, *, limit: int | None = None,
                         task_ids: Sequence[str] | None = None) -> list[CodeTask]:
    """problems.jsonl + codegen16b_{solutions,tests}.jsonl, matched by prompt as CodeT does."""
    root = Path(data_dir)
    problems = {p["task_id"]: p for p in _jsonl(root / "problems.jsonl")}
    by_prompt = {p["prompt"]: tid for tid, p in problems.items()}
    test_prompts = {g["prompt"]: g["task_id"] for g in _jsonl(root / "test_generation_prompts.jsonl")}
    solutions = {by_prompt[d["prompt"]]: d["samples"] for d in _jsonl(root / "codegen16b_solutions.jsonl")
                 if d["prompt"] in by_prompt}
    tests = {test_prompts[d["prompt"]]: d["samples"] for d in _jsonl(root / "codegen16b_tests.jsonl")
             if d["prompt"] in test_prompts}
    ids = sorted(problems, key=lambda t: (len(t), t))
    if task_ids is not None:
        unknown = sorted(set(task_ids) - set(problems))
        if unknown:
            raise InvalidInput(f"unknown task ids {unknown[:5]}; expected ids like {ids[0]!r}")
        ids = [t for t in ids if t in set(task_ids)]
    tasks = [CodeTask(task_id=tid, prompt=problems[tid]["prompt"], entry_point=problems[tid]["entry_point"],
                      test=problems[tid]["test"], solution_samples=tuple(solutions.get(tid, ())),
                      test_samples=tuple(tests.get(tid, ()))) for tid in ids]
    return tasks[:limit] if limit is not None else tasks


@dataclass(frozen=True, kw_only=True)
class TaskData:
    """What selection needs of one task: E over kept candidates and their ground truth."""

    task_id: str
    E: np.ndarray  # (kept candidates, tests) 0/1
    correct: np.ndarray  # (kept candidates,) bool
    n_tests: int

    @property
    def in_subset(self) -> bool:
        return bool(self.n_tests > 0 and len(self.correct) > 0 and 0.0 < self.correct.mean() < 1.0)


@dataclass(frozen=True, kw_only=True)
class Report:
    """pass@1 per strategy over all tasks and B4's subset, with counts and timings."""

    strategies: dict[str, dict[str, float]]
    n_tasks_all: int
    n_tasks_subset: int
    seconds: dict[str, float]
    counts: dict[str, int]

    def to_json(self) -> dict:
        return {"strategies": self.strategies, "n_tasks_all": self.n_tasks_all,
                "n_tasks_subset": self.n_tasks_subset, "seconds": self.seconds, "counts": self.counts}


def strategy_table(names: Sequence[str] | None = None, *,
                   b4: B4Config | None = None) -> dict[str, Callable[[np.ndarray], object]]:
    """Strategy name -> ranking function; "b4" expands to one entry per β0 of the paper's grid.

    `b4` gives B4's other hyper-parameters (α_xy); its β0 is replaced by each β0 of the grid.
    """
    wanted = list(names) if names else [*HEURISTICS, "b4"]
    base = b4 or B4Config()
    table: dict[str, Callable] = {}
    for name in wanted:
        if name == "b4":
            for beta0 in BETA0_GRID:
                cfg = replace(base, beta0=beta0)
                table[cfg.name] = strategy_fn(cfg)
        else:
            table[name] = strategy_fn(name)
    return table


def run_matrices(tasks: Sequence[CodeTask], executor: Executor, *, gt_timeout: float = 1.0,
                 progress: Callable[[str, int, int], None] | None = None) -> tuple[list, list, dict]:
    """The dual matrix (generated tests) and the ground truth (dataset tests) of every task, with timings/counts."""
    sols = [t.solutions for t in tasks]
    tests = [t.tests for t in tasks]
    t0 = time.perf_counter()
    matrices = executor.matrices(
        [MatrixRequest(prompt=t.prompt, solutions=s, tests=m) for t, s, m in zip(tasks, sols, tests, strict=True)],
        progress=(lambda d, n: progress("matrix", d, n)) if progress else None)
    t1 = time.perf_counter()
    truth = executor.matrices(
        [MatrixRequest(prompt=t.prompt, solutions=s, tests=(check_program(t.test, t.entry_point),),
                       test_timeout=gt_timeout) for t, s in zip(tasks, sols, strict=True)],
        progress=(lambda d, n: progress("ground truth", d, n)) if progress else None)
    t2 = time.perf_counter()
    info = {
        "seconds": {"matrix": t1 - t0, "ground_truth": t2 - t1},
        "counts": {
            "unique_solutions": sum(len(s) for s in sols),
            "unique_tests": sum(len(m) for m in tests),
            "cells": sum(len(s) * len(m) for s, m in zip(sols, tests, strict=True)),
            "loaded_solutions": int(sum(m.loaded.sum() for m in matrices)),
            "timeout_cells": int(sum((m.status == 3).sum() for m in matrices)),
            "ground_truth_timeouts": int(sum((g.status == 3).sum() for g in truth)),
            "matrices_from_cache": int(sum(m.cached for m in matrices)),
        },
    }
    return matrices, truth, info


def build_task_data(tasks: Sequence[CodeTask], executor: Executor, *, gt_timeout: float = 1.0,
                    progress: Callable[[str, int, int], None] | None = None) -> tuple[list[TaskData], dict]:
    """Run the dual matrix and the ground truth for every task; returns the data and timings/counts."""
    matrices, truth, info = run_matrices(tasks, executor, gt_timeout=gt_timeout, progress=progress)
    data = []
    for task, mat, gt in zip(tasks, matrices, truth, strict=True):
        keep = mat.loaded
        data.append(TaskData(task_id=task.task_id, E=mat.passed[keep], correct=(gt.passed[:, 0] == 1)[keep],
                             n_tests=len(mat.tests)))
    return data, info


def evaluate(data: Sequence[TaskData], strategies: Sequence[str] | None = None, *,
             b4: B4Config | None = None) -> tuple[dict, dict]:
    """pass@1 per strategy on all tasks and on the subset, and seconds spent selecting per strategy."""
    results, seconds = {}, {}
    subset = [d for d in data if d.in_subset]
    for name, fn in strategy_table(strategies, b4=b4).items():
        t0 = time.perf_counter()
        scores = {d.task_id: (fn(d.E).expected_correctness(d.correct) if len(d.correct) else 0.0) for d in data}
        seconds[f"select_{name}"] = time.perf_counter() - t0
        results[name] = {
            "pass1_all": float(np.mean(list(scores.values()))) if data else 0.0,
            "pass1_subset": float(np.mean([scores[d.task_id] for d in subset])) if subset else 0.0,
        }
    return results, seconds


def reproduce(data_dir: Path | str, *, strategies: Sequence[str] | None = None,
              config: ExecutionConfig | None = None, gt_timeout: float = 1.0, limit: int | None = None,
              task_ids: Sequence[str] | None = None, progress: Callable[[str, int, int], None] | None = None,
              b4: B4Config | None = None, sandbox: SandboxConfig | None = None) -> Report:
    """The whole experiment: load, execute (cached), select with every strategy, report.

    `b4` sets B4's α_xy (β0 runs over the paper's grid); `sandbox` the limits of the sandbox.
    """
    tasks = load_codet_humaneval(data_dir, limit=limit, task_ids=task_ids)
    executor = Executor(config, Sandbox(sandbox))
    data, info = build_task_data(tasks, executor, gt_timeout=gt_timeout, progress=progress)
    results, select_seconds = evaluate(data, strategies, b4=b4)
    counts = {**info["counts"], "executions": executor.stats.cells, "jobs": executor.stats.jobs}
    seconds = {**info["seconds"], **select_seconds}
    busy = info["seconds"]["matrix"] + info["seconds"]["ground_truth"]
    if executor.stats.cells and busy > 0:
        counts["executions_per_second"] = round(executor.stats.cells / busy)
    return Report(strategies=results, n_tasks_all=len(data), n_tasks_subset=sum(d.in_subset for d in data),
                  seconds=seconds, counts=counts)
