"""The Mamo ODE kit's copy check (agents/ode/numbers.py): the worked example's numbers in an ODE of another problem."""

from __future__ import annotations

import pytest

from ratiocinator.agents.ode import ODEConfig, ODESpec
from ratiocinator.agents.ode import run as solve_ode_from_text
from ratiocinator.agents.ode.numbers import copied_from_example, example_numbers, spec_numbers
from ratiocinator.evals.benchmark import options_identity
from ratiocinator.evals.benchmarks.mamo_ode import MamoODEOptions
from ratiocinator.models.scripted import ScriptedBackend

PROBLEM = ("A tank holds 1000 L of brine with 15 kg of salt. Pure water flows in at 10 L/min and the mixture flows "
           "out at 10 L/min. How much salt is in the tank after 20 minutes?")
COPIED = ODESpec(functions=["S"], variable="t", equations=["S' = 0.5*10 - 10*S/200"], initial_conditions=["S(0) = 15"],
                 quantity="S", at=20)
RIGHT = ODESpec(functions=["S"], variable="t", equations=["S' = -10*S/1000"], initial_conditions=["S(0) = 15"],
                quantity="S", at=20)  # 15 e^{-0.2} = 12.28


def test_the_numbers_of_an_ode_and_of_the_example() -> None:
    assert spec_numbers(COPIED) == {0.5, 10.0, 200.0, 15.0, 20.0}
    assert example_numbers() == {0.5, 4.0, 10.0, 30.0, 200.0}  # the brine tank of agents/ode/prompts.py
    assert spec_numbers(ODESpec(functions=["y2"], variable="t", equations=["y2' = 3*y2"],
                                initial_conditions=["y2(0) = 1"], quantity="y2", at=1)) == {3.0}  # names aside


def test_the_examples_numbers_the_problem_does_not_state_are_copies() -> None:
    assert copied_from_example(COPIED, PROBLEM) == [0.5, 200.0]  # 10 is the problem's own
    assert copied_from_example(RIGHT, PROBLEM) == []
    assert copied_from_example(COPIED, PROBLEM.replace("Pure water", "Brine with 50% salt")) == [200.0]  # 50 % = 0.5


def test_a_copy_goes_back_to_the_model_when_the_check_is_on() -> None:
    backend = ScriptedBackend([COPIED.model_dump_json(), RIGHT.model_dump_json()])
    result = solve_ode_from_text(PROBLEM, backend=backend, config=ODEConfig(example_check=True, dsolve_timeout=30))
    assert result.value == pytest.approx(15 * 2.718281828459045 ** -0.2) and result.rounds == 1
    assert result.attempts[0].value is None
    assert "0.5, 200 are the worked example's numbers" in backend.calls[1].prompt[-1].content
    off = solve_ode_from_text(PROBLEM, backend=ScriptedBackend([COPIED.model_dump_json()]),
                              config=ODEConfig(dsolve_timeout=30))
    assert off.value is not None and off.rounds == 0  # the default: solved as written


def test_the_check_leaves_the_default_identity_alone() -> None:
    assert "example_check" not in options_identity(MamoODEOptions())["config"]
    assert options_identity(MamoODEOptions(config=ODEConfig(example_check=True)))["config"]["example_check"] is True
