"""`derivation`: share of fully valid model-written derivations on generated items, and the kinds of errors.

Items are made by reasoning/symbolic_steps.py (premise and definition -> goal, with a known derivation
that sympy has checked; no data directory needed), as the paper "Generating Mathematical Derivations
with Large Language Models" generates its test derivations with a symbolic engine. The model writes the
derivation under a grammar, sympy checks every line, the first invalid line is fed back
(reasoning/derivation/, registry `derivation`; its config is the option `config`). Score: the last attempt
shows none of the paper's three error kinds (every line follows, none is irrelevant, no step is skipped)
and ends at the goal; `first_complete` the same before any feedback; `sound` the last attempt with skipped
steps allowed (every line follows and the last states the goal: a jump straight to the goal, which the
goal written in the prompt makes easy, is sound but not a derivation). Error kinds in the first attempt,
as the share of derivations showing them: `wrong` (a line that does not follow), `irrelevant` (a restated
definition or a repeat), `skipped` (fewer lines than the known derivation has operations); `reaches_goal`
whether its last line states the goal; `first_valid` every line of the first attempt follows and it ends at the
goal, skipped steps allowed. Until session 21 the score was `sound`: records made before then carry it as their
score, and resuming such a run would mix the two.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome
from ratiocinator.reasoning.derivation import DerivationConfig


class DerivationBenchOptions(BaseModel):
    """How many items, and the loop's config."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: int = Field(40, ge=1, le=1000)  # seeds 0..items-1 (the prompt's example uses seed 1001)
    config: DerivationConfig = DerivationConfig()


class DerivationBench(Benchmark):
    name = "derivation"
    description = "model-written derivations checked line by line by sympy (generated items): complete share, error kinds"
    needs_model = True
    method = "derivation"
    Options = DerivationBenchOptions

    def items(self) -> list[Item]:
        from ratiocinator.reasoning.symbolic_steps import generate_item

        opts: DerivationBenchOptions = self.options  # type: ignore[assignment]
        out = []
        for seed in range(opts.items):
            d = generate_item(seed)
            out.append(
                Item(
                    id=d.id,
                    group="linear" if seed % 2 == 0 else "quadratic",
                    inputs={
                        "seed": seed,
                        "premises": list(d.premises),
                        "goal": d.goal,
                        "known": list(d.steps),
                    },
                )
            )
        return out

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.reasoning.derivation import run as run_derivation
        from ratiocinator.reasoning.symbolic_steps import generate_item

        opts: DerivationBenchOptions = self.options  # type: ignore[assignment]
        d = generate_item(item.inputs["seed"])
        result = run_derivation(d, backend=ctx.backend, config=opts.config)
        first = result.attempts[0]
        last = result.attempts[-1]
        metrics = {
            "first_valid": float(first.fully_valid),
            "first_complete": float(first.complete),
            "sound": float(last.fully_valid),
            "wrong": float(first.wrong > 0),
            "irrelevant": float(first.irrelevant > 0),
            "skipped": float(first.skipped > 0),
            "reaches_goal": float(first.reaches_goal),
            "attempts": float(len(result.attempts)),
        }
        output = {
            "attempts": [
                {
                    "lines": list(a.lines),
                    "verdicts": [j.verdict for j in a.judgements],
                    "details": [j.detail for j in a.judgements],
                    "reaches_goal": a.reaches_goal,
                    "skipped": a.skipped,
                }
                for a in result.attempts
            ],
            "verdict": result.verdict.to_json(),
        }
        return Outcome(
            output=output,
            score=float(last.complete),
            metrics=metrics,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
        )
