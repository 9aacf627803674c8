"""The built-in benchmarks on small slices: planning-gold, selection (equal to reproduce()), generate-smoke, nuclear-norm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.evals import benchmark as registry
from ratiocinator.evals.results import load_results
from ratiocinator.evals.runner import RunConfig, run
from ratiocinator.models import ResponseCache
from ratiocinator.models.scripted import ScriptedBackend
from tests.shared_data import needs, root

#: the team's data, which does not ship (the llm-pddl problems, CodeT): $RATIOCINATOR_DATA or ../shared/data
DATA = root("planning/grippers/p01.pddl")
needs_data = needs("planning/grippers/p01.pddl", "planning/<domain>/pNN.pddl (llm-pddl) and code/humaneval (CodeT)")
SMOKE_ANSWERS = {"What is the capital of France? Answer with one word.": "Paris.",
                 "What colour is a clear daytime sky? Answer with one word.": "The sky is blue"}


def _smoke_reply(prompt, params) -> str:
    return SMOKE_ANSWERS.get(prompt[-1].content, "I do not know")


def test_an_option_marked_identity_when_set_joins_the_identity_only_off_its_default() -> None:
    from pydantic import BaseModel, Field

    class Opts(BaseModel):
        size: int = 3
        added: str = Field("old", json_schema_extra=registry.IDENTITY_WHEN_SET)

    assert registry.options_identity(Opts()) == {"size": 3}
    assert registry.options_identity(Opts(added="new", size=4)) == {"size": 4, "added": "new"}

    class Holder(BaseModel):  # a config the options hold: its marked fields too (PursuitConfig.prior_temperature)
        config: Opts = Opts()
        n: int = 1

    assert registry.options_identity(Holder()) == {"config": {"size": 3}, "n": 1}
    assert registry.options_identity(Holder(config=Opts(added="x"))) == {"config": {"size": 3, "added": "x"}, "n": 1}
    from ratiocinator.evals.benchmarks.pursuit import MediQOptions
    from ratiocinator.evals.benchmarks.toolbench_static import ToolBenchStaticOptions

    assert "prior_temperature" not in registry.options_identity(MediQOptions())["config"]
    assert registry.options_identity(ToolBenchStaticOptions())["config"]["tool_prior"] == "content-free"


def test_registry_lists_the_built_in_benchmarks() -> None:
    assert {"generate-smoke", "planning-gold", "selection", "nuclear-norm"} <= set(registry.names())
    assert registry.get("planning-gold").data_subdir == "planning"
    assert registry.get("nuclear-norm").needs_model


@needs_data
def test_planning_gold_solves_and_validates_a_domain(tmp_path: Path) -> None:
    result = run(RunConfig(benchmark="planning-gold", data_dir=str(DATA), out=str(tmp_path / "pg"), limit=2,
                           options={"domains": ["blocksworld"], "recheck": True}))
    records = load_results(tmp_path / "pg" / "results.jsonl")
    assert [r.item_id for r in records] == ["blocksworld/p01", "blocksworld/p02"]
    for r in records:
        assert r.score == 1.0 and r.metrics == {"solved": 1.0, "validated": 1.0} and r.group == "blocksworld"
        assert r.output["status"] == "solved" and r.output["steps"] == len(r.output["plan"])
    assert records[0].output["plan"] == [] and len(records[1].output["plan"]) > 0  # p01's goal holds at the start
    assert result.summary.row("validated").value == 1.0
    with pytest.raises(InvalidInput, match=r"unknown domain\(s\) \['nowhere'\]"):
        run(RunConfig(benchmark="planning-gold", data_dir=str(DATA), out=str(tmp_path / "bad"),
                      options={"domains": ["nowhere"]}))


@needs_data
@pytest.mark.slow
def test_planning_gold_in_worker_processes_equals_one_worker(tmp_path: Path) -> None:
    opts = {"domains": ["grippers", "storage"]}
    one = run(RunConfig(benchmark="planning-gold", data_dir=str(DATA), out=str(tmp_path / "a"), limit=4, options=opts))
    two = run(RunConfig(benchmark="planning-gold", data_dir=str(DATA), out=str(tmp_path / "b"), limit=4, options=opts,
                        workers=2))
    assert one.summary.n_errors == two.summary.n_errors == 0
    assert sorted(r.result_key() for r in load_results(tmp_path / "a" / "results.jsonl")) == \
        sorted(r.result_key() for r in load_results(tmp_path / "b" / "results.jsonl"))


@needs_data
@pytest.mark.slow
def test_selection_averages_to_what_reproduce_reports(tmp_path: Path) -> None:
    from ratiocinator.selection.execution import ExecutionConfig
    from ratiocinator.selection.reproduce import reproduce

    tasks = ("HumanEval/0", "HumanEval/2")
    cache = tmp_path / "matrices"
    result = run(RunConfig(benchmark="selection", data_dir=str(DATA), out=str(tmp_path / "sel"), workers=2,
                           options={"tasks": tasks, "matrix_cache": str(cache)}))
    report = reproduce(DATA / "code" / "humaneval", task_ids=tasks,
                       config=ExecutionConfig(workers=1, cache_dir=cache))
    assert result.summary.n_items == 2 and result.summary.n_errors == 0
    for name, figures in report.strategies.items():
        assert result.summary.row(f"pass1/{name}").value == pytest.approx(figures["pass1_all"])
        subset = result.summary.row(f"pass1_subset/{name}")
        assert (subset.value if subset else 0.0) == pytest.approx(figures["pass1_subset"])
    assert result.summary.score == pytest.approx(report.strategies["b4_1e5"]["pass1_all"])


@needs_data
def test_selection_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="primary strategy 'b4_1e5' is not among"):
        run(RunConfig(benchmark="selection", data_dir=str(DATA), out=str(tmp_path / "s"),
                      options={"strategies": ["codet"]}))
    with pytest.raises(InvalidInput, match="dataset: Input should be 'humaneval-codegen16b'"):
        run(RunConfig(benchmark="selection", data_dir=str(DATA), out=str(tmp_path / "s"),
                      options={"dataset": "mbpp"}))


def test_generate_smoke_scores_and_a_rerun_comes_from_the_cache(tmp_path: Path) -> None:
    cache_path = tmp_path / "responses.sqlite"
    first_backend = ScriptedBackend(_smoke_reply, cache=ResponseCache(cache_path))
    first = run(RunConfig(benchmark="generate-smoke", out=str(tmp_path / "a"), workers=3), backend=first_backend)
    assert len(first_backend.calls) == 6
    by_id = {r.item_id: r for r in load_results(tmp_path / "a" / "results.jsonl")}
    assert by_id["capital-france"].score == 1.0 and by_id["sky-colour"].score == 0.0
    assert by_id["sky-colour"].metrics == {"contains": 1.0} and by_id["two-plus-three"].metrics == {"contains": 0.0}
    assert first.summary.score == pytest.approx(1 / 6) and first.summary.row("contains").value == pytest.approx(2 / 6)

    again_backend = ScriptedBackend(lambda p, s: "a different reply", cache=ResponseCache(cache_path))
    again = run(RunConfig(benchmark="generate-smoke", out=str(tmp_path / "b")), backend=again_backend)
    assert again_backend.calls == []  # every request was a cache hit
    assert sorted(r.result_key() for r in load_results(tmp_path / "b" / "results.jsonl")) == \
        sorted(r.result_key() for r in by_id.values())
    assert again.summary.rows == first.summary.rows


class _HiddenStates(ScriptedBackend):
    """A scripted backend that also returns deterministic 'hidden states' of its replies."""

    def hidden_states(self, prompt, response: str) -> np.ndarray:
        rng = np.random.default_rng(len(response))
        return rng.normal(size=(len(response.split()), 8))


def test_nuclear_norm_over_scripted_responses(tmp_path: Path) -> None:
    from ratiocinator.evals.metrics import nuclear_norm

    backend = _HiddenStates(lambda p, s: " ".join(["word"] * (3 + len(p[-1].content) % 5)))
    result = run(RunConfig(benchmark="nuclear-norm", out=str(tmp_path / "nn"), limit=4), backend=backend)
    records = load_results(tmp_path / "nn" / "results.jsonl")
    assert len(records) == 4 and result.summary.n_errors == 0
    for r in records:
        n = r.output["response_tokens"]
        expected = nuclear_norm(np.random.default_rng(len(" ".join(["word"] * n))).normal(size=(n, 8)))
        assert r.score == pytest.approx(expected) and r.metrics["response_tokens"] == n
    assert result.summary.row().method == "bootstrap"


def test_nuclear_norm_refuses_a_backend_without_hidden_states(tmp_path: Path) -> None:
    result = run(RunConfig(benchmark="nuclear-norm", out=str(tmp_path / "nn"), limit=1),
                 backend=ScriptedBackend(lambda p, s: "some reply"))
    assert result.summary.n_errors == 1 and "UnsupportedFeature" in result.summary.errors[0]


@pytest.mark.slow
def test_generate_smoke_with_the_real_smollm(tmp_path: Path) -> None:
    config = RunConfig(benchmark="generate-smoke", model="embedded:smollm2-135m-instruct", out=str(tmp_path / "a"),
                       cache_path=str(tmp_path / "cache.sqlite"), threads=1, dtype="float32", limit=3)
    first = run(config)
    assert first.summary.n_items == 3 and first.summary.n_errors == 0
    assert first.summary.completion_tokens > 0
    again = run(config.model_copy(update={"out": str(tmp_path / "b")}))
    assert sorted(r.result_key() for r in load_results(tmp_path / "a" / "results.jsonl")) == \
        sorted(r.result_key() for r in load_results(tmp_path / "b" / "results.jsonl"))
    assert again.summary.rows == first.summary.rows


def test_compression_is_part_of_the_run_identity(tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    run(RunConfig(benchmark="generate-smoke", out=str(out), limit=1), backend=ScriptedBackend(_smoke_reply))
    with pytest.raises(InvalidInput, match=r"config differs .*compress: recorded None, now 'int8'"):
        run(RunConfig(benchmark="generate-smoke", out=str(out), resume=True, compress="int8"),
            backend=ScriptedBackend(_smoke_reply))
    with pytest.raises(InvalidInput, match="unknown scheme"):
        run(RunConfig(benchmark="generate-smoke", out=str(tmp_path / "bad"), compress="int3"),
            backend=ScriptedBackend(_smoke_reply))
    with pytest.raises(InvalidInput, match="a llamacpp: model is compressed by requantizing"):  # read for its engine
        run(RunConfig(benchmark="generate-smoke", model="llamacpp:x", out=str(tmp_path / "bad"), compress="int8"),
            backend=ScriptedBackend(_smoke_reply))
    with pytest.raises(InvalidInput, match="runs no model; drop --compress"):
        run(RunConfig(benchmark="planning-gold", data_dir=str(DATA), out=str(tmp_path / "p"), compress="int8"))
    assert not (tmp_path / "bad").exists() and not (tmp_path / "p").exists()
