"""The built-in tools wired to the exact engines: plan, optimize, check_math, solve_equation, run_python, calculator, ask_user.

Each returns a `Verified` value whose sentence says how the answer was checked (the chat answer
repeats it), and whether the check holds. `optimize` and `plan` take the user's own text
(`problem_text`; the chat passes its request) and say how far the formulation or PDDL problem they
were given is that text's problem (solvers.faithfulness): an optimum that breaks a constraint the text
states, or a formulation that does not match it, is not verified; a plan is "valid for your problem"
only when the PDDL problem is the one the text states, else "valid for the problem as translated". Built-in planning domains are data files found by
`ratiocinator.datadirs` (planning/<domain>/domain.pddl; the package ships blocksworld). Engines
load when a tool first runs, so building the tool list stays cheap.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any

from pydantic import Field

from ratiocinator.agents.tools import Tool, Verified, make_tool
from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.formulation import Formulation

#: Built-in domains by the names a tool call may give: the folder under planning/ of the data roots.
KNOWN_DOMAINS = {"blocksworld": "blocksworld", "blocks": "blocksworld"}
_DOMAIN_NAME = re.compile(r"\(\s*define\s*\(\s*domain\s+([^\s()]+)", re.IGNORECASE)
_PROBLEM_DOMAIN = re.compile(r"\(\s*:domain\s+[^\s()]+\s*\)", re.IGNORECASE)


def builtin_domain(name: str) -> tuple[str, str]:
    """(PDDL text, its domain name) of a built-in domain: `planning/<folder>/domain.pddl`, found by datadirs.

    The package ships the 4-operator blocksworld of the LLM+P benchmark (data/planning/blocksworld/);
    the team's shared/data copy, when present, is the same file.
    """
    from ratiocinator import datadirs

    folder = f"planning/{KNOWN_DOMAINS[name]}"
    text = (datadirs.find(folder, who=f"the {name} domain") / folder / "domain.pddl").read_text()
    found = _DOMAIN_NAME.search(text)
    if found is None:
        raise InvalidInput(f"{folder}/domain.pddl: no (define (domain NAME) ...) in it")
    return text, found.group(1)


def _planned(domain: str, problem: str, timeout: float) -> Any:
    """The planner's result for a PDDL problem (a built-in domain by name); RuntimeError when no plan."""
    from ratiocinator.solvers.pddl import solve

    text, key = domain, domain.strip().lower()
    if key in KNOWN_DOMAINS:  # the problem is meant for the built-in domain, whatever name it gives it
        text, name = builtin_domain(key)
        problem = _PROBLEM_DOMAIN.sub(f"(:domain {name})", problem, count=1)
    result = solve(text, problem, timeout=max(1.0, min(timeout, 120.0)))
    if not result.solved:
        raise RuntimeError(f"no plan: {result.status}. {result.message}".strip())
    return result


def _plan_checked(result: Any, scope: str) -> Verified:
    steps = list(result.plan or ())
    how = (
        f"plan found by {result.planner} and checked step by step by unified-planning's plan validator: {scope}"
        if result.validated
        else f"plan found by {result.planner} (not validated)"
    )
    return Verified(
        value={"plan": steps, "steps": len(steps), "validated": result.validated},
        how=how,
        checked=bool(result.validated),
    )


def plan(domain: str, problem: str, timeout: float = 30.0, problem_text: str | None = None) -> Verified:
    """Find a plan for a PDDL problem with a classical planner and validate it.

    Args:
        domain: the PDDL domain text, or the name of a built-in domain ("blocksworld")
        problem: the PDDL problem text: (define (problem NAME) (:domain DOMAIN) (:objects …) (:init …) (:goal …))
        timeout: seconds the planner may take
        problem_text: the user's request as they wrote it, to say whether the PDDL problem is the one it states
    """
    from ratiocinator.solvers.faithfulness import PLAN_TRANSLATED, PLAN_YOURS, pddl_stated

    scope = PLAN_YOURS if pddl_stated(problem, problem_text) else (
        PLAN_TRANSLATED if problem_text else "valid for the PDDL problem given; it was not checked against any text "
        "of yours (none was given)"
    )
    return _plan_checked(_planned(domain, problem, timeout), scope)


# Bounded so that a constrained caller cannot run on: names are short, entries are pairs.
Block = Annotated[str, Field(min_length=1, max_length=24)]
Pair = Annotated[list[Block], Field(min_length=2, max_length=2)]


def _on_pairs(pairs: list[list[str]], where: str) -> dict[str, str]:
    """{upper: lower} from [upper, lower] pairs; duplicates are dropped, contradictions refused."""
    on: dict[str, str] = {}
    for pair in pairs:
        if len(pair) != 2 or pair[0] == pair[1]:
            raise InvalidInput(
                f"{where}: each entry must be [upper, lower], two different blocks; got {pair}"
            )
        upper, lower = (b.strip().lower() for b in pair)
        if on.get(upper, lower) != lower or (lower in on.values() and on.get(upper) != lower):
            raise InvalidInput(
                f"{where}: {pair} contradicts {sorted(on.items())}: a block holds one block at most"
            )
        on[upper] = lower
    for start in on:  # a tower has a bottom: following "is on" from any block must reach the table
        seen, block = {start}, start
        while block in on:
            block = on[block]
            if block in seen:
                raise InvalidInput(
                    f"{where}: {sorted(on.items())} stacks blocks in a circle; a tower "
                    "stands on the table"
                )
            seen.add(block)
    return on


def blocksworld(
    on: Annotated[list[Pair], Field(max_length=26)],
    goal: Annotated[list[Pair], Field(min_length=1, max_length=26)],
    blocks: list[Block] | None = None,
    timeout: float = 30.0,
) -> Verified:
    """Plan in blocksworld and validate the plan: [X, Y] means block X is on block Y; other blocks are on the table.

    Args:
        on: the start state only: each entry [X, Y] for "X is on Y now"
        goal: the end state only: each entry [X, Y] for "X should be on Y at the end"
        blocks: blocks that are only on the table (optional)
        timeout: seconds the planner may take
    """
    now, wanted = _on_pairs(on, "on"), _on_pairs(goal, "goal")
    names = sorted(
        {*now, *now.values(), *wanted, *wanted.values(), *(b.strip().lower() for b in blocks or ())}
    )
    if not wanted:
        raise InvalidInput("goal: say which block should be on which, e.g. [X, Y] for X on Y")
    init = ["(arm-empty)"]
    init += [f"(on {x} {y})" for x, y in now.items()]
    init += [f"(on-table {b})" for b in names if b not in now]
    init += [f"(clear {b})" for b in names if b not in now.values()]
    facts = " ".join(f"(on {x} {y})" for x, y in wanted.items())
    problem = (
        f"(define (problem chat) (:domain blocksworld) (:objects {' '.join(names)})\n"
        f"(:init {' '.join(init)})\n(:goal (and {facts})))"
    )
    start = ", ".join(f"{x} on {y}" for x, y in now.items()) or "every block on the table"
    end = ", ".join(f"{x} on {y}" for x, y in wanted.items())
    return _plan_checked(
        _planned("blocksworld", problem, timeout),
        f"valid for the blocks problem as translated (start: {start}; goal: {end}); the translation was not "
        "checked against your text",
    )


def optimize(formulation: Formulation, solver: str = "auto", timeout: float = 30.0,
             problem_text: str | None = None) -> Verified:
    """Solve an optimization model given as the five elements (sets, parameters, variables, objective, constraints).

    Args:
        formulation: the model as a JSON object with sets, parameters, variables, objective and constraints
        solver: auto, highs, scip, cbc or glpk
        timeout: seconds the solver may take
        problem_text: the user's problem as they wrote it, to check the formulation against (each number used, each constraint stated in symbols present and holding at the answer)
    """
    from ratiocinator.solvers.faithfulness import compare_with_text
    from ratiocinator.solvers.optimization import solve

    limit = max(1.0, min(timeout, 120.0))
    result = solve(formulation, solver=solver, timeout=limit)
    if result.status not in ("optimal", "feasible"):
        raise RuntimeError(f"{result.status}: {result.message}".strip())
    value = {"status": result.status, "objective": result.objective, "values": result.values}
    solved = f"solved by {result.solver} ({result.status})"
    if not result.verified:
        return Verified(value=value, how=f"{solved}, NOT verified: {result.message}", checked=False)
    compared = compare_with_text(problem_text, formulation, result.values, timeout=limit)
    if compared.scope == "broken":
        value["text"] = compared.reason
        return Verified(value=value, how=f"{solved}, NOT verified: {compared.reason}", checked=False)
    if not compared.verified:
        value["text"] = compared.reason
        return Verified(value=value, how=f"{solved}; the optimum of this formulation, re-checked against it, "
                                         f"but NOT verified: {compared.reason}", checked=False)
    return Verified(
        value=value,
        how=f"{solved}; the optimum of this formulation, re-checked against it (objective and constraints "
        f"recomputed from the values, largest violation {result.max_violation:.2g}); {compared.reason}",
    )


def check_math(
    steps: Annotated[list[str], Field(min_length=2, max_length=20)],
    assumptions: dict[str, str] | None = None,
) -> Verified:
    """Check a derivation: does each step follow from the one before? Plain text or LaTeX formulas.

    Args:
        steps: the formulas in order, one per step, at least two
        assumptions: optional assumptions per symbol: positive, nonnegative, negative, real, integer or nonzero
    """
    from ratiocinator.solvers.symbolic import check_derivation

    report = check_derivation(steps, assumptions or {})
    details = [
        f"step {i + 2}: {c.kind} ({c.method}){' ' + c.detail if c.detail else ''}"
        for i, c in enumerate(report.checks)
    ]
    value = {"valid": report.valid, "first_invalid_step": report.first_invalid, "checks": details}
    return Verified(
        value=value,
        how="each step checked by sympy (symbolically, else numerically at random points)",
    )


def solve_equation(
    equations: Annotated[list[str], Field(min_length=1, max_length=10)],
    unknowns: Annotated[list[str], Field(max_length=10)] | None = None,
) -> Verified:
    """Solve one equation or a system of equations exactly.

    Args:
        equations: the equations (an expression alone means expression = 0)
        unknowns: the symbols to solve for; all of them when left out
    """
    from ratiocinator.solvers.symbolic import solve_equations

    solutions = solve_equations(equations, unknowns)
    return Verified(
        value={"solutions": list(solutions)},
        how="solved by sympy; each solution substituted back into the equations",
    )


def calculator(expression: str) -> Verified:
    """Evaluate the user's arithmetic expression exactly (numbers, + - * / ^, parentheses, sqrt, sin, log).

    Args:
        expression: the expression from the request, written with + - * / ^ and parentheses
    """
    # sympy (through solvers.symbolic.parse, which screens the text first) instead of eval: exact
    # rationals, and nothing but formulas is ever interpreted.
    from ratiocinator.solvers.symbolic import parse

    (value,) = parse(expression)
    if getattr(value, "free_symbols", None):
        names = ", ".join(sorted(str(s) for s in value.free_symbols))
        raise InvalidInput(
            f"expression {expression!r}: unknown names {names}; only numbers and functions"
        )
    exact = value.simplify()
    result = {"exact": str(exact), "decimal": str(exact.evalf(15))}
    return Verified(value=result, how="computed exactly by sympy")


@functools.cache
def _sandbox() -> Any:
    from ratiocinator.selection.sandbox import Sandbox

    return Sandbox()


def run_python(
    code: str,
    tests: Annotated[list[str], Field(max_length=20)] | None = None,
    timeout: float = 10.0,
) -> Verified:
    """Run Python code in the sandbox (no network, read-only filesystem); optionally assert statements after it.

    Args:
        code: the program; what it prints is returned
        tests: assert statements run after the code, each one test
        timeout: wall-clock seconds for everything
    """
    from ratiocinator.selection.sandbox import Job

    (result,) = _sandbox().run_batch(
        [
            Job(
                setup=code,
                tests=tuple(tests or ()),
                timeout=max(1.0, min(timeout, 60)),
                test_timeout=max(1.0, min(timeout, 60)),
            )
        ]
    )
    value = {
        "status": "timeout" if result.timed_out else result.setup,
        "stdout": result.stdout[-1500:],
        "stderr": result.stderr[-1500:],
        "tests": list(result.tests),
    }
    if result.setup_error:
        value["error"] = result.setup_error[-1500:]
    passed = sum(t == "pass" for t in result.tests)
    how = (
        f"ran in the sandbox; {passed}/{len(result.tests)} tests passed"
        if result.tests
        else "ran in the sandbox" + ("" if result.ok else " (it failed)")
    )
    # the check holds only when the code ran and every test passed: a failing test is not a verified answer
    return Verified(value=value, how=how, checked=bool(result.ok) and passed == len(result.tests))


def ask_user(question: str) -> str:
    """Ask the user a question and wait for the answer (use it when the request is ambiguous).

    Args:
        question: what to ask
    """
    from langgraph.types import interrupt

    return str(interrupt({"question": question}))


def builtin_tools(*, names: tuple[str, ...] | None = None) -> list[Tool]:
    """The built-in tools (all, or those named)."""
    made = [
        make_tool(plan, timeout=150),
        make_tool(blocksworld, timeout=150),
        make_tool(optimize, timeout=150),
        make_tool(check_math, timeout=60),
        make_tool(solve_equation, timeout=30),
        make_tool(run_python, timeout=90),
        make_tool(calculator, timeout=15),
        make_tool(ask_user, timeout=None),
    ]
    if names is None:
        return made
    by_name = {t.name: t for t in made}
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        raise InvalidInput(f"unknown built-in tool(s) {unknown}; known: {sorted(by_name)}")
    return [by_name[n] for n in names]
