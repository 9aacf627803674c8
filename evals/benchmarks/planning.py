"""`planning`: LLM+P (or the LLM-as-planner baseline) on the LLM+P problems, scored against the gold PDDL.

An item is one problem `planning/<domain>/pNN` (the items of `planning-gold`). The model reads the
English `pNN.nl`; the plan it ends with (`method=llm+p`: the planner's plan for the selected
translation; `method=llm-as-planner`: the model's own plan) scores 1 when unified-planning's
validator accepts it for the GOLD problem `pNN.pddl` (with tyreworld's `domain_validation.pddl`, as
llm-pddl's validate_plans.py does), as in the paper. With `optimal=true` the translation is planned
optimally and `optimal` says whether the plan's cost equals the gold problem's optimum.
Options: method, per_domain (the first N problems of each domain), domains, and `config`, LLM+P's
LLMPConfig (every field set by its name: `--set k=3 retries=2 optimal=true`); the baseline runs with
the fields of that config it shares (max_tokens, length_factor, grammar, objects_from_text, planner,
timeout).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.agents.llm_as_planner import LLMAsPlannerConfig
from ratiocinator.agents.llmp import LLMPConfig
from ratiocinator.evals.benchmark import Context, Item, Outcome, sha256_text
from ratiocinator.evals.benchmarks.planning_gold import PlanningGold


class PlanningOptions(BaseModel):
    """What to run (method, LLM+P's config) and on which problems (domains, per_domain)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domains: tuple[str, ...] | None = None  # None: every domain found
    method: Literal["llm+p", "llm-as-planner"] = "llm+p"
    per_domain: int | None = Field(None, ge=1)  # the first N problems of each domain
    config: LLMPConfig = LLMPConfig()  # the baseline takes the fields it shares with it


def baseline_config(config: LLMPConfig) -> LLMAsPlannerConfig:
    """The LLM-as-planner config with LLM+P's values for the fields the two share."""
    return LLMAsPlannerConfig(**{f: getattr(config, f) for f in LLMAsPlannerConfig.model_fields})


class Planning(PlanningGold):
    name = "planning"
    description = "LLM+P: English -> problem PDDL (grammar, feedback, k-sample selection) -> plan; valid for the gold problem"
    Options = PlanningOptions
    needs_model = True
    method = "llmp"

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
        from ratiocinator.agents.llmp import load_domain

        opts: PlanningOptions = self.options  # type: ignore[assignment]
        folder = self.root / item.inputs["domain"]
        domain = load_domain(folder)
        text = (folder / f"{item.inputs['problem']}.nl").read_text()
        gold = (folder / f"{item.inputs['problem']}.pddl").read_text()
        config = opts.config.model_copy(update={"seed": ctx.item_seed(item)})
        if opts.method == "llm-as-planner":
            steps, output, metrics, usage = _baseline(text, domain, config, ctx)
        else:
            steps, output, metrics, usage = _llmp(text, domain, config, ctx)
        tokens = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
        if steps is None:
            metrics["valid"] = 0.0
            return Outcome(output=output, score=0.0, metrics=metrics, **tokens)
        valid = _gold_check(domain, gold, steps, config, output, metrics)
        metrics["valid"] = float(valid)
        return Outcome(output=output, score=float(valid), metrics=metrics, **tokens)


def _baseline(text: str, domain: Any, config: LLMPConfig, ctx: Context) -> tuple[Any, dict, dict, Any]:
    """The LLM-as-planner baseline's plan and record (its config: the fields it shares with LLM+P's)."""
    from ratiocinator.agents.llm_as_planner import run as write_plan

    answer = write_plan(text, backend=ctx.backend, domain=domain, config=baseline_config(config))
    output = {"plan": list(answer.steps), "raw": answer.raw, "verdict": answer.verdict.to_json()}
    return answer.steps, output, {}, answer.usage


def _llmp(text: str, domain: Any, config: LLMPConfig, ctx: Context) -> tuple[Any, dict, dict, Any]:
    """LLM+P's plan, its record (every translation) and metrics of the translations."""
    from ratiocinator.agents.llmp import plan_from_text

    result = plan_from_text(text, backend=ctx.backend, domain=domain, config=config)
    steps = result.plan
    first = [t for t in result.translations if t.round == 0]
    output = {
        "status": result.verdict.status,
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
        "verdict": result.verdict.to_json(),
    }
    if result.pieces:  # the stepwise translation: every small decision
        output["pieces"] = [dataclasses.asdict(p) for p in result.pieces]
        output["translations"] = [
            {**t, "warnings": list(w.warnings)} for t, w in zip(output["translations"], result.translations, strict=True)
        ]
    metrics = {
        "verified": float(result.verified),
        "parsed_first": sum(t.status != "parse_error" for t in first) / max(1, len(first)),
        "solved_first": sum(t.status == "solved" for t in first) / max(1, len(first)),
        "rounds": float(max((t.round for t in result.translations), default=0)),
        "translations": float(len(result.translations)),
        "repaired": sum(bool(t.repairs) for t in result.translations)
        / max(1, len(result.translations)),
    }
    sentences = [p for p in result.pieces if p.index >= 0 and p.round == 0]
    if sentences:  # stepwise: the share of sentences renamed from the example, not the model's answer
        metrics["by_analogy"] = sum(bool(p.analogy) for p in sentences) / len(sentences)
    if result.verified:
        metrics["agreement"] = result.agreement
    return steps, output, metrics, result.usage


def _gold_check(
    domain: Any, gold: str, steps: tuple[str, ...], config: LLMPConfig, output: dict, metrics: dict
) -> bool:
    """Whether the plan is valid for the GOLD problem (recorded as `gold_check`); with `optimal`, whether optimal."""
    from ratiocinator.solvers.pddl import solve, validate

    try:
        report = validate(domain.validation_pddl or domain.pddl, gold, steps)
    except Exception as exc:  # UP rejects an argument of the wrong type (a model's own plan)
        output["gold_check"] = f"{type(exc).__name__}: {exc}"
        return False
    output["gold_check"] = "valid" if report.valid else report.reason
    if report.valid and config.optimal:
        best = solve(domain.pddl, gold, optimal=True, timeout=config.timeout)
        if best.cost is not None:
            metrics["optimal"] = float(report.cost is not None and report.cost <= best.cost + 1e-9)
    return report.valid
