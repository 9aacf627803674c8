"""Package hygiene: one import path, a docstring on every module, ruff-clean, light top-level import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ratiocinator

ROOT = Path(ratiocinator.__file__).parent


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in (".venv", "build", "tests", "bench") or "site-packages" in rel.parts:
            continue
        yield path


def test_every_module_starts_with_a_docstring():
    missing = [str(p.relative_to(ROOT)) for p in _modules() if not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []


def test_tests_import_only_the_package_name():
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                top = node.module.split(".")[0]
                if top in {"models", "solvers", "selection", "reasoning", "agents", "evals", "cli", "errors"}:
                    offenders.append(f"{path.name}: from {node.module}")
    assert offenders == []


def test_import_from_another_directory_is_light():
    code = ("import sys, ratiocinator, ratiocinator.models, ratiocinator.cli; "
            "print('torch' in sys.modules, ratiocinator.__name__)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True)
    assert r.stdout.split() == ["False", "ratiocinator"]


def test_ruff_is_clean():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_subpackage_is_listed_in_pyproject():
    """A non-editable `pip install .` ships only the packages pyproject lists."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"ratiocinator"}
    for init in ROOT.rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        if rel.parts and rel.parts[0] not in (".venv", "build", "tests", "bench") and "site-packages" not in rel.parts:
            found.add(".".join(("ratiocinator", *rel.parts)))
    assert found - listed == set()
