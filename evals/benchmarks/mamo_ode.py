"""`mamo-ode`: Mamo's ODE word problems; the model writes the ODE, sympy/scipy solve it, Mamo's rule scores it.

Reads `optimization/mamo/ode.jsonl` (`{id, Question, Answer, Category, Type}`, FreedomIntelligence/
Mamo, CC BY-SA 4.0; not vendored). An item is one problem, grouped by Mamo's type (first order,
second order, system). Score: Mamo's tolerance on the computed value; metrics add the value before
any correction, whether a value was computed at all, and which solver gave it. `agents.ode` runs each
item; its config is the option `config` (ODEConfig's defaults).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ratiocinator.agents.ode import ODEConfig
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome
from ratiocinator.evals.benchmarks._jsonl import read_jsonl
from ratiocinator.evals.benchmarks.mamo_tolerance import answer_text, mamo_correct, strict_correct


class MamoODEOptions(BaseModel):
    """Mamo ODE's config (its own defaults) and an optional filter by Mamo's type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    config: ODEConfig = ODEConfig()
    types: tuple[str, ...] | None = (
        None  # first_order_equation, second_order_equation, system_equation
    )


class MamoODE(Benchmark):
    name = "mamo-ode"
    description = (
        "Mamo ODE problems: the model writes the ODE, sympy dsolve / scipy solve_ivp evaluate it"
    )
    needs_model = True
    method = "mamo-ode"
    Options = MamoODEOptions
    data_subdir = "optimization/mamo"

    def items(self) -> list[Item]:
        opts: MamoODEOptions = self.options  # type: ignore[assignment]
        assert self.data_dir is not None
        rows = read_jsonl(
            self.data_dir / "optimization" / "mamo" / "ode.jsonl", ("Question", "Answer", "Type")
        )
        return [
            Item(
                id=f"ode/{r['id']}",
                group=r["Type"],
                inputs={"question": r["Question"], "answer": answer_text(r["Answer"])},
            )
            for r in rows
            if opts.types is None or r["Type"] in opts.types
        ]

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.agents.ode import run as run_ode

        opts: MamoODEOptions = self.options  # type: ignore[assignment]
        result = run_ode(item.inputs["question"], backend=ctx.backend, config=opts.config)
        truth = item.inputs["answer"]
        metrics = {
            "accuracy": float(mamo_correct(result.value, truth)),
            "accuracy_strict": float(strict_correct(result.value, truth)),
            "accuracy_without_correction": float(mamo_correct(result.initial_value, truth)),
            "execution_rate": float(result.value is not None),
            "dsolve": float(result.method == "dsolve"),
            "correction_rounds": float(result.rounds),
            "seconds": result.usage.seconds,
        }
        output = {
            "value": result.value,
            "truth": truth,
            "method": result.method,
            "answer": result.answer,
            "attempts": [a.model_dump() for a in result.attempts],
        }
        return Outcome(
            output=output,
            score=metrics["accuracy"],
            metrics=metrics,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
        )
