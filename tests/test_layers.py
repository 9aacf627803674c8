"""Imports flow one way: models, solvers <- selection <- reasoning, agents <- evals, cli (read from the source with ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ratiocinator

ROOT = Path(ratiocinator.__file__).parent
#: what agents/ and reasoning/ must not import: the eval layer, the commands, the REPL
ABOVE_METHODS = ("evals", "cli", "repl", "pursue")
#: what models/ and solvers/ must not import: every layer above them
ABOVE_ENGINES = ("selection", "reasoning", "agents", "evals", "cli", "repl", "pursue")


def imported_modules(text: str, package: str) -> set[str]:
    """Every module a source imports (also inside functions), absolute; `from a import b` gives a and a.b."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def forbidden_in(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        m for m in modules for f in forbidden
        if m == f"ratiocinator.{f}" or m.startswith(f"ratiocinator.{f}.")
    )


def offenders(layers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for layer in layers:
        for path in sorted((ROOT / layer).rglob("*.py")):
            package = ".".join(("ratiocinator", *path.parent.relative_to(ROOT).parts))
            modules = imported_modules(path.read_text(encoding="utf-8"), package)
            bad += [f"{path.relative_to(ROOT)} imports {m}" for m in forbidden_in(modules, forbidden)]
    return bad


def test_agents_and_reasoning_import_no_evals_cli_repl_or_command():
    assert offenders(("agents", "reasoning"), ABOVE_METHODS) == []


def test_models_and_solvers_import_nothing_above_them():
    assert offenders(("models", "solvers"), ABOVE_ENGINES) == []


@pytest.mark.parametrize(
    "source",
    [
        "from ratiocinator.evals.benchmark import Item",
        "from ratiocinator import cli",
        "import ratiocinator.repl",
        "def f():\n    from ratiocinator import pursue",
        "from ... import evals",  # relative, from ratiocinator/agents/pursuit/
    ],
)
def test_the_walk_sees_every_form_of_import(source):
    modules = imported_modules(source, "ratiocinator.agents.pursuit")
    assert forbidden_in(modules, ABOVE_METHODS)


def test_the_walk_lets_the_layers_below_through():
    source = "from ratiocinator.kit import invoke\nfrom ratiocinator import models\nimport numpy"
    assert forbidden_in(imported_modules(source, "ratiocinator.agents"), ABOVE_METHODS) == []
    assert forbidden_in({"ratiocinator.evaluation"}, ABOVE_METHODS) == []  # a prefix is not a match
