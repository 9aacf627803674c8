"""Attack suite: hostile code is contained, reported as a failed or timed-out execution, the host unharmed."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
import warnings
from pathlib import Path

import pytest

from ratiocinator.selection.sandbox import Job, Sandbox, SandboxConfig


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = Sandbox()
    if box.mechanisms.bwrap is None:
        pytest.skip("bubblewrap is unusable here: " + "; ".join(box.mechanisms.missing))
    return box


def _cmdline_has(marker: str) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    return True
            except OSError:
                pass
    return False


def test_still_works(sandbox: Sandbox) -> None:
    result = sandbox.run("print(sum(range(10)))")
    assert result.setup == "ok" and result.completed and result.stdout == "45\n"


def test_no_connection_to_localhost(sandbox: Sandbox) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(1)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    # Sanity: the host side really listens.
    probe = socket.create_connection(("127.0.0.1", port), timeout=2)
    thread.join()
    probe.close()
    assert len(accepted) == 1
    thread = threading.Thread(target=accept)
    thread.start()
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'x')\n"
    result = sandbox.run(code, timeout=10)
    thread.join()
    server.close()
    assert result.setup == "error"
    assert len(accepted) == 1, "the sandbox reached a host socket"


def test_no_connection_outside(sandbox: Sandbox) -> None:
    result = sandbox.run("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=2)\n", timeout=10)
    assert result.setup == "error"
    assert "unreachable" in (result.setup_error or "").lower() or "errno" in (result.setup_error or "").lower()


def test_cannot_write_outside(sandbox: Sandbox, tmp_path: Path) -> None:
    targets = [tmp_path / "pwned", Path(__file__).with_name(f"pwned-{uuid.uuid4().hex}"), Path("/etc/pwned-rtc")]
    for target in targets:
        result = sandbox.run(f"open({str(target)!r}, 'w').write('pwned')\n")
        assert result.setup == "error", target
        assert not target.exists(), f"the sandbox wrote {target}"


def test_cannot_read_planted_secret(sandbox: Sandbox, tmp_path: Path) -> None:
    token = uuid.uuid4().hex
    secrets = [tmp_path / "secret.txt", Path("/root") / f".rtc-secret-{token[:8]}"]
    try:
        for secret in secrets:
            secret.write_text(token)
        secrets[0].chmod(0o644)  # world-readable on the host, still invisible inside
        secrets[1].chmod(0o600)
        for secret in secrets:
            result = sandbox.run(f"print(open({str(secret)!r}).read())\n")
            assert result.setup == "error", secret
            assert token not in result.stdout + result.stderr + (result.setup_error or "")
    finally:
        secrets[1].unlink(missing_ok=True)


def _cwd_has(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker in os.readlink(f"/proc/{entry}/cwd"):
                    found.append(int(entry))
            except OSError:
                pass
    return found


def test_fork_bomb_is_contained(sandbox: Sandbox) -> None:
    marker = f"bomb-{uuid.uuid4().hex}"  # every bomb process inherits this working directory
    code = (f"import os\nos.mkdir({marker!r})\nos.chdir({marker!r})\n"
            "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n")
    start = time.monotonic()
    result = sandbox.run(code, timeout=3)
    assert result.setup == "timeout" and result.timed_out
    assert time.monotonic() - start < 30
    time.sleep(0.2)
    assert _cwd_has(marker) == [], "fork-bomb processes survived"
    assert sandbox.run("print('alive')").stdout == "alive\n"


def test_huge_allocation_fails(sandbox: Sandbox) -> None:
    result = sandbox.run("x = bytearray(50 * 10**9)\n")
    assert result.setup == "error" and "MemoryError" in (result.setup_error or "")
    result = sandbox.run("x = [1] * (50 * 10**9 // 8)\n")
    assert result.setup == "error" and "MemoryError" in (result.setup_error or "")


def test_infinite_loop_times_out(sandbox: Sandbox) -> None:
    start = time.monotonic()
    result = sandbox.run("while True:\n    pass\n", timeout=1.0)
    assert result.setup == "timeout" and result.timed_out
    assert time.monotonic() - start < 5


def test_child_outliving_parent_is_killed(sandbox: Sandbox) -> None:
    marker = f"{time.time_ns() % 10**6}.{os.getpid()}"
    code = (
        "import os, subprocess\n"
        f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    os.execv('/bin/sleep', ['sleep', '{marker}'])\n"
        "print('parent done')\n"
    )
    result = sandbox.run(code, timeout=5)
    assert result.setup == "ok" and "parent done" in result.stdout
    time.sleep(0.3)
    assert not _cmdline_has(f"sleep\x00{marker}"), "a process started in the sandbox outlived it"


def test_killing_the_parent_fails_and_the_batch_goes_on(sandbox: Sandbox) -> None:
    jobs = [
        Job(setup="import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"),
        Job(setup="import os, signal\nos.kill(1, signal.SIGKILL)\n"),
        Job(setup="import os, signal\nos.kill(-1, signal.SIGKILL)\n"),
        Job(setup="print('next job ran')\n"),
    ]
    results = sandbox.run_batch(jobs)
    assert results[0].setup == "error" and "PermissionError" in (results[0].setup_error or "")
    assert results[1].setup == "error" and "PermissionError" in (results[1].setup_error or "")
    assert results[2].setup == "ok"  # kill(-1) reaches nothing but the caller's own kind: nothing here
    assert results[3].setup == "ok" and results[3].stdout == "next job ran\n"


def test_stdout_flood_is_bounded(sandbox: Sandbox) -> None:
    box = Sandbox(SandboxConfig(output_bytes=4096))
    start = time.monotonic()
    result = box.run("while True:\n    print('x' * 1000)\n", timeout=1.5)
    assert result.setup == "timeout"
    assert len(result.stdout) <= 4096 and result.truncated
    assert time.monotonic() - start < 10


def test_writes_to_own_dir_are_allowed_and_discarded(sandbox: Sandbox) -> None:
    code = "import os\nopen('f.txt', 'w').write('hi')\nprint(os.getcwd(), open('f.txt').read())\n"
    first = sandbox.run(code)
    assert first.setup == "ok" and first.stdout.endswith(" hi\n")
    workdir = first.stdout.split()[0]
    assert not Path(workdir).exists() or not (Path(workdir) / "f.txt").exists()
    listing = sandbox.run("import os\nprint(sorted(os.listdir('.')))\n")
    assert listing.stdout == "[]\n", "a job's directory is not empty"


def test_file_size_limit(sandbox: Sandbox) -> None:
    box = Sandbox(SandboxConfig(file_size_bytes=1024 * 1024))
    result = box.run("open('big', 'wb').write(b'0' * (8 * 1024 * 1024))\n")
    assert result.setup == "error"
