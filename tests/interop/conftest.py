"""Fixtures of the MCP tests: `ratiocinator mcp serve --transport http` on a free port of 127.0.0.1, once per session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import ratiocinator

# pytest imports the checkout's __init__.py under the checkout folder's name; in a checkout named `mcp`
# that module would stand in for the MCP SDK. Forget it, so that `import mcp` finds the SDK.
_shadow = sys.modules.get("mcp")
if _shadow is not None and Path(getattr(_shadow, "__file__", "") or "/").resolve().parent == \
        Path(ratiocinator.__file__).resolve().parent:
    del sys.modules["mcp"]

#: generous: a cold start imports the SDK, the planners and pyomo on a loaded 2-core machine
START_LIMIT = 240.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise AssertionError(f"the server exited with status {process.returncode}: {log.read()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not listen on port {port} within {limit:g} s")


@pytest.fixture(scope="session")
def http_server_url():
    """The URL of our MCP server over streamable HTTP (a real subprocess, stopped at the end of the session)."""
    port = _free_port()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ratiocinator.cli", "mcp", "serve", "--transport", "http", "--port", str(port)],
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.DEVNULL, stderr=log)
        try:
            _wait_for_port(port, process, log, START_LIMIT)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
