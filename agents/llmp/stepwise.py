"""LLM+P's stepwise translation (issue 17): objects first, then each sentence's facts, each a short grammar-constrained decision, assembled and checked; its nodes and state.

The model never writes a whole problem. `objects` asks for the problem's objects by type (names
among the text's words and the example's numbered names, types the domain's), checked against the
names and counts the text gives; `facts` asks, for every sentence at once (one batched request per
grammar, every prompt opening with the same system turn), for the facts that sentence states, under
a grammar of the domain's predicates over the declared objects of each parameter's type, shown the
example sentences most like it with their facts; an answer the model was unsure of (a token below
`unsure_logprob`) is sampled `votes` times and each fact kept by majority; `check` assembles the
facts (each init sentence's completed by the example's symmetric and converse predicates,
relations.py; each contradiction on a function-like predicate resolved by the change that costs the
model's score least, resolve.py) and runs the checks of pieces.review (contradictions left, objects
no fact names, a goal that already holds), sending each error back to the sentences that caused it,
then parses, plans and validates (check.check); when the planner finds no plan, the least sure
sentences are sampled again and voted on. Nodes take the backend and config from the runtime.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypedDict

from langgraph.runtime import Runtime

from ratiocinator.agents.llmp.analogy import Transfer, transfer
from ratiocinator.agents.llmp.check import check
from ratiocinator.agents.llmp.config import LLMPConfig
from ratiocinator.agents.llmp.consistency import count_errors, stated_highest
from ratiocinator.agents.llmp.domain import PlanningDomain, domain_vocabulary
from ratiocinator.agents.llmp.example import Example, learn, object_lines
from ratiocinator.agents.llmp.facts import Fact, assemble
from ratiocinator.agents.llmp.grammar import (
    bounds,
    candidate_objects,
    fact_grammar,
    fitting,
    objects_grammar,
)
from ratiocinator.agents.llmp.grounding import ground_objects
from ratiocinator.agents.llmp.objects import object_errors, text_counts
from ratiocinator.agents.llmp.pieces import (
    confidence,
    least_confident,
    named_in,
    read_answer,
    read_objects,
    reground,
    review,
    vote,
)
from ratiocinator.agents.llmp.programs import (
    lists_text,
    object_lists,
    program_errors,
    run_program,
    strip_fence,
)
from ratiocinator.agents.llmp.prompts import (
    objects_prompt,
    piece_feedback,
    program_prompt,
    sentence_prompt,
)
from ratiocinator.agents.llmp.relations import complement, complete
from ratiocinator.agents.llmp.resolve import resolve
from ratiocinator.agents.llmp.result import Piece, Translation
from ratiocinator.agents.llmp.sentences import Sentence, exemplars, split_sentences, words
from ratiocinator.kit import MethodContext
from ratiocinator.models.types import Completion, Message, SamplingParams

Ctx = Runtime[MethodContext[LLMPConfig]]

#: sentences sampled again when the planner finds no plan for the assembled facts
REVOTE = 3


class StepwiseState(TypedDict, total=False):
    """The stepwise graph's state: the request, the objects, each sentence's conversation and facts."""

    text: str
    domain: PlanningDomain
    sentences: list[Sentence]
    objects: list[tuple[str, str | None]]
    objects_conversation: list[Message]
    objects_feedback: str  # the error the next objects answer must correct ('' none)
    objects_round: int
    conversations: dict[int, list[Message]]  # per sentence index
    said: dict[int, str]  # the last answer shown for each sentence
    answers: dict[int, list[Fact]]  # the facts kept for each sentence
    confidences: dict[int, float]
    pending: dict[int, str]  # sentences to ask (again), with the error each is shown ('' none)
    voted: list[int]  # sentences already sampled again after the planner failed
    goal_checked: bool  # the goal was asked again once because it already held
    goal_before: dict[int, list[Fact]]  # the goal sentences' answers when they were asked again
    round: int
    translations: list[Translation]  # each assembled problem and what the checks made of it
    pieces: list[Piece]
    selected: Translation | None
    agreeing: int
    planned: int
    agreement: float
    explanation: str
    message: str


def initial_state(text: str, domain: PlanningDomain, config: LLMPConfig) -> StepwiseState:
    """The state before the objects step (the example is read now, so a domain without one fails early)."""
    learn(domain)
    return {
        "text": text,
        "domain": domain,
        "sentences": split_sentences(text),
        "objects_round": 0,
        "objects_feedback": "",
        "round": 0,
        "conversations": {},
        "said": {},
        "answers": {},
        "confidences": {},
        "pending": {},
        "voted": [],
        "goal_checked": False,
        "translations": [],
        "pieces": [],
    }


def _scale(text: str, example_nl: str) -> float:
    """How much larger the problem is than the example, by the largest counts their English gives."""
    return max(1.0, max(text_counts(text), default=1) / max(1, max(text_counts(example_nl), default=1)))


def _object_errors(text: str, declared: list[tuple[str, str | None]], example: Example) -> str:
    """What is still wrong with the grounded objects: names the text uses or counts it gives."""
    names = [n for n, _ in declared]
    errors = [e for e in (object_errors(text, names),) if e]
    return "; ".join(errors + count_errors(text, names, dict(example.count_words)))


def objects(state: StepwiseState, runtime: Ctx) -> dict[str, Any]:
    """Ask for the objects by type under the grammar; send the text's names and counts back when wrong."""
    config, backend = runtime.context.config, runtime.context.backend
    domain, text, rnd = state["domain"], state["text"], state.get("objects_round", 0)
    example = learn(domain)
    lines = example.object_lines()
    conversation = state.get("objects_conversation") or objects_prompt(
        text, domain.example_nl, lines, domain_vocabulary(domain).domain
    )
    most = bounds(text, domain, config.length_factor).objects or 64
    budget = int(config.length_factor * _scale(text, domain.example_nl) * len(lines) / 2) + 32
    params = SamplingParams(
        temperature=0.0 if rnd == 0 else config.temperature,
        seed=config.seed + 1000 * rnd,
        max_tokens=min(budget, config.max_tokens),
        grammar=objects_grammar(list(example.kinds), candidate_objects(text, domain), most),
        logprobs=True,
    )
    (answer,) = backend.generate([conversation], params)
    numbered = stated_highest(text, {p: (k, low) for p, k, low in example.highest})
    declared, repairs = ground_objects(
        text, read_objects(answer.text), list(example.objects), dict(example.count_words), numbered,
        example.listed,
    )
    errors = _object_errors(text, declared, example)
    piece = Piece(
        index=-1, text="objects", goal=False, round=rnd, answer=answer.text,
        facts=tuple(object_lines(declared, list(dict.fromkeys(t for _, t in declared))).splitlines()),
        confidence=confidence(answer), feedback=state.get("objects_feedback", ""),
        repairs=tuple(repairs),
    )
    update: dict[str, Any] = {
        "objects": declared, "objects_round": rnd + 1, "pieces": [*state.get("pieces", []), piece],
    }
    if errors and rnd < config.retries:
        return {
            **update,
            "objects_feedback": errors,
            "objects_conversation": [
                *conversation,
                Message(role="assistant", content=answer.text),
                Message(role="user", content=piece_feedback(errors, "the objects")),
            ],
        }
    return {**update, "objects_feedback": "", "pending": {s.index: "" for s in state["sentences"]}}


def route_objects(state: StepwiseState) -> str:
    """The objects again while they carry an error to correct, else the sentences."""
    return "objects" if state.get("objects_feedback") else "facts"


def _prompt(sentence: Sentence, state: StepwiseState, example: Example, config: LLMPConfig) -> list[Message]:
    shots = [
        (" ".join(n for n, _ in example.objects), a.sentence.text, "\n".join(map(str, a.facts)))
        for a in exemplars(sentence, list(example.aligned), config.exemplars)
    ]
    mine = " ".join(n for n, _ in state["objects"])
    return sentence_prompt(sentence.text, mine, shots, domain_vocabulary(state["domain"]).domain)


def _program_prompt(
    sentence: Sentence, state: StepwiseState, example: Example, config: LLMPConfig
) -> list[Message] | None:
    """The program step's prompt when the example sentence most like this one is written as a loop
    (it states many facts by a rule), with the chosen example sentences that state facts; else None."""
    chosen = exemplars(sentence, list(example.aligned), config.exemplars)
    written = dict(zip(example.aligned, example.programs, strict=True))
    if not chosen or not written[chosen[-1]][1]:
        return None
    theirs = lists_text(object_lists(list(example.objects)))
    shots = [(theirs, a.sentence.text, written[a][0]) for a in chosen if written[a][0]]
    mine = lists_text(object_lists(state["objects"]))
    return program_prompt(mine, sentence.text, shots, domain_vocabulary(state["domain"]).domain)


def _programs(
    backend: Any, state: StepwiseState, example: Example, config: LLMPConfig, asked: list[Sentence]
) -> dict[int, tuple[str, list[Fact], str]]:
    """For the sentences asked for the first time whose likest example sentence is a loop: the
    program the model writes (greedy, one batched request), the facts it prints in the sandbox, and
    why they are not kept ('' when they are: it ran, printed facts, and each is a fact of the domain
    over the declared objects)."""
    prompts = {s.index: p for s in asked if (p := _program_prompt(s, state, example, config))}
    if not prompts:
        return {}
    budget = min(config.max_tokens, 256)
    out = backend.generate(list(prompts.values()), SamplingParams(temperature=0.0, max_tokens=budget))
    lists = object_lists(state["objects"])
    vocab, names = domain_vocabulary(state["domain"]), [n for n, _ in state["objects"]]
    found = {}
    for i, completion in zip(prompts, out, strict=True):
        code = strip_fence(completion.text)
        got, error = run_program(code, lists)
        error = error or program_errors(got, vocab, names) or ("" if got else "it printed no fact")
        found[i] = (code, got, error)
    return found


def _grammar(state: StepwiseState, example: Example, config: LLMPConfig, goal: bool) -> tuple[str, int]:
    """The grammar of one sentence's facts (init or goal part) and the tokens an answer may take."""
    vocab = domain_vocabulary(state["domain"])
    scale = _scale(state["text"], state["domain"].example_nl)
    most = int(config.length_factor * example.most_facts * scale) + 2
    numbers = tuple(dict.fromkeys(str(n) for n in [0, *text_counts(state["text"])]))
    longest = max((len(n) for n, _ in state["objects"]), default=4)
    per_fact = (max((len(p) + a * (longest + 1) for p, a in vocab.predicates), default=8) + 12) // 2
    grammar = fact_grammar(
        vocab, state["objects"], most, negation=goal and example.negated_goal, numbers=numbers
    )
    return grammar, min(config.max_tokens, most * per_fact + 8)


def _ask(
    backend: Any, prompts: dict[int, list[Message]], grammar: str, budget: int, params: dict[str, Any]
) -> dict[int, list[Completion]]:
    """One batched request for these sentences under one grammar; each sentence's completions."""
    if not prompts:
        return {}
    sampling = SamplingParams(grammar=grammar, max_tokens=budget, logprobs=True, **params)
    out = backend.generate(list(prompts.values()), sampling)
    n = sampling.n
    return {i: out[k * n : (k + 1) * n] for k, i in enumerate(prompts)}


def _answer(
    backend: Any,
    prompts: dict[int, list[Message]],
    grammar: str,
    budget: int,
    config: LLMPConfig,
    state: StepwiseState,
) -> dict[int, tuple[Completion, list[Fact], int]]:
    """Each sentence's (shown answer, facts kept, votes): the greedy answer stands unless the model was
    unsure of it or repeats an answer shown wrong; then `votes` samples are drawn and each fact kept by
    majority (with the greedy answer's vote). Sentences asked again without an error (the planner
    found no plan) are sampled at once: their greedy answer would be the same."""
    rnd, said = state.get("round", 0), state.get("said", {})
    revote = {i for i in prompts if state["pending"].get(i) == "" and i in said}
    plain = {"temperature": 0.0}
    greedy = {i: cs[0] for i, cs in _ask(backend, {i: p for i, p in prompts.items() if i not in revote},
                                         grammar, budget, plain).items()}
    unsure = revote | {
        i for i, c in greedy.items()
        if confidence(c) < config.unsure_logprob or (i in said and c.text.strip() == said[i].strip())
    }
    sampled = {"temperature": config.temperature, "n": config.votes, "seed": config.seed + 1000 * rnd}
    drawn = _ask(backend, {i: prompts[i] for i in prompts if i in unsure}, grammar, budget, sampled)
    out = {}
    for i in prompts:
        shown = greedy.get(i) or drawn[i][0]
        answers = [read_answer(c.text) for c in ([greedy[i]] if i in greedy else []) + drawn.get(i, [])]
        out[i] = (shown, vote(answers) if len(answers) > 1 else answers[0], len(drawn.get(i, [])))
    return out


def _complete(sentence: Sentence, found: list[Fact], example: Example) -> tuple[list[Fact], tuple[str, ...]]:
    """An init sentence's facts completed by the example's symmetric, converse and irreflexive
    predicates (relations.py); a goal sentence's as they are (a goal states only what it asks)."""
    if sentence.goal:
        return found, ()
    done, notes = complete(found, example.relations)
    return done, tuple(notes)


def _analogies(
    asked: list[Sentence], state: StepwiseState, example: Example, config: LLMPConfig
) -> dict[int, Transfer]:
    """With `analogy`: the sentences asked the first time that are an example sentence with other
    names, each with its facts renamed from the example's (analogy.py; no model call)."""
    if not config.analogy:
        return {}
    vocab = domain_vocabulary(state["domain"])
    found = {s.index: transfer(s, example, state["objects"], vocab) for s in asked}
    return {i: t for i, t in found.items() if t is not None}


def facts(state: StepwiseState, runtime: Ctx) -> dict[str, Any]:
    """Ask every pending sentence for its facts: first, with `analogy`, the sentences asked the first
    time that are an example sentence with other names take its facts renamed; for the others asked
    the first time whose likest example sentence is a loop, a program (one batched request; its facts
    kept when they check); then the rest, one batched request per part (init, goal)."""
    config, backend = runtime.context.config, runtime.context.backend
    example, rnd = learn(state["domain"]), state.get("round", 0)
    by_index = {s.index: s for s in state["sentences"]}
    conversations, said = dict(state.get("conversations", {})), state.get("said", {})
    for i, message in state["pending"].items():
        if i not in conversations:
            conversations[i] = _prompt(by_index[i], state, example, config)
        if message:
            conversations[i] = [
                *conversations[i],
                Message(role="assistant", content=said.get(i, "none")),
                Message(role="user", content=piece_feedback(message)),
            ]
    answers, confidences = dict(state.get("answers", {})), dict(state.get("confidences", {}))
    said, pieces = dict(said), list(state.get("pieces", []))
    first = [by_index[i] for i, m in state["pending"].items() if not m and i not in said]
    renamed = _analogies(first, state, example, config)
    for i, found in renamed.items():
        kept, repairs = _complete(by_index[i], list(found.facts), example)
        answers[i], said[i], confidences[i] = kept, "\n".join(map(str, found.facts)) or "none", 0.0
        pieces.append(Piece(
            index=i, text=by_index[i].text, goal=by_index[i].goal, round=rnd, answer=said[i],
            facts=tuple(map(str, kept)), confidence=0.0, program=found.program, repairs=repairs,
            analogy=found.source,
        ))
    first = [s for s in first if s.index not in renamed]
    programs = _programs(backend, state, example, config, first)
    for i, (code, printed, error) in programs.items():
        if error:
            continue
        kept, repairs = _complete(by_index[i], printed, example)
        answers[i], said[i], confidences[i] = kept, "\n".join(map(str, printed)), 0.0
        pieces.append(Piece(
            index=i, text=by_index[i].text, goal=by_index[i].goal, round=rnd, answer=code,
            facts=tuple(map(str, kept)), confidence=0.0, program=code, repairs=repairs,
        ))
    for goal in (False, True):
        prompts = {i: conversations[i] for i in state["pending"] if by_index[i].goal == goal
                   and i not in renamed and not (i in programs and not programs[i][2])}
        grammar, budget = _grammar(state, example, config, goal)
        for i, (shown, kept, votes) in _answer(backend, prompts, grammar, budget, config, state).items():
            code, _, error = programs.get(i, ("", [], ""))
            kept, repairs = _complete(by_index[i], kept, example)
            answers[i], said[i], confidences[i] = kept, shown.text, confidence(shown)
            pieces.append(Piece(
                index=i, text=by_index[i].text, goal=goal, round=rnd, answer=shown.text,
                facts=tuple(map(str, kept)), confidence=confidences[i], votes=votes,
                feedback=state["pending"][i], program=code, program_error=error, repairs=repairs,
            ))
    return {
        "conversations": conversations, "said": said, "answers": answers,
        "confidences": confidences, "pieces": pieces, "round": rnd + 1, "pending": {},
    }


def _assembled(state: StepwiseState) -> str:
    """The problem PDDL of the current answers: sentences in order, init part then goal part."""
    goal_ids = {s.index for s in state["sentences"] if s.goal}
    answers = state.get("answers", {})
    order = sorted(answers)
    init = [f for i in order if i not in goal_ids for f in answers[i]]
    goal = [f for i in order if i in goal_ids for f in answers[i]]
    vocab, objects = domain_vocabulary(state["domain"]), state["objects"]
    declared = {n for n, _ in objects}

    def of_type(kind: str | None) -> list[str]:
        return [n for n in fitting(vocab, objects, kind or "") if n in declared]

    init = complement(init, learn(state["domain"]).relations, of_type)  # rules no sentence states
    return assemble(vocab, objects, init, goal)


def _fit(state: StepwiseState) -> Callable[[str, int], set[str]]:
    """The declared objects that fit each predicate's place (for the misnamed check)."""
    vocab = domain_vocabulary(state["domain"])
    signatures, objects = dict(vocab.signatures), state["objects"]

    @functools.cache
    def fit(pred: str, place: int) -> set[str]:
        kinds = signatures.get(pred, ())
        return set(fitting(vocab, objects, kinds[place])) if place < len(kinds) else set()

    return fit


def _grounded(sentence: Sentence, facts: list[Fact], declared: set[str]) -> int:
    """How many of the objects the sentence names its facts name."""
    used = {a for f in facts for a in f.args}
    return len(set(words(sentence.text)) & declared & used)


def _restore_goal(state: StepwiseState) -> StepwiseState:
    """The goal as first answered when, asked again because it already held, every goal sentence now
    states nothing (the model did not find another goal, so the text says so); and each goal
    sentence's first answer where the new one names fewer of the objects the sentence names (`ball1
    should be in room1` answered `(at ball1 room2)`: a goal the text does not state)."""
    before, answers = state.get("goal_before") or {}, state.get("answers", {})
    if not before or not any(before.values()):
        return state
    if not any(answers.get(i) for i in before):
        return {**state, "answers": {**answers, **before}}
    declared = {n for n, _ in state["objects"]}
    by_index = {s.index: s for s in state["sentences"]}
    back = {i: f for i, f in before.items()
            if _grounded(by_index[i], answers.get(i, []), declared) < _grounded(by_index[i], f, declared)}
    return {**state, "answers": {**answers, **back}} if back else state


def _regrounded(state: StepwiseState, config: LLMPConfig) -> StepwiseState:
    """With `reground`: each sentence's fact that names an object the sentence does not, in a place
    where the sentence names exactly one unused object that fits, takes that object (pieces.reground),
    each change recorded as a piece; else the state as it is."""
    if not config.reground or not state.get("answers"):
        return state
    fit, sentences = _fit(state), state["sentences"]
    named = named_in(sentences, state["objects"])
    answers, pieces = dict(state["answers"]), [*state.get("pieces", [])]
    for sentence in sentences:
        found = reground(sentence, answers.get(sentence.index, []), named, fit)
        if found is None:
            continue
        answers[sentence.index] = found[0]
        pieces.append(Piece(
            index=sentence.index, text=sentence.text, goal=sentence.goal, round=state.get("round", 1) - 1,
            answer="\n".join(map(str, found[0])), facts=tuple(map(str, found[0])),
            confidence=state.get("confidences", {}).get(sentence.index, 0.0), repairs=(found[1],),
        ))
    return {**state, "answers": answers, "pieces": pieces} if len(pieces) > len(state.get("pieces", [])) else state


def _resolved(state: StepwiseState, runtime: Ctx) -> StepwiseState:
    """With `contradictions="scored"`: each contradiction resolved by the change that costs the
    model's score least (resolve.py), each change recorded as a piece; else the state as it is."""
    config, backend = runtime.context.config, runtime.context.backend
    if config.contradictions != "scored" or not state.get("answers"):
        return state
    by_index = {s.index: s for s in state["sentences"]}
    answers, changes = resolve(
        state["answers"], {s.index for s in state["sentences"] if s.goal},
        state.get("conversations", {}), domain_vocabulary(state["domain"]), state["objects"],
        learn(state["domain"]).functional, backend, {i: s.text for i, s in by_index.items()},
    )
    if not changes:
        return state
    pieces = [*state.get("pieces", [])]
    for change in changes:
        sentence = by_index[change.index]
        pieces.append(Piece(
            index=change.index, text=sentence.text, goal=sentence.goal, round=state.get("round", 1) - 1,
            answer="\n".join(map(str, change.facts)), facts=tuple(map(str, change.facts)),
            confidence=state.get("confidences", {}).get(change.index, 0.0), repairs=(change.note(),),
        ))
    return {**state, "answers": answers, "pieces": pieces}


def check_pieces(state: StepwiseState, runtime: Ctx) -> dict[str, Any]:
    """Assemble and check: a failed check goes back to its sentences while rounds are left; then parse,
    plan and validate, and when no plan is found, sample the least sure sentences again."""
    config = runtime.context.config
    domain, rnd = state["domain"], state.get("round", 1)
    last = rnd > config.retries
    state = _resolved(_regrounded(_restore_goal(state), config), runtime)
    pddl = _assembled(state)
    found = review(
        state["sentences"], state.get("answers", {}), state["objects"], learn(domain).functional,
        max_unused=config.max_unused_objects, goal_checked=state.get("goal_checked", False),
        fit=_fit(state),
    )
    done = {"chain": 0, "round": rnd - 1}
    translations = list(state.get("translations", []))
    if found.status and found.ask and not last:
        translations.append(Translation(**done, pddl=pddl, status=found.status, message=found.message))  # type: ignore[arg-type]
        holds = found.status == "goal_holds"
        goal_ids = {s.index for s in state["sentences"] if s.goal}
        return {
            "translations": translations,
            "pending": dict(found.ask),
            "answers": state.get("answers", {}),
            "pieces": state.get("pieces", []),
            "goal_checked": state.get("goal_checked", False) or holds,
            "goal_before": {i: f for i, f in state.get("answers", {}).items() if i in goal_ids}
            if holds else state.get("goal_before", {}),
        }
    planned = check(state["text"], domain, pddl, config, **done)
    translations.append(replace(planned, warnings=(found.message,) if found.status else ()))
    pending: dict[int, str] = {}
    if planned.status in ("unsolvable", "not_found", "timeout") and not last:
        voted = set(state.get("voted", []))
        pending = {i: "" for i in least_confident(state.get("confidences", {}), voted, REVOTE)}
    return {
        "translations": translations,
        "pending": pending,
        "answers": state.get("answers", {}),
        "pieces": state.get("pieces", []),
        "voted": [*state.get("voted", []), *pending],
    }


def route_check(state: StepwiseState) -> str:
    """The sentences again while some have an error to correct (or a vote to take), else select."""
    return "facts" if state.get("pending") else "select"
