"""examples/mcp_client.py runs as a user would run it: an MCP client asks `mcp serve` for a plan and an optimum, both verified."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ratiocinator

EXAMPLE = Path(ratiocinator.__file__).parent / "examples" / "mcp_client.py"


def test_the_example_prints_a_verified_plan_and_a_verified_optimum(tmp_path):
    run = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "tools: plan, validate_plan, optimize," in out
    assert "blocksworld plan:\n  1. (" in out and ". (stack a b)\n  verified: True (" in out
    assert "LP optimum: 1100 at {'chair': 20.0, 'table': 10.0}" in out
    assert out.count("  verified: True (") == 2
