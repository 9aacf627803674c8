"""The registry walk: every method is a kit (config, nodes, graph, result), runs end to end through its `run` on a
scripted backend, and returns a result with a Verdict and the Usage its backend counted.

Each method's case lives in tests/kits/case_<name>.py: `make_input()`, `make_backend()` and
optionally `run_kwargs()` (extra keyword arguments of run) and `check(result)` (method-specific
assertions).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import ratiocinator
from ratiocinator import methods
from ratiocinator.errors import InvalidInput
from ratiocinator.kit import MethodConfig, MethodResult, Usage, Verdict

ROOT = Path(ratiocinator.__file__).parent
CASES = Path(__file__).parent / "kits"
NAMES = methods.names()


def _case(name: str):
    path = CASES / f"case_{name.replace('-', '_')}.py"
    assert path.is_file(), f"{name}: no registry case at {path}"
    spec = importlib.util.spec_from_file_location(f"case_{name.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", NAMES)
def test_each_method_is_a_kit_of_four_parts(name):
    m = methods.get(name)
    folder = ROOT / Path(*m.kit.split(".")[1:])
    assert m.kit.split(".")[1] in ("agents", "reasoning"), m.kit
    for part in ("config.py", "nodes.py", "graph.py", "result.py"):
        assert (folder / part).is_file(), f"{name}: {folder / part} is missing"
    kit = m.module()
    assert getattr(kit, m.config_name).__module__ == f"{m.kit}.config"
    assert getattr(kit, m.result_name).__module__ == f"{m.kit}.result"
    assert kit.run.__module__ == f"{m.kit}.graph" and kit.build_graph() is kit.build_graph()
    assert issubclass(m.config_class, MethodConfig) and issubclass(m.result_class, MethodResult)
    assert m.paper and m.config_class.__doc__ and m.description


@pytest.mark.parametrize("name", NAMES)
def test_each_run_has_the_one_signature(name):
    params = list(inspect.signature(methods.get(name).module().run).parameters.values())
    assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    keyword = {p.name: p for p in params[1:]}
    assert keyword["backend"].kind is inspect.Parameter.KEYWORD_ONLY
    assert keyword["config"].kind is inspect.Parameter.KEYWORD_ONLY and keyword["config"].default is None


@pytest.mark.parametrize("name", NAMES)
def test_each_method_runs_end_to_end_on_a_scripted_backend(name):
    case = _case(name)
    m = methods.get(name)
    backend = case.make_backend()
    extra = case.run_kwargs() if hasattr(case, "run_kwargs") else {}
    result = m.run(case.make_input(), backend=backend, config=None, **extra)
    assert isinstance(result, m.result_class)
    assert isinstance(result.verdict, Verdict) and result.verdict.reason
    assert isinstance(result.usage, Usage) and result.usage.seconds > 0
    # the usage is what went through the backend, counted by the wrapper, not by hand
    calls = getattr(backend, "calls", None)
    if calls is not None:
        assert result.usage.calls >= 1 and result.usage.completion_tokens == sum(
            c.completion_tokens for c in backend.completions
        )
    if hasattr(case, "check"):
        case.check(result)


@pytest.mark.parametrize("name", NAMES)
def test_the_api_exports_each_methods_run_config_and_result(name):
    m = methods.get(name)
    assert getattr(ratiocinator, m.config_name) is m.config_class
    assert getattr(ratiocinator, m.result_name) is m.result_class
    if m.api_name:
        assert getattr(ratiocinator, m.api_name) is m.module().run
        assert m.api_name in ratiocinator.__all__


def test_configs_are_frozen_keyword_only_and_refuse_bad_values():
    for name in NAMES:
        cls = methods.get(name).config_class
        config = cls()
        with pytest.raises(Exception, match="frozen"):
            config.seed = 1 if "seed" in cls.model_fields else None  # type: ignore[misc]
        with pytest.raises(InvalidInput, match="unknown field"):
            cls(no_such_field=1)
        with pytest.raises(TypeError):
            cls(1)  # keyword-only


def test_methods_json_lists_every_method_with_its_paper_and_defaults():
    out = subprocess.run([sys.executable, "-m", "ratiocinator.cli", "methods", "--json"],
                         capture_output=True, text=True, check=True)
    listed = {d["name"]: d for d in json.loads(out.stdout)}
    assert set(listed) == set(NAMES)
    for name, d in listed.items():
        m = methods.get(name)
        assert d["paper"] == m.paper and d["entry_point"] == f"{m.kit}:run"
        defaults = {f["name"]: f["default"] for f in d["fields"]}
        expected = json.loads(m.config().model_dump_json())
        assert defaults == expected


def test_an_unknown_method_is_refused_with_the_known_names():
    with pytest.raises(InvalidInput, match=r"known methods: .*cqot"):
        methods.get("nope")
    r = subprocess.run([sys.executable, "-m", "ratiocinator.cli", "methods", "nope"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "unknown method 'nope'" in r.stderr


def _another_value(config_cls, name, default):
    """A valid value of the field other than its default where one is easy to make, else the default."""
    candidates = []
    if isinstance(default, bool):
        candidates = [not default]
    elif isinstance(default, int):
        candidates = [default + 1, default - 1]
    elif isinstance(default, float):
        candidates = [default / 2, default * 2]
    for value in candidates:
        try:
            config_cls(**{name: value})
        except InvalidInput:
            continue
        return value
    return default


def test_every_benchmark_that_runs_a_method_holds_its_config():
    """`--set FIELD=VALUE` reaches every config field of the method from `eval run`."""
    from ratiocinator.evals import benchmark as registry

    held = {}
    for bench_name in registry.names():
        cls = registry.get(bench_name)
        if cls.method is None:
            continue
        config_cls = methods.get(cls.method).config_class
        assert registry.method_config_class(cls.Options) is config_cls, bench_name
        held[bench_name] = cls
        for field_name, field_ in config_cls.model_fields.items():
            if field_name in cls.Options.model_fields:
                continue  # a benchmark option of the same name wins; config.NAME reaches the field
            value = _another_value(config_cls, field_name, field_.get_default(call_default_factory=True))
            options = cls.parse_options({field_name: value})
            assert getattr(options.config, field_name) == value, (bench_name, field_name)
            dotted = cls.parse_options({f"config.{field_name}": value})
            assert getattr(dotted.config, field_name) == value
    assert "cqot" in held


class _AnotherConfig(MethodConfig):
    """A config of no registered method (paper: none)."""


@pytest.mark.parametrize("name", NAMES)
def test_each_run_refuses_the_config_of_another_method_by_name(name):
    case = _case(name)
    extra = case.run_kwargs() if hasattr(case, "run_kwargs") else {}
    cls = methods.get(name).config_class.__name__
    with pytest.raises(InvalidInput, match=f"config: expected a {cls} .*got _AnotherConfig"):
        methods.get(name).run(case.make_input(), backend=case.make_backend(), config=_AnotherConfig(),
                              **extra)


@pytest.mark.parametrize("name", [n for n in NAMES if isinstance(_case(n).make_input(), str)])
def test_each_run_on_text_refuses_an_empty_text(name):
    case = _case(name)
    extra = case.run_kwargs() if hasattr(case, "run_kwargs") else {}
    with pytest.raises(InvalidInput, match="expected"):
        methods.get(name).run("  ", backend=case.make_backend(), **extra)
