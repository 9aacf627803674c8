"""Eval suites: the seeded sample, the suite files, running and resuming a suite, its estimate and its report."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratiocinator.cli import app
from ratiocinator.errors import InvalidInput
from ratiocinator.evals import suite_run
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome, register, sample_items
from ratiocinator.evals.metrics import mcnemar_exact, paired_test, sign_test
from ratiocinator.evals.report import load_run, paired_markdown
from ratiocinator.evals.results import load_results
from ratiocinator.evals.runner import RunConfig, run
from ratiocinator.evals.suite import (
    load_suite,
    suite_names,
    with_current_anchors,
    with_packaged_members,
)
from ratiocinator.evals.suite_report import (
    load_suite_run,
    suite_cost,
    suite_markdown,
    suite_rows,
    write_suite_report,
)
from ratiocinator.evals.suite_run import (
    SuiteOptions,
    estimate,
    measure_speed,
    plan_suite,
    run_suite,
)
from ratiocinator.models.scripted import ScriptedBackend
from tests.shared_data import needs, root

DATA = root("planning/grippers/p01.pddl")
needs_data = needs("planning/grippers/p01.pddl", "the team's data (planning, optimization, critique, ...)")

#: items of SuiteToyB that raise KeyboardInterrupt once (a Ctrl-C in the middle of the suite)
INTERRUPT: set[str] = set()
#: items of SuiteToyA that fail once (recorded with an error, as a backend that cannot serve them)
FAIL: set[str] = set()


@register
class SuiteToyA(Benchmark):
    """Ten items; item i is right when i is even; the model is asked once per item."""

    name = "suite-toy-a"
    needs_model = True

    def items(self) -> list[Item]:
        return [Item(id=f"a{i:02d}", inputs={"i": i}) for i in range(10)]

    def run(self, item: Item, ctx: Context) -> Outcome:
        if item.id in FAIL:
            FAIL.discard(item.id)
            raise RuntimeError(f"{item.id} failed")
        (c,) = ctx.backend.generate(f"item {item.id}")
        return Outcome(output=c.text, score=float(item.inputs["i"] % 2 == 0), prompt_tokens=c.prompt_tokens,
                       completion_tokens=c.completion_tokens)


@register
class SuiteToyB(Benchmark):
    """Twenty items without a model, scores in [0, 1] that are not 0/1; grouped."""

    name = "suite-toy-b"

    def items(self) -> list[Item]:
        return [Item(id=f"b{i:02d}", inputs={"i": i}, group="odd" if i % 2 else "even") for i in range(20)]

    def run(self, item: Item, ctx: Context) -> Outcome:
        if item.id in INTERRUPT:
            INTERRUPT.discard(item.id)
            raise KeyboardInterrupt
        return Outcome(output=None, score=item.inputs["i"] / 40)


SUITE_TOML = """
name = "toys"
description = "two toy members"
sample_seed = 7

[[members]]
id = "a"
benchmark = "suite-toy-a"
sample = 6
cost = { prompt_tokens = 100, completion_tokens = 10, seconds = 1 }
[[members.anchors]]
value = 0.9
citation = "Somebody 2024, A Paper"
measured_with = "a big model"

[[members]]
id = "b"
benchmark = "suite-toy-b"
sample = 12
cost = { seconds = 2 }
[[members.anchors]]
group = "odd"
value = 0.25
citation = "Other 2023, Another Paper"
"""


def _suite_file(tmp_path: Path, text: str = SUITE_TOML) -> Path:
    path = tmp_path / "toys.toml"
    path.write_text(text)
    return path


def _backend() -> ScriptedBackend:
    return ScriptedBackend(lambda prompt, params: None if params.schema is not None else "The answer is 42.")


# ---------------------------------------------------------------- the sample


def test_the_sample_is_seeded_nested_and_independent_of_order() -> None:
    items = [Item(id=f"q{i:03d}", inputs={"i": i}) for i in range(100)]
    s20, s40 = sample_items(items, 20, seed=0), sample_items(items, 40, seed=0)
    assert len(s20) == 20 and len(s40) == 40
    assert [it.id for it in s20] != [it.id for it in items[:20]], "not the first N"
    assert {it.id for it in s20} <= {it.id for it in s40}, "a larger sample holds the smaller one"
    assert [it.id for it in s20] == sorted(it.id for it in s20), "kept in the benchmark's order"
    assert {it.id for it in sample_items(list(reversed(items)), 20, seed=0)} == {it.id for it in s20}
    assert {it.id for it in sample_items(items, 20, seed=1)} != {it.id for it in s20}
    assert sample_items(items, 500, seed=0) == items
    # spread over the set, not clustered at its start (an ordered set's first items are not representative)
    assert max(int(it.id[1:]) for it in s20) >= 60 and min(int(it.id[1:]) for it in s20) < 40
    with pytest.raises(InvalidInput, match="positive"):
        sample_items(items, 0, seed=0)


def test_a_sampled_run_is_the_same_items_for_every_model_and_grows_on_resume(tmp_path: Path) -> None:
    a = run(RunConfig(benchmark="suite-toy-a", sample=4, sample_seed=3, out=str(tmp_path / "m1")),
            backend=ScriptedBackend(lambda p, s: "x", name="m1"))
    b = run(RunConfig(benchmark="suite-toy-a", sample=4, sample_seed=3, out=str(tmp_path / "m2")),
            backend=ScriptedBackend(lambda p, s: "y", name="m2"))
    ids1 = [r.item_id for r in load_results(tmp_path / "m1" / "results.jsonl")]
    ids2 = [r.item_id for r in load_results(tmp_path / "m2" / "results.jsonl")]
    assert a.ran == b.ran == 4 and ids1 == ids2 and ids1 != ["a00", "a01", "a02", "a03"]
    grown = run(RunConfig(benchmark="suite-toy-a", sample=7, sample_seed=3, out=str(tmp_path / "m1"), resume=True),
                backend=ScriptedBackend(lambda p, s: "x", name="m1"))
    assert (grown.ran, grown.skipped) == (3, 4)
    sessions = [json.loads(line) for line in (tmp_path / "m1" / "sessions.jsonl").read_text().splitlines()]
    assert [(s["sample"], s["sample_seed"]) for s in sessions] == [(4, 3), (7, 3)]


# ---------------------------------------------------------------- the suite files


def test_the_shipped_suites_load_and_core_has_the_issues_sizes() -> None:
    from ratiocinator.evals import benchmark as registry

    assert {"smoke", "core", "full"} <= set(suite_names())
    for name in suite_names():
        suite = load_suite(name)
        for m in suite.members:
            registry.get(m.benchmark).parse_options(m.options)  # every option is known to its benchmark
    smoke = load_suite("smoke")
    assert {m.benchmark for m in smoke.members} == set(registry._BUILTIN), "smoke runs every benchmark"
    assert all(m.sample == 2 for m in smoke.members)
    core = {m.id: m for m in load_suite("core").members}
    sizes = {k: m.sample for k, m in core.items()}
    assert sizes["planning"] is None and sizes["selection"] is None and sizes["pursuit-20q"] is None
    assert sizes["cqot-mtbench"] is None and core["cqot-mtbench"].options == {"sets": ["mtbench"]}
    opt = [m for m in core.values() if m.benchmark == "optimization"]
    assert len(opt) == 9 and all(m.sample == 40 for m in opt)
    assert (sizes["mamo-ode"], sizes["toolbench-static"], sizes["processbench-gsm8k-surprise"],
            sizes["processbench-math-surprise"], sizes["mr-gsm8k-refine"], sizes["pursuit-mediq"]) == (
        40, 200, 100, 100, 50, 50)
    # the paper's written critique, 130-500 s per item, on a smaller sample of the same sets
    assert (sizes["processbench-gsm8k"], sizes["processbench-math"]) == (20, 20)
    assert core["derivation"].options == {"items": 40}
    assert all(a.citation for m in core.values() for a in m.anchors)
    full = load_suite("full")
    assert all(m.sample is None for m in full.members) and "planning-gold" in {m.id for m in full.members}


@pytest.mark.parametrize(("text", "message"), [
    ("name = 'x'\n[[members]]\nid = 'a'\nbenchmark = 'b'\ncolour = 1\n", "members.0.colour: unknown key"),
    ("name = 'x'\n[[members]]\nid = 'a'\nbenchmark = 'b'\n[[members]]\nid = 'a'\nbenchmark = 'c'\n",
     "repeated: a"),
    ("name = 'x'\nmembers = [\n", "not valid TOML"),
    ("name = 'x'\n[[members]]\nid = 'a b'\nbenchmark = 'b'\n", "members.0.id"),
    ("extends = 'toys.toml'\n", "loops"),
])
def test_a_bad_suite_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = _suite_file(tmp_path, text)
    with pytest.raises(InvalidInput, match=message) as info:
        load_suite(str(path))
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    with pytest.raises(InvalidInput, match=r"known suites: .*core"):
        load_suite("nosuch")


# ---------------------------------------------------------------- running a suite


def test_a_suite_stops_on_ctrl_c_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    suite = load_suite(str(_suite_file(tmp_path)))
    out = tmp_path / "suite"
    options = SuiteOptions(model="scripted", out=str(out), cache=False)
    sampled_b = [it.id for it in sample_items(SuiteToyB().items(), 12, 7)]
    INTERRUPT.clear()
    INTERRUPT.add(sampled_b[5])
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, options, backend=_backend())
    assert len(load_results(out / "a" / "results.jsonl")) == 6
    done_b = len(load_results(out / "b" / "results.jsonl"))
    assert 0 < done_b <= 5
    cost = suite_cost(load_suite_run(out))  # what is left, at b's own measured rate
    assert (cost.items_done, cost.items_left, cost.no_rate) == (6 + done_b, 12 - done_b, ())
    # a member not begun: no rate, its sample as the most it can be
    unbegun = dataclasses.replace(load_suite_run(out), runs={"a": load_run(out / "a"), "b": None})
    assert (suite_cost(unbegun).no_rate, suite_cost(unbegun).no_rate_items) == (("b",), 12)
    assert "no item finished yet, so no rate: b (at most 12 items)" in suite_markdown(unbegun)
    (out / "b" / "sessions.jsonl").write_text('{"done_before": 0, "todo"')  # a line cut off: the sample counts
    assert suite_cost(load_suite_run(out)).items_left == 12 - done_b
    b_rate = load_run(out / "b").summary.seconds / done_b
    assert cost.seconds_left == pytest.approx((12 - done_b) * b_rate)
    assert f"{12 - done_b} items left in the members begun" in suite_markdown(load_suite_run(out))
    with pytest.raises(InvalidInput, match="--resume"):
        run_suite(suite, options, backend=_backend())
    plans = plan_suite(suite, out)
    assert (plans[0].total, plans[0].done) == (6, 6)
    result = run_suite(suite, options.model_copy(update={"resume": True}), backend=_backend())
    assert result.ran["a"] == 0 and result.failed == {}
    ids = [r.item_id for r in load_results(out / "b" / "results.jsonl")]
    assert sorted(ids) == sorted(sampled_b), "every sampled item once, none lost, none twice"
    with pytest.raises(InvalidInput, match="cannot resume"):
        run_suite(suite, SuiteOptions(model="other", out=str(out), resume=True, cache=False), backend=_backend())


def test_retry_errors_runs_again_only_the_items_that_failed(tmp_path: Path) -> None:
    suite = load_suite(str(_suite_file(tmp_path)))
    out = tmp_path / "suite"
    options = SuiteOptions(model="scripted", out=str(out), cache=False)
    failing = sorted(r.id for r in sample_items(SuiteToyA().items(), 6, 7))[:2]
    FAIL.clear()
    FAIL.update(failing)
    run_suite(suite, options, backend=_backend())
    errors = {r.item_id for r in load_results(out / "a" / "results.jsonl") if r.error is not None}
    assert errors == set(failing)
    assert [p.done for p in plan_suite(suite, out)] == [6, 12]
    assert [p.done for p in plan_suite(suite, out, retry_errors=True)] == [4, 12]
    again = options.model_copy(update={"resume": True})
    assert run_suite(suite, again, backend=_backend()).ran["a"] == 0  # a plain resume keeps the errors
    result = run_suite(suite, again.model_copy(update={"retry_errors": True}), backend=_backend())
    assert result.ran["a"] == 2 and result.ran["b"] == 0
    records = load_results(out / "a" / "results.jsonl")
    assert len(records) == 6 and all(r.error is None for r in records)
    cli = CliRunner().invoke(app, ["eval", "suite", "run", str(_suite_file(tmp_path)), "--out", str(out),
                                   "--retry-errors"])
    assert cli.exit_code == 2 and "--retry-errors needs --resume" in cli.output
    with pytest.raises(ValueError, match="needs resume"):
        SuiteOptions(model="scripted", out=str(out), retry_errors=True)


def test_a_session_with_only_some_members_keeps_the_others_in_the_report(tmp_path: Path) -> None:
    suite = load_suite(str(_suite_file(tmp_path)))
    out = tmp_path / "suite"
    options = SuiteOptions(model="scripted", out=str(out), cache=False)
    run_suite(suite.only(["b"]), options, backend=_backend())
    run_suite(suite.only(["a"]), options.model_copy(update={"resume": True}), backend=_backend())
    state = json.loads((out / "suite.json").read_text())
    assert [m["id"] for m in state["suite"]["members"]] == ["b", "a"], "b, run first, is still part of the suite"
    assert [s["members"] for s in state["sessions"]] == [["b"], ["a"]]
    rows, _ = suite_rows(load_suite_run(out))
    assert {r.member for r in rows} == {"a", "b"} and all(r.row is not None and r.row.n > 0 for r in rows)


def test_a_member_that_cannot_run_is_recorded_and_the_others_run(tmp_path: Path) -> None:
    text = SUITE_TOML + "\n[[members]]\nid = 'c'\nbenchmark = 'planning'\n"
    suite = load_suite(str(_suite_file(tmp_path, text)))
    out = tmp_path / "s"
    result = run_suite(suite, SuiteOptions(model="scripted", out=str(out), cache=False,
                                           data_dir=str(tmp_path / "nodata")), backend=_backend())
    assert set(result.ran) == {"a", "b"} and set(result.failed) == {"c"}
    assert "planning" in result.failed["c"]
    assert set(json.loads((out / "suite.json").read_text())["failed"]) == {"c"}


class _Clock:
    def __init__(self, *times: float) -> None:
        self.times = list(times)

    def __call__(self) -> float:
        return self.times.pop(0)


def test_the_estimate_uses_the_measured_speed_then_the_run_directory(tmp_path: Path) -> None:
    backend = ScriptedBackend(lambda p, s: " ".join(["w"] * s.max_tokens))
    # one token after the probe prompt in 0.5 s; 49 tokens in 0.5 + 4.8 s: 48 tokens in 4.8 s
    speed = measure_speed(backend, clock=_Clock(0.0, 0.5, 5.8))
    prompt = backend.calls[1].prompt
    assert len(backend.calls) == 3, "a warm-up, then the two timed requests"
    assert backend.calls[1].prompt != backend.calls[2].prompt and len(prompt.split()) > 250
    assert speed.prefill_tps == pytest.approx(len(prompt.split()) / 0.5)
    assert speed.decode_tps == pytest.approx(10.0)
    # load noise: the longer request took less than the short one; the decode rate is not a billion tok/s
    noisy = measure_speed(backend, clock=_Clock(0.0, 3.0, 5.0))
    assert noisy.decode_tps == pytest.approx(48 / 2.0)
    speed = suite_run.Speed(prefill_tps=100.0, decode_tps=10.0, seconds=1.0)
    suite = load_suite(str(_suite_file(tmp_path)))
    out = tmp_path / "s"
    rows = {r.id: r for r in estimate(plan_suite(suite, out), speed, out)}
    assert rows["a"].seconds_per_item == pytest.approx(100 / 100 + 10 / 10 + 1)  # tokens at speed + other work
    assert rows["a"].seconds == pytest.approx(6 * 3.0)
    assert rows["b"].seconds_per_item == 2 and "recorded" in rows["b"].method
    run_suite(suite, SuiteOptions(model="scripted", out=str(out), cache=False), backend=_backend())
    rows = {r.id: r for r in estimate(plan_suite(suite, out), speed, out)}
    assert rows["a"].todo == 0 and "measured on 6" in rows["a"].method
    text = suite_run.format_estimate(suite, list(rows.values()), speed)
    assert "suite toys: 2 members, 18 items (0 to run)" in text and "estimated time" in text
    fresh = estimate(plan_suite(suite, tmp_path / "new"), speed, tmp_path / "new")
    two = suite_run.format_estimate(suite, fresh, speed, workers=2)
    assert "estimated time: 42 s, about 21 s with 2 workers" in two  # a: 6 x 3 s, b: 12 x 2 s


# ---------------------------------------------------------------- paired tests and reports


def test_paired_tests_known_values() -> None:
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)
    assert mcnemar_exact(1, 9) == pytest.approx(2 * 11 / 1024)
    assert mcnemar_exact(3, 3) == 1.0 and mcnemar_exact(0, 0) == 1.0
    assert sign_test([0.1, 0.2, 0.3, 0.0, 0.4, 0.5]) == pytest.approx(2 / 32)
    t = paired_test([1, 0, 0, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 0])
    assert (t.test, t.a_only, t.b_only, t.n) == ("mcnemar-exact", 0, 5, 8)
    assert t.p_value == pytest.approx(2 / 32) and t.delta == pytest.approx(5 / 8) and t.low <= t.delta <= t.high
    assert paired_test([0.1, 0.5], [0.2, 0.7]).test == "sign"
    with pytest.raises(InvalidInput, match="equally many"):
        paired_test([1], [1, 0])


def test_eval_report_compare_pairs_the_items(tmp_path: Path) -> None:
    for name, reply in (("x", "a"), ("y", "b")):
        run(RunConfig(benchmark="suite-toy-a", out=str(tmp_path / name)),
            backend=ScriptedBackend(lambda p, s, reply=reply: reply, name=name))
    text = paired_markdown([load_run(tmp_path / "x"), load_run(tmp_path / "y")])
    assert "| score | 10 | 0.5000 | 0.5000 | 0.0000 |" in text and "mcnemar-exact" in text
    result = CliRunner().invoke(app, ["eval", "report", str(tmp_path / "x"), "--compare", str(tmp_path / "y"),
                                      "--no-plot"])
    assert result.exit_code == 0, result.output
    assert "paired comparison (same items)" in result.output


def _ran_suite(tmp_path: Path, name: str = "s") -> Path:
    suite = load_suite(str(_suite_file(tmp_path)))
    out = tmp_path / name
    run_suite(suite, SuiteOptions(model="scripted", out=str(out), cache=False), backend=_backend())
    return out


def test_the_suite_report_puts_each_value_beside_its_anchor(tmp_path: Path) -> None:
    out = _ran_suite(tmp_path)
    md = suite_markdown(load_suite_run(out))
    line_a = next(line for line in md.splitlines() if line.startswith("| a | score |"))
    cells = [c.strip() for c in line_a.strip("|").split("|")]
    assert cells[2] == "6" and cells[4] == "0.900 [1]" and cells[9] == "[a](a/)"
    value = float(cells[3].split()[0])
    assert float(cells[5]) == pytest.approx(value - 0.9, abs=1e-3)
    assert "| b | score [odd] |" in md and "0.250 [2]" in md
    assert "1. Somebody 2024, A Paper — a big model" in md
    cost = suite_cost(load_suite_run(out))  # every sampled item done: nothing left
    assert (cost.items_done, cost.items_left, cost.no_rate, cost.no_rate_items) == (18, 0, (), 0)
    assert "Cost: 18 items took " in md and "with 1 worker(s))." in md
    other = _ran_suite(tmp_path, "t")
    _, html_path, text = write_suite_report(out, compare=other)
    assert "Paired comparison" in text and "mcnemar-exact" in text and "| b | score | 12 |" in text
    derived = load_suite_run(out)  # a headline no item records (a harmonic mean): its scores are paired
    suite = derived.suite.model_copy(update={"members": tuple(
        m.model_copy(update={"metric": "f1"}) for m in derived.suite.members)})
    md = suite_markdown(dataclasses.replace(derived, suite=suite), load_suite_run(other))
    assert "| a | score | 6 |" in md and "| b | score | 12 |" in md
    page = html_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and 'href="a/"' in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "<script" not in page


def _browser() -> str | None:
    for name in ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "headless_shell"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(_browser() is None, reason="no Chromium on this machine (apt-get install "
                                               "chromium-headless-shell, or chromium): the HTML page is not "
                                               "rendered in a browser here")
def test_the_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    import matplotlib.image

    out = _ran_suite(tmp_path)
    _, html_path, _ = write_suite_report(out)
    shot = tmp_path / "shot.png"
    r = subprocess.run([_browser(), "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                        "--window-size=1000,900", html_path.resolve().as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (900, 1000)
    # not blank: the heading, the table and the plot's blue points and red anchor diamonds are drawn
    blue = ((pixels[..., 2] > 0.6) & (pixels[..., 0] < 0.3)).sum()
    red = ((pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)).sum()
    dark = (pixels.mean(axis=2) < 0.3).sum()
    assert blue > 50 and red > 20 and dark > 2000, (blue, red, dark)


# ---------------------------------------------------------------- `eval suite smoke`


def _smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str, *extra: str) -> Path:
    out = tmp_path / "smoke"
    args = ["eval", "suite", "smoke", "--model", model, "--out", str(out), "--data-dir", str(DATA),
            "--cache-path", str(tmp_path / "cache.sqlite"), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "suite smoke: 13 members, 26 items" in result.output and "estimated time" in result.output
    suite = load_suite("smoke")
    for m in suite.members:
        records = load_results(out / m.id / "results.jsonl")
        assert len(records) == 2, m.id
        assert (out / m.id / "report.md").is_file()
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    again = CliRunner().invoke(app, [*args, "--resume"])
    assert again.exit_code == 0, again.output
    assert "(0 to run)" in again.output
    return out


@needs_data
def test_eval_suite_smoke_on_the_scripted_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suite_run, "load_suite_backend", lambda options: _backend())
    out = _smoke(tmp_path, monkeypatch, "scripted")
    assert json.loads((out / "suite.json").read_text())["failed"] == {}
    md = (out / "report.md").read_text()
    assert md.count("](") >= 13, "a link to every member's run directory"


@pytest.mark.slow
@needs_data
def test_eval_suite_smoke_on_smollm2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _smoke(tmp_path, monkeypatch, "embedded:smollm2-135m-instruct", "--threads", "1")
    records = [r for m in load_suite("smoke").members for r in load_results(out / m.id / "results.jsonl")]
    assert sum(r.error is None for r in records) >= 20, [r.error for r in records if r.error]


def test_the_cli_says_how_to_resume_after_ctrl_c_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suite_run, "load_suite_backend", lambda options: _backend())
    path, out = _suite_file(tmp_path), tmp_path / "cli"
    INTERRUPT.clear()
    INTERRUPT.add(sample_items(SuiteToyB().items(), 12, 7)[3].id)
    args = ["eval", "suite", str(path), "--model", "scripted", "--out", str(out), "--no-cache"]
    stopped = CliRunner().invoke(app, args)
    assert stopped.exit_code == 130, stopped.output
    assert f"--out {out} --resume" in stopped.output and "suite toys: 2 members, 18 items" in stopped.output
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "already holds a suite run" in refused.output
    resumed = CliRunner().invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "(15 to run)" not in resumed.output and "| b | score |" in resumed.output
    assert len(load_results(out / "b" / "results.jsonl")) == 12
    report = CliRunner().invoke(app, ["eval", "suite", "report", str(out), "--compare", str(out)])
    assert report.exit_code == 0 and "Paired comparison" in report.output
    bad = CliRunner().invoke(app, ["eval", "suite", "report", str(tmp_path)])
    assert bad.exit_code == 2 and "not a suite directory" in bad.output


def test_one_progress_display_over_the_whole_suite(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from ratiocinator.evals.progress import SuiteProgress

    sink = io.StringIO()
    console = Console(file=sink, force_terminal=True, width=140)
    suite = load_suite(str(_suite_file(tmp_path)))
    run_suite(suite, SuiteOptions(model="scripted", out=str(tmp_path / "p"), cache=False), backend=_backend(),
              progress=SuiteProgress(console=console))
    text = sink.getvalue()
    assert "suite toys" in text and "18/18" in text, text[-2000:]
    assert "  a" in text and "6/6" in text and "  b" in text and "12/12" in text


def test_ctrl_c_stops_a_real_suite_process_at_once_and_it_resumes(tmp_path: Path) -> None:
    import os
    import signal
    import sys
    import time

    toy = Path(__file__).parent / "suite_toy.py"
    path = _suite_file(tmp_path, "name = 'sleepy'\n[[members]]\nid = 's'\nbenchmark = 'suite-sleepy'\n")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(toy), str(path), str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            # as a terminal starts it: a test run in a background job hands SIGINT ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while len(load_results(out / "s" / "results.jsonl", repair=False)) < 5:  # s00..s04 done, s05 sleeping
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the suite did not start"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)  # s05 would keep it 10 minutes without the stop
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "--resume" in err
    done = [r.item_id for r in load_results(out / "s" / "results.jsonl")]
    assert done[:5] == ["s00", "s01", "s02", "s03", "s04"] and "s05" not in done
    resumed = subprocess.run([sys.executable, str(toy), str(path), str(out), "--resume"], capture_output=True,
                             text=True, timeout=300, env={**os.environ, "SUITE_TOY_FAST": "1"})
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(r.item_id for r in load_results(out / "s" / "results.jsonl")) == [f"s{i:02d}" for i in range(8)]


def test_eval_run_takes_a_seeded_sample(tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["eval", "run", "suite-toy-b", "--sample", "3", "--sample-seed", "7",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    ids = [r.item_id for r in load_results(out / "results.jsonl")]
    assert ids == [it.id for it in sample_items(SuiteToyB().items(), 3, 7)]
    bad = CliRunner().invoke(app, ["eval", "run", "suite-toy-b", "--sample", "0", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2 and "--sample" in bad.output


def _record_member_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None, int, object]]:
    """The members' runs replaced by a recorder of (benchmark, model, workers, backend)."""
    from ratiocinator.evals import runner

    calls: list[tuple[str, str | None, int, object]] = []

    def fake_run(config, backend=None, progress=None):
        calls.append((config.benchmark, config.model, config.workers, backend))
        return runner.RunResult(out_dir=Path(config.out), ran=0, skipped=0, summary=None, seconds=0.0)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "run", fake_run)
    return calls


def test_llama_cpp_workers_load_their_own_model_and_the_suite_loads_none(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """--workers 2 on a llama.cpp model: each member's run spawns two processes with a model each, so the
    suite loads no shared model (one would serialise the calls); --workers 1 shares one model."""
    calls = _record_member_runs(monkeypatch)
    loaded: list[object] = []
    monkeypatch.setattr(suite_run, "load_suite_backend", lambda options: loaded.append(_backend()) or loaded[-1])
    suite = load_suite(str(_suite_file(tmp_path)))
    model = "llamacpp:qwen2.5-coder-0.5b-instruct"
    run_suite(suite, SuiteOptions(model=model, workers=2, out=str(tmp_path / "k2"), cache=False))
    assert not loaded and calls == [("suite-toy-a", model, 2, None), ("suite-toy-b", None, 2, None)]
    calls.clear()
    run_suite(suite, SuiteOptions(model=model, workers=1, out=str(tmp_path / "k1"), cache=False))
    assert len(loaded) == 1 and calls == [("suite-toy-a", model, 1, loaded[0]), ("suite-toy-b", None, 1, None)]


def test_the_cli_closes_its_probe_model_when_the_workers_load_their_own(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[bool] = []

    class Probe(ScriptedBackend):
        def close(self) -> None:
            closed.append(True)

    calls = _record_member_runs(monkeypatch)
    monkeypatch.setattr(suite_run, "load_suite_backend", lambda options: Probe(lambda p, q: "ok"))
    from ratiocinator.evals import suite_cli

    monkeypatch.setattr(suite_cli, "_finish", lambda result: None)  # the recorded runs wrote no report
    args = ["eval", "suite", "run", str(_suite_file(tmp_path)), "--model", "llamacpp:qwen2.5-coder-0.5b-instruct",
            "--workers", "2", "--out", str(tmp_path / "s"), "--no-cache"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert closed == [True] and [c[3] for c in calls] == [None, None], calls


def test_without_model_the_cli_records_the_default_engine_and_older_runs_resume(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default spec is resolved once in the CLI, so suite.json names the engine that ran; a suite begun
    before that (no model recorded) resumes and records it."""
    from ratiocinator.evals import suite_cli
    from ratiocinator.models import loading

    seen: list[str | None] = []
    monkeypatch.setattr(suite_run, "load_suite_backend", lambda options: seen.append(options.model) or _backend())
    monkeypatch.setattr(loading, "default_spec", lambda **kw: "llamacpp:default-for-test")
    monkeypatch.setattr(suite_cli, "_finish", lambda result: None)
    out = tmp_path / "d"
    args = ["eval", "suite", "run", str(_suite_file(tmp_path)), "--out", str(out), "--no-cache", "--no-probe"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert seen == ["llamacpp:default-for-test"]
    assert json.loads((out / "suite.json").read_text())["model"] == "llamacpp:default-for-test"
    state = json.loads((out / "suite.json").read_text())
    (out / "suite.json").write_text(json.dumps({**state, "model": None}))  # as an older CLI wrote it
    other = CliRunner().invoke(app, [*args, "--resume", "--model", "llamacpp:another"])
    assert other.exit_code == 2 and "cannot resume" in other.output  # not the default that ran
    again = CliRunner().invoke(app, [*args, "--resume"])
    assert again.exit_code == 0, again.output
    assert json.loads((out / "suite.json").read_text())["model"] == "llamacpp:default-for-test"


def test_a_report_takes_anchors_found_after_the_run_from_the_packaged_suite() -> None:
    core = load_suite("core")
    stale = core.members[0].model_copy(update={"anchors": ()})  # run before its figure was recorded
    changed = core.members[1].model_copy(update={"anchors": (), "sample": 3})  # ran other items
    run = core.model_copy(update={"members": (stale, changed, *core.members[2:])})
    now = with_current_anchors(run)
    assert now.members[0].anchors == core.members[0].anchors and now.members[0].anchors
    assert now.members[1].anchors == ()  # not the same member any more: keeps what it ran with
    private = run.model_copy(update={"name": "not-a-packaged-suite"})
    assert with_current_anchors(private) is private


def test_a_report_lists_the_packaged_members_no_session_began(tmp_path: Path) -> None:
    core = load_suite("core")
    begun = core.model_copy(update={"members": core.members[3:1:-1]})  # two members, run in another order
    listed = with_packaged_members(begun)
    assert [m.id for m in listed.members] == [core.members[3].id, core.members[2].id] + [
        m.id for m in core.members if m.id not in (core.members[2].id, core.members[3].id)]
    assert with_packaged_members(core) is core
    mine = begun.model_copy(update={"source": str(tmp_path / "core.toml")})  # a user's file: as it is
    assert with_packaged_members(mine) is mine


def test_a_private_suite_file_keeps_its_own_anchors_even_under_a_packaged_name(tmp_path: Path) -> None:
    core = load_suite("core")
    mine = core.model_copy(update={"source": str(tmp_path / "core.toml")})  # a user's core.toml
    assert with_current_anchors(mine) is mine
    moved = core.members[1].model_copy(update={"metric": "other", "anchors": ()})
    seeded = core.model_copy(update={"members": (core.members[0], moved), "sample_seed": 7})
    assert with_current_anchors(seeded).members[1].metric == "other"  # other items: another member
    same = core.model_copy(update={"members": (core.members[0], moved)})
    assert with_current_anchors(same).members[1].metric == core.members[1].metric


def test_processbench_members_report_the_papers_f1_a_derived_row_of_the_critique_benchmark() -> None:
    from ratiocinator.evals.benchmark import get

    derived = {name for name, _, _ in get("critique").harmonic_means}
    members = [m for m in load_suite("core").members if m.options.get("dataset", "").startswith("processbench")]
    assert len(members) == 4
    assert "f1" in derived
    for m in members:
        assert m.metric == "f1"
        assert any(a.metric == "f1" and a.value for a in m.anchors)
