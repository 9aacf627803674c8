"""Benchmark of the exact engines: LLM+P planning data, Fast Downward overhead, blocksworld scale, optimization.

    .venv/bin/python bench/solvers.py [--data ../shared/data] [--sections planning,scale,optimization]
                                      [--timeout 60] [--opt-timeout 60] [--scale-timeout 60]
                                      [--domains blocksworld,barman] [--baseline REV] [--no-direct floortile]

`--opt-timeout 0` skips the optimal planner; `--baseline REV` runs `pddl.solve` of git revision REV
in a worker process on the same problems (order rotated per problem) for a side-by-side overhead;
`--no-direct D1,D2` skips the Fast Downward by hand run on those domains (its cell reads "-").

Prints tables and writes bench/results/solvers.json (one record per run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FORMULATIONS = ROOT / "tests" / "solvers" / "formulations"


def fd_direct(domain: Path, problem: Path, timeout: float) -> tuple[float, int | None]:
    """Seconds and exit code of Fast Downward (lama-first) run by hand on the same files."""
    from ratiocinator.solvers.planners import fast_downward_command

    with tempfile.TemporaryDirectory() as tmp:
        cmd = fast_downward_command(str(domain), str(problem), str(Path(tmp) / "plan"), optimal=False)
        start = time.monotonic()
        try:
            code = subprocess.run(cmd, cwd=tmp, capture_output=True, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            code = None
        return time.monotonic() - start, code


_WORKER = """
import json, sys
from ratiocinator.solvers.pddl import solve
for line in sys.stdin:
    job = json.loads(line)
    r = solve(job["domain"], job["problem"], timeout=job["timeout"])
    print(json.dumps({"status": r.status, "seconds": r.seconds, "validated": r.validated, "cost": r.cost,
                      "planner": r.planner}), flush=True)
"""


class Baseline:
    """`pddl.solve` of an earlier commit (solvers/ and errors.py from git) in a worker process, for A/B runs."""

    def __init__(self, rev: str) -> None:
        self.rev = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True,
                                  check=True).stdout.strip()
        self.tree = Path(tempfile.mkdtemp(prefix="ratiocinator-baseline-"))
        files = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "solvers/", "errors.py"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split()
        (self.tree / "ratiocinator" / "solvers").mkdir(parents=True)
        (self.tree / "ratiocinator" / "__init__.py").write_text("")
        for name in files:
            text = subprocess.run(["git", "show", f"{rev}:{name}"], cwd=ROOT, capture_output=True, text=True,
                                  check=True).stdout
            (self.tree / "ratiocinator" / name).write_text(text)
        self.proc = subprocess.Popen([sys.executable, "-c", _WORKER], cwd=self.tree, text=True,
                                     env={**os.environ, "PYTHONPATH": str(self.tree)},
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def solve(self, domain: Path, problem: Path, timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        job = {"domain": str(domain.resolve()), "problem": str(problem.resolve()), "timeout": timeout}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()
        shutil.rmtree(self.tree, ignore_errors=True)


def planning(data: Path, timeout: float, opt_timeout: float, domains: list[str] | None = None,
             baseline: str | None = None, no_direct: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Each problem: `solve` (now), Fast Downward by hand, `solve` of `baseline` if given (order rotated)."""
    from ratiocinator.solvers.pddl import solve

    warm = data / "planning" / "blocksworld"
    old = Baseline(baseline) if baseline else None
    for _ in range(2):  # imports and engine registry out of the timings
        solve(warm / "domain.pddl", warm / "p01.pddl")
        if old is not None:
            old.solve(warm / "domain.pddl", warm / "p01.pddl", timeout)
    rows = []
    dirs = sorted(p for p in (data / "planning").iterdir() if p.is_dir() and (not domains or p.name in domains))
    for domain_dir in dirs:
        for i, problem in enumerate(sorted(domain_dir.glob("p[0-9][0-9].pddl"))):
            domain = domain_dir / "domain.pddl"
            row: dict[str, Any] = {"domain": domain_dir.name, "problem": problem.stem}
            runs = ["new", "direct", "old"] if old is not None else ["new", "direct"]
            if domain_dir.name in no_direct:
                runs.remove("direct")
                row["fd_direct_seconds"], row["fd_direct_exit"] = None, "skipped"
            for what in runs[i % len(runs):] + runs[: i % len(runs)]:
                if what == "new":
                    default = solve(domain, problem, timeout=timeout)
                    row |= {"status": default.status, "planner": default.planner, "validated": default.validated,
                            "seconds": default.seconds, "cost": default.cost}
                elif what == "direct":
                    row["fd_direct_seconds"], row["fd_direct_exit"] = fd_direct(domain, problem, timeout)
                else:
                    assert old is not None
                    got = old.solve(domain, problem, timeout)
                    row |= {"old_status": got["status"], "old_seconds": got["seconds"],
                            "old_validated": got["validated"], "old_rev": old.rev, "old_cost": got.get("cost"),
                            "old_planner": got.get("planner")}
            if opt_timeout > 0:
                optimal = solve(domain, problem, optimal=True, timeout=opt_timeout)
                row |= {"opt_status": optimal.status, "opt_planner": optimal.planner, "opt_cost": optimal.cost,
                        "opt_seconds": optimal.seconds, "opt_validated": optimal.validated}
            rows.append(row)
            direct = f"{row['fd_direct_seconds']:.2f}s" if row["fd_direct_seconds"] is not None else "-"
            print(f"  {domain_dir.name}/{problem.stem}: {row['status']} {row['planner']} {row['seconds']:.2f}s "
                  f"(FD direct {direct} exit {row['fd_direct_exit']}"
                  + (f", {old.rev} {row['old_seconds']:.2f}s" if old else "") + ")"
                  + (f"; opt {row['opt_status']} cost {row['opt_cost']}" if opt_timeout > 0 else ""),
                  file=sys.stderr)
    if old is not None:
        old.close()
    return rows


def _ratios(rows: list[dict[str, Any]], key: str, status: str) -> list[float]:
    """`key` seconds / Fast Downward by hand, where both solved (and validated)."""
    return [r[key] / r["fd_direct_seconds"] for r in rows
            if r["fd_direct_exit"] == 0 and str(r.get(status, "")).startswith("solved")]


def planning_table(rows: list[dict[str, Any]]) -> str:
    has_opt, old = "opt_status" in rows[0], rows[0].get("old_rev")
    head = ["domain", "solved+validated / total", "median s", "plans by", "FD direct median s",
            "overhead (median ratio)"]
    head += [f"{old} solved", f"{old} median s", f"{old} overhead"] if old else []
    head += ["optimal solved", "optimal costs"] if has_opt else []
    out = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for domain in sorted({r["domain"] for r in rows}):
        rs = [r for r in rows if r["domain"] == domain]
        ok = [r for r in rs if r["status"] in ("solved", "solved_optimally") and r["validated"]]
        direct = [r for r in rs if r["fd_direct_exit"] == 0]
        ratios = _ratios(ok, "seconds", "status")
        skipped = all(r["fd_direct_exit"] == "skipped" for r in rs)
        direct_cell = ("-" if skipped else f"{statistics.median(r['fd_direct_seconds'] for r in direct):.2f}"
                       if direct else "fails (exit " + ",".join(sorted({str(r["fd_direct_exit"]) for r in rs})) + ")")
        by: dict[str, int] = {}
        for r in ok:
            by[r["planner"]] = by.get(r["planner"], 0) + 1
        cells = [domain, f"{len(ok)}/{len(rs)}", f"{statistics.median(r['seconds'] for r in rs):.2f}",
                 " ".join(f"{k} {v}" for k, v in sorted(by.items())) or "-", direct_cell,
                 f"{statistics.median(ratios):.2f}x" if ratios else "n/a"]
        if old:
            old_ok = sum(1 for r in rs if str(r["old_status"]).startswith("solved") and r["old_validated"])
            old_ratios = _ratios([r for r in rs if r["old_validated"]], "old_seconds", "old_status")
            cells += [f"{old_ok}/{len(rs)}", f"{statistics.median(r['old_seconds'] for r in rs):.2f}",
                      f"{statistics.median(old_ratios):.2f}x" if old_ratios else "n/a"]
        if has_opt:
            opt = [r for r in rs if r["opt_status"] == "solved_optimally" and r["opt_validated"]]
            costs = " ".join(f"{r['problem']}:{r['opt_cost']:g}" for r in opt)
            cells += [f"{len(opt)}/{len(rs)}", costs or "-"]
        out.append("| " + " | ".join(cells) + " |")
    for label, key, status in [("now", "seconds", "status"), (old, "old_seconds", "old_status")]:
        if not label:
            continue
        both = [r for r in rows if r["fd_direct_exit"] == 0 and str(r.get(status, "")).startswith("solved")]
        if both:
            total = sum(r[key] for r in both) / sum(r["fd_direct_seconds"] for r in both)
            out.append(f"\nOverhead vs Fast Downward by hand ({label}): median ratio "
                       f"{statistics.median(_ratios(both, key, status)):.2f}x, total time ratio {total:.2f}x "
                       f"over {len(both)} problems.")
    return "\n".join(out)


def blocks_problem(n: int, seed: int = 0) -> str:
    from ratiocinator.solvers.generators import blocksworld_problem

    return blocksworld_problem(n, seed, domain="blocksworld-4ops")


def scale(data: Path, timeout: float) -> list[dict[str, Any]]:
    from ratiocinator.solvers.pddl import solve

    domain = (data / "planning" / "blocksworld" / "domain.pddl").read_text()
    solve(domain, blocks_problem(4, seed=0))  # imports and engine registry out of the timings
    rows = []
    for planner in ("fast-downward", "lpg", "pyperplan", "fast-downward-opt", "symk-opt"):
        for n in (10, 20, 30, 40):
            result = solve(domain, blocks_problem(n, seed=n), planner=planner, timeout=timeout)
            rows.append({"planner": planner, "blocks": n, "status": result.status, "seconds": result.seconds,
                         "cost": result.cost, "validated": result.validated})
            print(f"  {planner} {n} blocks: {result.status} {result.seconds:.2f}s cost {result.cost}",
                  file=sys.stderr)
    return rows


def scale_table(rows: list[dict[str, Any]]) -> str:
    sizes = sorted({r["blocks"] for r in rows})
    out = ["| planner | " + " | ".join(f"{n} blocks" for n in sizes) + " |", "|---" * (len(sizes) + 1) + "|"]
    for planner in dict.fromkeys(r["planner"] for r in rows):
        cells = []
        for n in sizes:
            r = next(r for r in rows if r["planner"] == planner and r["blocks"] == n)
            cells.append(f"{r['seconds']:.2f} s, cost {r['cost']:g}" if r["validated"] else
                         f"{r['status']} ({r['seconds']:.0f} s)")
        out.append(f"| {planner} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def _variants(formulation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    first = formulation["variables"][0]
    ref = first["name"]
    if first.get("index"):
        sets = {s["name"]: s["elements"] for s in formulation.get("sets", [])}
        element = sets[first["index"][0]][0]
        ref = f"{first['name']}[{element!r}]"
    free = [{**v, "upper": None} for v in formulation["variables"]]
    return {
        "infeasible": {**formulation, "constraints": [*formulation["constraints"],
                                                      {"name": "impossible", "expression": f"{ref} <= -1"}]},
        "unbounded": {**formulation, "variables": free, "constraints": [],
                      "objective": {"sense": "maximize", "expression": ref}},
    }


def optimization(timeout: float) -> list[dict[str, Any]]:
    from ratiocinator.solvers.optimization import solve

    rows = []
    for path in sorted(FORMULATIONS.glob("*.json")):
        item = json.loads(path.read_text())
        result = solve(item["formulation"], timeout=timeout)
        gt = float(item["answer"])
        rel = abs(result.objective - gt) / abs(gt) if result.objective is not None else None
        variants = {name: solve(f, timeout=timeout).status for name, f in _variants(item["formulation"]).items()}
        rows.append({"problem": path.stem, "answer": gt, "objective": result.objective, "rel_error": rel,
                     "status": result.status, "verified": result.verified, "solver": result.solver,
                     "class": result.problem_class, "seconds": result.seconds, **variants})
    return rows


def optimization_table(rows: list[dict[str, Any]]) -> str:
    out = ["| problem | class | known optimum | solved | rel. error | verified | s | infeasible variant "
           "| unbounded variant |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['problem']} | {r['class']} | {r['answer']:g} | {r['objective']:.6g} | {r['rel_error']:.1e} | "
                   f"{'yes' if r['verified'] else 'NO'} | {r['seconds']:.3f} | {r['infeasible']} | {r['unbounded']} |")
    within = sum(1 for r in rows if r["rel_error"] is not None and r["rel_error"] <= 1e-4)
    out.append(f"\n{within}/{len(rows)} within 1e-4 of the known optimum; "
               f"{sum(r['infeasible'] == 'infeasible' for r in rows)}/{len(rows)} infeasible and "
               f"{sum(r['unbounded'] == 'unbounded' for r in rows)}/{len(rows)} unbounded variants recognised.")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sections", default="planning,scale,optimization")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--opt-timeout", type=float, default=60.0)
    parser.add_argument("--scale-timeout", type=float, default=60.0)
    parser.add_argument("--domains", default="", help="planning: only these domains (comma-separated)")
    parser.add_argument("--baseline", default="", help="planning: also time pddl.solve of this git revision")
    parser.add_argument("--no-direct", default="", help="planning: no Fast Downward by hand on these domains")
    args = parser.parse_args()
    sections = args.sections.split(",")
    results: dict[str, Any] = {"machine": f"{sys.platform}, python {sys.version.split()[0]}",
                               "load_before": os.getloadavg()}
    tables = []
    if "optimization" in sections:
        results["optimization"] = optimization(args.timeout)
        tables.append("## Optimization\n\n" + optimization_table(results["optimization"]))
    if "planning" in sections:
        results["planning"] = planning(args.data, args.timeout, args.opt_timeout,
                                       [d for d in args.domains.split(",") if d], args.baseline or None,
                                       tuple(d for d in args.no_direct.split(",") if d))
        tables.append("## Planning (LLM+P ground-truth problems)\n\n" + planning_table(results["planning"]))
    if "scale" in sections:
        results["scale"] = scale(args.data, args.scale_timeout)
        tables.append("## Blocksworld scale\n\n" + scale_table(results["scale"]))
    results["load_after"] = os.getloadavg()
    tables.append(f"Load average (1, 5, 15 min) before: {' '.join(f'{x:.1f}' for x in results['load_before'])}, "
                  f"after: {' '.join(f'{x:.1f}' for x in results['load_after'])}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"solvers-{'-'.join(sections)}-{stamp}.json").write_text(json.dumps(results, indent=1))
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
