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


def _module_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports; `from a import b` is an import of a.b when that is a module."""
    modules: dict[str, Path] = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in (".venv", "build", "tests", "bench") or "site-packages" in rel.parts:
            continue
        name = ".".join(("ratiocinator", *rel.with_suffix("").parts)).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parent = ".".join(parts[: len(parts) - node.level + 1])
                    base = f"{parent}.{base}" if base else parent
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    edges.add(sub if sub in modules else base)
        graph[name] = {e for e in edges if e in modules and e != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_through_a_circle():
    assert _cycles(_module_graph()) == []


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_selection_and_the_kit_stay_below_the_methods():
    assert offenders(("selection", "kit"), ("reasoning", "agents", "evals", "cli", "repl", "pursue")) == []


def test_no_function_of_a_method_is_longer_than_sixty_lines():
    """Agents and reasoning loops are small functions (a graph factory of 150 lines was the old shape)."""
    long = []
    for layer in ("agents", "reasoning"):
        for path in sorted((ROOT / layer).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > 60:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []
