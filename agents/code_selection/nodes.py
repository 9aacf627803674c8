"""B4 code selection's nodes: candidates (sampled if the task has none), tests (likewise), execute (sandbox), select, check.

Each node is a function of the graph's state and the LangGraph runtime, whose context carries the
backend and the CodeSelectionConfig (see kit/context.py). Generated code runs only in the sandbox
(selection/sandbox.py), through the Executor of the state (or one built from the config).
"""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.runtime import Runtime

from ratiocinator.agents.code_selection.config import CodeSelectionConfig
from ratiocinator.agents.code_selection.task import CodeSelectionTask
from ratiocinator.kit import MethodContext
from ratiocinator.models.types import SamplingParams
from ratiocinator.selection.api import Selection, select
from ratiocinator.selection.execution import (
    Executor,
    MatrixRequest,
    PassingMatrix,
    solutions_from_samples,
    tests_from_samples,
    unique,
)
from ratiocinator.selection.sandbox import Sandbox

Ctx = Runtime[MethodContext[CodeSelectionConfig]]


class CodeSelectionState(TypedDict, total=False):
    """The graph's state: the task, what was sampled, the candidates and tests, the matrix, the pick."""

    task: CodeSelectionTask
    executor: Executor  # optional: the Executor that runs the code (its cache, workers, sandbox)
    solution_samples: tuple[str, ...]  # raw completions, when the candidates were sampled
    candidates: tuple[str, ...]  # distinct candidates, in first-seen order
    candidates_generated: bool
    test_samples: tuple[str, ...]  # raw completions, when the tests were sampled
    tests: tuple[str, ...]  # distinct tests, in first-seen order
    tests_generated: bool
    matrix: PassingMatrix  # candidates x tests, run in the sandbox
    selection: Selection[str] | None  # over the candidates that load; None: none loads
    chosen: int | None  # the chosen candidate's index in `candidates`
    group: tuple[int, ...]  # the top group it was picked from (indices in `candidates`)
    trusted: PassingMatrix | None  # the chosen candidate on the task's trusted tests


def make_executor(config: CodeSelectionConfig) -> Executor:
    """An Executor with the config's limits (per-test timeouts, sandbox)."""
    return Executor(config.execution_config(), Sandbox(config.sandbox_config()))


def _executor(state: CodeSelectionState, runtime: Ctx) -> Executor:
    return state.get("executor") or make_executor(runtime.context.config)


def _sample(runtime: Ctx, prompt: str, params: SamplingParams) -> tuple[str, ...]:
    """`params.n` raw completions of one prompt, in one generate call (as selection.generate batches)."""
    return tuple(c.text for c in runtime.context.backend.generate([prompt], params))


def candidates(state: CodeSelectionState, runtime: Ctx) -> dict[str, Any]:
    """The task's candidates; or n_solutions sampled from the prompt, truncated as CodeT does."""
    task = state["task"]
    if task.candidates:
        return {"candidates": unique(task.candidates)[0], "candidates_generated": False}
    params = runtime.context.config.generate_config().solution_params()
    samples = _sample(runtime, task.prompt, params)
    return {
        "solution_samples": samples,
        "candidates": solutions_from_samples(samples),
        "candidates_generated": True,
    }


def tests(state: CodeSelectionState, runtime: Ctx) -> dict[str, Any]:
    """The task's tests; or n_test_samples sampled from CodeT's test prompt, split into asserts."""
    task = state["task"]
    if task.tests:
        return {"tests": unique(task.tests)[0], "tests_generated": False}
    generate = runtime.context.config.generate_config()
    if not generate.n_test_samples:
        return {"tests": (), "tests_generated": False}
    samples = _sample(runtime, task.generation_prompt, generate.test_params())
    return {
        "test_samples": samples,
        "tests": tests_from_samples(samples, task.entry_point),
        "tests_generated": True,
    }


def execute(state: CodeSelectionState, runtime: Ctx) -> dict[str, Any]:
    """Run every candidate on every test in the sandbox: the passing matrix."""
    matrix = _executor(state, runtime).matrix(state["task"].prompt, state["candidates"], state["tests"])
    return {"matrix": matrix}


def select_candidate(state: CodeSelectionState, runtime: Ctx) -> dict[str, Any]:
    """Rank the candidates that load by the strategy, pick one from the top group (seeded)."""
    cfg = runtime.context.config
    matrix = state["matrix"]
    loaded = [i for i, ok in enumerate(matrix.loaded.tolist()) if ok]
    if not loaded:
        return {"selection": None, "chosen": None, "group": ()}
    pick = select(
        [matrix.solutions[i] for i in loaded],
        matrix=matrix.passed[matrix.loaded],
        strategy=cfg.selector(),
        rng=cfg.seed,
    )
    return {
        "selection": pick,
        "chosen": loaded[pick.best_index],
        "group": tuple(loaded[i] for i in pick.ranking.top),
    }


def check(state: CodeSelectionState, runtime: Ctx) -> dict[str, Any]:
    """Run the chosen candidate on the task's trusted tests (in the sandbox)."""
    task, chosen = state["task"], state.get("chosen")
    if chosen is None or not task.trusted_tests:
        return {"trusted": None}
    request = MatrixRequest(
        prompt=task.prompt,
        solutions=(state["matrix"].solutions[chosen],),
        tests=task.trusted_tests,
        test_timeout=runtime.context.config.trusted_test_timeout,
    )
    return {"trusted": _executor(state, runtime).matrices([request])[0]}


def after_select(state: CodeSelectionState) -> str:
    """Check the choice when the task has trusted tests (and something was chosen), else end."""
    return "check" if state.get("chosen") is not None and state["task"].trusted_tests else "end"
