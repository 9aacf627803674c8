"""Degraded sandboxes say what is missing, still confine what they can, and can be refused outright."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.selection import sandbox as sb
from ratiocinator.selection.sandbox import Job, Sandbox, SandboxConfig, SandboxError, SandboxWarning


def _without_bwrap(monkeypatch: pytest.MonkeyPatch, *, unshare: bool) -> sb.Mechanisms:
    real = sb.probe_mechanisms()
    fake = dataclasses.replace(real, bwrap=None, unshare=shutil.which("unshare") if unshare else None,
                               missing=(*real.missing, "bubblewrap (test)"))
    monkeypatch.setattr(sb, "probe_mechanisms", lambda: fake)
    return fake


def test_missing_mechanisms_are_announced(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_bwrap(monkeypatch, unshare=False)
    with pytest.warns(SandboxWarning, match="bubblewrap"):
        Sandbox()
    with pytest.raises(SandboxError, match="isolation required"):
        Sandbox(SandboxConfig(require_isolation=True))


def test_unshare_fallback_still_runs_and_has_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    mech = _without_bwrap(monkeypatch, unshare=True)
    if mech.unshare is None:
        pytest.skip("no unshare binary")
    with pytest.warns(SandboxWarning):
        box = Sandbox()
    results = box.run_batch([
        Job(setup="print(6 * 7)"),
        Job(setup="import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=2)\n"),
        Job(setup="while True:\n    pass\n", timeout=1.0),
        Job(setup="def f():\n    return 1\n", tests=("assert f() == 1", "assert f() == 2"), test_timeout=0.5),
    ])
    assert results[0].setup == "ok" and results[0].stdout == "42\n"
    assert results[1].setup == "error"
    assert results[2].setup == "timeout"
    assert results[3].tests == ("pass", "fail")


def test_invalid_limits_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="memory_bytes"):
        SandboxConfig(memory_bytes=0)
    with pytest.raises(InvalidInput, match="timeout"):
        Job(setup="", timeout=0)
    with pytest.raises(InvalidInput, match="test_timeout"):
        Job(setup="", test_timeout=-1)
