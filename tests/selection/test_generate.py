"""End-to-end generation with a ScriptedBackend: sampling requests, CodeT parsing, sandboxed scoring, cache."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from ratiocinator import datadirs
from ratiocinator.errors import InvalidInput
from ratiocinator.models.cache import ResponseCache
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.models.types import SamplingParams
from ratiocinator.selection.execution import STOP_MARKERS, ExecutionConfig, Executor, extract_tests
from ratiocinator.selection.generate import (
    GenerateConfig,
    Problem,
    choose,
    execute,
    generate_tasks,
    load_problems,
    run,
)

ROOT = Path(__file__).resolve().parents[2]
#: CodeT's HumanEval and MBPP data do not ship (7 MB): $RATIOCINATOR_DATA or ../shared/data
DATA = (datadirs.holding("code/humaneval") or datadirs.data_roots()[0]) / "code"

ADD = Problem(
    task_id="Toy/0",
    prompt='def add(a, b):\n    """Return a + b."""\n',
    test_prompt='def add(a, b):\n    """Return a + b."""\n    pass\n\n# check the correctness of add\nassert ',
    entry_point="add",
    test="def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
)
NEG = Problem(
    task_id="Toy/1",
    prompt='def neg(x):\n    """Return -x."""\n',
    test_prompt='def neg(x):\n    """Return -x."""\n    pass\n\n# check the correctness of neg\nassert ',
    entry_point="neg",
    test="def check(candidate):\n    assert candidate(3) == -3\n",
)
SOLUTIONS = {
    ADD.prompt: ["    return a + b\n", "    return a - b\n", "    return a + b\n",
                 "    return a * b\n# an explanation\ndef junk(", "    return (\n"],
    NEG.prompt: ["    return -x\n", "    return -x\n", "    return x\n", "    return 0 - x\n", "    while True: pass\n"],
}
TESTS = {
    ADD.test_prompt: ["add(1, 2) == 3\nassert add(2, 2) == 4\nassert add(0, 0) == 0\n", "add(5, 1) == 6\n# done"],
    NEG.test_prompt: ["neg(1) == -1\nassert neg(0) == 0\nprint('x')", "neg(-2) == 2\nassert neg(\n"],
}


def scripted(cache: ResponseCache | None = None) -> ScriptedBackend:
    served: defaultdict[str, int] = defaultdict(int)

    def reply(prompt: object, params: SamplingParams) -> str:
        assert isinstance(prompt, str)
        pool = SOLUTIONS.get(prompt) or TESTS[prompt]
        k = served[prompt]
        served[prompt] += 1
        return pool[k % len(pool)]

    return ScriptedBackend(reply, cache=cache)


CFG = GenerateConfig(n_solutions=5, n_test_samples=2, temperature=0.8, max_tokens=64, seed=7, rows_per_call=10)


@pytest.fixture(scope="module")
def executor() -> Executor:
    return Executor(ExecutionConfig(workers=2))


def test_config_is_typed_and_checked() -> None:
    params = CFG.solution_params()
    assert (params.temperature, params.seed, params.n, params.max_tokens, params.top_p) == (0.8, 7, 5, 64, 0.95)
    assert params.stop == STOP_MARKERS
    assert CFG.test_params().n == 2 and CFG.test_params().stop == ()
    assert GenerateConfig(test_max_tokens=300).test_params().max_tokens == 300
    for bad in ({"temperature": 0.0}, {"n_solutions": 0}, {"max_tokens": 0}, {"rows_per_call": 0}):
        with pytest.raises(InvalidInput):
            GenerateConfig(**bad)


def test_generation_requests_and_codet_parsing() -> None:
    backend = scripted()
    tasks, info = generate_tasks(backend, [ADD, NEG], CFG)
    assert [t.task_id for t in tasks] == ["Toy/0", "Toy/1"]
    assert all(c.params.seed == 7 and c.params.temperature == 0.8 for c in backend.calls)
    assert [c.prompt for c in backend.calls[:10]] == [ADD.prompt] * 5 + [NEG.prompt] * 5
    add = tasks[0]
    assert len(add.solution_samples) == 5 and len(add.test_samples) == 2
    # the scripted backend honours the stop strings, so the helper after "\n#" never arrives
    assert add.solutions == ("    return a + b\n", "    return a - b\n", "    return a * b", "    return (\n")
    assert add.tests == tuple(dict.fromkeys(t for s in TESTS[ADD.test_prompt] for t in extract_tests(s, "add")))
    assert add.tests == ("assert add(1, 2) == 3", "assert add(2, 2) == 4", "assert add(0, 0) == 0",
                         "assert add(5, 1) == 6")
    assert tasks[1].tests == ("assert neg(1) == -1", "assert neg(0) == 0", "assert neg(-2) == 2")
    assert info["counts"]["solution_completions"] == 10 and info["counts"]["test_completions"] == 4


def test_execute_select_and_score(executor: Executor) -> None:
    tasks, _ = generate_tasks(scripted(), [ADD, NEG], CFG)
    outcomes, info = execute(tasks, executor)
    add, neg = outcomes
    assert add.sample_correct == (True, False, True, False, False)  # the syntax error counts as wrong
    assert add.matrix.loaded.tolist() == [True, True, True, False]
    assert add.data.E.shape == (3, 4) and add.data.correct.tolist() == [True, False, False]
    assert neg.sample_correct == (True, True, False, True, False)  # the infinite loop times out: wrong
    add_pick, neg_pick = choose(add, "b4"), choose(neg, "b4")
    assert add_pick is not None and add_pick.best == "    return a + b\n"
    assert neg_pick is not None and set(neg_pick.top) == {"    return -x\n", "    return 0 - x\n"}
    assert info["counts"]["unique_solutions"] == 8


def test_run_reports_sample_random_codet_b4(executor: Executor) -> None:
    report = run(scripted(), [ADD, NEG], CFG, executor=executor, strategies=["random", "codet", "b4"])
    s = report.strategies
    assert s["sample"]["pass1_all"] == pytest.approx((2 / 5 + 3 / 5) / 2)
    assert s["oracle"]["pass1_all"] == 1.0
    assert s["random"]["pass1_all"] == pytest.approx((1 / 3 + 2 / 4) / 2)  # distinct, loading candidates
    assert s["codet"]["pass1_all"] == 1.0 and s["b4_1e4"]["pass1_all"] == 1.0
    assert report.n_tasks_all == 2 and report.n_tasks_subset == 2
    doc = json.loads(json.dumps(report.to_json()))
    assert doc["config"]["n_solutions"] == 5 and doc["config"]["model"] == "scripted"
    assert [r["b4"] for r in doc["per_task"]] == [1.0, 1.0]


def test_rerun_is_answered_by_the_response_cache(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "responses.sqlite")
    first = scripted(cache)
    tasks1, _ = generate_tasks(first, [ADD, NEG], CFG)
    second = scripted(cache)
    tasks2, info = generate_tasks(second, [ADD, NEG], CFG)
    assert second.calls == [] and tasks1 == tasks2
    assert info["counts"]["solution_cached"] == 10 and info["counts"]["test_cached"] == 4


def test_load_problems_from_a_folder(tmp_path: Path) -> None:
    rows = [{"task_id": p.task_id, "prompt": p.prompt, "entry_point": p.entry_point, "test": p.test}
            for p in (NEG, ADD)]
    (tmp_path / "problems.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "test_generation_prompts.jsonl").write_text(
        "\n".join(json.dumps({**r, "prompt": p.test_prompt}) for r, p in zip(rows, (NEG, ADD), strict=True)))
    assert load_problems(tmp_path) == [ADD, NEG]
    assert load_problems(tmp_path, task_ids=["Toy/1"]) == [NEG]
    with pytest.raises(InvalidInput):
        load_problems(tmp_path, task_ids=["Toy/9"])


@pytest.mark.skipif(not DATA.exists(), reason=datadirs.missing("code/ (CodeT)"))
def test_load_problems_humaneval_and_mbpp() -> None:
    humaneval = load_problems(DATA / "humaneval")
    assert len(humaneval) == 164 and humaneval[0].task_id == "HumanEval/0"
    assert humaneval[0].test_prompt.endswith("assert ") and humaneval[0].test_prompt.startswith(humaneval[0].prompt)
    mbpp = load_problems(DATA / "mbpp", limit=3)
    assert len(mbpp) == 3 and all(p.test_prompt.endswith("assert ") for p in mbpp)
