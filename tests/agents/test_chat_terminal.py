"""The chat REPL driven through a pseudo-terminal with the embedded Qwen model, as a user would (slow).

The request time limit is set far beyond any real run (`--time-limit`): how fast the machine is must
not change the answers (the chat's default of 600 s once ended a request here on a loaded machine).
The dtype is pinned to bfloat16, the default on CPUs with native bf16 where this run was recorded: a
CPU without it defaults to float32, whose greedy decoding differs (the caller then wrote a circular
blocksworld state and the request ended at the step limit).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

QWEN = "embedded:qwen2.5-coder-0.5b-instruct"


@pytest.mark.slow
def test_repl_answers_a_blocksworld_plan_and_an_arithmetic_question(tmp_path):
    exe = Path(sys.executable).with_name("ratiocinator")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TERM": "dumb", "NO_COLOR": "1"}
    child = pexpect.spawn(
        str(exe),
        [
            "chat",
            "--model",
            QWEN,
            "--threads",
            "1",
            "--dtype",
            "bfloat16",
            "--max-tokens",
            "64",
            "--checkpoint",
            str(tmp_path / "chat.sqlite"),
            "--time-limit",
            "1000000",
        ],
        env=env,
        encoding="utf-8",
        timeout=3600,  # pexpect's wait for each expected line: a bound for a hung process only
        dimensions=(50, 200),
    )
    if os.environ.get("RATIOCINATOR_SHOW_SCREEN"):
        child.logfile_read = sys.stdout  # watch the session (pytest -s)
    try:
        child.expect("you> ")
        child.sendline("What is 17*23?")
        child.expect(r"verified: ([^\r\n]*)")
        arithmetic = child.before + child.match.group(0)
        assert "calculator(expression=" in arithmetic and "391" in arithmetic
        assert "computed exactly by sympy" in child.match.group(1)
        child.expect("you> ")
        child.sendline(
            "Blocksworld: now block b is on block a. Goal: block a is on block b. Give me a short plan."
        )
        child.expect(r"verified: ([^\r\n]*)")
        planning = child.before + child.match.group(0)
        assert "[blocksworld] tools: blocksworld" in planning
        steps = re.findall(r"\((?:unstack|putdown|pickup|stack)[ a-z]*\)", planning)
        assert steps[:4] == ["(unstack b a)", "(putdown b)", "(pickup a)", "(stack a b)"]
        assert "plan validator" in child.match.group(1)
        child.expect("you> ")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.kill(9)  # SIGKILL at once: close() gives up after 0.1 s waits on a loaded machine
        child.wait()
