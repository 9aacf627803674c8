"""Typed tools: schema from signature and docstring, sync/async, pydantic arguments, failures as results."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from pydantic import BaseModel

from ratiocinator.agents.builtin_tools import builtin_tools
from ratiocinator.agents.tools import Verified, as_tools, make_tool, tool
from ratiocinator.errors import InvalidInput


class Point(BaseModel):
    x: float
    y: float


def scale(p: Point, factor: float = 2.0) -> Point:
    """Scale a point.

    Args:
        p: the point
        factor: how much
    """
    return Point(x=p.x * factor, y=p.y * factor)


@tool(name="slow_echo", timeout=2)
async def echo(text: str) -> str:
    """Echo after a pause.

    Args:
        text: what to say
    """
    await asyncio.sleep(0.01)
    return text.upper()


def test_schema_comes_from_signature_and_docstring():
    t = make_tool(scale)
    assert t.description == "Scale a point."
    params = t.parameters
    assert params["required"] == ["p"]
    assert params["properties"]["factor"] == {
        "default": 2.0,
        "description": "how much",
        "title": "Factor",
        "type": "number",
    }
    point = params["$defs"]["Point"]
    assert set(point["properties"]) == {"x", "y"}
    assert t.spec().name == "scale"
    result = t.run({"p": {"x": 1, "y": 2}, "factor": 3})
    assert result.ok and result.value == Point(x=3, y=6) and result.content == '{"x":3.0,"y":6.0}'


def test_async_tool_and_custom_name():
    assert echo.name == "slow_echo" and echo.run({"text": "hi"}).content == "HI"


def test_invalid_arguments_are_a_result_not_an_exception():
    result = make_tool(scale).run({"p": {"x": "left"}})
    assert result.status == "invalid_arguments"
    assert "p.x" in result.content and "p.y" in result.content


def test_bad_tool_definitions_are_refused():
    def untyped(a):
        """Doc."""

    def star(*args: int) -> None:
        """Doc."""

    def nodoc(a: int) -> None:
        pass

    with pytest.raises(InvalidInput, match="needs a type annotation"):
        make_tool(untyped)
    with pytest.raises(InvalidInput, match=r"\*args"):
        make_tool(star)
    with pytest.raises(InvalidInput, match="docstring"):
        make_tool(nodoc)
    with pytest.raises(InvalidInput, match="unique"):
        as_tools([scale, scale])


def test_builtin_tools_check_their_answers():
    tools = {
        t.name: t
        for t in builtin_tools(names=("calculator", "solve_equation", "check_math", "ask_user"))
    }
    calc = tools["calculator"].run({"expression": "17*23 + 4/6"})
    assert (
        calc.value == {"exact": "1175/3", "decimal": "391.666666666667"}
        and "sympy" in calc.verified
    )
    unknown = tools["calculator"].run({"expression": "x + 1"})
    assert unknown.status == "error" and "unknown names x" in unknown.content
    sol = tools["solve_equation"].run({"equations": ["x + y = 3", "x - y = 1"]})
    assert sol.value == {"solutions": [{"x": "2", "y": "1"}]}
    check = tools["check_math"].run({"steps": ["x^2 = 4", "x = 2"]})
    assert check.value["valid"] is False and check.value["first_invalid_step"] == 2
    assert tools["ask_user"].timeout is None  # runs inline, so that interrupt() reaches the graph
    with pytest.raises(InvalidInput, match="unknown built-in"):
        builtin_tools(names=("teleport",))


def test_planning_and_sandbox_tools_validate():
    tools = {t.name: t for t in builtin_tools(names=("blocksworld", "run_python"))}
    bw = tools["blocksworld"].run(
        {"on": [["b", "a"], ["b", "a"]], "goal": [["a", "b"]]}
    )  # b on a; want a on b
    assert bw.ok and bw.value["plan"] == [
        "(unstack b a)",
        "(putdown b)",
        "(pickup a)",
        "(stack a b)",
    ]
    assert "validator" in bw.verified
    bad = tools["blocksworld"].run({"on": [["b", "a"], ["c", "a"]], "goal": [["a", "b"]]})
    assert bad.status == "error" and "a block holds one block at most" in bad.content
    circle = tools["blocksworld"].run({"on": [["b", "a"], ["a", "b"]], "goal": [["a", "b"]]})
    assert circle.status == "error" and "in a circle" in circle.content
    code = tools["run_python"].run(
        {
            "code": "def sq(n):\n    return n * n\nprint(sq(4))",
            "tests": ["assert sq(3) == 9", "assert sq(2) == 5"],
        }
    )
    assert code.value["stdout"] == "16\n" and code.value["tests"] == ["pass", "fail"]
    assert code.verified == "ran in the sandbox; 1/2 tests passed"


def test_a_tool_may_say_its_check_did_not_hold():
    def guess(a: int) -> Verified:
        """Guess.

        Args:
            a: anything
        """
        return Verified(value=a, how="NOT verified", checked=False)

    result = make_tool(guess).run({"a": 1})
    assert result.ok and result.verified == "NOT verified" and result.checked is False
    assert make_tool(scale).run({"p": {"x": 1, "y": 2}}).checked  # the default


def test_the_blocksworld_domain_is_package_data_found_through_datadirs(tmp_path, monkeypatch):
    from fnmatch import fnmatch

    import tomllib

    import ratiocinator
    from ratiocinator import datadirs
    from ratiocinator.agents.builtin_tools import builtin_domain, plan

    packaged = datadirs.PACKAGED / "planning" / "blocksworld" / "domain.pddl"
    assert packaged.is_file()
    root = Path(ratiocinator.__file__).resolve().parent
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(fnmatch(str(packaged.relative_to(root)), p) for p in patterns["ratiocinator"])
    text, name = builtin_domain("blocksworld")
    assert name == "blocksworld-4ops" and "(:action unstack" in text
    # the one resolver decides: a data directory of the user's wins over the packaged copy
    mine = tmp_path / "planning" / "blocksworld"
    mine.mkdir(parents=True)
    (mine / "domain.pddl").write_text(packaged.read_text().replace("blocksworld-4ops", "my-blocks"))
    monkeypatch.setenv(datadirs.ENV, str(tmp_path))
    assert builtin_domain("blocks")[1] == "my-blocks"
    # a problem for "blocksworld" is read against the built-in domain, whatever it names
    problem = "(define (problem p) (:domain blocksworld) (:objects a b) (:init (arm-empty) (on-table a) (on b a) (clear b)) (:goal (on-table b)))"
    out = plan("blocksworld", problem)
    assert out.value["plan"] == ["(unstack b a)", "(putdown b)"] and out.checked


def test_each_tool_says_what_its_check_covers_and_what_it_does_not():
    """Issue 22: "verified" says exactly what was checked (the problem as translated, the formulation given)."""
    tools = {t.name: t for t in builtin_tools(names=("blocksworld", "optimize"))}
    bw = tools["blocksworld"].run({"on": [["b", "a"]], "goal": [["a", "b"]]})
    assert bw.checked and bw.verified.endswith(
        "valid for the blocks problem as translated (start: b on a; goal: a on b); the translation was not "
        "checked against your text"
    )
    formulation = {"variables": [{"name": "x"}, {"name": "y"}], "objective": {"sense": "maximize",
                   "expression": "3*x + 5*y"}, "constraints": [{"name": "a", "expression": "x <= 4"},
                                                                {"name": "b", "expression": "3*x + 2*y <= 18"}]}
    alone = tools["optimize"].run({"formulation": formulation})
    assert alone.checked and "the formulation itself was not checked against your text (no text was given)" \
        in alone.verified
    text = "Maximize 3x + 5y subject to x <= 4, 2y <= 12, 3x + 2y <= 18, x, y >= 0."
    broken = tools["optimize"].run({"formulation": formulation, "problem_text": text})
    assert not broken.checked and "NOT verified: the answer breaks what your text states: 2y <= 12" in broken.verified
    assert "2y <= 12" in broken.value["text"]


def test_code_whose_tests_fail_is_not_a_check_that_holds():
    """Issue 22: "ran in the sandbox; 1/2 tests passed" was a check that held, so the chat said verified."""
    (run_python,) = builtin_tools(names=("run_python",))
    code = "def sq(n):\n    return n * n"
    failing = run_python.run({"code": code, "tests": ["assert sq(3) == 9", "assert sq(2) == 5"]})
    assert failing.verified == "ran in the sandbox; 1/2 tests passed" and failing.checked is False
    passing = run_python.run({"code": code, "tests": ["assert sq(3) == 9"]})
    assert passing.verified == "ran in the sandbox; 1/1 tests passed" and passing.checked is True
    crashing = run_python.run({"code": "raise ValueError('no')"})
    assert crashing.verified == "ran in the sandbox (it failed)" and crashing.checked is False


def test_a_call_abandoned_at_its_deadline_is_waited_for_before_the_next_starts():
    """Issue 22: the timed-out call ran on in its thread while the agent's next call ran beside it (on the same
    model). Now the next call waits for it, and is not started at all if it is still running at its own limit."""
    release, started = threading.Event(), []

    @tool(timeout=5)
    def hold(tag: str) -> str:
        """Holds until released.

        Args:
            tag: which call
        """
        started.append(tag)
        release.wait(60)
        return tag

    first = hold.run({"tag": "first"}, timeout=0.2)
    assert first.status == "timeout" and "no other tool call starts until it has ended" in first.content
    second = hold.run({"tag": "second"}, timeout=0.2)
    assert second.status == "timeout" and "an earlier call of hold" in second.content
    assert "this call was not started" in second.content and started == ["first"]
    release.set()
    third = hold.run({"tag": "third"}, timeout=30)
    assert third.ok and third.value == "third" and started == ["first", "third"]


def test_a_timeout_argument_above_the_calls_limit_is_lowered_and_said():
    """Issue 22: the agent's 60 s limit silently cut an optimizer asked for 100 s; now the optimizer gets 59 s."""

    @tool(timeout=150)
    def solver(size: int, timeout: float = 100.0) -> float:
        """Pretends to solve.

        Args:
            size: how big
            timeout: seconds the solver may take
        """
        return timeout

    cut = solver.run({"size": 1}, timeout=60)
    assert cut.ok and cut.value == 59.0
    assert "(its timeout of 100 s was lowered to 59 s: one tool call may take at most 60 s here)" in cut.content
    assert solver.run({"size": 1, "timeout": 20}, timeout=60).value == 20
