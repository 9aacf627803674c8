"""End to end with any Backend: generate N solutions and M test samples per task, execute, select, score.

Solutions are raw completions of the HumanEval/MBPP prompt (the function signature and docstring), as
CodeT sampled them; tests are raw completions of CodeT's test-generation prompt (the same signature
with a `pass` body, then "# check the correctness of f" and "assert "). Both are parsed by
`execution.truncate` / `execution.extract_tests` (through `reproduce.CodeTask`), exactly as CodeT's
own samples are, and the passing matrix and the ground truth come from the sandboxed `Executor`.

Why raw completion and not a chat request, also for an instruct model such as
Qwen2.5-Coder-0.5B-Instruct: the continuation of the prompt is directly the function body that
CodeT's parsing expects (prompt + body, truncated at the stop markers), so solutions and tests share
one parser with the paper's data; a chat reply restates the whole function inside a Markdown fence,
often with prose and usage examples, which spends the token budget on text that is thrown away and
needs a second, chat-only extraction; and the stop markers can be passed as stop strings so that a
completion ends as soon as its body does. Qwen2.5-Coder's instruct models keep the base model's
code-completion skill, so the raw prompt works: on HumanEval/2 and /12 (T = 0.8) its raw completions
were plain bodies of 15-62 tokens, its chat replies fenced copies of the whole prompt of 98-119 tokens
for the same bodies (see BENCHMARKS-history.md for the end-to-end figures).

Sampling is seeded (`GenerateConfig.seed`, temperature > 0), so a backend with a `ResponseCache`
answers a re-run from the cache without decoding anything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ratiocinator.errors import InvalidInput
from ratiocinator.models.backend import Backend
from ratiocinator.models.types import SamplingParams
from ratiocinator.selection.api import Selection, select
from ratiocinator.selection.b4 import B4Config
from ratiocinator.selection.execution import (
    STOP_MARKERS,
    Executor,
    PassingMatrix,
    truncate,
    unique,
)
from ratiocinator.selection.reproduce import CodeTask, TaskData, evaluate, run_matrices

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, kw_only=True)
class GenerateConfig:
    """How many samples to draw and how (CodeT's temperature 0.8 and top-p 0.95 by default)."""

    n_solutions: int = 8  # N solution samples per task
    n_test_samples: int = 4  # M test samples per task (each holds several asserts)
    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 160  # per solution sample
    test_max_tokens: int | None = None  # per test sample; None: max_tokens
    seed: int = 0
    solution_stop: tuple[str, ...] = STOP_MARKERS  # generation ends where truncate() would cut anyway
    test_stop: tuple[str, ...] = ()  # tests are split and truncated after generation, as CodeT's were
    rows_per_call: int = 32  # sequences per Backend.generate call (prompts x samples); the cache fills per call

    def __post_init__(self) -> None:
        if self.n_solutions < 1 or self.n_test_samples < 0:
            raise InvalidInput("GenerateConfig needs n_solutions >= 1 and n_test_samples >= 0")
        if self.temperature <= 0:
            raise InvalidInput("GenerateConfig.temperature must be > 0: N identical greedy samples select nothing")
        if self.max_tokens < 1 or (self.test_max_tokens is not None and self.test_max_tokens < 1):
            raise InvalidInput("GenerateConfig max_tokens must be at least 1")
        if self.rows_per_call < 1:
            raise InvalidInput("GenerateConfig.rows_per_call must be at least 1")

    def solution_params(self) -> SamplingParams:
        return SamplingParams(temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens,
                              stop=self.solution_stop, seed=self.seed, n=self.n_solutions)

    def test_params(self) -> SamplingParams:
        return SamplingParams(temperature=self.temperature, top_p=self.top_p,
                              max_tokens=self.test_max_tokens or self.max_tokens, stop=self.test_stop,
                              seed=self.seed, n=max(self.n_test_samples, 1))


@dataclass(frozen=True, kw_only=True)
class Problem:
    """A task to solve: the completion prompt, CodeT's test-generation prompt and the ground truth."""

    task_id: str
    prompt: str
    test_prompt: str
    entry_point: str
    test: str  # the dataset's `check(candidate)` program


def codet_test_prompt(prompt: str, entry_point: str) -> str:
    """CodeT's test-generation prompt: the function with a `pass` body, a comment, then "assert "."""
    return f"{prompt}    pass\n\n# check the correctness of {entry_point}\nassert "


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise InvalidInput(f"{path} is missing; expected problems.jsonl and test_generation_prompts.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_problems(data_dir: Path | str, *, limit: int | None = None,
                  task_ids: Sequence[str] | None = None) -> list[Problem]:
    """problems.jsonl + test_generation_prompts.jsonl (HumanEval or MBPP folder), in task-number order."""
    root = Path(data_dir)
    problems = {p["task_id"]: p for p in _jsonl(root / "problems.jsonl")}
    test_prompts = {g["task_id"]: g["prompt"] for g in _jsonl(root / "test_generation_prompts.jsonl")}
    ids = sorted((t for t in problems if t in test_prompts), key=lambda t: (len(t), t))
    if task_ids is not None:
        unknown = sorted(set(task_ids) - set(ids))
        if unknown:
            raise InvalidInput(f"unknown task ids {unknown[:5]}; expected ids like {ids[0]!r}")
        wanted = set(task_ids)
        ids = [t for t in ids if t in wanted]
    out = [Problem(task_id=t, prompt=problems[t]["prompt"], test_prompt=test_prompts[t],
                   entry_point=problems[t]["entry_point"], test=problems[t]["test"]) for t in ids]
    return out[:limit] if limit is not None else out


def _sample(backend: Backend, prompts: Sequence[str], params: SamplingParams, rows_per_call: int,
            stage: str, progress: Progress | None) -> tuple[list[tuple[str, ...]], dict[str, int]]:
    """`params.n` completions per prompt, several prompts per generate call (the backend batches them)."""
    step = max(1, rows_per_call // params.n)
    out: list[tuple[str, ...]] = []
    counts = {"completions": 0, "cached": 0, "tokens": 0, "length_stops": 0}
    for lo in range(0, len(prompts), step):
        comps = backend.generate(list(prompts[lo:lo + step]), params)
        for k in range(len(comps) // params.n):
            out.append(tuple(c.text for c in comps[k * params.n:(k + 1) * params.n]))
        counts["completions"] += len(comps)
        counts["cached"] += sum(c.cached for c in comps)
        counts["tokens"] += sum(c.completion_tokens for c in comps if not c.cached)
        counts["length_stops"] += sum(c.finish_reason == "length" for c in comps)
        if progress:
            progress(stage, min(lo + step, len(prompts)), len(prompts))
    return out, counts


def generate_tasks(backend: Backend, problems: Sequence[Problem], config: GenerateConfig | None = None,
                   *, progress: Progress | None = None) -> tuple[list[CodeTask], dict]:
    """Sample N solutions and M test samples per problem; returns CodeTasks (raw samples) and counts/seconds."""
    cfg = config or GenerateConfig()
    t0 = time.perf_counter()
    sols, sol_counts = _sample(backend, [p.prompt for p in problems], cfg.solution_params(), cfg.rows_per_call,
                               "solutions", progress)
    t1 = time.perf_counter()
    if cfg.n_test_samples:
        tests, test_counts = _sample(backend, [p.test_prompt for p in problems], cfg.test_params(),
                                     cfg.rows_per_call, "tests", progress)
    else:
        tests, test_counts = [() for _ in problems], {}
    t2 = time.perf_counter()
    tasks = [CodeTask(task_id=p.task_id, prompt=p.prompt, entry_point=p.entry_point, test=p.test,
                      solution_samples=s, test_samples=m) for p, s, m in zip(problems, sols, tests, strict=True)]
    info = {"seconds": {"generate_solutions": t1 - t0, "generate_tests": t2 - t1},
            "counts": {**{f"solution_{k}": v for k, v in sol_counts.items()},
                       **{f"test_{k}": v for k, v in test_counts.items()}}}
    return tasks, info


@dataclass(frozen=True, kw_only=True)
class TaskOutcome:
    """One task after execution: the data selection needs, plus the raw samples' ground truth."""

    data: TaskData  # E and correctness over the distinct solutions that load
    sample_correct: tuple[bool, ...]  # per raw solution sample (duplicates counted, non-loading = wrong)
    matrix: PassingMatrix
    truth: PassingMatrix

    @property
    def sample_pass1(self) -> float:
        return float(np.mean(self.sample_correct)) if self.sample_correct else 0.0


def execute(tasks: Sequence[CodeTask], executor: Executor, *, gt_timeout: float = 1.0,
            progress: Progress | None = None) -> tuple[list[TaskOutcome], dict]:
    """Passing matrix (generated tests) and ground truth (the dataset's tests) of every task, sandboxed."""
    matrices, truth, info = run_matrices(tasks, executor, gt_timeout=gt_timeout, progress=progress)
    outcomes = []
    for task, mat, gt in zip(tasks, matrices, truth, strict=True):
        correct = gt.passed[:, 0] == 1
        keep = mat.loaded
        _, raw_index = unique([truncate(s) for s in task.solution_samples])  # CodeTask.solutions' order
        outcomes.append(TaskOutcome(
            data=TaskData(task_id=task.task_id, E=mat.passed[keep], correct=correct[keep], n_tests=len(mat.tests)),
            sample_correct=tuple(bool(correct[i] and keep[i]) for i in raw_index), matrix=mat, truth=gt))
    return outcomes, info


def choose(outcome: TaskOutcome, strategy: str | B4Config = "b4", *,
           rng: np.random.Generator | int | None = 0) -> Selection[str] | None:
    """The solution `strategy` picks among a task's distinct loading solutions (None if none loads)."""
    keep = outcome.matrix.loaded
    candidates = [s for s, k in zip(outcome.matrix.solutions, keep, strict=True) if k]
    if not candidates:
        return None
    return select(candidates, matrix=outcome.data.E, strategy=strategy, rng=rng)


@dataclass(frozen=True, kw_only=True)
class EndToEndReport:
    """pass@1 of a raw sample, of each selection strategy, and of an oracle, with timings and counts.

    `strategies["sample"]` is the model's own pass@1 (one raw sample, duplicates counted);
    `strategies["oracle"]` is pass@N (some sample is correct): no selection can beat it. The others
    come from `reproduce.evaluate` over the distinct solutions that load ("random" is a uniform pick
    among those). "subset" is B4's: tasks with tests whose candidates are neither all right nor all wrong.
    """

    strategies: dict[str, dict[str, float]]
    n_tasks_all: int
    n_tasks_subset: int
    config: dict
    seconds: dict[str, float]
    counts: dict[str, int]
    per_task: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"strategies": self.strategies, "n_tasks_all": self.n_tasks_all,
                "n_tasks_subset": self.n_tasks_subset, "config": self.config, "seconds": self.seconds,
                "counts": self.counts, "per_task": self.per_task}


def score(outcomes: Sequence[TaskOutcome], strategies: Sequence[str] | None = None) -> tuple[dict, dict]:
    """pass@1 per strategy (all tasks, subset), plus "sample" and "oracle"; and selection seconds."""
    data = [o.data for o in outcomes]
    results, seconds = evaluate(data, strategies)
    subset = [o for o in outcomes if o.data.in_subset]

    def both(fn: Callable[[TaskOutcome], float]) -> dict[str, float]:
        return {"pass1_all": float(np.mean([fn(o) for o in outcomes])) if outcomes else 0.0,
                "pass1_subset": float(np.mean([fn(o) for o in subset])) if subset else 0.0}

    extra = {"sample": both(lambda o: o.sample_pass1),
             "oracle": both(lambda o: float(any(o.sample_correct)))}
    return {**extra, **results}, seconds


def per_task(outcomes: Sequence[TaskOutcome]) -> list[dict]:
    """One row per task: sizes, raw-sample pass@1 and what CodeT and B4 (β0 = 1e4) pick."""
    rows = []
    for o in outcomes:
        d = o.data
        row = {"task_id": d.task_id, "distinct_solutions": len(o.matrix.solutions), "loaded": len(d.correct),
               "tests": d.n_tests, "sample_pass1": o.sample_pass1, "in_subset": d.in_subset}
        for name in ("codet", "b4"):
            pick = choose(o, name, rng=None)
            row[name] = None if pick is None else float(pick.ranking.expected_correctness(d.correct))
        rows.append(row)
    return rows


def run(backend: Backend, problems: Sequence[Problem], config: GenerateConfig | None = None, *,
        executor: Executor | None = None, strategies: Sequence[str] | None = None, gt_timeout: float = 1.0,
        progress: Progress | None = None) -> EndToEndReport:
    """Generate, execute (sandboxed), select with every strategy and score against the ground truth."""
    cfg = config or GenerateConfig()
    if not problems:
        raise InvalidInput("run() needs at least one problem")
    executor = executor or Executor()
    tasks, gen = generate_tasks(backend, problems, cfg, progress=progress)
    outcomes, ex = execute(tasks, executor, gt_timeout=gt_timeout, progress=progress)
    results, select_seconds = score(outcomes, strategies)
    counts = {**gen["counts"], **ex["counts"], "executions": executor.stats.cells}
    return EndToEndReport(strategies=results, n_tasks_all=len(outcomes),
                          n_tasks_subset=sum(o.data.in_subset for o in outcomes),
                          config={**asdict(cfg), "model": backend.info.model, "gt_timeout": gt_timeout,
                                  "test_timeout": executor.config.test_timeout},
                          seconds={**gen["seconds"], **ex["seconds"], **select_seconds}, counts=counts,
                          per_task=per_task(outcomes))
