"""`ratiocinator eval` through the real Typer app, and the markdown/PNG reports of small runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratiocinator.cli import app
from ratiocinator.errors import InvalidInput
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome, register
from ratiocinator.evals.report import compare_markdown, load_run, markdown, plot, plotted_rows
from ratiocinator.evals.runner import RunConfig, run
from tests.shared_data import needs, root

#: the team's data, which does not ship (the llm-pddl problems, CodeT): $RATIOCINATOR_DATA or ../shared/data
DATA = root("planning/grippers/p01.pddl")
needs_data = needs("planning/grippers/p01.pddl", "planning/<domain>/pNN.pddl (llm-pddl) and code/humaneval (CodeT)")


@register
class Grouped(Benchmark):
    """Two groups with different success rates, and a metric outside [0, 1]."""

    name = "grouped-toy"
    description = "toy with groups"

    def items(self) -> list[Item]:
        return [Item(id=f"{g}{i}", inputs={"g": g, "i": i}, group=g) for g in ("alpha", "beta") for i in range(10)]

    def run(self, item: Item, ctx: Context) -> Outcome:
        cut = 8 if item.group == "alpha" else 3
        return Outcome(output=None, score=float(item.inputs["i"] < cut), metrics={"length": 10.0 + item.inputs["i"]})


def test_eval_list_names_every_benchmark() -> None:
    result = CliRunner().invoke(app, ["eval", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert {"generate-smoke", "planning-gold", "selection", "nuclear-norm"} <= set(rows)
    assert rows["planning-gold"]["options"]["planner"] == "auto" and not rows["planning-gold"]["needs_model"]
    text = CliRunner().invoke(app, ["eval", "list"])
    assert "planning-gold" in text.stdout and "no model" in text.stdout


@needs_data
def test_eval_planning_gold_json_resume_and_errors(tmp_path: Path) -> None:
    out = tmp_path / "pg"
    args = ["eval", "planning-gold", "--data-dir", str(DATA), "--limit", "2", "--set", "domains=grippers",
            "--out", str(out)]
    first = CliRunner().invoke(app, [*args, "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert (data["ran"], data["skipped"]) == (2, 0) and data["summary"]["n_items"] == 2
    assert data["summary"]["rows"][0] == {"metric": "score", "group": None, "n": 2, "value": 1.0,
                                          "low": pytest.approx(0.342, abs=1e-3), "high": 1.0, "method": "wilson"}
    assert (out / "report.md").read_text().startswith("## planning-gold")

    again = CliRunner().invoke(app, [*args, "--resume", "--json"])
    assert again.exit_code == 0 and (json.loads(again.stdout)["ran"], json.loads(again.stdout)["skipped"]) == (0, 2)
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "already holds a run; pass --resume" in refused.stderr
    other = CliRunner().invoke(app, [*args, "--resume", "--seed", "3"])
    assert other.exit_code == 2 and "seed: recorded 0, now 3" in other.stderr
    text = CliRunner().invoke(app, ["eval", "run", "planning-gold", "--data-dir", str(DATA), "--limit", "1",
                                    "--set", "domains=grippers", "--out", str(tmp_path / "text")])
    assert text.exit_code == 0 and "| score | all | 1 | 1.0000 |" in text.stdout


def test_eval_bad_input_exits_2(tmp_path: Path) -> None:
    unknown = CliRunner().invoke(app, ["eval", "no-such-bench", "--out", str(tmp_path / "x")])
    assert unknown.exit_code == 2 and "unknown benchmark 'no-such-bench'" in unknown.stderr
    bad_set = CliRunner().invoke(app, ["eval", "grouped-toy", "--set", "oops", "--out", str(tmp_path / "y")])
    assert bad_set.exit_code == 2 and "expected KEY=VALUE" in bad_set.stderr
    bad_dir = CliRunner().invoke(app, ["eval", "planning-gold", "--data-dir", str(tmp_path), "--out",
                                       str(tmp_path / "z")])
    assert bad_dir.exit_code == 2 and "is not a directory" in bad_dir.stderr
    bad_workers = CliRunner().invoke(app, ["eval", "grouped-toy", "--workers", "0"])
    assert bad_workers.exit_code == 2 and "--workers" in bad_workers.stderr
    not_a_run = CliRunner().invoke(app, ["eval", "report", str(tmp_path)])
    assert not_a_run.exit_code == 2 and "is not a run directory" in not_a_run.stderr


def test_report_tables_and_plot_of_small_runs(tmp_path: Path) -> None:
    run(RunConfig(benchmark="grouped-toy", out=str(tmp_path / "a")))
    run(RunConfig(benchmark="grouped-toy", out=str(tmp_path / "b"), limit=12))
    a, b = load_run(tmp_path / "a"), load_run(tmp_path / "b")
    table = markdown(a)
    assert "| score | all | 20 | 0.5500 |" in table and "| score | alpha | 10 | 0.8000 |" in table
    assert "| length | beta | 10 | 14.5000 |" in table
    comparison = compare_markdown([a, b])
    assert "| score | beta | 0.3000 [" in comparison and "| score | all | 0.5500" in comparison
    assert [r.label for r in plotted_rows(a)] == ["score", "score [alpha]", "score [beta]"]
    with pytest.raises(InvalidInput, match="at least two"):
        compare_markdown([a])

    result = CliRunner().invoke(app, ["eval", "report", str(tmp_path / "a"), "--compare", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "## comparison" in result.stdout and "compare.png" in result.stderr
    png = (tmp_path / "a" / "compare.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    single = plot([a], tmp_path / "single.png")
    from PIL import Image

    with Image.open(single) as image:
        width, height = image.size
        assert width >= 800 and height >= 200
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 10  # bars, text and error bars were drawn


def test_resume_of_a_directory_that_holds_no_run_is_refused(tmp_path: Path) -> None:
    """Issue 22: `--resume --out DIR` with a DIR that holds no run (a typo) silently started a full run."""
    out = tmp_path / "typo"
    refused = CliRunner().invoke(app, ["eval", "run", "grouped-toy", "--out", str(out), "--resume"])
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.startswith(f"error: nothing to resume: {out} holds no run") and not out.exists()
    started = CliRunner().invoke(app, ["eval", "run", "grouped-toy", "--out", str(out), "--limit", "4"])
    assert started.exit_code == 0, started.output
    resumed = CliRunner().invoke(app, ["eval", "run", "grouped-toy", "--out", str(out), "--resume"])
    assert resumed.exit_code == 0 and "16 items run, 4 already done" in resumed.stderr


def test_a_comparison_of_runs_over_different_items_warns(tmp_path: Path) -> None:
    """Issue 22: `eval report A --compare B` over different item sets printed a difference column, no warning."""
    run(RunConfig(benchmark="grouped-toy", out=str(tmp_path / "all")))
    run(RunConfig(benchmark="grouped-toy", out=str(tmp_path / "some"), limit=5))
    run(RunConfig(benchmark="grouped-toy", out=str(tmp_path / "same"), seed=1))
    mixed = CliRunner().invoke(app, ["eval", "report", str(tmp_path / "all"), "--compare", str(tmp_path / "some"),
                                     "--no-plot"])
    assert mixed.exit_code == 0
    assert "warning: these runs cover different items (some has 5 items, 0 of them not in all (20 items, 15 not " \
           "in some))" in mixed.stderr
    assert "**Warning:** these runs cover different items" in mixed.stdout
    alike = CliRunner().invoke(app, ["eval", "report", str(tmp_path / "all"), "--compare", str(tmp_path / "same"),
                                     "--no-plot"])
    assert alike.exit_code == 0 and "warning" not in alike.stderr.lower() and "Warning" not in alike.stdout
