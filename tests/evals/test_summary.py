"""evals/summary.py: its derived rows, and no unused public helpers (summary_json was one: `Summary.model_dump(mode="json")` is the way)."""

from __future__ import annotations

import ast
from pathlib import Path

import ratiocinator
import ratiocinator.evals.summary as summary
from ratiocinator.evals.results import ResultRecord

ROOT = Path(ratiocinator.__file__).resolve().parent


def test_every_public_function_of_the_summary_is_used_elsewhere():
    tree = ast.parse(Path(summary.__file__).read_text())
    public = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]
    assert "summarize" in public and not hasattr(summary, "summary_json")
    folders = [d for d in ROOT.iterdir() if d.is_dir() and not d.name.startswith(".") and d.name != "build"]
    files = [*ROOT.glob("*.py"), *(p for d in folders for p in d.rglob("*.py"))]
    others = [p.read_text() for p in files if p.resolve() != Path(summary.__file__).resolve()]
    unused = [name for name in public if not any(name in text for text in others)]
    assert unused == []


def _record(i: int, group: str, metrics: dict[str, float]) -> ResultRecord:
    return ResultRecord(item_id=str(i), inputs_hash="h", group=group, score=0.0, metrics=metrics, seconds=0.0,
                        config_hash="c")


def test_a_harmonic_row_combines_two_metrics_measured_on_different_items() -> None:
    records = [_record(0, "g", {"on_erroneous": 1.0}), _record(1, "g", {"on_erroneous": 0.0}),
               _record(2, "h", {"on_correct": 1.0}), _record(3, "h", {"on_correct": 1.0})]
    s = summary.summarize(records, benchmark="b", model=None, config_hash="c",
                          harmonic=(("f1", "on_erroneous", "on_correct"), ("none", "on_erroneous", "absent")))
    row = s.row("f1")
    assert row is not None and row.value == 2 * 0.5 * 1.0 / 1.5 and row.n == 4
    assert s.row("none") is None  # a metric no item has: no row
    assert s.row("f1", "g") is None  # group g has no correct solutions
