"""The chat agent and the REPL's agent mode on the scripted backend: routing, streaming, verification, commands."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ratiocinator import methods
from ratiocinator.agents.chat import ChatAgent, classify
from ratiocinator.errors import InvalidInput
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.repl import ChatSession, run_repl

ARITH = [
    "I need the product. Next: caller.",
    "calculator",
    '{"expression": "17*23"}',
    "The tool answered. Next: conclusion.",
    "17*23 = 391.",
]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Give me a plan to stack block a on block b", "blocksworld"),
        ("Plan a route for the gripper robot", "planning"),
        ("(define (problem p1) (:domain d))", "pddl"),
        ("Maximize profit subject to the machine-hour constraints", "optimization"),
        ("Write a python function that reverses a string", "coding"),
        ("Solve x^2 - 5x + 6 = 0", "math"),
        ("What is 17*23?", "arithmetic"),
        ("Hello, who are you?", "general"),
    ],
)
def test_classify(text, kind):
    assert classify(text) == kind


def test_arithmetic_request_streams_and_says_how_it_was_verified():
    chat = ChatAgent(ScriptedBackend(ARITH), ask_user=False)
    events = list(chat.reply("What is 17*23?"))
    notes = [e.text for e in events if e.kind == "status"]
    assert notes[0] == "[arithmetic] tools: calculator"
    assert "call calculator(expression='17*23')" in notes
    assert any(n.startswith("calculator [ok]:") and "391" in n for n in notes)
    assert "".join(e.text for e in events if e.kind == "token") == "17*23 = 391."
    (result,) = [e.result for e in events if e.kind == "result"]
    assert result.status == "answered" and result.checks == (
        "calculator: computed exactly by sympy",
    )
    assert result.verdict.verified


def test_repl_agent_mode_with_commands(tmp_path, monkeypatch, capsys):
    backend = ScriptedBackend([*ARITH, "The user asked for 17*23, which is 391."])
    session = ChatSession(model="s", loader=lambda *a, **k: backend, plain=False, ask_user=False)
    saved = tmp_path / "chat.json"
    script = f"What is 17*23?\n/history\n/save {saved}\n/reset\n/history\n/load {saved}\n/tools\n/compress\n/quit\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    out = io.StringIO()
    run_repl(session, interactive=False, out=out)
    text = out.getvalue()
    assert text.startswith(
        '17*23 = 391.\nresult (calculator): {"exact": "391", "decimal": "391.000000000000"}\n'
        "verified: calculator: computed exactly by sympy\n"
    )
    assert text.count("user: What is 17*23?") == 1  # shown before /reset, not after
    assert (
        "[blocksworld] blocksworld(on: array, goal: array, blocks: array | null, timeout: number)"
        in text
    )
    rows = json.loads(saved.read_text())
    assert [r["role"] for r in rows] == [
        "user",
        "assistant",
        "caller",
        "observation",
        "assistant",
        "conclusion",
    ]
    err = capsys.readouterr().err
    assert "(saved 6 turns" in err and "(loaded 6 turns" in err and "(conversation reset)" in err
    assert "(conversation compressed to: The user asked for 17*23, which is 391.)" in err
    assert [t.role for t in session.chat.history()] == [
        "user"
    ]  # the compressed thread is one summary turn


def test_gave_up_answer_says_why():
    backend = ScriptedBackend(["I cannot know the weather. Next: give up."])
    session = ChatSession(model="s", loader=lambda *a, **k: backend, plain=False, ask_user=False)
    out = io.StringIO()
    from ratiocinator.repl import agent_turn

    assert agent_turn(session, "Weather tomorrow?", out) == "gave_up"
    assert "(not answered: the planner gave up: I cannot know the weather.)" in out.getvalue()


def test_repl_asks_the_user_and_resumes_with_the_next_line(monkeypatch):
    script = [
        "The number is unknown. Next: caller.",
        "ask_user",
        '{"question": "Which number?"}',
        "Now square it. Next: caller.",
        "calculator",
        '{"expression": "7^2"}',
        "Done. Next: conclusion.",
        "7 squared is 49.",
    ]
    backend = ScriptedBackend(script)
    session = ChatSession(model="s", loader=lambda *a, **k: backend, plain=False, ask_user=True)
    monkeypatch.setattr("sys.stdin", io.StringIO("What is 2 + 3 plus my number?\n7\n"))
    out = io.StringIO()
    run_repl(session, interactive=False, out=out)
    assert out.getvalue() == (
        "question: Which number?\n7 squared is 49.\n"
        'result (calculator): {"exact": "49", "decimal": "49.0000000000000"}\n'
        "verified: calculator: computed exactly by sympy\n"
    )
    observations = [(t.tool, t.content) for t in session.chat.history() if t.role == "observation"]
    assert observations == [
        ("ask_user", "7"),
        ("calculator", '{"exact": "49", "decimal": "49.0000000000000"}'),
    ]


def _without_chat_methods():
    return tuple(m for m in methods.METHODS if not m.chat_kind)


def test_without_a_registered_method_a_kind_offers_its_solver_tools(monkeypatch):
    monkeypatch.setattr(methods, "METHODS", _without_chat_methods())
    chat = ChatAgent(ScriptedBackend([]))
    assert [t.name for t in chat.tools_for("planning")] == ["plan"]
    assert [t.name for t in chat.tools_for("optimization")] == ["optimize"]
    assert [t.name for t in chat.tools_for("blocksworld")] == ["blocksworld"]
    assert [t.name for t in ChatAgent(ScriptedBackend([]), ask_user=True).tools_for("math")] == [
        "solve_equation", "check_math", "calculator", "ask_user"
    ]


def _cqot_for_planning():
    cqot = methods.get("cqot")
    return methods.Method(
        name="cqot-chat", description="answers by critical questions", kit=cqot.kit,
        config_name=cqot.config_name, result_name=cqot.result_name, input=cqot.input, chat_kind="planning",
    )


def _chat_reply(method_tool_name, method_reply):
    """The chat's roles: call the method's tool, then conclude; every other prompt goes to `method_reply`."""

    def reply(prompt, params):
        text = prompt[-1].content
        if params.grammar is not None:
            return method_tool_name
        if text.startswith("You have access to the following apis"):
            if params.schema is not None:  # the tool's arguments: it takes none
                return "{}"
            return "Done. Next: conclusion." if "observation:" in text else "Use it. Next: caller."
        if text.startswith("Make a conclusion"):
            return "The plan is ready."
        return method_reply(prompt, params)

    return reply


def test_a_registered_method_answers_its_kind_of_request(monkeypatch):
    """The registry drives the chat: cqot registered for planning requests runs on the request itself."""
    from ratiocinator.reasoning.cqot.prompts import PLAN_SYSTEM

    def cqot_reply(prompt, params):
        if params.schema is not None:
            return json.dumps({f"q{i}": "Yes" for i in range(1, 9)})
        return "1. go left 2. go right" if prompt[0].content == PLAN_SYSTEM else "Final answer: left, then right"

    monkeypatch.setattr(methods, "METHODS", (*_without_chat_methods(), _cqot_for_planning()))
    backend = ScriptedBackend(_chat_reply("cqot_chat", cqot_reply))
    chat = ChatAgent(backend)
    assert [t.name for t in chat.tools_for("planning")] == ["cqot_chat"]
    assert chat.tools_for("planning")[0].parameters["properties"] == {}  # it takes the request
    events = list(chat.reply("Plan a route for the gripper robot"))
    assert events[0].text == "[planning] tools: cqot_chat"
    (result,) = [e.result for e in events if e.kind == "result"]
    (obs,) = [t for t in result.turns if t.role == "observation"]
    assert obs.status == "ok" and obs.content.startswith("Final answer: left, then right\n(unverified: ")
    # the method saw the user's request itself (cqot's plan prompt)
    assert any(c.prompt[-1].content.startswith("Plan a route for the gripper robot") for c in backend.calls)
    # CQoT's verdict is unverified, so the chat's answer is not verified, and says why
    assert result.status == "answered" and not result.verdict.verified and not obs.checked
    from ratiocinator.agents.chat import verification_line

    assert verification_line(result).startswith("(not verified: cqot_chat: unverified: the plan passed 8 of 8")


def test_a_method_whose_verdict_is_verified_verifies_the_chat_answer(monkeypatch):
    import sys
    import types
    from dataclasses import dataclass

    from ratiocinator.kit import MethodResult, verified

    kit = types.ModuleType("chat_test_kit")

    @dataclass(frozen=True, kw_only=True)
    class Result(MethodResult):
        answer: str

        def report(self):
            return f"{self.answer}\n({self.verdict})"

    def run(request, *, backend, config=None):
        return Result(answer=f"plan for {request!r}: (pickup a)", verdict=verified("validated by the test"))

    kit.run, kit.Result = run, Result
    monkeypatch.setitem(sys.modules, "chat_test_kit", kit)
    method = methods.Method(name="test-planner", description="plans in a test", kit="chat_test_kit",
                            config_name="Config", result_name="Result", input="a request",
                            chat_kind="planning")
    monkeypatch.setattr(methods, "METHODS", (*_without_chat_methods(), method))
    chat = ChatAgent(ScriptedBackend(_chat_reply("test_planner", None)))
    (result,) = [e.result for e in chat.reply("Plan a route for the gripper robot") if e.kind == "result"]
    assert result.verdict.verified and result.checks == ("test_planner: validated by the test",)
    assert "plan for 'Plan a route for the gripper robot': (pickup a)" in result.checked.content


def test_a_registered_method_that_cannot_be_imported_is_an_error_not_a_missing_tool(monkeypatch):
    """Regression: chat.py hid import errors of the package's own modules (`except ImportError`)."""
    broken = methods.Method(name="broken", description="x", kit="ratiocinator.agents.no_such_kit",
                            config_name="C", result_name="R", input="x", chat_kind="planning")
    monkeypatch.setattr(methods, "METHODS", (*_without_chat_methods(), broken))
    with pytest.raises(ModuleNotFoundError, match="no_such_kit"):
        ChatAgent(ScriptedBackend([]))
    import ratiocinator.agents.chat as chat_package

    folder = Path(chat_package.__file__).parent
    assert not [p.name for p in folder.glob("*.py") if "except ImportError" in p.read_text()]


class _Clock:
    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_the_request_time_limit_is_reported_in_the_answer(monkeypatch):
    """Regression: on a loaded machine the 600 s limit ended a chat request; the answer must say so.

    Driven by an injected clock (every reading 400 s later), not by the machine's speed.
    """
    backend = ScriptedBackend(ARITH)
    session = ChatSession(model="s", loader=lambda *a, **k: backend, plain=False, ask_user=False)
    session._chat = ChatAgent(backend, config=session.chat.config, clock=_Clock(400.0))
    out = io.StringIO()
    from ratiocinator.repl import agent_turn

    assert agent_turn(session, "What is 17*23?", out) == "gave_up"
    text = out.getvalue()
    assert "I could not answer this: the time limit (600 s) was reached before an answer" in text
    assert "(not answered: the time limit (600 s) was reached before an answer)" in text


def test_the_chat_time_limit_is_an_option():
    backend = ScriptedBackend(ARITH)
    session = ChatSession(model="s", loader=lambda *a, **k: backend, plain=False, time_limit=1e6)
    assert session.chat.config.total_timeout == 1e6
    assert session.chat.config.max_steps == 4  # the rest is the chat's config
    with pytest.raises(InvalidInput, match="time limit"):
        _ = ChatSession(model="s", loader=lambda *a, **k: backend, plain=False, time_limit=0).chat


def test_every_registered_chat_kind_is_a_kind_the_chat_routes_to():
    """A method registered for a kind the keyword router never returns would never be offered."""
    from ratiocinator.agents.chat import ROUTES

    kinds = {m.chat_kind for m in methods.METHODS if m.chat_kind}
    assert kinds <= set(ROUTES)
    chat = ChatAgent(ScriptedBackend([]))
    for m in methods.METHODS:
        if m.chat_kind:
            assert m.name.replace("-", "_") in [t.name for t in chat.tools_for(m.chat_kind)]


# --- issue 22: the chat never labels verified an answer that breaks what the request states -------------

ISSUE_REQUEST = "Maximize 3x + 5y subject to x <= 4, 2y <= 12, 3x + 2y <= 18, x, y >= 0."
COST_REQUEST = "Minimise the cost C = 4p + 6q such that p + q ≥ 10, p ≥ 2 and q ≥ 3."


def _formulation(constraints, objective="3*x + 5*y", names=("x", "y"), sense="maximize"):
    return {
        "sets": [],
        "parameters": [],
        "variables": [{"name": n, "domain": "nonnegative_integer"} for n in names],
        "objective": {"sense": sense, "expression": objective},
        "constraints": [{"name": f"c{i}", "expression": c} for i, c in enumerate(constraints)],
    }


DROPPED = _formulation(["x <= 4", "3*x + 2*y <= 18"])  # the issue's: 45 at x = 0, y = 9
FAITHFUL = _formulation(["x <= 4", "2*y <= 12", "3*x + 2*y <= 18"])  # 36 at x = 2, y = 6


def _optimize_chat(formulations):
    """The chat's roles with the optimize tool: call it with each formulation in turn, then conclude."""
    queue = [json.dumps({"formulation": f}) for f in formulations]

    def reply(prompt, params):
        text = prompt[-1].content
        if params.grammar is not None:
            return "optimize"
        if params.schema is not None:
            return queue.pop(0)
        if text.startswith("Make a conclusion"):
            return "The optimum is shown above."
        return "Call it again. Next: caller." if queue and "observation:" in text else (
            "Done. Next: conclusion." if "observation:" in text else "Solve it. Next: caller.")

    return reply


def test_the_chat_optimize_tool_never_verifies_an_answer_that_breaks_the_request(monkeypatch):
    from ratiocinator.agents.chat import verification_line

    monkeypatch.setattr(methods, "METHODS", _without_chat_methods())
    chat = ChatAgent(ScriptedBackend(_optimize_chat([DROPPED])))
    assert "problem_text" not in chat.tools_for("optimization")[0].parameters["properties"]  # the chat passes it
    (result,) = [e.result for e in chat.reply(ISSUE_REQUEST) if e.kind == "result"]
    (obs,) = [t for t in result.turns if t.role == "observation"]
    assert '"objective": 45.0' in obs.content and not obs.checked
    assert result.status == "answered" and not result.verdict.verified
    line = verification_line(result)
    assert line.startswith("(not verified: optimize: solved by highs (optimal), NOT verified: the answer breaks")
    assert "2y <= 12" in line and "verified: objective and constraints re-checked" not in line


def test_the_chat_optimize_tool_says_a_faithful_answer_was_checked_against_every_constraint(monkeypatch):
    from ratiocinator.agents.chat import verification_line

    monkeypatch.setattr(methods, "METHODS", _without_chat_methods())
    chat = ChatAgent(ScriptedBackend(_optimize_chat([FAITHFUL])))
    (result,) = [e.result for e in chat.reply(ISSUE_REQUEST) if e.kind == "result"]
    assert result.verdict.verified and '"objective": 36.0' in result.checked.content
    line = verification_line(result)
    assert line.startswith("verified: optimize: solved by highs (optimal); the optimum of this formulation, "
                           "re-checked against it")
    assert "checked against every constraint of your text" in line


def test_other_names_and_wording_through_the_chat_optimize_tool(monkeypatch):
    from ratiocinator.agents.chat import verification_line

    monkeypatch.setattr(methods, "METHODS", _without_chat_methods())
    altered = _formulation(["a + b >= 8", "a >= 2", "b >= 3"], "4*a + 6*b", ("a", "b"), "minimize")
    chat = ChatAgent(ScriptedBackend(_optimize_chat([altered])))
    (result,) = [e.result for e in chat.reply(COST_REQUEST) if e.kind == "result"]
    assert not result.verdict.verified and "p + q >= 10" in verification_line(result)


def test_a_later_call_that_breaks_the_request_undoes_an_earlier_verified_one(monkeypatch):
    """The answer rests on the last check: a faithful call, then one that breaks the request: not verified."""
    monkeypatch.setattr(methods, "METHODS", _without_chat_methods())
    chat = ChatAgent(ScriptedBackend(_optimize_chat([FAITHFUL, DROPPED])))
    (result,) = [e.result for e in chat.reply(ISSUE_REQUEST) if e.kind == "result"]
    assert [t.checked for t in result.turns if t.role == "observation"] == [True, False]
    assert not result.verdict.verified and result.checked is None


def _llmopt_chat(formulation=None):
    """The chat's roles calling the registered LLMOPT method; its stepwise translation (the default) asks the
    model the pieces the text's symbols leave open, answered from `formulation` (none: every question fails)."""
    from ratiocinator.agents.llmopt.stepprompts import SYSTEM as STEPWISE

    asked: list[str] = []

    def reply(prompt, params):
        if prompt[0].content == STEPWISE:
            asked.append(prompt[-1].content)
            if formulation is None:
                raise AssertionError(f"LLMOPT asked the model: {prompt[-1].content[:80]}")
            return "\n".join(formulation["constraints"])
        text = prompt[-1].content
        if params.grammar is not None:
            return "llmopt"
        if params.schema is not None:
            return "{}"
        if text.startswith("Make a conclusion"):
            return "The optimal value is 36 at x = 2, y = 6."
        return "Done. Next: conclusion." if "observation:" in text else "Use it. Next: caller."

    reply.asked = asked
    return reply


def test_the_chat_through_llmopt_reads_a_problem_stated_in_symbols_without_the_model():
    """The issue's problem (a model once answered 45, dropping 2y <= 12): every piece is read from its
    symbols, so the model is never asked, and the answer is checked against every constraint of the text."""
    from ratiocinator.agents.chat import verification_line

    chat = ChatAgent(ScriptedBackend(_llmopt_chat()))
    assert [t.name for t in chat.tools_for("optimization")] == ["llmopt"]
    (result,) = [e.result for e in chat.reply(ISSUE_REQUEST) if e.kind == "result"]
    assert result.status == "answered" and result.verdict.verified
    observed = [t.content for t in result.turns if t.role == "observation"]
    assert any("36" in o for o in observed) and not any("45" in o for o in observed)
    assert "checked against every constraint of your text" in verification_line(result)


def test_the_chat_through_llmopt_claims_no_check_of_what_it_read_from_words():
    """Words and symbols mixed: the symbols are read as written, the limit in words is read from its words
    (readings.py); the answer is checked against the symbols, and the verdict says the words were not."""
    from ratiocinator.agents.chat import verification_line

    request = "Maximize 3x + 5y subject to x <= 4 and 3x + 2y <= 18. Also, y can be at most 5 units."
    script = _llmopt_chat()
    chat = ChatAgent(ScriptedBackend(script))
    (result,) = [e.result for e in chat.reply(request) if e.kind == "result"]
    observed = " ".join(t.content for t in result.turns if t.role == "observation")
    assert script.asked == [] and "33" in observed  # y <= 5 read: x = 8/3, y = 5
    line = verification_line(result)
    assert result.verdict.verified and "every constraint" not in line and "not checked against your text" in line


def test_a_plan_is_valid_for_your_problem_only_when_the_request_states_the_pddl(monkeypatch):
    from ratiocinator.agents.builtin_tools import plan
    from ratiocinator.solvers.faithfulness import PLAN_TRANSLATED, PLAN_YOURS

    problem = ("(define (problem two) (:domain blocksworld) (:objects a b)\n"
               "(:init (arm-empty) (on-table a) (on-table b) (clear a) (clear b))\n(:goal (and (on a b))))")
    tool = ChatAgent(ScriptedBackend([]))._tools["plan"]
    assert "problem_text" not in tool.parameters["properties"]
    stated = plan("blocksworld", problem, problem_text=f"Plan this: {problem}")
    assert stated.checked and stated.how.endswith(PLAN_YOURS)
    translated = plan("blocksworld", problem, problem_text="Put block a on block b.")
    assert translated.checked and translated.how.endswith(PLAN_TRANSLATED)
    assert "as translated" in translated.how and "your problem" not in translated.how
