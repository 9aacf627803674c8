"""`planning`: LLM+P (or the LLM-as-planner baseline) on the LLM+P problems, scored against the gold PDDL.

An item is one problem `planning/<domain>/pNN` (the items of `planning-gold`). The model reads the
English `pNN.nl`; the plan it ends with (`method=llm+p`: the planner's plan for the selected
translation; `method=llm-as-planner`: the model's own plan) scores 1 when unified-planning's
validator accepts it for the GOLD problem `pNN.pddl` (with tyreworld's `domain_validation.pddl`, as
llm-pddl's validate_plans.py does), as in the paper. With `optimal=true` the translation is planned
optimally and `optimal` says whether the plan's cost equals the gold problem's optimum.
Options: k translations, retries (error-feedback rounds), per_domain (the first N problems of each
domain), domains, and every other LLMPConfig field.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.evals.benchmark import Context, Item, Outcome, sha256_text
from ratiocinator.evals.benchmarks.planning_gold import PlanningGold


class PlanningOptions(BaseModel):
    """What to run (method, k, retries, ...) and on which problems (domains, per_domain)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domains: tuple[str, ...] | None = None  # None: every domain found
    planner: str = "auto"
    optimal: bool = False
    method: Literal["llm+p", "llm-as-planner"] = "llm+p"
    k: int = Field(1, ge=1, le=32)
    retries: int = Field(2, ge=0, le=10)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(1024, ge=16)
    length_factor: float = Field(2.0, gt=0)
    grammar: bool = True
    objects_from_text: bool = True
    max_unused_objects: int | None = Field(1, ge=0)  # agents.planning.LLMPConfig; None: off
    show_domain: bool = False
    per_domain: int | None = Field(None, ge=1)  # the first N problems of each domain
    timeout: float = Field(30.0, gt=0)  # seconds per planner call


class Planning(PlanningGold):
    name = "planning"
    description = "LLM+P: English -> problem PDDL (grammar, feedback, k-sample selection) -> plan; valid for the gold problem"
    Options = PlanningOptions
    needs_model = True

    def items(self) -> list[Item]:
        opts: PlanningOptions = self.options  # type: ignore[assignment]
        items = super().items()
        if opts.per_domain is not None:
            seen: dict[str | None, int] = {}
            kept = []
            for item in items:
                seen[item.group] = seen.get(item.group, 0) + 1
                if seen[item.group] <= opts.per_domain:
                    kept.append(item)
            items = kept
        # the English is what the model reads: its hash guards a resumed run
        return [
            Item(
                id=i.id,
                group=i.group,
                inputs={
                    **i.inputs,
                    "nl_sha256": sha256_text(
                        (self.root / i.inputs["domain"] / f"{i.inputs['problem']}.nl").read_text()
                    )[:16],
                },
            )
            for i in items
        ]

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.agents.planning import LLMPConfig, plan_from_text
        from ratiocinator.agents.planning_baseline import direct_plan
        from ratiocinator.agents.planning_grammar import load_domain
        from ratiocinator.solvers.pddl import solve, validate

        opts: PlanningOptions = self.options  # type: ignore[assignment]
        folder = self.root / item.inputs["domain"]
        domain = load_domain(folder)
        text = (folder / f"{item.inputs['problem']}.nl").read_text()
        gold = (folder / f"{item.inputs['problem']}.pddl").read_text()
        fields = set(LLMPConfig.model_fields) - {"seed"}
        config = LLMPConfig(
            seed=ctx.item_seed(item), **{f: getattr(opts, f) for f in fields if hasattr(opts, f)}
        )
        output: dict[str, object]
        if opts.method == "llm-as-planner":
            answer = direct_plan(text, backend=ctx.backend, domain=domain, config=config)
            steps: tuple[str, ...] | None = answer.steps
            tokens = (answer.prompt_tokens, answer.completion_tokens)
            output = {"plan": list(answer.steps), "raw": answer.text}
            metrics = {}
        else:
            result = plan_from_text(text, backend=ctx.backend, domain=domain, config=config)
            steps = result.plan
            tokens = (result.prompt_tokens, result.completion_tokens)
            first = [t for t in result.translations if t.round == 0]
            output = {
                "status": result.status,
                "plan": list(steps) if steps is not None else None,
                "problem_pddl": result.problem_pddl,
                "agreement": result.agreement,
                "message": result.message,
                "translations": [
                    {
                        "chain": t.chain,
                        "round": t.round,
                        "status": t.status,
                        "message": t.message,
                        "repairs": list(t.repairs),
                        "pddl": t.pddl,
                    }
                    for t in result.translations
                ],
            }
            metrics = {
                "verified": float(result.verified),
                "parsed_first": sum(t.status != "parse-error" for t in first) / max(1, len(first)),
                "solved_first": sum(t.status == "solved" for t in first) / max(1, len(first)),
                "rounds": float(max((t.round for t in result.translations), default=0)),
                "translations": float(len(result.translations)),
                "repaired": sum(bool(t.repairs) for t in result.translations)
                / max(1, len(result.translations)),
            }
            if result.verified:
                metrics["agreement"] = result.agreement
        valid = False
        if steps is not None:
            try:
                report = validate(domain.validation_pddl or domain.pddl, gold, steps)
            except (
                Exception
            ) as exc:  # UP rejects an argument of the wrong type (a model's own plan)
                output["gold_check"] = f"{type(exc).__name__}: {exc}"
                return Outcome(
                    output=output,
                    score=0.0,
                    metrics={**metrics, "valid": 0.0},
                    prompt_tokens=tokens[0],
                    completion_tokens=tokens[1],
                )
            valid = report.valid
            output["gold_check"] = "valid" if valid else report.reason
            if valid and opts.optimal:
                best = solve(domain.pddl, gold, optimal=True, timeout=opts.timeout)
                if best.cost is not None:
                    metrics["optimal"] = float(
                        report.cost is not None and report.cost <= best.cost + 1e-9
                    )
        metrics["valid"] = float(valid)
        return Outcome(
            output=output,
            score=float(valid),
            metrics=metrics,
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
        )
