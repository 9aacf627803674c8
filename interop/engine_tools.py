"""The tools `ratiocinator mcp serve` offers: the chat's checking tools, and the engines' entry points they lack.

The built-in tools (agents/builtin_tools.py) are offered as they are where they fit (`plan`,
`solve_equation`; `check_math` of a whole derivation as `check_derivation`); the functions here add
what a client outside the chat needs: `validate_plan` (a plan it wrote, checked step by step),
`check_math` (one step or identity), `optimize` (a five-element formulation, or LP / MPS text),
`run_python` (the built-in one, where code that fails is a tool error), `select_code` (B4 over candidate
solutions and tests), and, with a model, `plan_from_text` / `optimize_from_text` (the registered
methods' `run`). Each one calls the engine's or method's own function: nothing is re-implemented here.
"""

from __future__ import annotations

import dataclasses
import functools
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from ratiocinator.agents import builtin_tools as builtin
from ratiocinator.agents.tools import Tool, Verified, make_tool
from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.formulation import Formulation

#: seconds each tool may take, everything included (a call's own `timeout` argument is kept below it)
ENGINE_LIMIT = 150.0
FROM_TEXT_LIMIT = 600.0  # a model loads on the first call, then translates, plans or solves, and checks


def validate_plan(domain: str, problem: str, plan: Annotated[list[str], Field(max_length=1000)]) -> Verified:
    """Check a plan against a PDDL problem with unified-planning's validator: valid, or the first step that fails and why.

    Args:
        domain: the PDDL domain text, or the name of a built-in domain ("blocksworld")
        problem: the PDDL problem text: (define (problem NAME) (:domain DOMAIN) (:objects …) (:init …) (:goal …))
        plan: the actions in order, one per entry, e.g. "(unstack b2 b3)"
    """
    from ratiocinator.solvers.pddl import validate

    report = validate(*builtin.domain_and_problem(domain, problem), plan)
    value = {"valid": report.valid, "steps": report.steps, "cost": report.cost,
             "failed_step": report.failed_step, "reason": report.reason}
    return Verified(value=value, how="checked step by step by unified-planning's sequential plan validator")


def check_math(before: str, after: str, assumptions: dict[str, str] | None = None, timeout: float = 10.0) -> Verified:
    """Check one step of math with sympy: does `after` equal (or follow from) `before`? Plain text or LaTeX.

    Args:
        before: an expression, equation or inequality, e.g. "(x + 1)^2" or "x^2 = 4"
        after: what should follow from it, e.g. "x^2 + 2x + 1" or "x = 2 or x = -2"
        assumptions: optional assumptions per symbol: positive, nonnegative, negative, real, integer or nonzero
        timeout: seconds sympy may take
    """
    from ratiocinator.solvers.symbolic import check_step

    step = check_step(before, after, assumptions or {}, timeout=max(1.0, min(timeout, 60.0)))
    value = {"valid": step.valid, "kind": step.kind, "method": step.method, "detail": step.detail}
    if step.inconclusive:
        return Verified(value=value, how=f"sympy could not decide ({step.detail})", checked=False)
    return Verified(value=value, how=f"checked by sympy ({step.method})")


def optimize(
    formulation: Formulation | None = None,
    model_text: Annotated[str, Field(max_length=2_000_000)] | None = None,
    model_format: Literal["lp", "mps"] = "lp",
    solver: str = "auto",
    timeout: float = 60.0,
    problem_text: str | None = None,
) -> Verified:
    """Solve an optimization model and verify the optimum from its values: a five-element formulation, or LP / MPS text.

    Args:
        formulation: the model as a JSON object with sets, parameters, variables, objective and constraints
        model_text: instead of a formulation, the model in CPLEX LP or MPS format
        model_format: the format of model_text: lp or mps
        solver: auto, highs, scip, cbc or glpk
        timeout: seconds the solver may take
        problem_text: the problem in words, to check a formulation against (each number used, each constraint stated in symbols present and holding at the answer)
    """
    if (formulation is None) == (model_text is None):
        raise InvalidInput("give exactly one of formulation (a five-element model) or model_text (LP or MPS text)")
    if formulation is not None:
        return builtin.optimize(formulation, solver=solver, timeout=timeout, problem_text=problem_text)
    with tempfile.TemporaryDirectory(prefix="ratiocinator-mcp-") as folder:
        path = Path(folder) / f"model.{model_format}"
        path.write_text(model_text or "", encoding="utf-8")
        try:
            return builtin.optimize(path, solver=solver, timeout=timeout)  # type: ignore[arg-type]  (reads .lp/.mps)
        except InvalidInput as exc:  # named by the argument, not by the file it was written to
            raise InvalidInput(str(exc).replace(str(path), f"model_text ({model_format.upper()})")) from None


def run_python_or_raise(**arguments: Any) -> Verified:
    """The built-in `run_python` (same arguments), where code that does not run through is a tool error saying why."""
    ran = builtin.run_python(**arguments)
    value = ran.value
    if value["status"] == "timeout":
        limit = min(max(arguments.get("timeout", 10.0), 1.0), 60.0)
        raise RuntimeError(f"the code did not finish within the {limit:g} s limit")
    if value["status"] != "ok":  # the code itself failed: what it raised is the answer
        error = (value.get("error") or value.get("stderr") or value["status"]).strip().splitlines()[-1]
        network = any(w in error for w in ("Network is unreachable", "gaierror", "Temporary failure in name"))
        raise RuntimeError(f"the code raised {error}{' (the sandbox has no network)' if network else ''}")
    return ran


def select_code(
    prompt: str,
    entry_point: str,
    candidates: Annotated[list[str], Field(min_length=1, max_length=50)],
    tests: Annotated[list[str], Field(max_length=200)] | None = None,
    trusted_tests: Annotated[list[str], Field(max_length=100)] | None = None,
    strategy: Literal["b4", "codet", "mbr_exec", "maxpass", "random"] = "b4",
) -> Verified:
    """Choose the best of candidate solutions by how they pass plausible tests (B4), all run in the sandbox.

    Args:
        prompt: the code each candidate completes (imports, the signature and the docstring)
        entry_point: the function's name
        candidates: completions of prompt (function bodies, or whole definitions)
        tests: plausible tests, one statement each, e.g. "assert add(1, 2) == 3"; they choose, they are not trusted
        trusted_tests: tests known to be right; they only check the choice (verified only when it passes them all)
        strategy: b4 (the paper) or a baseline: codet, mbr_exec, maxpass, random
    """
    from ratiocinator.agents.code_selection import CodeSelectionConfig, CodeSelectionTask
    from ratiocinator.agents.code_selection import run as select

    task = CodeSelectionTask(prompt=prompt, entry_point=entry_point, candidates=tuple(candidates),
                             tests=tuple(tests or ()), trusted_tests=tuple(trusted_tests or ()))
    result = select(task, backend=None, config=CodeSelectionConfig(strategy=strategy))
    value = {"solution": result.solution, "index": result.index, "strategy": result.strategy,
             "group": list(result.group), "passed": result.passed, "tests": len(result.tests),
             "trusted_passed": result.trusted_passed, "trusted_total": result.trusted_total}
    if result.solution is None:
        raise RuntimeError(result.verdict.reason)
    return Verified(value=value, how=result.verdict.reason, checked=result.verdict.verified)


@functools.cache
def _backend(model: str) -> Any:
    from ratiocinator.models import load_backend

    return load_backend(model)


def from_text_tools(model: str) -> list[Tool]:
    """`plan_from_text` and `optimize_from_text`: the registered methods' `run` on `model` (loaded on first use)."""
    from ratiocinator import methods
    from ratiocinator.agents.chat.method_tools import reported

    def plan_from_text(text: str, domain: str | None = None) -> Verified:
        """Plan from a problem in English (LLM+P): the model writes the problem PDDL, a planner plans, the plan is validated.

        Args:
            text: the planning problem in English: the start state and the goal
            domain: a built-in domain name ("blocksworld") or the PDDL domain text; none: the domain the text describes
        """
        return reported(methods.get("llmp").run(text, backend=_backend(model), domain=domain))

    def optimize_from_text(text: str) -> Verified:
        """Solve an optimization problem in English (LLMOPT): the model formulates it, a solver solves, the optimum is re-checked.

        Args:
            text: the optimization problem in English, with its numbers
        """
        return reported(methods.get("llmopt").run(text, backend=_backend(model)))

    return [make_tool(plan_from_text, timeout=FROM_TEXT_LIMIT),
            make_tool(optimize_from_text, timeout=FROM_TEXT_LIMIT)]


def server_tools(model: str | None = None) -> list[Tool]:
    """Every tool the MCP server offers; the from-text tools only when a model is configured."""
    tools = [
        make_tool(builtin.plan, timeout=ENGINE_LIMIT),
        make_tool(validate_plan, timeout=ENGINE_LIMIT),
        make_tool(optimize, timeout=ENGINE_LIMIT),
        make_tool(builtin.check_math, name="check_derivation", timeout=ENGINE_LIMIT),
        make_tool(check_math, timeout=90),
        make_tool(builtin.solve_equation, timeout=60),
        dataclasses.replace(make_tool(builtin.run_python, timeout=90), fn=run_python_or_raise),
        make_tool(select_code, timeout=ENGINE_LIMIT),
    ]
    return tools + (from_text_tools(model) if model else [])
