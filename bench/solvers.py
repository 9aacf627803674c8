"""Benchmark of the exact engines: LLM+P planning data, Fast Downward overhead, blocksworld scale, optimization.

    .venv/bin/python bench/solvers.py [--data ../shared/data] [--sections planning,scale,optimization]
                                      [--timeout 60] [--opt-timeout 60] [--scale-timeout 60]

Prints tables and writes bench/results/solvers.json (one record per run).
"""

from __future__ import annotations

import argparse
import json
import random
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


def planning(data: Path, timeout: float, opt_timeout: float) -> list[dict[str, Any]]:
    from ratiocinator.solvers.pddl import solve

    warm = data / "planning" / "blocksworld"
    solve(warm / "domain.pddl", warm / "p01.pddl")  # imports and engine registry out of the timings
    rows = []
    for domain_dir in sorted(p for p in (data / "planning").iterdir() if p.is_dir()):
        for problem in sorted(domain_dir.glob("p[0-9][0-9].pddl")):
            domain = domain_dir / "domain.pddl"
            default = solve(domain, problem, timeout=timeout)
            direct_s, direct_code = fd_direct(domain, problem, timeout)
            optimal = solve(domain, problem, optimal=True, timeout=opt_timeout)
            row = {"domain": domain_dir.name, "problem": problem.stem, "status": default.status,
                   "planner": default.planner, "validated": default.validated, "seconds": default.seconds,
                   "cost": default.cost, "fd_direct_seconds": direct_s, "fd_direct_exit": direct_code,
                   "opt_status": optimal.status, "opt_planner": optimal.planner, "opt_cost": optimal.cost,
                   "opt_seconds": optimal.seconds, "opt_validated": optimal.validated}
            rows.append(row)
            print(f"  {domain_dir.name}/{problem.stem}: {default.status} {default.seconds:.2f}s "
                  f"(FD direct {direct_s:.2f}s exit {direct_code}); opt {optimal.status} cost {optimal.cost}",
                  file=sys.stderr)
    return rows


def planning_table(rows: list[dict[str, Any]]) -> str:
    out = ["| domain | solved+validated / total | median s | FD direct median s | overhead (median ratio) "
           "| optimal solved | optimal costs |", "|---|---|---|---|---|---|---|"]
    for domain in sorted({r["domain"] for r in rows}):
        rs = [r for r in rows if r["domain"] == domain]
        ok = [r for r in rs if r["status"] in ("solved", "solved-optimally") and r["validated"]]
        direct = [r for r in rs if r["fd_direct_exit"] == 0]
        ratios = [r["seconds"] / r["fd_direct_seconds"] for r in direct if r in ok]
        opt = [r for r in rs if r["opt_status"] == "solved-optimally" and r["opt_validated"]]
        costs = " ".join(f"{r['problem']}:{r['opt_cost']:g}" for r in opt)
        direct_cell = (f"{statistics.median(r['fd_direct_seconds'] for r in direct):.2f}" if direct else
                       "fails (exit " + ",".join(sorted({str(r["fd_direct_exit"]) for r in rs})) + ")")
        ratio_cell = f"{statistics.median(ratios):.2f}x" if ratios else "n/a"
        out.append(f"| {domain} | {len(ok)}/{len(rs)} | {statistics.median(r['seconds'] for r in rs):.2f} | "
                   f"{direct_cell} | {ratio_cell} | {len(opt)}/{len(rs)} | {costs or '-'} |")
    all_ratios = [r["seconds"] / r["fd_direct_seconds"] for r in rows
                  if r["fd_direct_exit"] == 0 and r["status"].startswith("solved")]
    if all_ratios:
        total = sum(r["seconds"] for r in rows if r["fd_direct_exit"] == 0 and r["status"].startswith("solved"))
        direct_total = sum(r["fd_direct_seconds"] for r in rows
                           if r["fd_direct_exit"] == 0 and r["status"].startswith("solved"))
        out.append(f"\nOverhead vs Fast Downward by hand: median ratio {statistics.median(all_ratios):.2f}x, "
                   f"total time ratio {total / direct_total:.2f}x over {len(all_ratios)} problems.")
    return "\n".join(out)


def blocks_problem(n: int, seed: int) -> str:
    rng = random.Random(seed)

    def towers() -> list[str]:
        blocks = [f"b{i}" for i in range(n)]
        rng.shuffle(blocks)
        facts, stacks = [], []
        for b in blocks:
            if stacks and rng.random() < 0.7:
                stack = rng.choice(stacks)
                facts.append(f"(on {b} {stack[-1]})")
                stack.append(b)
            else:
                facts.append(f"(on-table {b})")
                stacks.append([b])
        return facts + [f"(clear {s[-1]})" for s in stacks]

    init, goal = towers(), [f for f in towers() if f.startswith("(on ")]
    return (f"(define (problem bw{n}) (:domain blocksworld-4ops) (:objects "
            f"{' '.join(f'b{i}' for i in range(n))})\n(:init (arm-empty) {' '.join(init)})\n"
            f"(:goal (and {' '.join(goal)})))\n")


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
    args = parser.parse_args()
    sections = args.sections.split(",")
    results: dict[str, Any] = {"machine": f"{sys.platform}, python {sys.version.split()[0]}"}
    tables = []
    if "optimization" in sections:
        results["optimization"] = optimization(args.timeout)
        tables.append("## Optimization\n\n" + optimization_table(results["optimization"]))
    if "planning" in sections:
        results["planning"] = planning(args.data, args.timeout, args.opt_timeout)
        tables.append("## Planning (LLM+P ground-truth problems)\n\n" + planning_table(results["planning"]))
    if "scale" in sections:
        results["scale"] = scale(args.data, args.scale_timeout)
        tables.append("## Blocksworld scale\n\n" + scale_table(results["scale"]))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"solvers-{'-'.join(sections)}-{stamp}.json").write_text(json.dumps(results, indent=1))
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
