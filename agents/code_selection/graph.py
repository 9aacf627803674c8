"""B4 code selection as a LangGraph graph: candidates -> tests -> execute -> select -> (check) -> end; and `run`.

Candidates and tests come with the task or are sampled from the model with CodeT's prompts and
sampling; every candidate runs every test in the sandbox (selection/sandbox.py); the config's
strategy (B4 by default) ranks the groups of candidates that pass the same tests and a seeded pick
from the top group is the answer. Trusted tests of the task, if any, then check that answer.

    result = run(CodeSelectionTask(prompt=..., entry_point="add"), backend=backend)
    print(result.report())   # the chosen program, then the verdict
"""

from __future__ import annotations

import functools
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.agents.code_selection.nodes as nodes
from ratiocinator.agents.code_selection.config import CodeSelectionConfig
from ratiocinator.agents.code_selection.result import CodeSelectionResult, MatrixSummary
from ratiocinator.agents.code_selection.task import CodeSelectionTask
from ratiocinator.errors import InvalidInput
from ratiocinator.kit import (
    MethodContext,
    Verdict,
    failed,
    invoke,
    resolve_config,
    unverified,
    verified,
)
from ratiocinator.selection.execution import STATUSES, Executor


@functools.cache
def build_graph() -> Any:
    """The compiled graph (once per process); invoke it with `context=MethodContext(backend, config, usage)`."""
    graph = StateGraph(nodes.CodeSelectionState, context_schema=MethodContext)
    graph.add_node("candidates", nodes.candidates)
    graph.add_node("tests", nodes.tests)
    graph.add_node("execute", nodes.execute)
    graph.add_node("select", nodes.select_candidate)
    graph.add_node("check", nodes.check)
    graph.add_edge(START, "candidates")
    graph.add_edge("candidates", "tests")
    graph.add_edge("tests", "execute")
    graph.add_edge("execute", "select")
    graph.add_conditional_edges("select", nodes.after_select, {"check": "check", "end": END})
    graph.add_edge("check", END)
    return graph.compile()


def run(
    task: CodeSelectionTask,
    *,
    backend: Any,
    config: CodeSelectionConfig | None = None,
    executor: Executor | None = None,
) -> CodeSelectionResult:
    """Choose a solution of `task` by B4 (or the config's baseline strategy), sampling on `backend` what the task lacks.

    `backend` may be None when the task brings its candidates and tests. `executor` runs the code
    (its workers, its on-disk matrix cache); by default one with the config's sandbox limits.
    """
    if not isinstance(task, CodeSelectionTask):
        raise InvalidInput(
            f"task: expected a CodeSelectionTask, got {type(task).__name__} (CodeSelectionTask."
            "from_problem and .from_code_task convert selection's problems and tasks)"
        )
    cfg = resolve_config(config, CodeSelectionConfig)
    state, usage = invoke(
        build_graph(),
        {"task": task, "executor": executor or nodes.make_executor(cfg)},
        backend=backend,
        config=cfg,
    )
    chosen = state.get("chosen")
    selection = state.get("selection")
    solution = None if chosen is None else state["candidates"][chosen]
    trusted = state.get("trusted")
    return CodeSelectionResult(
        solution=solution,
        program=None if solution is None else task.prompt + solution,
        index=chosen,
        strategy=cfg.strategy_name,
        score=selection.ranking.groups[0].score if selection is not None else None,
        group=state.get("group", ()),
        passed=0 if chosen is None else int(state["matrix"].passed[chosen].sum()),
        candidates=state["candidates"],
        tests=state["tests"],
        candidates_generated=state["candidates_generated"],
        tests_generated=state["tests_generated"],
        matrix=summarize(state),
        trusted_passed=None if trusted is None else int(trusted.passed.sum()),
        trusted_total=len(task.trusted_tests),
        verdict=_verdict(state, cfg.strategy_name),
        usage=usage,
    )


def summarize(state: nodes.CodeSelectionState) -> MatrixSummary:
    """The passing matrix of the state in numbers (passes and groups over the candidates that load)."""
    matrix = state["matrix"]
    rows = matrix.passed[matrix.loaded]
    return MatrixSummary(
        candidates=len(matrix.solutions),
        loaded=int(matrix.loaded.sum()),
        tests=len(matrix.tests),
        passing_cells=int(rows.sum()),
        timeout_cells=int((matrix.status[matrix.loaded] == STATUSES.index("timeout")).sum()),
        groups=len({tuple(r) for r in rows.tolist()}),
    )


def _verdict(state: nodes.CodeSelectionState, strategy: str) -> Verdict:
    """verified only by trusted tests; generated (or supplied) tests leave the choice unverified."""
    matrix, chosen, trusted = state["matrix"], state.get("chosen"), state.get("trusted")
    n = len(matrix.solutions)
    if chosen is None:
        return failed(
            f"none of the {n} distinct candidates loads (each raised an error or ran out of time "
            "when defined), so there is nothing to choose"
        )
    total = len(state["task"].trusted_tests)
    if trusted is not None:
        ok = int(trusted.passed.sum())
        if ok < total:
            return failed(
                f"the solution {strategy} chose fails {total - ok} of the task's "
                f"{_count(total, 'trusted test')}"
            )
        return verified(
            f"the chosen solution passes the task's {_count(total, 'trusted test')} (run in the "
            "sandbox); behaviour beyond those tests was not checked"
        )
    m = len(matrix.tests)
    if m == 0:
        return unverified(
            f"no tests to run: chosen by {strategy} among {int(matrix.loaded.sum())} candidates that "
            "load, without any test; nothing checked the solution"
        )
    k = int(matrix.passed[chosen].sum())
    if state["tests_generated"]:
        return unverified(
            f"passes {k} of {m} generated tests; the tests themselves were generated and not checked"
        )
    return unverified(
        f"passes {k} of {m} tests supplied with the task; those tests are plausible, not known to be "
        "right, and were not checked"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
