"""evals/summary.py has no unused public helpers (summary_json was one: `Summary.model_dump(mode="json")` is the way)."""

from __future__ import annotations

import ast
from pathlib import Path

import ratiocinator
import ratiocinator.evals.summary as summary

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
