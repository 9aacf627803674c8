"""The chat agent and the REPL's agent mode on the scripted backend: routing, streaming, verification, commands."""

from __future__ import annotations

import io
import json

import pytest

from ratiocinator.agents.chat import ChatAgent, classify
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
    assert result.status == "answered" and result.verified == (
        "calculator: computed exactly by sympy",
    )


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

    assert agent_turn(session, "Weather tomorrow?", out) == "gave-up"
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


def test_planning_and_optimization_go_to_the_llmp_and_llmopt_graphs():
    chat = ChatAgent(ScriptedBackend([]))
    assert [t.name for t in chat.tools_for("planning")] == ["plan_request"]
    assert [t.name for t in chat.tools_for("optimization")] == ["optimize_request"]
    assert [t.name for t in chat.tools_for("blocksworld")] == ["blocksworld"]
    assert chat.agent("planning").tools["plan_request"].parameters["properties"] == {}  # it takes the request
