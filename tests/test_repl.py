"""Unit tests of the chat REPL on the scripted backend: history, commands, model switching."""

from __future__ import annotations

import io

from ratiocinator.errors import ModelNotFound
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.repl import ChatSession, handle_command, run_repl


def _session(replies):
    backends = {"a": ScriptedBackend(replies, name="a"), "b": ScriptedBackend(["from b"], name="b")}

    def loader(name, **_):
        if name not in backends:
            raise ModelNotFound(f"no model {name}")
        return backends[name]

    return ChatSession(model="a", system="be brief", loader=loader), backends


def test_multi_turn_history_is_sent_back(monkeypatch):
    session, backends = _session(["one", "two"])
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO("first\nsecond\n"))
    run_repl(session, interactive=False, out=out)
    assert out.getvalue() == "one\ntwo\n"
    last = backends["a"].calls[-1].prompt
    assert [m.role for m in last] == ["system", "user", "assistant", "user"]
    assert last[2].content == "one"


def test_reset_and_switch_model_keep_running(monkeypatch):
    session, backends = _session(["one"])
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO("hi\n/reset\n/model b\nagain\n/model zzz\n/quit\nnever\n"))
    run_repl(session, interactive=False, out=out)
    assert out.getvalue() == "one\nfrom b\n"
    assert session.model == "b" and len(backends["b"].calls[0].prompt) == 2  # system + one user turn


def test_unknown_command_keeps_the_loop(capsys):
    session, _ = _session([])
    assert handle_command(session, "/frobnicate", io.StringIO()) is True
    assert "unknown command /frobnicate" in capsys.readouterr().err
    assert handle_command(session, "/quit", io.StringIO()) is False


def test_compress_spec_reaches_the_loader_for_every_model():
    seen = []

    def loader(name, **kw):
        seen.append((name, kw.get("compress")))
        return ScriptedBackend(["ok"], name=name)

    session = ChatSession(model="a", loader=loader, compress="int4+eora64")
    assert session.backend.info.model == "a"
    session.switch("b")
    assert [n for n, _ in seen] == ["a", "b"]
    assert all(spec == "int4+eora64" for _, spec in seen)  # load_backend reads it for the model's engine
    plain = ChatSession(model="a", loader=loader)
    assert plain.backend.info.model == "a"
    assert seen[-1] == ("a", None)
