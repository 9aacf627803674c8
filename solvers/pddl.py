"""PDDL planning with unified-planning: parse, solve within a hard time bound, validate every plan, explain it.

    result = solve("domain.pddl", "p01.pddl", planner="auto", optimal=False, timeout=60)
    result.status     # solved | solved_optimally | unsolvable | not_found | timeout | error
    result.plan       # ("(unstack b3 b2)", "(putdown b3)", ...), checked by UP's sequential plan validator
    result.planner    # whose plan: auto = Fast Downward, joined by LPG after 1 s (first valid plan wins)
    validate(domain, problem, "(pickup b1)\\n(stack b1 b2)")   # a model's plan -> ValidationReport
    explain(result.plan)                                      # "1. Pickup b1.\\n2. Stack b1 b2."

Domain and problem are PDDL text or paths. Bad PDDL raises `PDDLError` naming the file (domain or
problem), the line and column, the offending text and what was expected. `unsolvable` means proved
(the planner's search was complete); `not_found` means an incomplete planner gave up.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.pddl_compat import normalize
from ratiocinator.solvers.pddl_reader import PDDLError, kind_computed_once, parse_texts
from ratiocinator.solvers.planners import (
    FastDownwardRun,
    LpgRun,
    PlannerRun,
    RawRun,
    lpg_binary,
    run_up_engine,
    wait_first,
)
from ratiocinator.textfiles import decode

if TYPE_CHECKING:
    from unified_planning.model import Problem

PlanStatus = Literal["solved", "solved_optimally", "unsolvable", "not_found", "timeout", "error"]

#: Planner name -> whether it guarantees optimal plans. `auto` runs fast-downward(-opt); satisficing
#: `auto` is a portfolio that adds lpg (see `solve`).
PLANNERS: dict[str, bool] = {
    "fast-downward": False, "fast-downward-opt": True, "symk": False, "symk-opt": True, "lpg": False,
    "lpg-anytime": False, "pyperplan": False, "pyperplan-opt": True, "enhsp": False, "enhsp-opt": True,
    "tamer": False,
}
_FD = {"fast-downward": False, "fast-downward-opt": True}
#: Satisficing `auto` starts LPG beside Fast Downward once Fast Downward has run this long without an
#: answer (or at once if it ends without a plan). Fast Downward alone answers most problems well within
#: it, with shorter plans than LPG's first one; LPG solves the ones it struggles with (floortile) in ~1 s.
PORTFOLIO_DELAY = 1.0
# fallbacks of `auto` when Fast Downward does not support the problem (numeric fluents, ...)
_AUTO_FALLBACK = {False: ("enhsp", "symk", "lpg", "pyperplan"), True: ("symk-opt", "enhsp-opt", "pyperplan-opt")}


@dataclass(frozen=True, kw_only=True)
class PlanResult:
    """The outcome of `solve`: the plan as PDDL action strings, its cost (metric, else length), how checked."""

    status: PlanStatus
    plan: tuple[str, ...] | None
    cost: float | None
    planner: str
    seconds: float
    validated: bool
    message: str = ""

    @property
    def solved(self) -> bool:
        return self.status in ("solved", "solved_optimally")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["plan"] = list(self.plan) if self.plan is not None else None
        return data


@dataclass(frozen=True, kw_only=True)
class ValidationReport:
    """Whether a plan is valid for a problem; if not, the first failing step (1-based) and why."""

    valid: bool
    steps: int
    cost: float | None = None
    failed_step: int | None = None
    reason: str = ""


# ---------------------------------------------------------------- reading and parsing


def _text(source: str | Path, what: str) -> str:
    if isinstance(source, Path) or "(" not in source:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PDDLError(f"cannot read {str(path)!r} ({exc.strerror}); pass PDDL text or a readable file",
                            source=what) from None
        try:
            return decode(data, str(path))
        except InvalidInput as exc:
            raise PDDLError(str(exc), source=what) from None
    return source


def parse(domain: str | Path, problem: str | Path) -> Problem:
    """Parse domain + problem (PDDL text or paths) into a unified-planning `Problem`, or raise `PDDLError`."""
    return parse_texts(_text(domain, "domain"), _text(problem, "problem"))[0]


# ---------------------------------------------------------------- plans: reading, validating, explaining

_STEP_PREFIX = re.compile(r"^\s*\d+(\.\d+)?\s*:\s*")
_DURATION = re.compile(r"\s*\[[^\]]*\]\s*$")
_CALL = re.compile(r"^([^\s(),]+)\((.*)\)$")


def plan_steps(plan: str | list[str] | tuple[str, ...] | PlanResult) -> list[str]:
    """Split a plan (text, list of action strings or a PlanResult) into one action string per step."""
    if isinstance(plan, PlanResult):
        return list(plan.plan or ())
    lines = plan.splitlines() if isinstance(plan, str) else list(plan)
    steps = []
    for raw in lines:
        line = raw.split(";", 1)[0].strip()
        if line:
            steps.append(_DURATION.sub("", _STEP_PREFIX.sub("", line)).strip())
    return steps


def _tokens(step: str) -> list[str]:
    if step.startswith("(") and step.endswith(")"):
        return step[1:-1].split()
    call = _CALL.match(step)
    if call:  # unified-planning's own rendering: stack(b1, b2)
        return [call.group(1), *[a.strip() for a in call.group(2).split(",") if a.strip()]]
    return step.replace(",", " ").split()


class _StepError(ValueError):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"step {index}: {message}")
        self.index = index


def _instance(problem: Problem, step: str, index: int) -> Any:
    """The ActionInstance a step names, or a _StepError saying what is wrong with it."""
    from unified_planning.plans import ActionInstance

    tokens = _tokens(step)
    if not tokens:
        raise _StepError(index, "empty; write each step as (action arg1 arg2 ...)")
    actions = {a.name.lower(): a for a in problem.actions}
    action = actions.get(tokens[0].lower())
    if action is None:
        raise _StepError(index, f"{step!r}: unknown action {tokens[0]!r}; the domain has "
                         f"{', '.join(sorted(actions))}")
    args = tokens[1:]
    if len(args) != len(action.parameters):
        params = " ".join(f"?{p.name}" for p in action.parameters)
        raise _StepError(index, f"{step!r}: {action.name} takes {len(action.parameters)} arguments "
                         f"({action.name} {params}), got {len(args)}")
    objects = {o.name.lower(): o for o in problem.all_objects}
    missing = [a for a in args if a.lower() not in objects]
    if missing:
        raise _StepError(index, f"{step!r}: unknown object(s) {', '.join(missing)}; the problem has "
                         f"{', '.join(sorted(objects))}")
    chosen = [objects[a.lower()] for a in args]
    for param, obj in zip(action.parameters, chosen, strict=True):
        if not param.type.is_compatible(obj.type):  # obj's type is param's type or a subtype of it
            raise _StepError(index, f"{step!r}: {obj.name} is a {getattr(obj.type, 'name', obj.type)}, but "
                             f"{action.name}'s ?{param.name} takes a {getattr(param.type, 'name', param.type)}")
    return ActionInstance(action, chosen)


def _validate_parsed(problem: Problem, steps: list[str]) -> ValidationReport:
    from unified_planning.engines.sequential_simulator import UPSequentialSimulator
    from unified_planning.plans import SequentialPlan
    from unified_planning.shortcuts import PlanValidator

    try:
        instances = [_instance(problem, s, i) for i, s in enumerate(steps, 1)]
    except _StepError as exc:
        return ValidationReport(valid=False, steps=len(steps), failed_step=exc.index, reason=str(exc))
    plan = SequentialPlan(instances, problem.environment)
    with warnings.catch_warnings(), PlanValidator(name="sequential_plan_validator") as validator:
        warnings.simplefilter("ignore")
        result = validator.validate(problem, plan)
    if result.status.name == "VALID":
        metrics = result.metric_evaluations or {}
        cost = float(next(iter(metrics.values()))) if metrics else float(len(steps))
        return ValidationReport(valid=True, steps=len(steps), cost=cost)
    trace = result.trace or []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulator = UPSequentialSimulator(problem, error_on_failed_checks=False)
    if result.reason is not None and result.reason.name == "INAPPLICABLE_ACTION" and trace:
        index = len(trace)
        try:
            conds, _ = simulator.get_unsatisfied_conditions(trace[-1], instances[index - 1])
            why = "precondition(s) false: " + ", ".join(str(c) for c in conds) if conds else "its effects conflict"
        except Exception as exc:  # conflicting effects, invalid action: the validator's own words
            why = f"{type(exc).__name__}: {exc}"
        return ValidationReport(valid=False, steps=len(steps), failed_step=index,
                                reason=f"step {index} {steps[index - 1]} is not applicable: {why}")
    goals = simulator.get_unsatisfied_goals(trace[-1]) if trace else []
    return ValidationReport(valid=False, steps=len(steps),
                            reason="after the last step these goals are false: " + ", ".join(str(g) for g in goals))


def validate(domain: str | Path, problem: str | Path,
             plan: str | list[str] | tuple[str, ...] | PlanResult) -> ValidationReport:
    """Check a plan against a problem with UP's sequential plan validator (for a model's plan, say)."""
    with kind_computed_once(parse(domain, problem)) as parsed:
        return _validate_parsed(parsed, plan_steps(plan))


def explain(plan: str | list[str] | tuple[str, ...] | PlanResult, problem: Problem | None = None) -> str:
    """Numbered English steps; with the parsed problem, arguments are named by their parameters."""
    params: dict[str, list[str]] = {}
    if problem is not None:
        params = {a.name.lower(): [p.name for p in a.parameters] for a in problem.actions}
    lines = []
    for i, step in enumerate(plan_steps(plan), 1):
        tokens = _tokens(step) or ["(empty)"]
        verb = re.sub(r"[-_]+", " ", tokens[0]).strip().capitalize()
        args, names = tokens[1:], params.get(tokens[0].lower())
        if names and len(names) == len(args) and args:
            parts = [f"{n} = {a}" for n, a in zip(names, args, strict=True)]
            detail = " with " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
        else:
            detail = (" " + " ".join(args)) if args else ""
        lines.append(f"{i}. {verb}{detail}.")
    return "\n".join(lines) if lines else "The plan is empty: the goal already holds in the initial state."


# ---------------------------------------------------------------- solving


def available_planners() -> list[str]:
    """Planner names that can run here (their unified-planning integration is installed)."""
    from unified_planning.shortcuts import get_environment

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        installed = set(get_environment().factory.engines)
    return [name for name in PLANNERS if name in installed]


def _supports(name: str, problem: Problem) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        factory = problem.environment.factory
        return name in factory.engines and factory.engine(name).supports(problem.kind)


def _finds_plans_for(name: str, problem: Problem) -> bool:
    """Whether engine `name` can plan for the problem, its quality metric aside (a satisficing plan is
    valid whatever the metric; UP's lpg declares plan length only, though LPG reads action costs)."""
    from unified_planning.model.problem_kind import ProblemKind

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        factory = problem.environment.factory
        if name not in factory.engines:
            return False
        kind = problem.kind
        metrics = {"ACTIONS_COST", "PLAN_LENGTH", "MAKESPAN", "FINAL_VALUE"}  # not oversubscription (soft goals)
        return factory.engine(name).supports(ProblemKind(kind.features - metrics, kind.version))


def _choose(planner: str, optimal: bool) -> str:
    if planner == "auto":
        return "fast-downward-opt" if optimal else "fast-downward"
    if planner not in PLANNERS:
        raise PDDLError(f"unknown planner {planner!r}; expected auto or one of {', '.join(PLANNERS)}",
                        source="planner")
    if optimal and not PLANNERS[planner]:
        opts = ", ".join(n for n, o in PLANNERS.items() if o)
        raise PDDLError(f"{planner} does not guarantee optimal plans; for an optimal plan (--optimal) choose the "
                        f"planner auto or one of {opts}",
                        source="planner")
    if planner not in available_planners():
        raise PDDLError(f"planner {planner!r} is not installed; available: {', '.join(available_planners())}",
                        source="planner")
    return planner


def solve(domain: str | Path, problem: str | Path, *, planner: str = "auto", optimal: bool = False,
          timeout: float = 60.0) -> PlanResult:
    """Find a plan within `timeout` seconds (wall clock, everything included) and validate it.

    `auto` with optimal=False is a portfolio: Fast Downward (lama-first) starts at once; if it has
    not answered after PORTFOLIO_DELAY s, LPG runs beside it, and the first plan that passes
    validation (or Fast Downward's proof of unsolvability) is returned, the other planner killed.
    `planner` in the result names the one whose plan it is.
    """
    if timeout <= 0:
        raise InvalidInput(f"timeout must be positive seconds, got {timeout}")
    start = time.monotonic()
    dom, prob_text = _text(domain, "domain"), _text(problem, "problem")
    name = _choose(planner, optimal)
    optimal = optimal or PLANNERS[name]
    # Fast Downward searches while we parse the same text here (after pddl_compat.normalize's
    # parse-free rewrites, which keep the task the same; only a later rewrite restarts it).
    fd_dom = normalize(dom)[0]
    fd = FastDownwardRun.start(fd_dom, prob_text, optimal=_FD[name]) if name in _FD else None
    try:
        parsed, dom2, prob2 = parse_texts(dom, prob_text)
        if fd is not None and (dom2, prob2) != (fd_dom, prob_text):  # rewritten more: the planner reads what we read
            fd.kill()
            fd = FastDownwardRun.start(dom2, prob2, optimal=_FD[name])
        with kind_computed_once(parsed):  # not modified from here on, and UP asks for its kind ~5 times
            if fd is not None and not _supports(name, parsed):
                fd.kill()
                fd = None
                if planner != "auto":
                    raise PDDLError(f"{name} does not support this problem ({_features(parsed)})", source="planner")
                name = next((n for n in _AUTO_FALLBACK[optimal] if _supports(n, parsed)), "")
                if not name:
                    raise PDDLError(f"no installed planner supports this problem ({_features(parsed)})",
                                    source="planner")
            read = time.monotonic() - start
            left = timeout - read
            if fd is None:
                if left <= 0:
                    return _out_of_time(name, start, timeout, read)
                raw = run_up_engine(name, parsed, timeout=left, optimal_engine=PLANNERS[name])
                return _honest(_checked(parsed, raw, name, start), timeout, read)
            if planner == "auto" and not optimal:
                return _portfolio(parsed, fd, dom2, prob2, start, timeout)
            return _honest(_checked(parsed, fd.wait(max(left, 0.0)), name, start), timeout, read)
    finally:
        if fd is not None:
            fd.kill()


def _portfolio(parsed: Problem, fd: FastDownwardRun, dom: str, prob: str, start: float,
               timeout: float) -> PlanResult:
    """Fast Downward, joined by LPG after PORTFOLIO_DELAY s: the first validated plan (or proof) wins.

    Both are plain processes; this thread waits on both, validates each plan as it arrives (UP is
    not thread-safe, so everything UP happens here) and kills whatever still runs when it returns.
    """
    deadline = start + timeout
    running: list[PlannerRun] = [fd]
    lpg_at: float | None = start + PORTFOLIO_DELAY if lpg_binary() is not None else None
    ended: list[PlanResult] = []
    try:
        while True:
            now = time.monotonic()
            if lpg_at is not None and (now >= lpg_at or not running):
                lpg_at = None
                if _finds_plans_for("lpg", parsed) and deadline - now > 0:
                    try:
                        running.append(LpgRun.start(dom, prob, timeout=deadline - now))
                    except OSError:  # cannot start it here: Fast Downward alone, as before
                        pass
                continue
            if not running or now >= deadline:
                break
            done = wait_first(running, min(deadline, lpg_at or deadline) - now)
            if done is None:
                continue
            running.remove(done)
            result = _checked(parsed, done.collect(), done.engine, start)
            if result.solved or result.status == "unsolvable":
                before = [f"{r.planner} ended first: {r.status}" for r in ended]
                return replace(result, message="; ".join(m for m in (result.message, *before) if m))
            ended.append(result)
    finally:
        for run in running:
            run.kill()
    names = "+".join(dict.fromkeys([fd.engine, *(r.planner for r in ended), *(r.engine for r in running)]))
    why = "; ".join(f"{r.planner}: {r.status}{' (' + r.message + ')' if r.message else ''}" for r in ended)
    if running:
        message = f"no plan within the {timeout:g} s limit; killed {', '.join(r.engine for r in running)}"
        return PlanResult(status="timeout", plan=None, cost=None, planner=names, validated=False,
                          seconds=time.monotonic() - start, message=message + (f"; {why}" if why else ""))
    best = min(ended, key=lambda r: ("not_found", "timeout", "error").index(r.status)
               if r.status in ("not_found", "timeout", "error") else 3)
    return replace(best, planner=names, seconds=time.monotonic() - start, message=why)


def _out_of_time(name: str, start: float, timeout: float, read: float) -> PlanResult:
    return PlanResult(status="timeout", plan=None, cost=None, planner=name, validated=False,
                      seconds=time.monotonic() - start,
                      message=f"no plan within the {timeout:g} s limit: reading the PDDL took {read:.1f} s of it")


def _honest(result: PlanResult, timeout: float, read: float) -> PlanResult:
    """A timeout says what the limit was and where it went (reading the PDDL runs beside the planner)."""
    if result.status != "timeout":
        return result
    return replace(result, message=f"no plan within the {timeout:g} s limit (the planner was stopped; reading "
                                   f"the PDDL took {read:.1f} s of it)")


def _features(problem: Problem) -> str:
    return ", ".join(sorted(f.lower() for f in problem.kind.features)) or "no features"


def _checked(problem: Problem, raw: RawRun, name: str, start: float) -> PlanResult:
    plan, cost, validated, status, message = None, None, False, raw.status, raw.message
    if raw.actions is not None:
        plan = tuple("(" + " ".join(_tokens(step)) + ")" for step in plan_steps(list(raw.actions)))
        report = _validate_parsed(problem, list(plan))
        validated, cost = report.valid, report.cost
        if not report.valid:
            status, message = "error", f"the planner returned a plan the validator rejects: {report.reason}"
    elif status in ("solved", "solved_optimally"):
        status, message = "error", "the planner reported success but returned no plan"
    return PlanResult(status=status, plan=plan, cost=cost, planner=name, seconds=time.monotonic() - start,
                      validated=validated, message=message)
