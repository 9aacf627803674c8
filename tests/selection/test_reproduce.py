"""The HumanEval reproduction: data matching, subset rule, pass@1 bookkeeping, the bench's JSON shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ratiocinator import datadirs
from ratiocinator.selection.reproduce import (
    TaskData,
    evaluate,
    load_codet_humaneval,
    strategy_table,
)

ROOT = Path(__file__).resolve().parents[2]
#: CodeT's HumanEval and MBPP data do not ship (7 MB): $RATIOCINATOR_DATA or ../shared/data
DATA = (datadirs.holding("code/humaneval") or datadirs.data_roots()[0]) / "code" / "humaneval"
needs_data = pytest.mark.skipif(not DATA.exists(), reason=datadirs.missing("code/humaneval (CodeT)"))


@needs_data
def test_solutions_and_tests_are_matched_to_their_task_by_prompt() -> None:
    tasks = load_codet_humaneval(DATA)
    assert len(tasks) == len({t.task_id for t in tasks}) == 164
    assert tasks[0].task_id == "HumanEval/0" and tasks[10].task_id == "HumanEval/10"
    for task in tasks:
        assert len(task.solution_samples) == 100 and len(task.test_samples) == 100, task.task_id
    first = tasks[0]
    assert all("has_close_elements" in t for t in first.tests)
    assert len(first.tests) == len(set(first.tests)) > 50
    assert len(first.solutions) == len(set(first.solutions)) <= 100


def test_strategy_table_expands_b4_per_beta0() -> None:
    assert list(strategy_table(["codet", "b4"])) == ["codet", "b4_1e4", "b4_1e5", "b4_1e6"]
    assert list(strategy_table(None)) == ["random", "maxpass", "mbr_exec", "codet", "b4_1e4", "b4_1e5", "b4_1e6"]


def test_evaluate_subset_and_averages() -> None:
    hard = TaskData(task_id="hard", E=np.array([[1] * 6] * 2 + [[1, 0, 0, 0, 0, 0]] * 5),
                    correct=np.array([1, 1, 0, 0, 0, 0, 0], bool), n_tests=6)
    easy = TaskData(task_id="easy", E=np.ones((3, 2), int), correct=np.ones(3, bool), n_tests=2)
    no_tests = TaskData(task_id="none", E=np.zeros((4, 0), int), correct=np.array([1, 0, 0, 0], bool), n_tests=0)
    empty = TaskData(task_id="empty", E=np.zeros((0, 2), int), correct=np.zeros(0, bool), n_tests=2)
    assert [d.in_subset for d in (hard, easy, no_tests, empty)] == [True, False, False, False]
    results, seconds = evaluate([hard, easy, no_tests, empty], ["mbr_exec", "random", "b4"])
    assert results["mbr_exec"]["pass1_subset"] == 0.0
    assert results["b4_1e4"]["pass1_subset"] == 1.0
    assert results["random"]["pass1_subset"] == pytest.approx(2 / 7)
    # all: hard + easy (1.0) + no tests (uniform pick 1/4) + no candidates (0) over 4 tasks
    assert results["b4_1e4"]["pass1_all"] == pytest.approx((1.0 + 1.0 + 0.25 + 0.0) / 4)
    assert set(seconds) == {"select_mbr_exec", "select_random", "select_b4_1e4", "select_b4_1e5", "select_b4_1e6"}


@needs_data
@pytest.mark.slow
def test_bench_prints_the_documented_json(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "selection.py"), "--tasks", "HumanEval/45,HumanEval/53", "--json",
                           "--cache", str(tmp_path), "--strategies", "codet,b4"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) == {"strategies", "n_tasks_all", "n_tasks_subset", "seconds", "counts"}
    assert list(report["strategies"]) == ["codet", "b4_1e4", "b4_1e5", "b4_1e6"]
    for scores in report["strategies"].values():
        assert set(scores) == {"pass1_all", "pass1_subset"}
        assert 0.0 <= scores["pass1_all"] <= 1.0 and 0.0 <= scores["pass1_subset"] <= 1.0
    assert report["n_tasks_all"] == 2 and 0 <= report["n_tasks_subset"] <= 2
    assert report["counts"]["unique_solutions"] > 0 and report["counts"]["unique_tests"] > 0
    assert report["counts"]["matrices_from_cache"] == 0
    again = subprocess.run([sys.executable, str(ROOT / "bench" / "selection.py"), "--tasks", "HumanEval/45,HumanEval/53", "--json",
                            "--cache", str(tmp_path), "--strategies", "codet,b4"],
                           capture_output=True, text=True, timeout=120)
    second = json.loads(again.stdout)
    assert second["counts"]["matrices_from_cache"] == 2 and second["counts"]["executions"] == 0
    assert second["strategies"] == report["strategies"]
