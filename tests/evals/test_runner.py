"""The runner core: results.jsonl semantics, resume after SIGKILL (a real process), damaged lines, config checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome, register
from ratiocinator.evals.results import ResultRecord, load_results
from ratiocinator.evals.runner import RunConfig, run

TOY = Path(__file__).parent / "slow_toy.py"


def _toy(out: Path, count: int = 60, workers: int = 2) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(TOY), str(out), str(count), "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _keys(out: Path) -> list[tuple]:
    return [r.result_key() for r in load_results(out / "results.jsonl", repair=False)]


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    reference = _toy(tmp_path / "ref")
    killed_dir = tmp_path / "killed"
    victim = _toy(killed_dir)
    deadline = time.monotonic() + 60
    while _lines(killed_dir / "results.jsonl") < 10:
        assert victim.poll() is None, victim.communicate()
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.005)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    before = len(load_results(killed_dir / "results.jsonl", repair=False))
    assert 10 <= before < 60, "the kill must land mid-way"

    resumed = _toy(killed_dir)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    ran, skipped, total = map(int, out.split())
    assert (ran, skipped, total) == (60 - before, before, 60)
    _, err_ref = reference.communicate(timeout=120)
    assert reference.returncode == 0, err_ref

    keys = _keys(killed_dir)
    assert len(keys) == 60 and len({k[0] for k in keys}) == 60, "no lost and no duplicated items"
    assert sorted(keys) == sorted(_keys(tmp_path / "ref"))
    sessions = (killed_dir / "sessions.jsonl").read_text().splitlines()
    assert [json.loads(s)["done_before"] for s in sessions] == [0, before]


@register
class Counting(Benchmark):
    """In-process toy: items 0..count-1; item 'boom' raises."""

    name = "counting-toy"
    description = "toy"

    def items(self) -> list[Item]:
        return [Item(id=f"c{i}", inputs={"i": i}) for i in range(8)] + [Item(id="boom", inputs={"i": -1})]

    def run(self, item: Item, ctx: Context) -> Outcome:
        if item.id == "boom":
            raise RuntimeError("this item always fails")
        return Outcome(output=item.inputs["i"] * 2, score=float(item.inputs["i"] % 2))


def test_partial_last_line_is_detected_and_redone(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = run(RunConfig(benchmark="counting-toy", out=str(out), limit=5))
    assert (first.ran, first.skipped) == (5, 0)
    path = out / "results.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:4]) + lines[4][: len(lines[4]) // 2])  # the 5th write cut short
    assert len(load_results(path, repair=False)) == 4

    again = run(RunConfig(benchmark="counting-toy", out=str(out), resume=True))
    assert (again.ran, again.skipped) == (5, 4)
    records = load_results(path)
    assert [r.item_id for r in records] == [f"c{i}" for i in range(4)] + ["c4", "c5", "c6", "c7", "boom"]
    assert all(line.endswith(b"}\n") for line in path.read_bytes().splitlines(keepends=True))
    boom = records[-1]
    assert boom.score is None and boom.error == "RuntimeError: this item always fails"
    summary = again.summary
    assert summary.n_items == 9 and summary.n_errors == 1
    assert summary.score == pytest.approx(4 / 9)  # an error counts as a failure


def test_damaged_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(RunConfig(benchmark="counting-toy", out=str(out), limit=3))
    path = out / "results.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "{not json", lines[2]]) + "\n")
    with pytest.raises(InvalidInput, match=r"line 2: not a valid result record"):
        run(RunConfig(benchmark="counting-toy", out=str(out), resume=True))


def test_resume_refuses_another_config_and_existing_dirs_need_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(RunConfig(benchmark="counting-toy", out=str(out), limit=2, seed=1))
    with pytest.raises(InvalidInput, match="already holds a run; pass --resume"):
        run(RunConfig(benchmark="counting-toy", out=str(out), seed=1))
    with pytest.raises(InvalidInput, match=r"config differs .*seed: recorded 1, now 2"):
        run(RunConfig(benchmark="counting-toy", out=str(out), seed=2, resume=True))
    # limit, workers and the executor may change on resume
    done = run(RunConfig(benchmark="counting-toy", out=str(out), seed=1, resume=True, workers=3))
    assert (done.ran, done.skipped) == (7, 2)


def test_unknown_benchmark_bad_options_and_bad_data_dir(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"unknown benchmark 'nope'; known benchmarks: .*planning-gold"):
        run(RunConfig(benchmark="nope", out=str(tmp_path / "x")))
    with pytest.raises(InvalidInput, match=r"counting-toy options: bogus: unknown option. Known options: none"):
        run(RunConfig(benchmark="counting-toy", options={"bogus": 1}, out=str(tmp_path / "y")))
    with pytest.raises(InvalidInput, match=r"--data-dir .*planning/ under the data directory"):
        run(RunConfig(benchmark="planning-gold", data_dir=str(tmp_path), out=str(tmp_path / "z")))
    with pytest.raises(InvalidInput, match="runs no model; drop --model"):
        run(RunConfig(benchmark="counting-toy", model="embedded:smollm2-135m-instruct", out=str(tmp_path / "w")))


def test_changed_inputs_are_refused_on_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(RunConfig(benchmark="counting-toy", out=str(out), limit=2))
    path = out / "results.jsonl"
    records = load_results(path)
    tampered = records[0].model_copy(update={"inputs_hash": "0" * 16})
    path.write_text(tampered.model_dump_json() + "\n" + records[1].model_dump_json() + "\n")
    with pytest.raises(InvalidInput, match="item c0's inputs changed"):
        run(RunConfig(benchmark="counting-toy", out=str(out), resume=True))


def test_retry_errors_reruns_only_the_items_that_ended_in_an_error(tmp_path: Path) -> None:
    out = tmp_path / "run"
    clean = run(RunConfig(benchmark="counting-toy", out=str(out), limit=3))
    path = out / "results.jsonl"
    records = load_results(path)
    failed = records[1].model_copy(update={"error": "BackendUnavailable: server gone", "score": None})
    path.write_text("".join(r.model_dump_json() + "\n" for r in (records[0], failed, records[2])))
    again = run(RunConfig(benchmark="counting-toy", out=str(out), limit=3, resume=True))
    assert (again.ran, again.summary.n_errors) == (0, 1)  # plain --resume keeps the error
    retried = run(RunConfig(benchmark="counting-toy", out=str(out), limit=3, resume=True, retry_errors=True))
    assert (retried.ran, retried.skipped, retried.summary.n_errors) == (1, 2, 0)
    after = load_results(path)
    assert sorted(r.item_id for r in after) == sorted(r.item_id for r in records)  # no duplicates
    assert retried.summary.rows == clean.summary.rows
    with pytest.raises(ValueError, match="needs resume"):
        RunConfig(benchmark="counting-toy", out=str(out), retry_errors=True)


def test_records_round_trip_and_parallel_order_does_not_matter(tmp_path: Path) -> None:
    one = run(RunConfig(benchmark="counting-toy", out=str(tmp_path / "a"), workers=1))
    four = run(RunConfig(benchmark="counting-toy", out=str(tmp_path / "b"), workers=4))
    assert sorted(_keys(tmp_path / "a")) == sorted(_keys(tmp_path / "b"))
    assert one.summary.rows == four.summary.rows
    record = load_results(tmp_path / "a" / "results.jsonl")[0]
    assert ResultRecord.model_validate_json(record.model_dump_json()) == record
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["identity"]["benchmark"] == "counting-toy" and "numpy" in config["versions"]["packages"]


N_KILL = 16  # items: enough that a loaded machine cannot finish them all between a poll and the kill


@pytest.mark.slow
@pytest.mark.skipif(not (Path(__file__).resolve().parents[3] / "shared" / "data" / "planning").is_dir(),
                    reason="no shared planning data")
def test_sigkill_of_the_eval_command_then_resume(tmp_path: Path) -> None:
    data = Path(__file__).resolve().parents[3] / "shared" / "data"
    args = [sys.executable, "-m", "ratiocinator.cli", "eval", "planning-gold", "--data-dir", str(data), "--limit", str(N_KILL),
            "--set", "domains=grippers,blocksworld", "--json", "--no-progress"]
    reference = subprocess.run([*args, "--out", str(tmp_path / "ref")], capture_output=True, text=True, timeout=300)
    assert reference.returncode == 0, reference.stderr
    victim = subprocess.Popen([*args, "--out", str(tmp_path / "run")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _lines(tmp_path / "run" / "results.jsonl") < 2:
        assert victim.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    before = len(load_results(tmp_path / "run" / "results.jsonl", repair=False))
    assert 2 <= before < N_KILL
    resumed = subprocess.run([*args, "--out", str(tmp_path / "run"), "--resume"], capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert (json.loads(resumed.stdout)["ran"], json.loads(resumed.stdout)["skipped"]) == (N_KILL - before, before)
    assert sorted(_keys(tmp_path / "run")) == sorted(_keys(tmp_path / "ref")) and len(_keys(tmp_path / "run")) == N_KILL


def test_model_calls_are_serialised_unless_the_backend_is_concurrent() -> None:
    import threading

    from ratiocinator.evals.benchmark import SharedBackend

    class Probe:
        concurrent = False

        def __init__(self) -> None:
            self.inside = 0
            self.most = 0
            self.lock = threading.Lock()

        def generate(self, *args, **kwargs):
            with self.lock:
                self.inside += 1
                self.most = max(self.most, self.inside)
            time.sleep(0.05)
            with self.lock:
                self.inside -= 1
            return []

    for concurrent in (False, True):
        probe = Probe()
        probe.concurrent = concurrent
        shared = SharedBackend(probe)
        barrier = threading.Barrier(4)

        def call(shared=shared, barrier=barrier) -> None:
            barrier.wait()
            shared.generate("x")

        threads = [threading.Thread(target=call) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert probe.most >= 2 if concurrent else probe.most == 1


@pytest.mark.slow
@pytest.mark.skipif(not (Path(__file__).resolve().parents[3] / "shared" / "data" / "planning").is_dir(),
                    reason="no shared planning data")
def test_ctrl_c_exits_130_and_the_run_resumes(tmp_path: Path) -> None:
    data = Path(__file__).resolve().parents[3] / "shared" / "data"
    args = [sys.executable, "-m", "ratiocinator.cli", "eval", "planning-gold", "--data-dir", str(data), "--limit", "3",
            "--set", "domains=termes", "--no-progress", "--out", str(tmp_path / "run")]
    # A shell that starts jobs in the background (as a CI runner may) leaves SIGINT ignored, and a
    # process that starts with SIGINT ignored never raises KeyboardInterrupt: restore the default.
    victim = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while _lines(tmp_path / "run" / "results.jsonl") < 1:
        assert victim.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    victim.send_signal(signal.SIGINT)
    _, err = victim.communicate(timeout=120)
    assert victim.returncode == 130, err
    assert "interrupted: finished items are saved" in err and "--resume" in err
    before = len(load_results(tmp_path / "run" / "results.jsonl"))
    resumed = subprocess.run([*args, "--resume", "--json"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["skipped"] == before and len(_keys(tmp_path / "run")) == 3


def test_rich_progress_reports_without_a_terminal(tmp_path: Path) -> None:
    from ratiocinator.evals.progress import RichProgress

    result = run(RunConfig(benchmark="counting-toy", out=str(tmp_path / "p"), workers=2), progress=RichProgress())
    assert result.ran == 9


LOAD_TOY = Path(__file__).parent / "load_toy.py"


def _load_toy(tmp_path: Path, bench: str, workers: int, **env: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    log = tmp_path / f"{bench}-loads.jsonl"
    r = subprocess.run([sys.executable, str(LOAD_TOY), str(tmp_path / bench), str(log), bench, str(workers)],
                       capture_output=True, text=True, timeout=300, env={**os.environ, "LOAD_TOY_LOG": str(log), **env})
    loads = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return r, loads


def _loads_per_process(loads: list[dict]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for load in loads:
        counts[load["pid"]] = counts.get(load["pid"], 0) + 1
    return counts


def test_a_process_pool_loads_the_model_in_the_workers_only(tmp_path: Path) -> None:
    # issue 16: the parent loaded the model too, so --workers K held K + 1 copies
    r, loads = _load_toy(tmp_path, "load-toy-processes", 2)
    assert r.returncode == 0, r.stderr
    parent = int(r.stdout.split()[0])
    per_process = _loads_per_process(loads)
    assert parent not in per_process, "the parent runs no item: it must load no model"
    assert 1 <= len(per_process) <= 2 and set(per_process.values()) == {1}, per_process
    assert {load["device"] for load in loads} == {"cpu"} and {load["spec"] for load in loads} == {"embedded:toy"}
    records = load_results(tmp_path / "load-toy-processes" / "results.jsonl")
    assert len(records) == 6 and all(rec.error is None for rec in records)
    assert {rec.output["pid"] for rec in records} <= set(per_process)
    # the recorded provenance comes from a worker's model, as it did from the parent's
    config = json.loads((tmp_path / "load-toy-processes" / "config.json").read_text())
    assert config["model"]["backend"] == "scripted" and config["model"]["model"] == "toy-model"
    assert config["identity"]["device"] == "cpu"


def test_a_load_error_in_a_worker_process_is_the_error_of_the_run(tmp_path: Path) -> None:
    r, loads = _load_toy(tmp_path, "load-toy-processes", 2, LOAD_TOY_FAIL="1")
    assert r.returncode == 2 and "MissingPackage: the toy model needs a package" in r.stderr, r.stderr
    assert "pip install toy-weights" in r.stderr
    assert int(r.stdout.split()[0]) not in _loads_per_process(loads)
    assert not (tmp_path / "load-toy-processes" / "results.jsonl").exists()


def test_a_thread_pool_loads_the_model_once_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ratiocinator.models
    from ratiocinator.models.scripted import ScriptedBackend

    loads: list[tuple[int, dict]] = []
    closed: list[bool] = []

    class Closing(ScriptedBackend):
        def close(self) -> None:
            closed.append(True)
            super().close()

    def loader(spec: str, **options: object) -> ScriptedBackend:
        loads.append((os.getpid(), options))
        return Closing(lambda prompt, params: "four")

    monkeypatch.setattr(ratiocinator.models, "load_backend", loader)
    result = run(RunConfig(benchmark="model-toy", model="embedded:toy", out=str(tmp_path / "t"), workers=3,
                           device="cuda:0", threads=2))
    assert result.ran == 4 and result.summary.n_errors == 0
    assert [pid for pid, _ in loads] == [os.getpid()], "one model, loaded where the threads run"
    assert loads[0][1]["device"] == "cuda:0" and loads[0][1]["threads"] == 2
    assert closed == [True], "the runner closes the model it loaded"


def test_device_is_checked_and_only_for_model_benchmarks(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="expected cpu, cuda or cuda:N"):
        RunConfig(benchmark="model-toy", device="gpu")
    with pytest.raises(InvalidInput, match="runs no model; drop --device"):
        run(RunConfig(benchmark="counting-toy", device="cpu", out=str(tmp_path / "c")))


@register
class ModelToy(Benchmark):
    """In-process toy that asks the model once per item."""

    name = "model-toy"
    description = "toy"
    needs_model = True

    def items(self) -> list[Item]:
        return [Item(id=f"m{i}", inputs={"i": i}) for i in range(4)]

    def run(self, item: Item, ctx: Context) -> Outcome:
        (reply,) = ctx.backend.generate(f"q{item.inputs['i']}")
        return Outcome(output=reply.text, score=1.0)


def test_llama_cpp_models_run_their_workers_as_processes() -> None:
    """One process serialises a llama.cpp model's calls, so --workers K spawns K processes to use K cores."""
    from ratiocinator.evals import benchmark as registry
    from ratiocinator.evals.runner import uses_processes

    safe, unsafe = registry.get("nuclear-norm"), registry.get("planning-gold")
    assert safe.thread_safe and safe.needs_model and not unsafe.thread_safe
    assert uses_processes(safe, 2, "llamacpp:qwen2.5-coder-0.5b-instruct")
    assert not uses_processes(safe, 1, "llamacpp:qwen2.5-coder-0.5b-instruct")
    for model in ("openai:qwen@http://localhost:8000/v1", "qwen2.5-coder-0.5b-instruct", None):
        assert not uses_processes(safe, 2, model), model  # a server batches; torch spreads one call already
    assert uses_processes(unsafe, 2) and not uses_processes(unsafe, 1)


def test_no_model_means_the_measured_default_engine_as_for_generate(tmp_path: Path, monkeypatch) -> None:
    """`eval run` without --model uses models/loading.default_spec, as `generate` and `chat` do (llama.cpp on a CPU)."""
    from ratiocinator.models.loading import ENGINE_ENV

    monkeypatch.chdir(tmp_path)
    for engine, slug in (("llamacpp", "smoke-llamacpp-qwen2.5-coder-0.5b-instruct-s0"),
                         ("transformers", "smoke-qwen2.5-coder-0.5b-instruct-s0")):
        monkeypatch.setenv(ENGINE_ENV, engine)
        with pytest.raises(InvalidInput, match="nothing to resume") as caught:
            run(RunConfig(benchmark="generate-smoke", resume=True, require_run=True))
        assert slug in str(caught.value), (engine, str(caught.value))
