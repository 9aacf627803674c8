"""Passing matrices: CodeT-style parsing, per-cell statuses, timeouts, malformed solutions, dedup, cache."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from ratiocinator import datadirs
from ratiocinator.selection.execution import (
    ExecutionConfig,
    Executor,
    MatrixRequest,
    extract_tests,
    truncate,
    unique,
)
from ratiocinator.selection.sandbox import Sandbox

PROMPT = 'def add(a, b):\n    """Return a + b."""\n'


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Sandbox()


def test_truncate_at_stop_markers() -> None:
    text = "    return a + b\n\n\ndef helper():\n    pass\nprint(1)"
    assert truncate(text) == "    return a + b\n\n"
    assert truncate("    x = 1\n# comment\n    y") == "    x = 1"
    assert truncate("    if a:\n        return 1\nif True: pass") == "    if a:\n        return 1"


def test_extract_tests_like_codet() -> None:
    sample = (
        "\thas_close_elements([1, 2, 3], 1) == True, \"msg\"\n"
        "assert \thas_close_elements([1, 2], 0.5) == False\n"
        "assert other_function(3) == 4\n"  # does not mention the entry point
        "assert has_close_elements([1, 2], (\n"  # does not compile
        "assert has_close_elements([], 1) == False\n\n# trailing comment\nassert never"
    )
    assert extract_tests(sample, "has_close_elements") == [
        'assert \thas_close_elements([1, 2, 3], 1) == True, "msg"',
        "assert \thas_close_elements([1, 2], 0.5) == False",
        "assert has_close_elements([], 1) == False",
    ]
    assert extract_tests("\n", "f") == []
    assert extract_tests("____ == f(1)\nassert f(2) == 3\nprint('x')", "f") == ["assert ____ == f(1)", "assert f(2) == 3"]


def test_unique_keeps_first_seen_order() -> None:
    assert unique(["b", "a", "b", "c", "a"]) == (("b", "a", "c"), (0, 1, 0, 2, 1))


def test_matrix_statuses_timeouts_and_malformed_solutions(sandbox: Sandbox) -> None:
    solutions = [
        "    return a + b\n",  # correct
        "    return a - b\n",  # wrong
        "    return a +\n",  # syntax error
        "    return add(a, b)\n",  # infinite recursion
        "    return a + b\nwhile True:\n    pass\n",  # never finishes loading
        "    while True:\n        pass\n",  # every test times out
        "    return a + b\n",  # duplicate of the first
        "    raise SystemExit(3)\n",  # exits instead of answering
    ]
    tests = [
        "assert add(1, 2) == 3",
        "assert add(2, 2) == 4",
        "assert add(1, 2) == 3",  # duplicate
        "assert add(1, 1) == 0",
        "assert add(None, 1) == 1",
    ]
    executor = Executor(ExecutionConfig(test_timeout=0.1, setup_timeout=0.5, workers=2, solutions_per_batch=3),
                        sandbox=sandbox)
    start = time.monotonic()
    m = executor.matrix(PROMPT, solutions, tests)
    assert time.monotonic() - start < 30
    assert len(m.solutions) == 7 and len(m.tests) == 4
    assert m.loaded.tolist() == [True, True, False, True, False, True, True]
    cells = [[m.cell(i, j) for j in range(4)] for i in range(7)]
    assert cells[0] == ["pass", "pass", "fail", "error"]
    assert cells[1] == ["fail", "fail", "pass", "error"]
    assert cells[2] == ["error"] * 4
    assert cells[3] == ["error"] * 4  # RecursionError, not a crash of the run
    assert cells[4] == ["error"] * 4
    assert cells[5] == ["timeout"] * 4
    assert cells[6] == ["error"] * 4  # SystemExit inside a test
    assert m.passed.dtype == np.int8 and m.passed[0].tolist() == [1, 1, 0, 0]
    assert executor.stats.jobs == 7 and executor.stats.cells == 28


def test_ground_truth_program(sandbox: Sandbox) -> None:
    check = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"
    executor = Executor(ExecutionConfig(workers=1), sandbox=sandbox)
    gt = executor.ground_truth(PROMPT, ["    return a + b\n", "    return 3\n"], check, "add")
    assert gt.passed[:, 0].tolist() == [1, 0]


def test_cache_round_trip_in_any_order(sandbox: Sandbox, tmp_path: Path) -> None:
    config = ExecutionConfig(workers=2, cache_dir=tmp_path)
    solutions = ["    return a + b\n", "    return a * b\n", "    return 4\n"]
    tests = ["assert add(2, 2) == 4", "assert add(1, 2) == 3", "assert add(0, 0) == 0"]
    first = Executor(config, sandbox=sandbox).matrix(PROMPT, solutions, tests)
    assert not first.cached and len(list(tmp_path.glob("*.npz"))) == 1
    again = Executor(config, sandbox=sandbox)
    second = again.matrix(PROMPT, solutions[::-1], tests[::-1])
    assert second.cached and again.stats.jobs == 0
    assert second.solutions == tuple(solutions[::-1]) and second.tests == tuple(tests[::-1])
    assert np.array_equal(second.status, first.status[::-1, ::-1])
    other = again.matrices([MatrixRequest(prompt=PROMPT, solutions=tuple(solutions), tests=tuple(tests),
                                          test_timeout=0.5)])[0]
    assert not other.cached  # another timeout is another key


def test_canonical_humaneval_solutions_pass_their_tests(sandbox: Sandbox) -> None:
    from ratiocinator.selection.reproduce import load_codet_humaneval

    data = (datadirs.holding("code/humaneval") or datadirs.data_roots()[0]) / "code" / "humaneval"
    if not data.exists():
        pytest.skip(datadirs.missing("code/humaneval (CodeT)"))
    import json

    problems = {p["task_id"]: p for p in map(json.loads, (data / "problems.jsonl").read_text().splitlines())}
    tasks = load_codet_humaneval(data, limit=4)
    executor = Executor(ExecutionConfig(workers=2), sandbox=sandbox)
    for task in tasks:
        assert task.solution_samples and task.test_samples, task.task_id
        canonical = problems[task.task_id]["canonical_solution"]
        gt = executor.ground_truth(task.prompt, [canonical, "    return None\n"], task.test, task.entry_point)
        assert gt.passed[:, 0].tolist() == [1, 0], task.task_id
