"""A planning domain for LLM+P translation: its files, the EBNF grammar of its problem PDDL, and object checks.

`load_domain` reads a domain (a name under the planning data folder, a folder, a `domain.pddl` path
or PDDL text). `problem_grammar(vocab)` is an EBNF grammar (xgrammar dialect, start symbol `root`) of
`(define (problem ..) (:domain ..) (:objects ..) (:init ..) (:goal (and ..)) [(:metric ..)])` in
which every atom is a predicate of the domain with exactly its arity, and every object list is
typed with the domain's types, so a constrained output always parses as PDDL; whether its atoms
name declared objects is what the parser then checks. `object_errors` says which objects the English
text names that the translation lacks, and which it declares that the text does not name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ratiocinator.errors import InvalidInput

#: Objects in the English text: identifiers that contain a digit (b1, tile_0-1, pos-2-0, robot2).
_NAMED = re.compile(r"(?<![\w-])([A-Za-z][A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)(?![\w-])")
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


# ---------------------------------------------------------------- vocabulary and grammar


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


def _lit(text: str) -> str:
    return json.dumps(text)  # an EBNF string literal (xgrammar reads JSON-style escapes)


def _alt(items: list[str]) -> str:
    return " | ".join(items)


def candidate_objects(text: str, domain: PlanningDomain) -> list[str]:
    """Names an object of this problem may have: the text's words, its runs of two or three words joined
    by `-` (coffee table -> coffee-table), and the example problem's objects with their numbers run on
    (l0 -> l0 .. l20, or up to the largest count in the text). A kind the text names (b1 -> `b`)
    runs only up to the largest count in the text, as `object_errors` judges: with `You have 3
    blocks`, the example's b4 and b5 cannot be copied."""
    from ratiocinator.solvers.pddl_compat import problem_objects

    names: list[str] = []
    for line in text.lower().splitlines():
        words = re.findall(r"[a-z][a-z0-9_]*(?:-[a-z0-9_]+)*", line)
        names += words
        names += ["-".join(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1)]
    counts = _counts(text)
    top = max([20, *(c + 1 for c in counts)])
    named = {_stem(n) for n in named_objects(text)}
    for name, _ in problem_objects(domain.example_pddl) if domain.example_pddl else []:
        numbered = re.fullmatch(r"(.*?[a-z_-])(\d+)", name.lower())
        if numbered is None:
            names.append(name.lower())
            continue
        last = max(counts) if counts and _stem(name) in named else top
        names += [f"{numbered.group(1)}{i}" for i in range(last + 1)]
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Bounds:
    """How many objects, :init facts and :goal literals a translation may have (None: unbounded)."""

    objects: int | None = None
    init: int | None = None
    goal: int | None = None


def _groups(problem: str, section: str, depth: int) -> int:
    """How many parenthesized groups sit `depth` levels inside the `(section` block of a problem."""
    start = problem.lower().find("(" + section)
    if start < 0:
        return 0
    level, count = 0, 0
    for ch in problem[start:]:
        if ch == "(":
            level += 1
            count += level == depth + 1
        elif ch == ")":
            level -= 1
            if level == 0:
                break
    return count


def _scale(text: str, domain: PlanningDomain, factor: float) -> float:
    # longer English, or larger counts ("4 hubs" where the example had 1), mean more facts
    count_ratio = max(_counts(text), default=1) / max(1, max(_counts(domain.example_nl), default=1))
    return factor * max(1.0, len(text) / len(domain.example_nl), count_ratio)


def plan_bound(text: str, domain: PlanningDomain, example_steps: int, factor: float) -> int | None:
    """At most this many plan steps: the example's plan length, scaled as in `bounds`."""
    if not (domain.example_nl and example_steps):
        return None
    return int(_scale(text, domain, factor) * example_steps) + 4


def bounds(text: str, domain: PlanningDomain, factor: float) -> Bounds:
    """`factor` times what the example has, scaled by the English's length against the example's.

    A weak model under a grammar with unbounded repetition can list facts until max_tokens and never
    close the problem; bounded, every output ends and parses (and the bound is loose: `factor`).
    """
    if not (domain.example_nl and domain.example_pddl):
        return Bounds()
    from ratiocinator.solvers.pddl_compat import problem_objects

    scale = _scale(text, domain, factor)
    example = domain.example_pddl
    n_init, n_goal = (
        _groups(example, ":init", 1),
        _groups(example, ":goal", 2) or _groups(example, ":goal", 1),
    )
    n_obj = len(problem_objects(example)) + len(named_objects(text))
    return Bounds(
        objects=int(scale * n_obj) + 4,
        init=int(scale * n_init) + 8,
        goal=int(scale * max(1, n_goal)) + len(named_objects(text)) + 4,
    )


def _upto(item: str, n: int | None, least: int = 0) -> str:
    return f"({item}){{{least},{n}}}" if n is not None else f"({item}){'+' if least else '*'}"


def problem_grammar(
    vocab: Vocabulary, objects: list[str] | None = None, limit: Bounds = Bounds()
) -> str:
    """EBNF of a problem of this domain in one canonical layout (one fact per line).

    `objects`: the only names an object may have (see `candidate_objects`); None allows any identifier.
    `limit`: at most so many objects per type line, :init facts and :goal literals.
    """
    # xgrammar has no PDDL grammar; this one is written from the domain because the point is the
    # domain-specific part (predicate names with their arities), which no generic grammar carries.
    atoms = []
    for name, arity in vocab.predicates:
        atoms.append(_lit("(" + name) + ' " " obj' * arity + ' ")"')
    rules = [
        'root ::= "(define (problem " ident ")\\n(:domain " '
        + _lit(vocab.domain)
        + ' ")\\n(:objects\\n" objects'
        ' ")\\n(:init\\n" init ")\\n(:goal\\n(and\\n" goal "))\\n" metric ")"',
        "ident ::= [a-zA-Z] [a-zA-Z0-9_-]*",
        f"obj ::= {_alt([_lit(o) for o in objects])}" if objects else "obj ::= ident",
        f"atom ::= {_alt(atoms)}",
        "goal ::= " + _upto('literal "\\n"', limit.goal, least=1),
        'literal ::= atom | "(not " atom ")"',  # termes: no block may be left held
        "metric ::= " + (_lit("(:metric minimize (total-cost))\n") if vocab.action_costs else '""'),
    ]
    if vocab.types:
        line = "obj " + _upto('" " obj', limit.objects) + ' " - " type "\\n"'
        rules.append("objects ::= " + _upto(line, len(vocab.types), least=1))
        rules.append(f"type ::= {_alt([_lit(t) for t in vocab.types])}")
    else:
        rules.append("objects ::= obj " + _upto('" " obj', limit.objects) + ' "\\n"')
    facts = ["atom"]
    if vocab.functions:
        values = [
            _lit("(= (" + name) + ' " " obj' * arity + ' ") " number ")"'
            for name, arity in vocab.functions
        ]
        rules.append(f"value ::= {_alt(values)}")
        rules.append('number ::= "0" | [1-9] [0-9]* ("." [0-9]+)?')
        facts.append("value")
    start = _lit("(= (total-cost) 0)\n") + " " if vocab.action_costs else ""
    rules.append(f"init ::= {start}" + _upto(f'({_alt(facts)}) "\\n"', limit.init))
    return "\n".join(rules) + "\n"


def plan_grammar(
    vocab: Vocabulary, objects: list[str] | None = None, steps: int | None = None
) -> str:
    """EBNF of a plan: `(action arg ...)` lines (at most `steps`), each a domain action with its arity."""
    actions = [_lit("(" + name) + ' " " obj' * arity + ' ")"' for name, arity in vocab.actions]
    obj = _alt([_lit(o) for o in objects]) if objects else "[a-zA-Z] [a-zA-Z0-9_-]*"
    root = "root ::= " + _upto('step "\\n"', steps, least=1)
    return f"{root}\nstep ::= {_alt(actions)}\nobj ::= {obj}\n"


def token_budget(text: str, domain: PlanningDomain, factor: float, cap: int) -> int:
    """Tokens a translation of `text` may take: `factor` times the example's PDDL-to-English length
    ratio, at ~2.5 characters per PDDL token, plus 64; at most `cap` (without an example: `cap`)."""
    if not (domain.example_nl and domain.example_pddl):
        return cap
    ratio = len(domain.example_pddl) / len(domain.example_nl)
    return max(64, min(cap, int(factor * ratio * len(text) / 2.5) + 64))


# ---------------------------------------------------------------- objects: text vs translation


def section_span(problem: str, name: str) -> tuple[int, int] | None:
    """[start, end) of the first `(name ...)` block (end past its closing parenthesis); None if absent or unclosed."""
    start = problem.lower().find("(" + name)
    if start < 0:
        return None
    level = 0
    for i in range(start, len(problem)):
        level += {"(": 1, ")": -1}.get(problem[i], 0)
        if level == 0:
            return start, i + 1
    return None


def dedupe_objects(problem: str) -> tuple[str, list[str]]:
    """The problem with each object declared once, and the names that were repeated.

    A sound rewrite (cf. solvers/pddl_compat): `b1 b2 b1` declares the same object twice, which UP
    rejects ("Name b1 already defined"); a small model under the grammar repeats names often. Names
    repeated with different types are left alone for the parser to report.
    """
    from ratiocinator.solvers.pddl_compat import problem_objects

    pairs = problem_objects(problem)
    seen: dict[str, str | None] = {}
    repeated = []
    for name, kind in pairs:
        key = name.lower()
        if key in seen:
            if seen[key] != kind:
                return problem, []
            repeated.append(name)
        else:
            seen[key] = kind
    if not repeated:
        return problem, []
    span = section_span(problem, ":objects")
    if span is None:
        return problem, []
    by_kind: dict[str | None, list[str]] = {}
    for name, kind in seen.items():
        by_kind.setdefault(kind, []).append(name)
    lines = [" ".join(names) + (f" - {kind}" if kind else "") for kind, names in by_kind.items()]
    block = "(:objects\n" + "\n".join(lines) + "\n)"
    return problem[: span[0]] + block + problem[span[1] :], list(dict.fromkeys(repeated))


def _stem(name: str) -> str:
    return re.sub(r"[\d_-]+", "", name.lower())


def named_objects(text: str) -> list[str]:
    """Object names in English text: identifiers with a digit (b1, tile_0-1), in order, without repeats."""
    return list(dict.fromkeys(m.lower() for m in _NAMED.findall(text)))


def _counts(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(?<![\w-])(\d{1,3})(?![\w-])", text)]


def object_errors(text: str, declared: list[str]) -> str:
    """'' when the declared objects agree with the text, else what is missing and what is invented.

    Missing: a name the text uses (b4) that :objects lacks. Invented: an object of a kind the text
    names (stem `b` of b1), not named itself, numbered beyond every count in the text (`You have 3
    blocks` and b5, copied from the example); a text may well leave some objects unnamed (barman's
    fourth shot glass), and kinds it never names (barman's levels l0 l1) are not judged.
    """
    named = named_objects(text)
    have = {d.lower() for d in declared}
    missing = [n for n in named if n not in have]
    stems = {_stem(n) for n in named}
    top = max(_counts(text), default=None)
    invented = []
    for d in declared:
        number = re.search(r"(\d+)$", d)
        if (
            top is not None
            and number
            and d.lower() not in named
            and _stem(d) in stems
            and int(number.group(1)) > top
        ):
            invented.append(d)
    parts = []
    if missing:
        parts.append(
            f"the text names {', '.join(missing)} but :objects does not declare "
            f"{'it' if len(missing) == 1 else 'them'}"
        )
    if invented:
        parts.append(f":objects declares {', '.join(invented)}, which the text does not mention")
    return "; ".join(parts)
