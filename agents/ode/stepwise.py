"""Stepwise ODE translation: small grammar-constrained decisions, assembled into ODEs, each solved, the answer voted.

The whole-JSON translation asks a small model for the unknown, the equation, the initial conditions,
the quantity and the point in one generation. Here each of those is a short decision grounded in the
text (stepprompts.py): the unknown (greedy, once), its rate of change over the problem's own numbers
(`rate="whole"`, one decision; `"forms"`, a general form and its parameters; or one term per sentence),
and what is asked at which time; the
conditions are read in code where the words state them (times.py), else asked number by number. Each
decision is drawn greedily and `samples` more times; draw j of every decision makes candidate ODE j,
whose unknown constants are fitted to its conditions (fit.py) and whose value is computed. Candidates
that agree on the value vote together; the largest group wins (ties: the one holding the earliest
draw, the greedy one first), so a value the model reaches by several readings beats a single one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from pydantic import ValidationError

from ratiocinator.agents.llmopt.table import literals, numbers, sentences
from ratiocinator.agents.ode import stepprompts as p
from ratiocinator.agents.ode.config import ODEConfig
from ratiocinator.agents.ode.result import ODEAttempt
from ratiocinator.agents.ode.solve import solve_ode
from ratiocinator.agents.ode.spec import FittedSpec, ODEError
from ratiocinator.agents.ode.times import conditions
from ratiocinator.models.types import Completion, Message, SamplingParams
from ratiocinator.solvers.deadline import DeadlineExceeded

#: words of a sentence that asks, when it does not end with "?" (plain English)
_ASKING = re.compile(r"\b(calculate|determine|find|what|how|evaluate|compute|estimate|predict)\b", re.IGNORECASE)
_CONDITION = re.compile(r"^([A-Z])\((.+)\) = (.+)$")
_ASKED = re.compile(r"^(.+) at t = (.+)$")
#: FittedSpec's bound on conditions
_MAX_CONDITIONS = 8
#: values within this relative distance vote together
_SAME = 1e-4

Generate = Callable[[list[list[Message]], SamplingParams], list[Completion]]


def clean(problem: str) -> str:
    """The problem without LaTeX's inline-math delimiters (`\\(1000\\)` reads as 1000)."""
    return re.sub(r"\\[()\[\]]", "", problem).replace("$", "").strip()


def question(said: list[str]) -> int:
    """The index of the sentence that asks: the last one ending with "?" or holding an asking word, else the last."""
    asks = [k for k, s in enumerate(said) if s.rstrip().endswith("?") or _ASKING.search(s)]
    return (asks or [len(said) - 1])[-1]


def _draws(generate: Generate, prompts: list[list[Message]], grammar: str, cfg: ODEConfig) -> list[list[str]]:
    """For each prompt, its greedy answer then `cfg.samples` sampled ones (seeded)."""
    params = SamplingParams(grammar=grammar, max_tokens=cfg.step_tokens)
    greedy = [c.text.strip() for c in generate(prompts, params)]
    if not cfg.samples:
        return [[g] for g in greedy]
    sampled = params.model_copy(update={"temperature": cfg.sample_temperature, "n": cfg.samples, "seed": 1})
    more = [c.text.strip() for c in generate(prompts, sampled)]
    return [[g, *more[i * cfg.samples:(i + 1) * cfg.samples]] for i, g in enumerate(greedy)]


def _time(text: str) -> float:
    """A time as the asked grammar writes it: `infinity` or a product/quotient of numbers."""
    if text.strip() == "infinity":
        return math.inf
    value = 1.0
    try:
        for k, part in enumerate(re.split(r"(?=[*/])", text.strip())):
            op, num = (part[0], part[1:]) if k else ("*", part)
            value = value * float(num) if op == "*" else value / float(num)
    except (ValueError, ZeroDivisionError):  # a draft cut off ("20*") or dividing by 0
        raise ODEError(f"the time asked {text!r} is not a number") from None
    return value


def _moment(text: str) -> float | str:
    """A condition's time as a number where it is one (0 and 0*60 are one time), else as written."""
    try:
        return _time(text)
    except ODEError:
        return text.strip()


def assemble(name: str, terms: list[str], conditions: list[str], asked: str) -> FittedSpec:
    """One candidate ODE: the rate is the sum of the sentences' terms, one condition per time, the asked point."""
    # a term two sentences both add is most often one process read twice (the small model repeats itself)
    rate = list(dict.fromkeys(t for t in terms if t != p.NONE))
    if not rate:
        raise ODEError("no sentence adds anything to the rate of change")
    at_time: dict[float | str, str] = {}
    for c in conditions:
        m = _CONDITION.match(c)
        if m and m.group(1) == name:
            at_time.setdefault(_moment(m.group(2)), c)
    if len(at_time) > _MAX_CONDITIONS:
        raise ODEError(f"{len(at_time)} conditions at different times; at most {_MAX_CONDITIONS} are taken")
    m = _ASKED.match(asked)
    if m is None:
        raise ODEError(f"the asked value {asked!r} is not 'expression at t = time'")
    uses_k = any(re.search(rf"\b{p.CONSTANT}\b", t) for t in rate)
    return FittedSpec(functions=[name], variable="t", equations=[f"{name}' = " + " + ".join(f"({t})" for t in rate)],
                      initial_conditions=list(at_time.values()), quantity=m.group(1), at=_time(m.group(2)),
                      parameters=[p.CONSTANT] if uses_k else [])


def _attempt(j: int, build: Callable[[], FittedSpec], cfg: ODEConfig) -> ODEAttempt:
    """Candidate j (its `round`), assembled and solved, or the error that stopped it."""
    try:
        spec = build()
    except ODEError as exc:
        return ODEAttempt(round=j, spec="", error=str(exc))
    except ValidationError as exc:  # a draft FittedSpec refuses (a name or text too long)
        return ODEAttempt(round=j, spec="", error=f"not an ODE: {exc.errors()[0]['msg']}")
    try:
        value, method = solve_ode(spec, cfg)
    except (ODEError, DeadlineExceeded) as exc:
        return ODEAttempt(round=j, spec=spec.model_dump_json(), error=str(exc))
    return ODEAttempt(round=j, spec=spec.model_dump_json(), value=value, method=method)


def vote(attempts: list[ODEAttempt]) -> tuple[int, int]:
    """(the index of the chosen attempt, how many attempts share its value); the first attempt when none has one."""
    groups: list[list[int]] = []
    for i, a in enumerate(attempts):
        if a.value is None:
            continue
        for g in groups:
            ref = attempts[g[0]].value
            assert ref is not None
            if abs(a.value - ref) <= _SAME * max(1.0, abs(ref)):
                g.append(i)
                break
        else:
            groups.append([i])
    if not groups:
        return 0, 0
    best = max(groups, key=lambda g: (len(g), -g[0]))
    return best[0], len(best)


def _conditions(generate: Generate, base: list[Message], text: str, name: str, unknown: str, asked: int,
                cfg: ODEConfig) -> list[list[str]]:
    """Each draw's conditions: those the words state (times.py, the same for every draw), else the model's
    answer for each number (`name(time) = value` or none)."""
    read = conditions(text, name, unknown, asked)
    if read:
        return [read] * (cfg.samples + 1)
    table = numbers(text)
    if not table:
        return [[] for _ in range(cfg.samples + 1)]
    draws = _draws(generate, [[*base, Message(role="user", content=p.number_turn(n, name))] for n in table],
                   p.condition_grammar(name, literals(text)), cfg)
    return [[d[j] for d in draws] for j in range(cfg.samples + 1)]


def _forms(generate: Generate, base: list[Message], name: str, lits: list[float], cfg: ODEConfig,
           constant: bool) -> list[list[str]]:
    """Each draw's rate from a form: draw j picks a form (FORMS), and each of its parameters is that form's
    j-th draw (greedy first); a draw that picks "other" writes the rate whole (its j-th whole draw)."""
    picked = _draws(generate, [[*base, Message(role="user", content=p.form_turn(name))]], p.form_grammar(), cfg)[0]
    rates: dict[str, list[str]] = {}
    for form in dict.fromkeys(picked):
        if form not in p.FORMS or not p.FORMS[form][2]:  # "other"
            whole = [*base, Message(role="user", content=p.rate_turn(name))]
            rates[form] = _draws(generate, [whole], p.terms_grammar(name, lits, False, constant), cfg)[0]
            continue
        asked = [[*base, Message(role="user", content=p.form_turn(name)), Message(role="assistant", content=form),
                  Message(role="user", content=p.parameter_turn(name, form, q))] for q, _ in p.FORMS[form][2]]
        values = _draws(generate, asked, p.parameter_grammar(lits, constant), cfg)
        rates[form] = [p.rate_of(name, form, [v[j] for v in values]) for j in range(cfg.samples + 1)]
    return [[rates[form][j]] for j, form in enumerate(picked)]


def _terms(generate: Generate, base: list[Message], said: list[str], name: str, lits: list[float],
           cfg: ODEConfig, constant: bool) -> list[list[str]]:
    """Each draw's terms of the rate: the whole rate at once (`cfg.rate == "whole"`), its form and parameters
    (`"forms"`), or one term per sentence up to the question, and the whole rate when no draw of any sentence
    adds a term (its grammar without `none`). `constant`: whether a term may name the unknown constant k."""
    if cfg.rate == "forms":
        return _forms(generate, base, name, lits, cfg, constant)
    whole = [[*base, Message(role="user", content=p.rate_turn(name))]]
    if cfg.rate == "whole":
        return [[w] for w in _draws(generate, whole, p.terms_grammar(name, lits, False, constant), cfg)[0]]
    draws = _draws(generate, [[*base, Message(role="user", content=p.sentence_turn(s, name))] for s in said],
                   p.terms_grammar(name, lits, constant=constant), cfg)
    per_draw = [[d[j] for d in draws] for j in range(cfg.samples + 1)]
    if any(t != p.NONE for terms in per_draw for t in terms):
        return per_draw
    return [[w] for w in _draws(generate, whole, p.terms_grammar(name, lits, False, constant), cfg)[0]]


def translate(problem: str, generate: Generate, cfg: ODEConfig) -> tuple[list[ODEAttempt], int, int]:
    """Every candidate ODE of the problem, solved (draw 0: every decision greedy), the index voted for, and
    how many candidates share its value."""
    text = clean(problem)
    forms = cfg.rate == "forms"
    params = SamplingParams(grammar=p.unknown_grammar(), max_tokens=32)
    unknown = generate([p.prefix(text, forms=forms)], params)[0].text.strip()
    name = unknown[:1]
    base = p.prefix(text, unknown, forms)
    said = sentences(text) or [text]
    asks = question(said)
    conds = _conditions(generate, base, text, name, unknown, asks, cfg)
    # k is fitted to a second condition (fit.py): with fewer in every draw it could never be found
    constant = any(len({c for c in draw if c != p.NONE}) >= 2 for draw in conds)
    terms = _terms(generate, base, said[:asks + 1], name, literals(text), cfg, constant)
    times = [n.value for n in numbers(said[asks])]
    asked = _draws(generate, [[*base, Message(role="user", content=p.asked_turn(said[asks], name))]],
                   p.asked_grammar(name, literals(text), times), cfg)[0]
    attempts = [_attempt(j, lambda j=j: assemble(name, terms[j], conds[j], asked[j]), cfg)
                for j in range(cfg.samples + 1)]
    chosen, agreeing = vote(attempts)
    return attempts, chosen, agreeing
