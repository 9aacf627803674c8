"""The Mamo ODE kit (parse, dsolve, numeric fallback, correction loop), Mamo's tolerance, and the two benchmarks."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from ratiocinator.agents.ode import ODEConfig, ODEError, ODESpec, build_graph, nodes, solve_ode
from ratiocinator.agents.ode import run as solve_ode_from_text
from ratiocinator.errors import InvalidInput
from ratiocinator.evals.benchmarks.mamo_tolerance import answer_text, mamo_correct, strict_correct
from ratiocinator.evals.results import load_results
from ratiocinator.evals.runner import RunConfig, run
from ratiocinator.kit import StaticRuntime, method_context
from ratiocinator.models.scripted import ScriptedBackend

TANK = ODESpec(
    functions=["y"],
    variable="t",
    equations=["y' = 0.4*5 - 3*y/(100 + 2*t)"],
    initial_conditions=["y(0) = 0"],
    quantity="y/(100 + 2*t)",
    at=20,
)  # Mamo ODE #1: 0.2275


def spec(**kw) -> ODESpec:
    base = {
        "functions": ["y"],
        "variable": "t",
        "equations": ["y'' + 4*y = 0"],
        "initial_conditions": ["y(0) = 1", "y'(0) = 0"],
        "quantity": "y",
        "at": 1.0,
    }
    return ODESpec(**{**base, **kw})


def test_second_order_and_systems_are_solved_exactly_by_dsolve() -> None:
    assert solve_ode(spec()) == (pytest.approx(math.cos(2)), "dsolve")
    system = spec(
        functions=["x", "y"],
        equations=["x' = y", "dy/dt = -x"],
        initial_conditions=["x(0) = 0", "y(0) = 1"],
        quantity="x + y^2",
    )
    value, method = solve_ode(system)
    assert value == pytest.approx(math.sin(1) + math.cos(1) ** 2) and method == "dsolve"


def test_the_numeric_fallback_answers_when_dsolve_cannot() -> None:
    value, method = solve_ode(TANK, ODEConfig(dsolve_timeout=0.05))
    assert (
        method == "numeric"
        and mamo_correct(value, "0.2275")
        and value == pytest.approx(0.22752, abs=1e-5)
    )
    pendulum = spec(
        equations=["y'' = -sin(y)"],
        initial_conditions=["y(0) = 1", "y'(0) = 0"],
        quantity="y'^2/2 - cos(y)",
    )  # its energy, conserved
    value, method = solve_ode(pendulum, ODEConfig(dsolve_timeout=0.05))
    assert method == "numeric" and value == pytest.approx(-math.cos(1), abs=1e-8)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"equations": ["y' = __import__('os')"]}, "only numbers"),
        ({"equations": ["y' = open(1)"]}, "'open' is not allowed"),
        ({"equations": ["y' = y = 2"]}, "one '='"),
        ({"initial_conditions": ["z(0) = 1"]}, "expected f(t0) = value"),
        ({"equations": ["y' = k*y"], "initial_conditions": ["y(0) = 1"]}, "depends on ['k']"),
        ({"functions": ["exp"]}, "plain identifiers"),
        (
            {"initial_conditions": ["y(0, 1) = 2"]},
            "dsolve: AttributeError",
        ),  # a sympy error becomes an ODEError
        ({"functions": ["y", "z"]}, "2 unknown functions ['y', 'z'] need 2 equations, got 1"),
    ],
)
def test_bad_odes_raise_errors_that_say_what_is_wrong(kw: dict, message: str) -> None:
    with pytest.raises(ODEError, match=re.escape(message)):
        solve_ode(spec(**kw), ODEConfig(dsolve_timeout=3, numeric_timeout=1))


def test_the_agent_fixes_an_ode_that_fails_and_stops_after_its_rounds() -> None:
    bad = spec(equations=["y' = k*y"], initial_conditions=["y(0) = 1"]).model_dump_json()
    backend = ScriptedBackend([bad, spec().model_dump_json()])
    result = solve_ode_from_text(
        "A spring ...", backend=backend, config=ODEConfig(dsolve_timeout=30)  # generous: the test is not about time
    )
    assert (
        result.verdict.status == "verified"
        and result.value == pytest.approx(math.cos(2))
        and result.rounds == 1
    )
    assert result.initial_value is None and "depends on" in backend.calls[1].prompt[-1].content
    assert backend.calls[0].params.temperature == 0 and backend.calls[1].params.temperature == 0.7
    assert "y at t = 1 is -0.416147" in result.answer
    stuck = ScriptedBackend([bad] * 3)
    failed = solve_ode_from_text(
        "A spring ...", backend=stuck, config=ODEConfig(correction_rounds=1, dsolve_timeout=30)
    )
    assert failed.verdict.status == "failed" and failed.value is None and len(stuck.calls) == 2
    assert "depends on" in failed.verdict.reason and failed.report().startswith("No value:")


def test_the_verdict_says_which_solver_computed_the_value_and_the_usage_is_the_backends() -> None:
    backend = ScriptedBackend([spec().model_dump_json()])
    exact = solve_ode_from_text("A spring ...", backend=backend, config=ODEConfig(dsolve_timeout=30))
    assert exact.verdict.reason == (
        "the value of the ODE below, computed exactly by sympy's dsolve; the ODE itself was not "
        "checked against your text"
    )
    assert exact.usage.calls == 1
    assert exact.usage.completion_tokens == sum(c.completion_tokens for c in backend.completions)
    report = exact.report()
    assert report.index(exact.answer) < report.index("verified:") < report.index("ODE: ")
    numeric = solve_ode_from_text(
        "A tank ...", backend=ScriptedBackend([TANK.model_dump_json()]),
        config=ODEConfig(dsolve_timeout=0.05),
    )
    assert numeric.method == "numeric" and numeric.verdict.status == "unverified"
    assert "solve_ivp" in numeric.verdict.reason and "not checked against your text" in numeric.verdict.reason


def test_a_node_runs_alone_with_a_static_runtime() -> None:
    bad = spec(equations=["y' = k*y"], initial_conditions=["y(0) = 1"]).model_dump_json()
    backend = ScriptedBackend([bad, spec().model_dump_json()])
    ctx = method_context(backend, ODEConfig(dsolve_timeout=30, correction_rounds=1))
    update = nodes.write({"problem": "A spring ..."}, StaticRuntime(ctx))
    assert update["round"] == 0 and "depends on" in update["attempts"][0].error
    assert nodes.route(update, StaticRuntime(ctx)) == "fix"
    fixed = nodes.fix({"problem": "A spring ...", **update}, StaticRuntime(ctx))
    assert fixed["round"] == 1 and fixed["attempts"][-1].method == "dsolve"
    assert backend.calls[1].params.seed == 1 and backend.calls[1].params.temperature == 0.7
    assert nodes.route(fixed, StaticRuntime(ctx)) == "__end__" and ctx.usage.usage().calls == 2


def test_the_graph_is_compiled_once_and_bad_input_is_refused() -> None:
    assert build_graph() is build_graph() and {"write", "fix"} <= set(build_graph().get_graph().nodes)
    with pytest.raises(InvalidInput, match="text"):
        solve_ode_from_text(" ", backend=ScriptedBackend([]))
    with pytest.raises(InvalidInput, match="backend"):
        solve_ode_from_text("A spring ...", backend=None)
    with pytest.raises(InvalidInput, match="config"):
        solve_ode_from_text("A spring ...", backend=ScriptedBackend([]), config={"max_tokens": 64})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "truth", "mamo", "strict"),
    [
        (0.2275, "0.2275", True, True),
        (0.2276, "0.2275", True, False),
        (0.2277, "0.2275", False, False),
        (679.4, "679", True, False),
        (680.9, "679", False, False),
        (1160.0, "1160", True, True),
        (7.0, "8", True, False),  # Mamo's one-unit rule is lenient on small integers; strict is not
        (100000.0, "100009", True, True),  # relative error 9e-5
        (0.0, "0", True, True),
        (None, "3", False, False),
        (float("nan"), "3", False, False),
    ],
)
def test_mamo_tolerance(value, truth, mamo, strict) -> None:
    assert mamo_correct(value, truth) is mamo and strict_correct(value, truth) is strict


def test_answers_are_written_as_in_the_data() -> None:
    assert [answer_text(x) for x in (1160, 1160.0, 327.66, " 4.9 ")] == [
        "1160",
        "1160",
        "327.66",
        "4.9",
    ]


def _data(tmp_path: Path) -> Path:
    llmopt = tmp_path / "optimization" / "llmopt"
    mamo = tmp_path / "optimization" / "mamo"
    llmopt.mkdir(parents=True)
    mamo.mkdir(parents=True)
    rows = [
        {
            "question": "maximize 3x + 2y, x + y <= 4, x <= 3",
            "answer": 11.0,
            "ori": "t",
            "index": 1,
        },
        {"question": "another one", "answer": 12, "ori": "t", "index": 2},
    ]
    (llmopt / "nl4opt_test.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ode = {
        "id": 1,
        "Question": "spring",
        "Answer": "-0.4161",
        "Category": "ode",
        "Type": "second_order_equation",
    }
    (mamo / "ode.jsonl").write_text(json.dumps(ode) + "\n")
    return tmp_path


def test_the_optimization_benchmark_scores_with_and_without_correction(tmp_path: Path) -> None:
    def formulation(constraints: list[str]) -> str:
        return json.dumps(
            {
                "sets": [],
                "parameters": [],
                "variables": [
                    {"name": "x", "domain": "nonnegative"},
                    {"name": "y", "domain": "nonnegative"},
                ],
                "objective": {"sense": "maximize", "expression": "3*x + 2*y"},
                "constraints": [
                    {"name": f"c{i}", "expression": c} for i, c in enumerate(constraints)
                ],
            }
        )

    good, infeasible = formulation(["x + y <= 4", "x <= 3"]), formulation(["x + y <= 4", "x >= 5"])
    backend = ScriptedBackend([infeasible, good, good])
    result = run(
        RunConfig(
            benchmark="optimization",
            data_dir=str(_data(tmp_path)),
            out=str(tmp_path / "r"),
            options={"set": "nl4opt", "translation": "whole", "correction_rounds": 1, "declare_first": False},
        ),
        backend=backend,
    )
    by_id = {r.item_id: r for r in load_results(tmp_path / "r" / "results.jsonl")}
    first, second = by_id["nl4opt/1"], by_id["nl4opt/2"]
    assert first.score == 1.0 and first.metrics["accuracy_without_correction"] == 0.0
    assert (
        first.metrics["execution_rate"] == 1.0
        and first.metrics["execution_rate_without_correction"] == 0.0
    )
    # 11 for 12: right by Mamo's one-unit rule, wrong by the strict one
    assert (
        second.score == 1.0
        and second.metrics["accuracy_strict"] == 0.0
        and second.output["objective"] == 11
    )
    assert result.summary.n_errors == 0


def test_the_mamo_ode_benchmark(tmp_path: Path) -> None:
    backend = ScriptedBackend([spec().model_dump_json()])
    result = run(
        RunConfig(benchmark="mamo-ode", data_dir=str(_data(tmp_path)), out=str(tmp_path / "o")),
        backend=backend,
    )
    (record,) = load_results(tmp_path / "o" / "results.jsonl")
    assert record.item_id == "ode/1" and record.score == 1.0 and record.metrics["dsolve"] == 1.0
    assert result.summary.n_errors == 0
