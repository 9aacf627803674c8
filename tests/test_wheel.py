"""A real install: the built wheel, installed (not editable) into a fresh venv, works from a folder outside the clone.

The venv reuses the test interpreter's dependencies through a .pth line (nothing is copied or
downloaded) and gets the wheel with `pip install --no-deps`; every command runs with no PYTHONPATH and
no `$RATIOCINATOR_DATA`, in a folder with no `shared/` beside it, so the package must find what it
needs inside itself. No model runs (a scripted backend stands in for the LLM+P translation).
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import ratiocinator

pytestmark = pytest.mark.slow

ROOT = Path(ratiocinator.__file__).resolve().parent
DOMAINS = ("barman", "blocksworld", "floortile", "grippers", "manipulation", "storage", "termes", "tyreworld")
PROBLEM = """(define (problem two-blocks) (:domain blocksworld-4ops)
  (:objects a b)
  (:init (arm-empty) (on-table a) (on b a) (clear b))
  (:goal (and (on a b))))
"""
FORMULATION = {
    "name": "toy",
    "variables": [{"name": "x", "domain": "nonnegative_integer", "upper": 4},
                  {"name": "y", "domain": "nonnegative_integer", "upper": 3}],
    "objective": {"sense": "maximize", "expression": "3*x + 2*y"},
    "constraints": [{"name": "budget", "expression": "x + y <= 5"}],
}
TEXT = ("You have 3 blocks. \nb1 is on the table. \nb2 is on the table. \nb3 is on top of b1. \nb2 is clear. \n"
        "b3 is clear. \nYour arm is empty. \nYour goal is to move the blocks. \nb1 should be on top of b2. \n")
GOOD = """(define (problem bw) (:domain blocksworld-4ops) (:objects b1 b2 b3)
(:init (arm-empty) (on-table b1) (on-table b2) (on b3 b1) (clear b2) (clear b3))
(:goal (and (on b1 b2))))"""
API_CHECK = f"""
import json, ratiocinator as rc
from ratiocinator.agents.llmp.domain import available_domains, load_domain
from ratiocinator.datadirs import PACKAGED
from ratiocinator.evals.benchmark import get, resolve_data_dir
from ratiocinator.models.compress.data import data_root, documents
from ratiocinator.models.scripted import ScriptedBackend
domain = load_domain("blocksworld")
calibration = (str(data_root()), len(documents("calibration")))
pursuit = str(resolve_data_dir(get("pursuit-20q"), None))
# the whole-problem translation: one scripted answer is enough to check the shipped domain end to end
result = rc.plan_from_text({TEXT!r}, backend=ScriptedBackend([{GOOD!r}]), domain="blocksworld",
                           config=rc.LLMPConfig(translation="whole"))
print(json.dumps({{"file": rc.__file__, "packaged": str(PACKAGED), "domains": [d.name for d in available_domains()],
                  "example": domain.example_pddl[:40], "calibration": calibration, "pursuit": pursuit, "verified": result.verified, "plan": list(result.plan)}}))
"""


def _copy_source(dest: Path) -> Path:
    """The checkout's files without its caches and build outputs (the build writes next to them)."""
    ignore = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
                                    "eval-runs", "tests", "bench")
    return Path(shutil.copytree(ROOT, dest, ignore=ignore))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, the built wheel, a working folder outside the clone, the environment to run in)."""
    base = tmp_path_factory.mktemp("wheel")
    src = _copy_source(base / "src")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "--no-index", "-q", "-w", str(base / "dist"), str(src)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = (base / "dist").glob("ratiocinator-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    (purelib,) = venv.glob("lib/python*/site-packages")
    # the test environment's dependencies, as plain paths: its own .pth files (an editable checkout) stay unread
    (purelib / "_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RATIOCINATOR_DATA", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index",
                              "--ignore-installed", "-q", str(wheel)], capture_output=True, text=True, env=env,
                             timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    outside = base / "elsewhere" / "work"
    outside.mkdir(parents=True)
    return venv / "bin", wheel, outside, env


def _run(installed, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    bindir, _, cwd, env = installed
    r = subprocess.run([str(bindir / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=600)
    if check:
        assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-3000:])
    return r


def test_the_wheel_carries_the_data_the_package_reads(installed):
    names = set(zipfile.ZipFile(installed[1]).namelist())
    for domain in DOMAINS:
        for name in ("domain.pddl", "domain.nl", "p_example.nl", "p_example.pddl"):
            assert f"ratiocinator/data/planning/{domain}/{name}" in names
    for name in ("data/README.md", "data/calibration/english.jsonl", "data/calibration/code.jsonl",
                 "evals/data/generate_smoke.jsonl", "evals/data/nuclear_norm_prompts.jsonl", "evals/suites/core.toml",
                 "data/pursuit/LICENSE-Conformal-IP.txt", "data/pursuit/20q/classes20.txt",
                 "data/pursuit/20q/query_bank_closed/queries.txt",
                 "data/pursuit/20q/query_bank_closed_yesno/dicts/zebra.json",
                 "selection/_sandbox_runner.py", "py.typed"):
        assert f"ratiocinator/{name}" in names
    assert not any(n.startswith("ratiocinator/tests/") or "/p01." in n for n in names)


def test_plan_from_outside_the_clone(installed):
    domain = json.loads(_run(installed, "python", "-c", "from ratiocinator.datadirs import PACKAGED; import json; "
                             "print(json.dumps(str(PACKAGED / 'planning/blocksworld/domain.pddl')))").stdout)
    problem = installed[2] / "two.pddl"
    problem.write_text(PROBLEM)
    out = json.loads(_run(installed, "ratiocinator", "plan", "--domain", domain, "--problem", str(problem),
                          "--json").stdout)
    assert out["validated"] and out["plan"] == ["(unstack b a)", "(putdown b)", "(pickup a)", "(stack a b)"]


def test_optimize_from_outside_the_clone(installed):
    path = installed[2] / "toy.json"
    path.write_text(json.dumps(FORMULATION))
    out = json.loads(_run(installed, "ratiocinator", "optimize", str(path), "--json").stdout)
    assert out["status"] == "optimal" and out["verified"] and abs(out["objective"] - 14.0) < 1e-6


def test_the_api_finds_the_shipped_domains_and_runs_from_the_wheel(installed):
    out = json.loads(_run(installed, "python", "-c", API_CHECK).stdout)
    venv = installed[0].parent
    assert Path(out["file"]).resolve().is_relative_to(venv.resolve()), out["file"]
    assert not Path(out["file"]).resolve().is_relative_to(ROOT)
    assert out["domains"] == list(DOMAINS)
    assert out["example"].startswith("(define (problem bw-example)")  # the project's own one-shot example
    assert out["calibration"][0] == out["pursuit"] == out["packaged"] and out["calibration"][1] > 100
    assert out["verified"] and out["plan"] == ["(unstack b3 b1)", "(putdown b3)", "(pickup b1)", "(stack b1 b2)"]


def test_mcp_serve_help_and_planning_gold_data_dir(installed):
    assert "--transport" in _run(installed, "ratiocinator", "mcp", "serve", "--help").stdout
    missing = _run(installed, "ratiocinator", "eval", "run", "planning-gold", check=False)
    assert missing.returncode == 2 and "--data-dir" in missing.stderr and "RATIOCINATOR_DATA" in missing.stderr
    data = installed[2] / "mydata"
    (data / "planning" / "blocksworld").mkdir(parents=True)
    shipped = _run(installed, "python", "-c", "from ratiocinator.datadirs import PACKAGED; "
                   "print((PACKAGED / 'planning/blocksworld/domain.pddl').read_text())").stdout
    (data / "planning" / "blocksworld" / "domain.pddl").write_text(shipped)
    (data / "planning" / "blocksworld" / "p01.pddl").write_text(PROBLEM)
    run = _run(installed, "ratiocinator", "eval", "run", "planning-gold", "--data-dir", str(data),
               "--out", str(installed[2] / "run"), "--json")
    summary = json.loads(run.stdout)["summary"]
    score = next(r for r in summary["rows"] if r["metric"] == "score" and r["group"] is None)
    assert summary["n_items"] == 1 and summary["n_errors"] == 0 and score["value"] == 1.0, summary
