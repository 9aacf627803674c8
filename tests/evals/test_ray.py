"""`--executor ray` (a local Ray instance, as the issue asks) gives the same results file as the local pool."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ratiocinator.errors import MissingPackage
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome, register
from ratiocinator.evals.results import load_results
from ratiocinator.evals.runner import RunConfig, run
from tests.shared_data import root

#: the llm-pddl problems do not ship: $RATIOCINATOR_DATA or ../shared/data
DATA = root("planning/grippers/p01.pddl")


@register
class Squares(Benchmark):
    """A toy defined outside the package: it must travel to the Ray workers by value."""

    name = "squares-toy"
    description = "toy"

    def items(self) -> list[Item]:
        return [Item(id=f"s{i}", inputs={"i": i}, group="low" if i < 5 else "high") for i in range(9)]

    def run(self, item: Item, ctx: Context) -> Outcome:
        i = item.inputs["i"]
        if i == 7:
            raise ValueError("seven fails")
        return Outcome(output={"square": i * i, "seed": ctx.item_seed(item)}, score=float(i % 2),
                       metrics={"third": float(i % 3 == 0)})


def _keys(out: Path) -> list[tuple]:
    return sorted(r.result_key() for r in load_results(out / "results.jsonl"))


def test_missing_ray_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed
    with pytest.raises(MissingPackage, match=r'(?s)needs Ray.*pip install "ray>=2.40,<3"'):
        run(RunConfig(benchmark="squares-toy", executor="ray", out=str(tmp_path / "r")))
    assert not (tmp_path / "r").exists()  # refused before anything was written


@pytest.mark.slow
def test_ray_executor_equals_the_local_one(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        local = run(RunConfig(benchmark="squares-toy", out=str(tmp_path / "local"), workers=2))
        remote = run(RunConfig(benchmark="squares-toy", out=str(tmp_path / "ray"), workers=2, executor="ray"))
        assert _keys(tmp_path / "local") == _keys(tmp_path / "ray") and len(_keys(tmp_path / "ray")) == 9
        assert remote.summary.rows == local.summary.rows and remote.summary.n_errors == 1

        # resume semantics are the executor's too: cut the file, resume on Ray, nothing lost or repeated
        path = tmp_path / "ray" / "results.jsonl"
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(lines[:4]) + lines[4][:10])
        resumed = run(RunConfig(benchmark="squares-toy", out=str(tmp_path / "ray"), workers=2, executor="ray",
                                resume=True))
        assert (resumed.ran, resumed.skipped) == (5, 4)
        assert _keys(tmp_path / "ray") == _keys(tmp_path / "local")

        if (DATA / "planning" / "grippers" / "p01.pddl").is_file():
            opts = {"domains": ["grippers"]}
            run(RunConfig(benchmark="planning-gold", data_dir=str(DATA), out=str(tmp_path / "pl"), limit=2,
                          options=opts))
            run(RunConfig(benchmark="planning-gold", data_dir=str(DATA), out=str(tmp_path / "pr"), limit=2,
                          options=opts, executor="ray", workers=2))
            assert _keys(tmp_path / "pl") == _keys(tmp_path / "pr")
    finally:
        ray.shutdown()
