"""A planning domain for LLM+P: its files (found through ratiocinator.datadirs), the domain guessed from a text, its vocabulary.

`load_domain` reads a domain (a name under the planning data folder, a folder, a `domain.pddl` path
or PDDL text); `guess_domain` picks the domain whose English best matches a text; `vocabulary` reads
with unified-planning what a problem of the domain may say (predicates, functions, types, actions),
which the grammars of grammar.py are written from.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from ratiocinator.errors import InvalidInput

_DOMAIN_NAME = re.compile(r"\(\s*domain\s+([^\s()]+)", re.I)


@dataclass(frozen=True, kw_only=True)
class PlanningDomain:
    """One planning domain: its PDDL, its English description and the one-shot example (LLM+P's context)."""

    name: str  # the folder name (or the PDDL domain name when given as text)
    pddl: str
    nl: str = ""
    example_nl: str = ""
    example_pddl: str = ""
    #: the domain to validate plans of the gold problems with (tyreworld ships one, as in llm-pddl)
    validation_pddl: str | None = None

    @property
    def pddl_name(self) -> str:
        found = _DOMAIN_NAME.search(self.pddl)
        if found is None:
            raise InvalidInput(f"domain {self.name!r}: no `(define (domain NAME)` in its PDDL")
        return found.group(1).lower()


def planning_data_dirs() -> list[Path]:
    """Folders that may hold the LLM+P domains: `planning/` under each data root (ratiocinator.datadirs)."""
    from ratiocinator.datadirs import data_roots

    return [r / "planning" for r in data_roots()]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip() if path.is_file() else ""


def load_domain(domain: str | Path, *, data_dir: Path | None = None) -> PlanningDomain:
    """A domain from a name (e.g. `blocksworld`), a folder holding domain.pddl, a domain.pddl path, or PDDL text."""
    if isinstance(domain, str) and "(" in domain:
        if not _DOMAIN_NAME.search(domain):
            raise InvalidInput(
                "domain: PDDL text given, but it has no `(define (domain NAME)`; pass a domain PDDL"
            )
        return PlanningDomain(name=_DOMAIN_NAME.search(domain).group(1).lower(), pddl=domain)  # type: ignore[union-attr]
    path = Path(domain)
    if path.is_file():
        folder, pddl = path.parent, _read(path)
        return PlanningDomain(name=folder.name, pddl=pddl, nl=_read(folder / "domain.nl"))
    candidates = (
        [path]
        if path.is_dir()
        else [d / str(domain) for d in ([data_dir] if data_dir else planning_data_dirs())]
    )
    for folder in candidates:
        if (folder / "domain.pddl").is_file():
            validation = folder / "domain_validation.pddl"
            return PlanningDomain(
                name=folder.name,
                pddl=_read(folder / "domain.pddl"),
                nl=_read(folder / "domain.nl"),
                example_nl=_read(folder / "p_example.nl"),
                example_pddl=_read(folder / "p_example.pddl"),
                validation_pddl=_read(validation) if validation.is_file() else None,
            )
    raise InvalidInput(
        f"domain {str(domain)!r}: expected a domain name (a folder with domain.pddl under "
        f"{', '.join(str(c.parent) for c in candidates)}), a folder, a domain.pddl path or PDDL text"
    )


def available_domains(data_dir: Path | None = None) -> list[PlanningDomain]:
    """Every domain found in the first planning data folder that exists."""
    for root in [data_dir] if data_dir else planning_data_dirs():
        if root.is_dir():
            return [load_domain(d) for d in sorted(root.iterdir()) if (d / "domain.pddl").is_file()]
    return []


def guess_domain(text: str, domains: list[PlanningDomain]) -> PlanningDomain:
    """The domain whose descriptions share the most words with `text` (Jaccard on lower-case words).

    Chosen lexically rather than by the model: the domains' English is distinctive (blocks, tiles,
    shakers), and a 0.5B model asked to pick among names is less reliable than this overlap.
    """
    if not domains:
        raise InvalidInput(
            "domain: none given and no planning domains found; pass domain=NAME, a folder or PDDL"
        )
    words = set(re.findall(r"[a-z]+", text.lower()))

    def overlap(d: PlanningDomain) -> float:
        other = set(re.findall(r"[a-z]+", (d.nl + " " + d.example_nl).lower()))
        return len(words & other) / max(1, len(words | other))

    return max(domains, key=overlap)


# ---------------------------------------------------------------- vocabulary


@dataclass(frozen=True, kw_only=True)
class Vocabulary:
    """What a problem of the domain may say: predicates and numeric functions with their arities, types."""

    domain: str  # the PDDL domain name
    predicates: tuple[tuple[str, int], ...]
    functions: tuple[tuple[str, int], ...]  # numeric functions set in :init, e.g. (distance ?a ?b)
    types: tuple[str, ...]  # empty for an untyped domain
    action_costs: bool  # the domain increases (total-cost): init sets it to 0, metric minimizes it
    #: for the grammar of a plan (the LLM-as-planner baseline)
    actions: tuple[tuple[str, int], ...] = ()
    #: each predicate's parameter types ('' untyped), and each type's parent type (None at the top)
    signatures: tuple[tuple[str, tuple[str, ...]], ...] = ()
    parents: tuple[tuple[str, str | None], ...] = ()
    constants: tuple[str, ...] = ()  # the domain's :constants, which a problem uses undeclared


def _constants(domain_pddl: str) -> tuple[str, ...]:
    """The names in the domain's `(:constants ...)` block, types dropped (comments and `either` too).

    Read from the text: UP cannot parse some llm-pddl domains without a problem (tyreworld's actions
    name `wrench`, an object its problems declare; solvers/pddl_compat moves it into the constants).
    """
    text = re.sub(r";[^\n]*", "", domain_pddl)
    found = re.search(r"\(\s*:constants\b", text, re.I)
    if found is None:
        return ()
    depth, end = 1, found.end()
    while end < len(text) and depth:
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        end += 1
    body = re.sub(r"\(\s*either[^)]*\)", "", text[found.end() : end - 1], flags=re.I)
    words = body.split()
    return tuple(
        w.lower() for k, w in enumerate(words) if w != "-" and (k == 0 or words[k - 1] != "-")
    )


def vocabulary(domain: PlanningDomain) -> Vocabulary:
    """Read predicates, functions and types with unified-planning (the domain parsed with its example problem)."""
    from ratiocinator.solvers.pddl_reader import PDDLError, parse_texts

    name = domain.pddl_name
    empty = f"(define (problem empty) (:domain {name}) (:objects) (:init) (:goal (and)))"
    parsed = None
    # llm-pddl's floortile example itself does not parse: then the empty problem
    for problem in (domain.example_pddl, empty):
        if not problem:
            continue
        try:
            parsed = parse_texts(domain.pddl, problem)[0]
            break
        except PDDLError:
            continue
    if parsed is None:
        parse_texts(domain.pddl, empty)  # raises the domain's own error
        raise AssertionError("unreachable")
    costs = "total-cost" in domain.pddl.lower()
    preds, funcs, signatures = [], [], []
    for f in parsed.fluents:
        if f.name == "total-cost":
            continue
        (preds if f.type.is_bool_type() else funcs).append((f.name, f.arity))
        if f.type.is_bool_type():
            kinds = tuple(p.type.name if p.type.is_user_type() else "" for p in f.signature)
            signatures.append((f.name, kinds))
    typed = ":typing" in domain.pddl.lower() or "(:types" in domain.pddl.lower()
    types = tuple(t.name for t in parsed.user_types) if typed else ()
    parents = tuple(
        (t.name, t.father.name if t.father is not None else None) for t in parsed.user_types
    )
    actions = tuple((a.name, len(a.parameters)) for a in parsed.actions)
    return Vocabulary(
        domain=name,
        predicates=tuple(preds),
        functions=tuple(funcs),
        types=types,
        action_costs=costs,
        actions=actions,
        signatures=tuple(signatures),
        parents=parents if typed else (),
        constants=_constants(domain.pddl),
    )


#: UP parses the domain: once per domain
domain_vocabulary = functools.lru_cache(maxsize=64)(vocabulary)


def resolve_domain(text: str, domain: str | Path | PlanningDomain | None) -> PlanningDomain:
    """`domain` as given (a PlanningDomain, a name, a folder, a path, PDDL text), or the one guessed from `text`."""
    if isinstance(domain, PlanningDomain):
        return domain
    return load_domain(domain) if domain is not None else guess_domain(text, available_domains())
