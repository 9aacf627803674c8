"""Tests of the `plan` and `optimize` commands through the real `ratiocinator` Typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ratiocinator.cli import app

FORMULATION = Path(__file__).parent / "formulations" / "nl4opt_005.json"
DOMAIN = """(define (domain d) (:requirements :strips) (:predicates (on) (off))
  (:action flip :parameters () :precondition (off) :effect (and (on) (not (off)))))"""
PROBLEM = "(define (problem p) (:domain d) (:init (off)) (:goal (on)))"


def _files(tmp_path: Path, problem: str = PROBLEM) -> list[str]:
    (tmp_path / "d.pddl").write_text(DOMAIN)
    (tmp_path / "p.pddl").write_text(problem)
    return ["--domain", str(tmp_path / "d.pddl"), "--problem", str(tmp_path / "p.pddl")]


def test_plan_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["plan", *_files(tmp_path), "--optimal", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "solved_optimally" and data["plan"] == ["(flip)"] and data["validated"]
    assert set(data) == {"status", "plan", "cost", "planner", "seconds", "validated", "message"}


def test_plan_text_and_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["plan", *_files(tmp_path)])
    assert result.exit_code == 0 and "1. Flip." in result.stdout
    bad = CliRunner().invoke(app, ["plan", *_files(tmp_path, PROBLEM.replace("(on)", "(onn)"))])
    assert bad.exit_code == 2 and "problem, line 1" in bad.stderr and "onn" in bad.stderr
    unsolvable = CliRunner().invoke(app, ["plan", *_files(tmp_path, PROBLEM.replace("(:goal (on))",
                                                                                     "(:goal (and (on) (off)))"))])
    assert unsolvable.exit_code == 1 and unsolvable.stdout.startswith("unsolvable")


def test_optimize_json_and_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["optimize", str(FORMULATION), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "optimal" and abs(data["objective"] - 327.66) < 0.01 and data["verified"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"variables": [{"name": "x"}],
                               "objective": {"sense": "maximize", "expression": "__import__('os')"}}))
    failed = CliRunner().invoke(app, ["optimize", str(bad)])
    assert failed.exit_code == 2 and "objective:" in failed.stderr
    missing = CliRunner().invoke(app, ["optimize", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
