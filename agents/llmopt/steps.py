"""Stepwise LLMOPT's nodes: many small grounded decisions, each checked right away, assembled, solved, repaired piece by piece.

read (numbers and sentences of the text, in code: the parameters) -> variables -> objective -> constraints (one short generation per sentence) ->
solve (assembled into the five-element formulation; the engine evaluates it as in the whole path) ->
repair (the engine's complaint traced to the pieces at fault, only those asked again) -> solve ...
Every request shares one prefix (stepprompts.PREFIX). Each node is a function of the state and the
runtime, whose context carries the backend and the LLMOPTConfig; `samples` drafts run side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypedDict

from langgraph.graph import END
from langgraph.runtime import Runtime

import ratiocinator.agents.llmopt.declarations as declarations
import ratiocinator.agents.llmopt.draft as pieces
import ratiocinator.agents.llmopt.formulas as formulas
import ratiocinator.agents.llmopt.readings as readings
import ratiocinator.agents.llmopt.structure as structure
from ratiocinator.agents.llmopt.choose import choose_objective, stated_sense
from ratiocinator.agents.llmopt.config import LLMOPTConfig
from ratiocinator.agents.llmopt.engine import evaluate
from ratiocinator.agents.llmopt.faults import faults
from ratiocinator.agents.llmopt.result import Attempt
from ratiocinator.agents.llmopt.stepgrammar import (
    NONE,
    constraints_grammar,
    number_grammar,
    objective_grammar,
    variables_grammar,
)
from ratiocinator.agents.llmopt.stepprompts import conversation
from ratiocinator.agents.llmopt.table import literals, numbers, sentences, words
from ratiocinator.kit import MethodContext
from ratiocinator.models.sampling import sample_each
from ratiocinator.models.types import Completion, SamplingParams

Ctx = Runtime[MethodContext[LLMOPTConfig]]
Draft = pieces.Draft
Check = Callable[[Draft, str], str]
Key = tuple[int, str]  # (sample, piece)
MOST_VARIABLES = 12
MOST_ROWS = 4  # relations one sentence may state
_SOLVED = ("ok", "unfaithful", "implausible")  # built and solved, whatever the checks then found


class StepState(TypedDict, total=False):
    """The graph's state: the problem, one draft per sample, each sample's attempts, what to repair, the round."""

    problem: str
    drafts: list[Draft]
    tracks: list[list[Attempt]]
    pending: list[dict[str, str]]
    round: int


def read(state: StepState, runtime: Ctx) -> dict[str, Any]:
    """The text's numbers (each tied to its words) and sentences: the grounding every later step uses."""
    cfg, problem = runtime.context.config, state["problem"]
    draft = Draft(problem=problem, table=tuple(numbers(problem, cfg.max_items)),
                  sentences=tuple(sentences(problem)[: cfg.max_items]))
    return {"drafts": [draft] * cfg.samples, "tracks": [[] for _ in range(cfg.samples)], "round": 0}


def network(state: StepState, runtime: Ctx) -> dict[str, Any]:
    """A network text (structure.py): the textbook model of the question the model scores highest, solved; every
    sample's first attempt when it solves ok, else nothing (the steps below translate the text)."""
    cfg = runtime.context.config
    if not (cfg.reading and cfg.networks):
        return {}
    found = structure.decide(state["problem"], runtime.context.backend, cfg)
    if found is None:
        return {}
    return {"tracks": [[found[1].model_copy(update={"sample": i})] for i in range(len(state["tracks"]))]}


def after_network(state: StepState, runtime: Ctx) -> Literal["variables", "__end__"]:
    """Done where the network step solved the text; else on to the variables."""
    return END if any(state["tracks"]) else "variables"


def declare(state: StepState, runtime: Ctx) -> dict[str, Any]:
    """The decision variables, names and domains, checked (declared, no clash with a parameter); with
    `reading`, the declaration that explains most of the text's numbers among the greedy and sampled ones."""
    cfg, drafts = runtime.context.config, state["drafts"]
    symbols = formulas.names(drafts[0]) if cfg.reading and drafts else []
    if symbols:  # "maximize 3x + 5y subject to ...": the text's symbols are the decisions (formulas.py)
        domain = declarations.stated_domain(drafts[0]) or "continuous"
        stated = declarations.declared(drafts[0], [(name, domain) for name in symbols])
        if not pieces.check_variables(stated):
            return {"drafts": [declarations.declared(d, stated.variables()) for d in drafts]}
    drafts = decide(runtime, drafts, [(i, "variables") for i in range(len(drafts))], pieces.check_variables)
    if cfg.reading:
        drafts = [_best_declaration(runtime, d, cfg.seed + 11 + i) for i, d in enumerate(drafts)]
    return {"drafts": drafts}


def _best_declaration(runtime: Ctx, draft: Draft, seed: int) -> Draft:
    """Of the greedy declaration and `variable_samples` sampled ones, each without the names nothing in the
    text measures or limits (readings.measured, readings.pruned), the one whose reading explains most
    numbers, the earlier (the greedy first) on a tie; unless declarations made in code from the words
    before the numbers (declarations.candidate_declarations) explain more: then the one of those the model
    scores highest as its reply. The domain is the one the words state, where they state one
    (declarations.stated_domain)."""
    cfg = runtime.context.config
    texts = [draft.replies.get("variables", "")]
    if cfg.variable_samples:
        ebnf, limit = _grammar(draft, "variables")
        params = SamplingParams(grammar=ebnf, max_tokens=limit, temperature=cfg.objective_temperature, seed=seed)
        prompt = conversation(draft.problem, list(draft.table), draft.replies, "variables")
        texts += [c.text for c in sample_each(runtime.context.backend, [prompt] * cfg.variable_samples, params)]
    best, most = draft, -1
    for text in texts:
        candidate = draft.with_reply("variables", text)
        if pieces.check_variables(candidate):
            continue
        named = [(n, d) for n, d in candidate.variables()
                 if not declarations.wordless(n) and not declarations.names_a_datum(n, draft)]
        if named and len(named) < len(candidate.variables()):
            candidate = declarations.declared(candidate, named)
        kept = set(declarations.measured(candidate))
        if kept and len(kept) < len(candidate.variables()):
            candidate = declarations.declared(candidate, [(n, d) for n, d in candidate.variables() if n in kept])
        candidate = declarations.pruned(candidate)
        count = declarations.explained(candidate)
        if count > most:
            best, most = candidate, count
    domains = [d for _, d in draft.variables()]
    domain = max(set(domains), key=domains.count) if domains else "integer"
    labels = declarations.labels(draft)
    labelled = declarations.declared(draft, [(name, domain) for name in labels])
    chosen = {name for name, _ in best.variables()}
    some = bool(chosen & set(labels)) and not set(labels) <= chosen  # `projects` beside `x`: Y unnamed
    by_labels = declarations.explained(labelled)
    if len(labels) > 1 and (by_labels >= most or some):  # "X, Y and Z": the text's own names
        best, most = labelled, by_labels
    made = [] if best is labelled else [  # the text's own labels are not second-guessed by words
        text for text in declarations.candidate_declarations(draft, domain)
        if declarations.explained(draft.with_reply("variables", text)) > most]
    if made:  # the words explain more numbers with other decisions: the model chooses among those
        prompt = conversation(draft.problem, list(draft.table), draft.replies, "variables")
        scores = runtime.context.backend.score(prompt, made) if len(made) > 1 else [0.0]
        best = draft.with_reply("variables", made[max(range(len(made)), key=scores.__getitem__)])
    stated = declarations.stated_domain(draft)
    yes_no = declarations.says_binary(draft)  # "whole numbers" rules binary out unless the words say yes/no
    target = [(n, stated if d != "binary" or not yes_no else d) for n, d in best.variables()]
    if stated and target != best.variables():
        best = declarations.declared(best, target)
    return best


def objective(state: StepState, runtime: Ctx) -> dict[str, Any]:
    """The objective, over the declared names and the text's numbers, checked (it names a variable); then, unless
    the config says greedy, chosen by score among alternatives (choose.py)."""
    cfg, drafts = runtime.context.config, state["drafts"]
    stated = [formulas.objective(d) if cfg.reading else None for d in drafts]
    if drafts and all(stated):  # the text states its objective in symbols over the declared names
        return {"drafts": [d.with_reply("objective", o) for d, o in zip(drafts, stated, strict=True)]}
    drafts = decide(runtime, drafts, [(i, "objective") for i in range(len(drafts))], pieces.check_objective)
    if cfg.objective_choice == "scored" and drafts:
        drafts = choose_objective(runtime.context.backend, drafts, lambda d: _grammar(d, "objective", cfg.sense_from_text),
                                  samples=cfg.objective_samples, temperature=cfg.objective_temperature,
                                  seed=cfg.seed + 7, from_text=cfg.sense_from_text,
                                  read=readings.objective_bodies if cfg.reading else None)
    return {"drafts": drafts}


def constrain(state: StepState, runtime: Ctx) -> dict[str, Any]:
    """Each sentence's constraints, one short generation each, checked; then each number still unused, one at a time."""
    cfg, drafts = runtime.context.config, list(state["drafts"])
    if not cfg.reading:
        wanted = [(i, p) for i, d in enumerate(drafts) for p in pieces.sentence_pieces(d)]
        return {"drafts": _ask_unused(runtime, _grounded(decide(runtime, drafts, wanted, pieces.check_rows), wanted))}
    wanted, symbolic = [], {}
    for i, d in enumerate(drafts):
        reading = readings.read(d)
        for k, row in reading.rows.items():
            d = d.with_reply(f"n{k}", row)
        d = _choose_limits(runtime, d, reading)
        for s in range(len(d.sentences)):
            if written := formulas.rows(d, s):  # relations the sentence writes in symbols, as written
                d = d.with_reply(f"s{s}", "\n".join(written))
                if not formulas.covered(d, s):  # its words state more: the model's rows go after them
                    symbolic[(i, f"s{s}")] = written
                    wanted.append((i, f"s{s}"))
            elif readings.settled(d, reading, s):
                d = d.with_reply(f"s{s}", reading.compared.get(s, NONE))
            else:
                wanted.append((i, f"s{s}"))
        drafts[i] = d
    drafts = _grounded(decide(runtime, drafts, wanted, pieces.check_rows), wanted)
    for (i, piece), written in symbolic.items():
        asked = [r for r in drafts[i].rows(piece) if r not in written]
        drafts[i] = drafts[i].with_reply(piece, "\n".join([*written, *asked]))
    return {"drafts": _ask_unused(runtime, [_without_read(d) for d in drafts])}


def _grounded(drafts: list[Draft], asked: list[Key]) -> list[Draft]:
    """The model's sentence relations without those none of whose numbers their sentence writes
    (pieces.ungrounded): a sentence states its own relations; what others state is theirs."""
    drafts = list(drafts)
    for i, piece in asked:
        dropped = pieces.ungrounded(drafts[i], piece)
        if dropped:
            kept = [r for r in drafts[i].rows(piece) if r not in dropped]
            drafts[i] = drafts[i].with_reply(piece, "\n".join(kept) or NONE)
    return drafts


def _choose_limits(runtime: Ctx, draft: Draft, reading: readings.Reading) -> Draft:
    """Each limit the words leave open (its unit no column's: "at least 200 voters" beside "a van carries 6
    people") stated as the relation the model scores highest among those it may state (readings.limit_options),
    as its answer to the number's question."""
    for k in range(len(draft.table)):
        options = readings.limit_options(draft, reading, k)
        if len(options) > 1:
            prompt = conversation(draft.problem, list(draft.table), draft.replies, f"n{k}")
            scores = runtime.context.backend.score(prompt, options)
            draft = draft.with_reply(f"n{k}", options[max(range(len(options)), key=scores.__getitem__)])
        elif options:
            draft = draft.with_reply(f"n{k}", options[0])
    return draft


def _without_read(draft: Draft) -> Draft:
    """The model's sentence relations without those that restate a limit the reading already wrote (same number
    alone on one side): the reading's row stands, a second version of it would only conflict."""
    written = {row.rsplit(" ", 1)[-1] for piece in draft.replies if piece[0] == "n" for row in draft.rows(piece)}
    for piece in pieces.sentence_pieces(draft):
        rows = draft.rows(piece)
        kept = [r for r in rows if r.rsplit(" ", 1)[-1] not in written]
        if len(kept) < len(rows):
            draft = draft.with_reply(piece, "\n".join(kept) or NONE)
    return draft


def _ask_unused(runtime: Ctx, drafts: list[Draft], round_: int = 0) -> list[Draft]:
    """Ask each number no expression uses yet that states a limit (pieces.to_ask), and not asked before, for
    its constraint; one the model leaves out that its rates' words tie to the decisions is written from them."""
    read = [readings.read(d) if runtime.context.config.reading else None for d in drafts]  # once per draft
    wanted = [(i, f"n{k}") for i, d in enumerate(drafts) for k in pieces.to_ask(d) if f"n{k}" not in d.replies
              and not (read[i] and read[i].explained(k))]
    drafts = decide(runtime, drafts, wanted, pieces.check_rows, round_=round_) if wanted else list(drafts)
    for i, d in enumerate(drafts):
        for k in pieces.unused(d):
            row = pieces.summed(d, d.table[k])
            if row and d.table[k].bound is not None:
                d = d.with_reply(f"n{k}", "\n".join([*d.rows(f"n{k}"), row]))
        drafts[i] = d
    return drafts


def solve(state: StepState, runtime: Ctx) -> dict[str, Any]:
    """Assemble each draft, let the engine evaluate it, and trace any failure to the pieces at fault."""
    cfg, round_ = runtime.context.config, state.get("round", 0)
    tracks, pending, drafts = [list(t) for t in state["tracks"]], [], list(state["drafts"])
    for i, draft in enumerate(drafts):
        if tracks[i] and tracks[i][-1].status == "ok":
            pending.append({})
            continue
        attempt = _evaluated(draft, i, round_, cfg)
        counted = _counts_instead(draft) if attempt.status == "infeasible" else None
        if counted is not None and (recounted := _evaluated(counted, i, round_, cfg)).status in _SOLVED:
            tracks[i].append(attempt)  # yes/no decisions the words never call yes/no made it infeasible: counts
            drafts[i], draft, attempt = counted, counted, recounted
        tracks[i].append(attempt)
        found = {} if attempt.status == "ok" else faults(draft, attempt, solver=cfg.solver, timeout=cfg.solver_timeout)
        pending.append(_least_sure(runtime, draft, found) if attempt.status == "infeasible" else found)
    return {"tracks": tracks, "pending": pending, "drafts": drafts}


def _evaluated(draft: Draft, sample: int, round_: int, cfg: LLMOPTConfig) -> Attempt:
    completion = Completion(text=pieces.assemble(draft), finish_reason="stop", prompt_tokens=0, completion_tokens=0)
    return evaluate(completion, sample=sample, round_=round_, config=cfg, problem=draft.problem)


def _counts_instead(draft: Draft) -> Draft | None:
    """The draft with its yes/no decisions declared whole numbers, where the words say nothing of yes or no
    (declarations.says_binary); None where it has none or they do."""
    decided = draft.variables()
    if declarations.says_binary(draft) or not any(d == "binary" for _, d in decided):
        return None
    return declarations.declared(draft, [(n, "integer" if d == "binary" else d) for n, d in decided])


def _least_sure(runtime: Ctx, draft: Draft, found: dict[str, str]) -> dict[str, str]:
    """Of the pieces an infeasibility is traced to, the one the model is least sure of (log-probability per character)."""
    if len(found) < 2:
        return found

    def sureness(piece: str) -> float:
        text = draft.replies.get(piece, "")
        prompt = conversation(draft.problem, list(draft.table), draft.replies, piece)
        return runtime.context.backend.score(prompt, [text])[0] / max(len(text), 1) if text else 0.0

    least = min(found, key=sureness)
    return {least: found[least]}


def repair(state: StepState, runtime: Ctx) -> dict[str, Any]:
    """Ask again only the pieces the engine's complaints were traced to, each shown its answer and the complaint."""
    drafts = state["drafts"]
    feedback = {(i, p): fb for i, found in enumerate(state["pending"]) for p, fb in found.items()}
    checks: dict[str, Check] = {"objective": pieces.check_objective, "variables": pieces.check_variables}
    round_ = state["round"] + 1
    for piece_kind in ("objective", "sentences"):
        keys = [k for k in feedback if (k[1] == "objective") == (piece_kind == "objective")]
        if keys:
            check = checks.get(keys[0][1], pieces.check_rows)
            drafts = decide(runtime, drafts, keys, check, feedback={k: feedback[k] for k in keys}, round_=round_)
    return {"drafts": _ask_unused(runtime, drafts, round_), "round": round_}


def needs_repair(state: StepState, runtime: Ctx) -> Literal["repair", "__end__"]:
    """Repair while a sample's failure was traced to a piece and rounds are left."""
    pending = any(state.get("pending", []))
    return "repair" if pending and state.get("round", 0) < runtime.context.config.correction_rounds else END


def decide(runtime: Ctx, drafts: list[Draft], wanted: list[Key], check: Check, *,
           feedback: dict[Key, str] | None = None, round_: int = 0) -> list[Draft]:
    """Ask each wanted piece (with its earlier answer and fault, when given), check it, re-ask the faulty ones."""
    cfg = runtime.context.config
    drafts, repairs = list(drafts), dict(feedback or {})
    for retry in range(1 + cfg.piece_retries):
        requests = [(drafts[i], p, (drafts[i].replies[p], repairs[(i, p)])
                     if (i, p) in repairs and p in drafts[i].replies else None) for i, p in wanted]
        first = round_ == 0 and retry == 0
        temperature = (cfg.temperature if cfg.samples > 1 else 0.0) if first else cfg.correction_temperature
        texts = ask(runtime, requests, temperature, cfg.seed + 100 * round_ + retry)
        for (i, p), text in zip(wanted, texts, strict=True):
            before = drafts[i].replies.get(p)
            # a check's complaint answered by dropping the piece's relations keeps them, for mend to fix
            keep = retry > 0 and text.strip() == NONE and before not in (None, NONE) and (i, p) not in (feedback or {})
            drafts[i] = drafts[i] if keep else drafts[i].with_reply(p, text)
        found = {(i, p): check(drafts[i], p) for i, p in wanted}
        wanted = [k for k, fault in found.items() if fault]
        repairs = {k: found[k] for k in wanted}
        if not wanted:
            break
    for i, p in wanted:  # what the model did not fix and code can
        drafts[i] = pieces.mend(drafts[i], p)
    return drafts


def ask(runtime: Ctx, requests: list[tuple[Draft, str, tuple[str, str] | None]], temperature: float,
        seed: int) -> list[str]:
    """One constrained generation per request (draft, piece, repair), batched by grammar; the texts in order."""
    backend = runtime.context.backend
    groups: dict[tuple[str, int], list[int]] = {}
    for j, (draft, piece, _) in enumerate(requests):
        groups.setdefault(_grammar(draft, piece, runtime.context.config.sense_from_text), []).append(j)
    texts = [""] * len(requests)
    for (grammar, limit), members in groups.items():
        prompts = [conversation(requests[j][0].problem, list(requests[j][0].table), requests[j][0].replies,
                                requests[j][1], requests[j][2]) for j in members]
        params = SamplingParams(grammar=grammar, max_tokens=limit, temperature=temperature,
                                seed=seed if temperature > 0 else None)
        for j, out in zip(members, sample_each(backend, prompts, params), strict=True):
            texts[j] = out.text
    return texts


def _grammar(draft: Draft, piece: str, sense_from_text: bool = True) -> tuple[str, int]:
    """The grammar a piece is written under, and its token limit (the objective in the one sense the text
    states, where it states one and `sense_from_text`)."""
    if piece == "variables":
        return variables_grammar(words(draft.problem), MOST_VARIABLES), 160
    names = [name for name, _ in draft.variables()]
    if piece == "objective":
        sense = stated_sense(draft.problem) if sense_from_text else None
        return objective_grammar(names, literals(draft.problem), sense), 200
    if piece[0] == "n":
        return number_grammar(names, literals(draft.problem), draft.table[int(piece[1:])].value), 120
    return constraints_grammar(names, literals(draft.problem), MOST_ROWS), 240
