"""What the engine makes of one formulation: parse, check, build, solve, re-check, plausibility; feedback in words.

Each failure is said in words the model can act on in a correction round (the feedback), and the
order of the checks decides the status: truncated, build_error, then the solver's infeasible /
unbounded / timeout / error, then the doubts about a solved model (stopped before optimality, failed
the independent re-check, implausibly large, all zero, numbers the problem does not state), then the
comparison with the problem text (solvers.faithfulness: a stated constraint missing or broken, another
objective, a number of the text used nowhere: unfaithful, when `check_text`), else ok. Every solved
attempt carries that comparison (`text_check`), which the verdict reports.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from pydantic import ValidationError

from ratiocinator.agents.llmopt.config import LLMOPTConfig
from ratiocinator.agents.llmopt.numbers import formulation_numbers, share_from_text
from ratiocinator.agents.llmopt.prompts import compact
from ratiocinator.agents.llmopt.result import Attempt, AttemptStatus
from ratiocinator.errors import InvalidInput
from ratiocinator.models.types import Completion
from ratiocinator.solvers.faithfulness import TextCheck, compare_with_text
from ratiocinator.solvers.formulation import Formulation, FormulationError, check
from ratiocinator.solvers.optimization import OptResult, solve

Finding = tuple[AttemptStatus, str]


def evaluate(completion: Completion, *, sample: int, round_: int, config: LLMOPTConfig,
             problem: str | None = None) -> Attempt:
    """Parse, check, build and solve one formulation; say what is wrong in words the model can act on.

    With `problem`, a verified optimum of a formulation whose constants mostly do not occur in the
    problem is implausible (it models another problem, typically the prompt's example).
    """
    text = completion.text.strip()
    attempt = partial(Attempt, sample=sample, round=round_, formulation=text)
    if completion.finish_reason == "length":
        return attempt(
            status="truncated",
            feedback=f"The formulation was cut off after {completion.completion_tokens} tokens. "
            "Write a shorter one: use sets and list-valued parameters.",
        )
    formulation, problems = _formulation(text)
    if formulation is None:
        return attempt(status="build_error", feedback=problems)
    try:
        result = solve(formulation, solver=config.solver, timeout=config.solver_timeout)
    except InvalidInput as exc:
        return attempt(status="build_error", feedback=f"The formulation cannot be built: {exc}")
    failure = _unsolved(result, config)
    if failure is not None:
        return attempt(status=failure[0], feedback=failure[1])
    compared = _compared(problem, formulation, result, config)
    found = {"objective": result.objective, "values": result.values, "verified": result.verified,
             "text_check": compared}
    doubt = _doubt(result, config) or _foreign_numbers(text, problem, config)
    if doubt is not None:
        return attempt(status=doubt[0], feedback=doubt[1], **found)
    if config.check_text and compared is not None and not compared.verified:
        shown = f" (optimal value {result.objective:.6g}, values {compact(result.values)[:300]})"
        return attempt(status="unfaithful", feedback=compared.feedback + shown, **found)
    return attempt(status="ok", **found)


def _compared(problem: str | None, formulation: Formulation, result: OptResult,
              config: LLMOPTConfig) -> TextCheck | None:
    """The formulation and its answer compared with the problem text (None: no text to compare with)."""
    if problem is None:
        return None
    return compare_with_text(problem, formulation, result.values, timeout=config.solver_timeout)


def _formulation(text: str) -> tuple[Formulation | None, str]:
    """The checked formulation, or None and why it is not valid."""
    try:
        formulation = Formulation.model_validate_json(text)
        check(formulation)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:4]
        )
        return None, f"The formulation is not valid: {problems}"
    except FormulationError as exc:
        return None, f"The formulation cannot be built: {exc}"
    return formulation, ""


def _unsolved(result: OptResult, config: LLMOPTConfig) -> Finding | None:
    """Why the solver returned no value (infeasible, unbounded, timeout, error), or None."""
    if result.status == "infeasible":
        return (
            "infeasible",
            "The model is infeasible: no values satisfy all constraints at once. A "
            "constraint has a wrong direction, a wrong number or does not belong.",
        )
    if result.status == "unbounded":
        return (
            "unbounded",
            "The model is unbounded: the objective improves without limit. A constraint "
            "or bound from the text is missing, or the sense (minimize/maximize) is wrong.",
        )
    if result.status == "timeout":
        return (
            "timeout",
            f"The solver found no solution within {config.solver_timeout:g} s. Simplify the "
            "formulation.",
        )
    if result.status == "error" or result.objective is None:
        return "error", f"The solver failed: {result.message or 'no solution was returned'}"
    return None


def _doubt(result: OptResult, config: LLMOPTConfig) -> Finding | None:
    """Why a value the solver returned is not taken as the optimum, or None."""
    assert result.objective is not None
    shown = f"(optimal value {result.objective:.6g}, values {compact(result.values)[:300]})"
    if result.status == "feasible":
        return (
            "timeout",
            f"The solver stopped at its {config.solver_timeout:g} s limit before proving "
            f"optimality {shown}. Simplify the formulation.",
        )
    if not result.verified:
        return (
            "implausible",
            f"The solver's answer fails an independent check {shown}: "
            f"{result.message or 'the objective does not match the values'}.",
        )
    if not math.isfinite(result.objective) or abs(result.objective) > config.max_abs_objective:
        return (
            "implausible",
            f"The optimal value {result.objective:.6g} is implausibly large: a bound or "
            "a number is wrong.",
        )
    if config.reject_all_zero and _all_zero(result.values):
        return (
            "implausible",
            f"Every variable is 0 at the optimum {shown}: a requirement from the text "
            "is missing, or the objective's sense is wrong.",
        )
    return None


def _foreign_numbers(text: str, problem: str | None, config: LLMOPTConfig) -> Finding | None:
    """A formulation whose constants (3 or more) mostly do not occur in the problem models another one."""
    if problem is None or config.min_numbers_from_text <= 0:
        return None
    share, foreign = share_from_text(text, problem)
    if share < config.min_numbers_from_text and len(formulation_numbers(text)) >= 3:
        listed = ", ".join(f"{x:g}" for x in foreign[:8])
        return (
            "implausible",
            f"Most numbers of this formulation ({listed}) do not occur in the problem: it "
            "describes another problem. Use the numbers the problem states.",
        )
    return None


def _all_zero(values: dict[str, Any]) -> bool:
    """Every variable the solver set is 0 (NaN: a variable in no constraint or objective, left unset, does not
    count: "minimize perimeter" with no constraints gives perimeter 0 and area unset, which is no answer)."""
    numbers = [x for v in values.values() for x in (v.values() if isinstance(v, dict) else [v])]
    numbers = [x for x in numbers if not (isinstance(x, float) and math.isnan(x))]
    return bool(numbers) and all(abs(x) < 1e-9 for x in numbers)
