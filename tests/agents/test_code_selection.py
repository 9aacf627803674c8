"""B4 code selection as a kit: the config's defaults, each node alone, the graph end to end with real sandboxed runs."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np
import pytest

from ratiocinator.agents.code_selection import (
    CodeSelectionConfig,
    CodeSelectionTask,
    build_graph,
    make_executor,
    nodes,
    run,
)
from ratiocinator.errors import InvalidInput
from ratiocinator.kit import StaticRuntime, method_context
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.selection.b4 import B4Config
from ratiocinator.selection.execution import STOP_MARKERS, ExecutionConfig, Executor, PassingMatrix
from ratiocinator.selection.generate import GenerateConfig, Problem, choose, execute, generate_tasks
from ratiocinator.selection.reproduce import CodeTask
from ratiocinator.selection.sandbox import SandboxConfig

pytestmark = pytest.mark.filterwarnings("ignore::ratiocinator.selection.sandbox.SandboxWarning")

PROMPT = 'def add(a, b):\n    """Return a + b."""\n'
TEST_PROMPT = PROMPT + "    pass\n\n# check the correctness of add\nassert "
SOLUTIONS = ["    return a + b\n", "    return a - b\n", "    return a + b\n",
             "    return a * b\n# an explanation\ndef junk(", "    return (\n"]
TEST_SAMPLES = ["add(1, 2) == 3\nassert add(2, 2) == 4\nassert add(0, 0) == 0\n", "add(5, 1) == 6\n# done"]
TESTS = ("assert add(1, 2) == 3", "assert add(2, 2) == 4", "assert add(0, 0) == 0", "assert add(5, 1) == 6")
CFG = CodeSelectionConfig(n_solutions=5, n_test_samples=2, max_tokens=64, seed=7)
TASK = CodeSelectionTask(task_id="Toy/0", prompt=PROMPT, entry_point="add")


def scripted() -> ScriptedBackend:
    """Solutions and test samples in turn, per prompt (as tests/selection/test_generate.py)."""
    served: defaultdict[str, int] = defaultdict(int)

    def reply(prompt, params):
        pool = TEST_SAMPLES if prompt == TEST_PROMPT else SOLUTIONS
        k = served[prompt]
        served[prompt] += 1
        return pool[k % len(pool)]

    return ScriptedBackend(reply)


def runtime(backend=None, config: CodeSelectionConfig = CFG) -> StaticRuntime:
    return StaticRuntime(method_context(backend if backend is not None else ScriptedBackend(), config))


@pytest.fixture(scope="module")
def executor() -> Executor:
    return make_executor(CFG)


# -- the config ---------------------------------------------------------------------------------------


def test_the_config_reads_its_defaults_from_the_engine_and_builds_its_configs():
    cfg = CodeSelectionConfig()
    assert cfg.strategy == "b4" and cfg.strategy_name == "b4_1e4"
    assert cfg.b4_config() == B4Config()
    assert cfg.generate_config() == GenerateConfig()
    ex = cfg.execution_config(workers=1)
    assert (ex.test_timeout, ex.setup_timeout, ex.slack) == (0.1, 2.0, 1.0) and ex.workers == 1
    assert dataclasses.replace(ex, workers=ExecutionConfig().workers) == ExecutionConfig()
    assert cfg.sandbox_config() == SandboxConfig()
    assert CFG.generate_config().solution_params().stop == STOP_MARKERS
    assert CodeSelectionConfig(strategy="codet").selector() == "codet"
    assert CodeSelectionConfig(beta0=1e5).selector() == B4Config(beta0=1e5)
    assert CodeSelectionConfig(beta0=1e6).strategy_name == "b4_1e6"


@pytest.mark.parametrize("bad", [{"strategy": "best"}, {"beta0": 0}, {"alpha_xy": -1}, {"temperature": 0.0},
                                 {"n_solutions": 0}, {"test_max_tokens": 0}, {"test_timeout": 0}])
def test_the_config_refuses_bad_values(bad):
    with pytest.raises(InvalidInput, match=next(iter(bad))):
        CodeSelectionConfig(**bad)


def test_the_task_is_checked_and_converts_the_engines_tasks():
    with pytest.raises(InvalidInput, match="entry_point"):
        CodeSelectionTask(prompt=PROMPT, entry_point="add(")
    with pytest.raises(InvalidInput, match="candidates"):
        CodeSelectionTask(prompt=PROMPT, entry_point="add", candidates="    return a + b")
    with pytest.raises(InvalidInput, match="prompt"):
        CodeSelectionTask(prompt=" ", entry_point="add")
    assert TASK.generation_prompt == TEST_PROMPT
    assert CodeSelectionTask(prompt=PROMPT, entry_point="add", tests=["assert add(1, 1) == 2"]).tests == (
        "assert add(1, 1) == 2",)
    problem = Problem(task_id="Toy/0", prompt=PROMPT, test_prompt=TEST_PROMPT, entry_point="add",
                      test="def check(candidate):\n    assert candidate(2, 3) == 5\n")
    task = CodeSelectionTask.from_problem(problem)
    assert task.generation_prompt == TEST_PROMPT and task.trusted_tests == (problem.test + "\ncheck(add)\n",)
    assert CodeSelectionTask.from_problem(problem, trusted=False).trusted_tests == ()
    coded = CodeSelectionTask.from_code_task(CodeTask(
        task_id="Toy/0", prompt=PROMPT, entry_point="add", test=problem.test,
        solution_samples=tuple(SOLUTIONS), test_samples=tuple(TEST_SAMPLES)))
    assert coded.candidates == ("    return a + b\n", "    return a - b\n", "    return a * b", "    return (\n")
    assert coded.tests == TESTS


# -- each node alone ----------------------------------------------------------------------------------


def test_candidates_of_the_task_need_no_model():
    backend = ScriptedBackend()
    task = dataclasses.replace(TASK, candidates=("    return a + b\n", "    return a + b\n", "    return b + a\n"))
    out = nodes.candidates({"task": task}, runtime(backend))
    assert out == {"candidates": ("    return a + b\n", "    return b + a\n"), "candidates_generated": False}
    assert backend.calls == []


def test_candidates_are_sampled_once_with_codets_parameters_and_truncated():
    backend = scripted()
    out = nodes.candidates({"task": TASK}, runtime(backend))
    assert out["candidates_generated"] and len(out["solution_samples"]) == 5
    assert out["candidates"] == ("    return a + b\n", "    return a - b\n", "    return a * b", "    return (\n")
    (call,) = backend.calls[:1]
    assert call.prompt == PROMPT and len(backend.calls) == 5  # one generate call of n = 5 samples
    p = call.params
    assert (p.n, p.seed, p.temperature, p.top_p, p.max_tokens, p.stop) == (5, 7, 0.8, 0.95, 64, STOP_MARKERS)


def test_tests_are_sampled_from_codets_test_prompt_and_split_into_asserts():
    backend = scripted()
    out = nodes.tests({"task": TASK}, runtime(backend))
    assert out["tests"] == TESTS and out["tests_generated"]
    assert {c.prompt for c in backend.calls} == {TEST_PROMPT}
    assert backend.calls[0].params.n == 2 and backend.calls[0].params.stop == ()
    given = dataclasses.replace(TASK, tests=("assert add(1, 1) == 2",))
    assert nodes.tests({"task": given}, runtime(ScriptedBackend())) == {
        "tests": ("assert add(1, 1) == 2",), "tests_generated": False}
    none = nodes.tests({"task": TASK}, runtime(ScriptedBackend(), CFG.model_copy(update={"n_test_samples": 0})))
    assert none == {"tests": (), "tests_generated": False}


def test_execute_runs_every_candidate_on_every_test_in_the_sandbox(executor):
    cands = ("    return a + b\n", "    return a - b\n", "    return (\n", "    while True: pass\n")
    state = {"task": TASK, "candidates": cands, "tests": TESTS, "executor": executor}
    matrix = nodes.execute(state, runtime())["matrix"]
    assert matrix.solutions == cands and matrix.tests == TESTS
    assert matrix.loaded.tolist() == [True, True, False, True]  # a syntax error does not load
    assert matrix.passed[0].tolist() == [1, 1, 1, 1] and matrix.passed[1].tolist() == [0, 0, 1, 0]
    assert [matrix.cell(3, j) for j in range(4)] == ["timeout"] * 4


def _matrix(rows, loaded=None) -> PassingMatrix:
    E = np.array(rows, dtype=np.uint8)
    return PassingMatrix(solutions=tuple(f"    return {i}\n" for i in range(len(rows))),
                         tests=tuple(f"assert t{j}" for j in range(E.shape[1])), status=(1 - E).astype(np.uint8),
                         loaded=np.array(loaded if loaded is not None else [True] * len(rows)))


def test_select_ranks_the_loaded_candidates_by_the_strategy():
    # two candidates pass all six tests; five identical ones only the first; one does not load
    rows = [[1, 0, 0, 0, 0, 0]] + [[1] * 6] * 2 + [[1, 0, 0, 0, 0, 0]] * 5
    matrix = _matrix(rows, loaded=[False] + [True] * 7)
    state = {"task": TASK, "matrix": matrix}
    b4 = nodes.select_candidate(state, runtime())
    assert b4["group"] == (1, 2) and b4["chosen"] in (1, 2)
    assert b4["selection"].ranking.strategy == "b4_1e4"
    mbr = nodes.select_candidate(state, runtime(config=CFG.model_copy(update={"strategy": "mbr_exec"})))
    assert mbr["group"] == (3, 4, 5, 6, 7)  # the largest group, indices into the candidates (0 did not load)
    none = nodes.select_candidate({"task": TASK, "matrix": _matrix(rows, loaded=[False] * 8)}, runtime())
    assert none == {"selection": None, "chosen": None, "group": ()}


def test_the_pick_in_the_top_group_is_seeded():
    state = {"task": TASK, "matrix": _matrix([[1, 1]] * 6)}
    picks = {nodes.select_candidate(state, runtime(config=CFG.model_copy(update={"seed": s})))["chosen"]
             for s in range(12)}
    again = {nodes.select_candidate(state, runtime(config=CFG.model_copy(update={"seed": s})))["chosen"]
             for s in range(12)}
    assert len(picks) > 1 and picks == again


def test_check_runs_the_chosen_candidate_on_the_trusted_tests(executor):
    task = dataclasses.replace(TASK, trusted_tests=("assert add(2, 3) == 5", "assert add(0, 0) == 0"))
    cands = ("    return a - b\n", "    return a + b\n")
    matrix = nodes.execute({"task": task, "candidates": cands, "tests": (), "executor": executor}, runtime())["matrix"]
    state = {"task": task, "matrix": matrix, "chosen": 1, "executor": executor}
    assert nodes.after_select(state) == "check"
    assert nodes.check(state, runtime())["trusted"].passed.tolist() == [[1, 1]]
    assert nodes.check({**state, "chosen": 0}, runtime())["trusted"].passed.tolist() == [[0, 1]]
    assert nodes.after_select({**state, "chosen": None}) == "end"
    assert nodes.after_select({**state, "task": TASK}) == "end"


# -- the graph end to end -----------------------------------------------------------------------------


def test_generated_candidates_and_tests_leave_the_choice_unverified(executor):
    backend = scripted()
    result = run(TASK, backend=backend, config=CFG, executor=executor)
    assert result.solution == "    return a + b\n" and result.program == PROMPT + "    return a + b\n"
    assert result.index == 0 and result.group == (0,) and result.strategy == "b4_1e4"
    assert result.candidates_generated and result.tests_generated and result.tests == TESTS
    assert result.passed == 4 and result.score is not None and result.score < 0  # a log posterior
    m = result.matrix
    assert (m.candidates, m.loaded, m.tests, m.passing_cells, m.groups) == (4, 3, 4, 4 + 1 + 2, 3)
    assert result.verdict.status == "unverified"
    assert result.verdict.reason == (
        "passes 4 of 4 generated tests; the tests themselves were generated and not checked")
    assert result.trusted_passed is None and result.trusted_total == 0
    # usage: what went through the backend (two generate calls), counted by the wrapper
    assert result.usage.calls == 2
    assert result.usage.completion_tokens == sum(c.completion_tokens for c in backend.completions)
    assert result.report().startswith(PROMPT + "    return a + b") and "unverified" in result.report()


def test_the_kit_calls_the_model_and_picks_exactly_as_selection_generate(executor):
    """Behaviour unchanged: the same requests (prompts, sampling parameters, order) and the same pick."""
    problem = Problem(task_id="Toy/0", prompt=PROMPT, test_prompt=TEST_PROMPT, entry_point="add",
                      test="def check(candidate):\n    assert candidate(2, 3) == 5\n")
    engine_backend, kit_backend = scripted(), scripted()
    tasks, _ = generate_tasks(engine_backend, [problem], CFG.generate_config())
    outcomes, _ = execute(tasks, executor)
    result = run(CodeSelectionTask.from_problem(problem, trusted=False), backend=kit_backend, config=CFG,
                 executor=executor)
    assert [(c.prompt, c.params) for c in kit_backend.calls] == [
        (c.prompt, c.params) for c in engine_backend.calls]
    assert result.candidates == tasks[0].solutions and result.tests == tasks[0].tests
    pick = choose(outcomes[0], CFG.selector(), rng=CFG.seed)
    assert pick is not None and result.solution == pick.best


def test_trusted_tests_verify_the_choice_or_fail_it(executor):
    good = run(dataclasses.replace(TASK, trusted_tests=("assert add(2, 3) == 5",)), backend=scripted(),
               config=CFG, executor=executor)
    assert good.verdict.status == "verified" and good.trusted_passed == 1 and good.trusted_total == 1
    assert "trusted test" in good.verdict.reason and "not checked" in good.verdict.reason
    # the tests agree on a wrong solution: the trusted test catches it
    wrong = CodeSelectionTask(prompt=PROMPT, entry_point="add", candidates=("    return a * b\n", "    return a + b\n",
                                                                           "    return a * b + 0\n"),
                              tests=("assert add(2, 2) == 4",), trusted_tests=("assert add(2, 3) == 5",))
    bad = run(wrong, backend=None, config=CodeSelectionConfig(strategy="mbr_exec"), executor=executor)
    assert bad.solution in ("    return a * b\n", "    return a * b + 0\n")
    assert bad.verdict.status == "failed" and bad.trusted_passed == 0
    assert "fails 1 of the task's 1 trusted test" in bad.verdict.reason


def test_supplied_candidates_and_tests_need_no_backend(executor):
    task = CodeSelectionTask(prompt=PROMPT, entry_point="add", candidates=("    return a + b\n", "    return a - b\n"),
                             tests=("assert add(1, 2) == 3", "assert add(2, 0) == 2"))
    result = run(task, backend=None, executor=executor)
    assert result.solution == "    return a + b\n" and result.usage.calls == 0
    assert not result.candidates_generated and not result.tests_generated
    assert result.verdict.status == "unverified" and "supplied with the task" in result.verdict.reason


def test_no_candidate_that_loads_is_a_failure_and_no_tests_say_so(executor):
    broken = CodeSelectionTask(prompt=PROMPT, entry_point="add", candidates=("    return (\n", "    raise ValueError\nx = 1/0\n"),
                               tests=("assert add(1, 2) == 3",))
    result = run(broken, backend=None, executor=executor)
    assert result.solution is None and result.program is None and result.index is None
    assert result.verdict.status == "failed" and "none of the 2 distinct candidates loads" in result.verdict.reason
    assert result.report().startswith("no solution chosen")
    untested = dataclasses.replace(broken, candidates=("    return a + b\n",), tests=())
    result = run(untested, backend=None, config=CodeSelectionConfig(n_test_samples=0), executor=executor)
    assert result.solution == "    return a + b\n" and result.verdict.status == "unverified"
    assert result.verdict.reason.startswith("no tests to run")


def test_build_graph_is_compiled_once_and_run_checks_its_input():
    assert build_graph() is build_graph()
    assert set(build_graph().get_graph().nodes) >= {"candidates", "tests", "execute", "select", "check"}
    with pytest.raises(InvalidInput, match="CodeSelectionTask"):
        run(PROMPT, backend=None)  # type: ignore[arg-type]


# -- the benchmark holds the config -------------------------------------------------------------------


def test_the_selection_benchmark_routes_its_b4_options_through_the_config():
    from ratiocinator.evals.benchmarks.selection import Selection

    default = Selection.parse_options({})
    assert default.config == CodeSelectionConfig(beta0=1e5) and default.config.strategy_name == "b4_1e5"
    opts = Selection.parse_options({"test_timeout": "0.2", "strategy": "codet", "config.alpha_xy": "500"})
    assert opts.config.test_timeout == 0.2 and opts.config.strategy_name == "codet"
    assert opts.config.alpha_xy == 500 and opts.config.beta0 == 1e5
    with pytest.raises(InvalidInput, match="n_solutions set, but this benchmark samples nothing"):
        Selection(Selection.parse_options({"n_solutions": 3})).items()


# -- a real model -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_default_model_samples_candidates_and_tests_end_to_end(qwen, executor):
    task = CodeSelectionTask(prompt=PROMPT, entry_point="add", trusted_tests=("assert add(2, 3) == 5",))
    config = CodeSelectionConfig(n_solutions=4, n_test_samples=2, max_tokens=48, test_max_tokens=96)
    result = run(task, backend=qwen, config=config, executor=executor)
    assert result.candidates_generated and result.tests_generated and result.usage.calls == 2
    assert result.matrix.candidates >= 1 and result.matrix.tests >= 1
    assert all(t.startswith("assert ") and "add" in t for t in result.tests)  # CodeT's parsing
    assert result.solution is not None and result.trusted_total == 1
    # the trusted test decides the verdict, whatever the generated tests said
    assert result.verdict.status == ("verified" if result.trusted_passed == 1 else "failed")
    print(result.report())
