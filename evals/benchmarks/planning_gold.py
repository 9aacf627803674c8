"""`planning-gold`: solve the ground-truth PDDL of every LLM+P problem with the solvers layer (no model).

Reads `planning/<domain>/domain.pddl` and `planning/<domain>/pNN.pddl` under the data directory (the
LLM+P domains of Cranial-XIX/llm-pddl; not vendored, no licence stated). An item is one problem; it
scores 1 when the planner finds a plan and unified-planning's validator accepts it. Per domain the
report gives solved and validated rates, as LLM+P reports success per domain. The paper used an
optimal planner (Fast Downward seq-opt): `--set optimal=true` does the same (slower); the default is
the satisficing Fast Downward, which is what the LLM+P pipeline needs to turn a problem into a plan.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.errors import InvalidInput
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome, sha256_text

_PROBLEM = re.compile(r"^p\d+\.pddl$")


class PlanningGoldOptions(BaseModel):
    """How to solve: which planner (`auto` is Fast Downward), optimal or not, the limit per problem."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planner: str = "auto"
    optimal: bool = False
    timeout: float = Field(60.0, gt=0)
    domains: tuple[str, ...] | None = None  # None: every domain found
    recheck: bool = False  # validate each plan a second time through `validate` (re-parses the PDDL)


class PlanningGold(Benchmark):
    name = "planning-gold"
    description = "solve and validate the ground-truth PDDL of every LLM+P problem (no model); per domain"
    Options = PlanningGoldOptions
    data_subdir = "planning"
    thread_safe = False  # unified-planning parses into one global environment

    @property
    def root(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir / "planning"

    def items(self) -> list[Item]:
        opts: PlanningGoldOptions = self.options  # type: ignore[assignment]
        domains = sorted(d.name for d in self.root.iterdir() if (d / "domain.pddl").is_file())
        if opts.domains is not None:
            unknown = sorted(set(opts.domains) - set(domains))
            if unknown:
                raise InvalidInput(f"planning-gold: unknown domain(s) {unknown}; {self.root} has {domains}")
            domains = [d for d in domains if d in opts.domains]
        items = []
        for domain in domains:
            folder = self.root / domain
            domain_hash = sha256_text((folder / "domain.pddl").read_text())[:16]
            for problem in sorted(p.name for p in folder.iterdir() if _PROBLEM.match(p.name)):
                items.append(Item(id=f"{domain}/{problem.removesuffix('.pddl')}", group=domain, inputs={
                    "domain": domain, "problem": problem.removesuffix(".pddl"), "domain_sha256": domain_hash,
                    "problem_sha256": sha256_text((folder / problem).read_text())[:16]}))
        if not items:
            raise InvalidInput(f"planning-gold: no problems (pNN.pddl next to a domain.pddl) under {self.root}")
        return items

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.solvers.pddl import solve, validate

        opts: PlanningGoldOptions = self.options  # type: ignore[assignment]
        folder = self.root / item.inputs["domain"]
        domain, problem = folder / "domain.pddl", folder / f"{item.inputs['problem']}.pddl"
        result = solve(domain, problem, planner=opts.planner, optimal=opts.optimal, timeout=opts.timeout)
        validated = result.validated
        if opts.recheck and result.plan is not None:
            validated = validated and validate(domain, problem, result.plan).valid
        metrics = {"solved": float(result.solved), "validated": float(validated)}
        if opts.optimal:
            metrics["optimal"] = float(result.status == "solved_optimally" and validated)
        output = {"status": result.status, "planner": result.planner, "cost": result.cost,
                  "steps": len(result.plan) if result.plan is not None else None,
                  "plan": list(result.plan) if result.plan is not None else None, "message": result.message}
        return Outcome(output=output, score=float(result.solved and validated), metrics=metrics)
