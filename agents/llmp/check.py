"""Checking one LLM+P translation: sound repairs, parse, objects against the text, unused objects, plan and validate.

`check` returns a `Translation` whose status says where it stopped (truncated, parse_error,
wrong_objects, incomplete, or the planner's unsolvable / not_found / timeout / planner_error) with
the message the model is shown, or `solved` with the validated plan.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ratiocinator.agents.llmp.config import LLMPConfig
from ratiocinator.agents.llmp.domain import PlanningDomain, domain_vocabulary
from ratiocinator.agents.llmp.objects import object_errors
from ratiocinator.agents.llmp.repair import Repaired, repair
from ratiocinator.agents.llmp.result import Translation, TranslationStatus


def facts_key(parsed: Any) -> str:
    """The translation's init and goal facts as a set (order and an outer `and` do not matter)."""
    init = sorted(str(f) for f, v in parsed.explicit_initial_values.items() if str(v) != "false")
    goal = [a for g in parsed.goals for a in (g.args if g.is_and() else (g,))]
    return json.dumps({"init": init, "goal": sorted({str(g) for g in goal})})


def unused_objects(pddl: str, facts: str) -> list[str]:
    """The objects the problem declares that no :init or :goal fact names (`facts`: `facts_key`'s JSON)."""
    from ratiocinator.solvers.pddl_compat import problem_objects

    named = json.loads(facts)
    used = {w.lower() for f in (*named["init"], *named["goal"]) for w in re.findall(r"[\w-]+", f)}
    return [name for name, _ in problem_objects(pddl) if name.lower() not in used]


def _repaired(text: str, domain: PlanningDomain, pddl: str, truncated: bool) -> Repaired | None:
    """The sound rewrites of repair.py (none for a domain UP cannot read); None when cut off before its goal."""
    from ratiocinator.solvers.pddl_reader import PDDLError

    try:
        vocab = domain_vocabulary(domain)
    except PDDLError:  # a domain UP cannot read: the parse after this says so
        return None if truncated else Repaired(pddl)
    return repair(pddl, text, vocab, domain, truncated=truncated)


#: what the model is shown when the planner ends without a plan, by the solver's status
_WHY = {
    "unsolvable": "the planner proved that no plan reaches its :goal from its :init, so some fact "
    "contradicts the text",
    "not_found": "the planner found no plan for it",
    "timeout": "the planner found no plan within {timeout:g} s; check that every fact is in the text",
}


def _planned(domain: PlanningDomain, pddl: str, config: LLMPConfig, done: dict[str, Any]) -> Translation:
    """Plan the parsed translation and validate the plan (solvers.pddl.solve does both)."""
    from ratiocinator.solvers.pddl import solve

    result = solve(
        domain.pddl, pddl, planner=config.planner, optimal=config.optimal, timeout=config.timeout
    )
    if result.solved:
        return Translation(
            **done,
            status="solved",
            plan=result.plan,
            cost=result.cost,
            planner=result.planner,
            optimal=result.status == "solved_optimally",
        )
    if result.status in _WHY:
        status: TranslationStatus = result.status  # type: ignore[assignment]
        message = _WHY[result.status].format(timeout=config.timeout)
    else:
        status, message = "planner_error", result.message
    return Translation(**done, status=status, message=message, planner=result.planner)


def _incomplete(pddl: str, key: str, config: LLMPConfig) -> str:
    """'' unless more objects than `max_unused_objects` appear in no fact; else the message shown."""
    unused = unused_objects(pddl, key)
    if config.max_unused_objects is None or len(unused) <= config.max_unused_objects:
        return ""
    shown = ", ".join(unused[:8]) + (f" and {len(unused) - 8} more" if len(unused) > 8 else "")
    return (
        f"{shown} are declared but appear in no :init or :goal fact; state every fact "
        "the text gives about each of them"
    )


def check(
    text: str,
    domain: PlanningDomain,
    pddl: str,
    config: LLMPConfig,
    *,
    chain: int = 0,
    round: int = 0,
    truncated: bool = False,
    max_tokens: int = 0,
) -> Translation:
    """Parse, compare objects with the text, plan and validate one translation."""
    from ratiocinator.solvers.pddl_reader import PDDLError, parse_texts

    done: dict[str, Any] = {"chain": chain, "round": round, "pddl": pddl}
    fixed = _repaired(text, domain, pddl, truncated)
    if fixed is None:
        return Translation(
            **done,
            status="truncated",
            message=f"it was cut off after {max_tokens} tokens "
            "before it ended; state only the facts the text gives, one per line",
        )
    done.update(pddl=fixed.pddl, repairs=fixed.repairs)
    pddl = fixed.pddl
    try:
        parsed = parse_texts(domain.pddl, pddl)[0]
    except PDDLError as exc:
        return Translation(**done, status="parse_error", message=str(exc))
    done["key"] = key = facts_key(parsed)
    wrong = object_errors(text, [o.name for o in parsed.all_objects])
    if wrong:
        return Translation(**done, status="wrong_objects", message=wrong)
    incomplete = _incomplete(pddl, key, config)
    if incomplete:
        return Translation(**done, status="incomplete", message=incomplete)
    return _planned(domain, pddl, config, done)
