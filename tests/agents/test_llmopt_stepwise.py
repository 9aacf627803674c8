"""Stepwise LLMOPT (translation="stepwise"), driven by a scripted model: grounding, each piece's check, assembly, repair of the piece at fault."""

from __future__ import annotations

import json

import pytest
import xgrammar.testing

from ratiocinator.agents.llmopt import LLMOPTConfig, build_graph
from ratiocinator.agents.llmopt import run as optimize_from_text
from ratiocinator.agents.llmopt.choose import alternatives, stated_sense
from ratiocinator.agents.llmopt.draft import (
    Draft,
    assemble,
    check_objective,
    check_rows,
    check_variables,
    mend,
    to_ask,
    ungrounded,
    unused,
    unused_numbers,
)
from ratiocinator.agents.llmopt.faults import faults
from ratiocinator.agents.llmopt.result import Attempt
from ratiocinator.agents.llmopt.stepgrammar import (
    constraints_grammar,
    number_grammar,
    objective_grammar,
    variables_grammar,
)
from ratiocinator.agents.llmopt.stepprompts import PREFIX
from ratiocinator.agents.llmopt.table import literals, numbers, sentences, words
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.solvers.formulation import Formulation

PROBLEM = (
    "A shop sells tables and chairs. A table earns $50 and a chair earns $10. A table needs 4 hours of work "
    "and a chair 1 hour. At most 40 hours of work are available. At least 25% of the items must be chairs. "
    "How many of each should it make to maximize profit?"
)
#: the right answer to each question of the problem, by the last user turn's first words
RIGHT = {
    "Problem:": "tables: integer\nchairs: integer",
    "Objective:": "maximize 50*tables + 10*chairs",
    'Sentence: "At most 40': "4*tables + 1*chairs <= 40",
    'Sentence: "At least 25%': "chairs >= 0.25*(tables + chairs)",
}


def draft(**replies: str) -> Draft:
    return Draft(problem=PROBLEM, table=tuple(numbers(PROBLEM)), sentences=tuple(sentences(PROBLEM)), replies=replies)


class _Consistent(ScriptedBackend):
    """A scripted model that scores its own answer to a prompt above every other continuation."""

    def score(self, prompt, continuations):
        own = self._script(prompt, None)
        return [0.0 if c == own else -1.0 - len(c) for c in continuations]


def scripted(answers: dict[str, str]) -> ScriptedBackend:
    def reply(prompt, params) -> str:
        last = prompt[-1].content
        for start, answer in answers.items():
            if last.startswith(start):
                return answer
        return "none"

    return _Consistent(reply)


def stepwise(backend: ScriptedBackend, **config) -> object:
    """The model-only flow (reading=False: the model decides every sentence; test_llmopt_readings covers reading)."""
    config = {"reading": False, **config}
    return optimize_from_text(PROBLEM, backend=backend, config=LLMOPTConfig(translation="stepwise", **config))


def test_the_numbers_of_the_text_are_found_with_their_words() -> None:
    table = numbers(PROBLEM)
    assert [n.value for n in table] == [50, 10, 4, 1, 40, 0.25]
    assert table[4].words.startswith("At most 40 hours") and table[4].sentence == 3
    assert table[5].written == "25%"  # a percentage becomes its fraction
    text = "Make 20,000 units, twice as many of x1 as of y; two machines.\\nA second line."
    assert [n.value for n in numbers(text)] == [20000, 2]  # thousands read, x1 is a name, `two` no parameter
    assert 2.0 in literals(text) and len(sentences(text)) == 2  # an escaped line break ends a sentence
    assert "none" not in words("none of the tables") and "tables" in words("none of the tables")
    stock = numbers("There are 5000 hours available on team A and 60 units of wood available. It uses 3 hours.")
    assert [n.bound for n in stock] == ["<=", "<=", None]  # what is available is an upper limit


def test_the_grammars_admit_only_grounded_pieces() -> None:
    names, lits = ["tables", "chairs"], literals(PROBLEM)
    accept = xgrammar.testing._is_grammar_accept_string
    assert accept(objective_grammar(names, lits), "maximize 50*tables + 10*chairs")
    assert not accept(objective_grammar(names, lits), "maximize 31*tables")  # 31 is not in the text
    assert not accept(objective_grammar(names, lits), "maximize 30*desks")  # not declared
    assert not accept(objective_grammar(names, lits, "maximize"), "minimize 50*tables")  # the text's sense only
    assert accept(objective_grammar(names, lits, "maximize"), "maximize 50*tables")
    rows = constraints_grammar(names, lits, 4)
    assert accept(rows, "none") and accept(rows, "4*tables + chairs <= 40\nchairs >= 0.25*(tables + chairs)")
    assert accept(number_grammar(names, lits, 40), "4*tables + chairs <= 40")
    assert not accept(number_grammar(names, lits, 40), "4*tables + chairs <= 30")  # must use its number
    assert accept(variables_grammar(words(PROBLEM), 4), "tables: integer\nchairs: continuous")
    assert not accept(variables_grammar(words(PROBLEM), 4), "desks: integer")  # a name from the text's words


def test_each_piece_is_checked_right_away() -> None:
    assert check_variables(draft(variables="")) == "No decision variable was declared."
    assert "reserved" in check_variables(draft(variables="sum: integer"))
    assert check_variables(draft(variables="tables: integer")) == ""
    good = draft(variables="tables: integer\nchairs: integer")
    assert "no decision variable" in check_objective(good.with_reply("objective", "maximize 50 + 10"))
    assert check_objective(good.with_reply("objective", "maximize 50*tables")) == ""
    assert "contains no decision variable" in check_rows(good.with_reply("s3", "40 >= 4"), "s3")
    assert check_rows(good.with_reply("s3", "none"), "s3") == ""
    looped = good.with_reply("s3", "20 <= chairs + tables + chairs + tables + chairs + tables")
    assert "names chairs 3 times" in check_rows(looped, "s3")


def test_every_number_must_be_used_and_an_unused_one_is_asked_for_its_constraint() -> None:
    d = draft(variables="tables: integer\nchairs: integer", objective="maximize 50*tables + 10*chairs",
              s3="4*tables + chairs <= 40")
    assert unused(d) == [5]  # 25% (1 need not be written)
    assert list(unused_numbers(d)) == ["n5"] and "25%" in unused_numbers(d)["n5"]
    assert unused(d.with_reply("n5", "chairs >= 0.25*(tables + chairs)")) == []


def test_the_pieces_assemble_into_the_five_element_formulation() -> None:
    d = draft(variables="tables: integer\nchairs: continuous", objective="maximize 50*tables + 10*chairs",
              s3="4*tables + chairs <= 40", n5="chairs >= 0.25*(tables + chairs)")
    f = Formulation.model_validate_json(assemble(d))
    assert [(v.name, v.domain) for v in f.variables] == [("tables", "nonnegative_integer"), ("chairs", "nonnegative")]
    assert [c.name for c in f.constraints] == ["s3_1", "n5_1"]  # labelled by the piece they come from
    assert [p.value for p in f.parameters] == [50, 10, 4, 1, 40, 0.25]  # the table of the text's numbers
    assert [p.name for p in f.parameters][2:5] == ["hours_of_work", "hour", "hours_of_work_2"]  # from its words


def test_the_engines_complaint_goes_back_to_the_piece_at_fault() -> None:
    d = draft(variables="tables: integer\nchairs: integer", objective="maximize 50*tables + 10*chairs",
              s3="4*tables + chairs <= 40", s4="chairs >= 0.25*(tables + chairs)\ntables >= 40")
    infeasible = Attempt(sample=0, round=0, formulation=assemble(d), status="infeasible")
    found = faults(d, infeasible)
    assert sorted(found) == ["s3", "s4"] and "tables >= 40" in found["s4"]  # the rows without which it is feasible
    unbounded = Attempt(sample=0, round=0, formulation="{}", status="unbounded")
    assert list(faults(d, unbounded)) == ["objective"]
    broken = Attempt(sample=0, round=0, formulation="{}", status="build_error",
                     feedback="The formulation cannot be built: constraints['n5_1']: bad")
    assert list(faults(d, broken)) == ["n5"]


def test_a_right_stepwise_translation_is_solved_and_verified() -> None:
    backend = scripted(RIGHT)
    result = stepwise(backend)
    assert result.objective == pytest.approx(490)  # 9 tables, 4 chairs
    assert result.verdict.status in ("verified", "unverified") and result.formulation is not None
    assert all(call.prompt[: len(PREFIX)] == tuple(PREFIX) for call in backend.calls)  # one shared prefix
    assert all(call.params.grammar for call in backend.calls)  # every decision is constrained


def test_a_wrong_sentence_is_asked_again_alone_with_the_engines_complaint() -> None:
    # wrong, and grounded in its sentence (it writes the sentence's 25%), so it reaches the engine
    answers = {**RIGHT, 'Sentence: "At least 25%': "chairs >= 0.25*(tables + chairs)\nchairs <= 0.25*(tables + chairs) - 10"}
    seen: list[str] = []

    def reply(prompt, params) -> str:
        last = prompt[-1].content
        if last.startswith("With `"):  # a repair: the model now writes the right answer of that question
            seen.append(prompt[-3].content)
            last = prompt[-3].content
            return next((a for s, a in RIGHT.items() if last.startswith(s)), "none")
        return next((a for s, a in answers.items() if last.startswith(s)), "none")

    result = stepwise(_Consistent(reply))
    assert [a.status for a in result.attempts[0]] == ["infeasible", "ok"]
    # only the sentence without whose constraints the model is feasible was asked again, nothing else
    assert [q.split('"')[1][:10] for q in seen] == ["At least 2"]
    assert result.objective == pytest.approx(490)


def test_the_stepwise_graph_is_its_own_and_the_default() -> None:
    assert LLMOPTConfig().translation == "stepwise"
    nodes = set(build_graph("stepwise").get_graph().nodes)
    assert {"read", "variables", "objective", "constraints", "solve", "repair"} <= nodes
    assert set(build_graph().get_graph().nodes) == nodes and build_graph("whole") is not build_graph("stepwise")


def test_samples_are_drawn_and_selected_by_agreement() -> None:
    backend = scripted(RIGHT)
    result = stepwise(backend, samples=3)
    assert result.samples == 3 and result.agreement == 3 and result.objective == pytest.approx(490)
    assert json.loads(result.attempts[2][0].formulation)["variables"]


def test_a_number_keeps_the_direction_and_unit_its_words_state() -> None:
    text = ("A boat takes 10 ducks per trip and a canoe 8 ducks per trip. There can be at most 12 boat trips. "
            "At least 300 ducks must be moved. Minimize the trips.")
    d = Draft(problem=text, table=tuple(numbers(text)), sentences=tuple(sentences(text)),
              replies={"variables": "boat: integer\ncanoe: integer", "objective": "minimize boat + canoe"})
    assert [(n.bound, n.unit) for n in d.table] == [(None, "duck"), (None, "duck"), ("<=", "boat"), (">=", "duck")]
    assert "<= 12" in check_rows(d.with_reply("s1", "boat >= 12"), "s1")  # "at most 12": the direction
    assert check_rows(d.with_reply("s1", "boat <= 12"), "s1") == ""
    fault = check_rows(d.with_reply("s2", "boat + canoe >= 300"), "s2")  # 300 ducks: add up ducks
    assert "10" in fault and "8" in fault
    assert check_rows(d.with_reply("s2", "10*boat + 8*canoe >= 300"), "s2") == ""
    mended = mend(d.with_reply("s2", "boat >= 300\n10*boat + 8*canoe <= 300"), "s2")
    assert mended.rows("s2") == ["10*boat + 8*canoe >= 300"]  # turned round, the unit-less one dropped
    assert mend(d.with_reply("s1", "boat >= 12"), "s1").rows("s1") == ["boat <= 12"]


class _Unsure(ScriptedBackend):
    """A scripted model that is unsure (low log-probability) of every answer containing `doubt`."""

    def __init__(self, script, doubt: str) -> None:
        super().__init__(script)
        self.doubt = doubt

    def score(self, prompt, continuations):
        return [-100.0 if self.doubt in c else -1.0 for c in continuations]


def test_an_infeasibility_goes_back_to_the_piece_the_model_is_least_sure_of() -> None:
    answers = {**RIGHT, 'Sentence: "At least 25%': "chairs >= 0.25*(tables + chairs)\nchairs >= 0.25*tables + 41"}
    repaired: list[str] = []

    def reply(prompt, params) -> str:
        if prompt[-1].content.startswith("With `"):
            repaired.append(prompt[-3].content)
            return next((a for s, a in RIGHT.items() if prompt[-3].content.startswith(s)), "none")
        return next((a for s, a in answers.items() if prompt[-1].content.startswith(s)), "none")

    result = stepwise(_Unsure(reply, doubt="+ 41"))
    # both the 40-hour sentence and the 25% sentence conflict; only the one the model doubts is asked again
    assert [q.split('"')[1][:10] for q in repaired] == ["At least 2"]
    assert result.objective == pytest.approx(490)


def test_a_sentence_keeps_only_the_relations_its_own_numbers_ground() -> None:
    question = "What is the most profit it can make?"
    answers = {**RIGHT, f'Sentence: "{question}': "4*tables + 1*chairs <= 40\n2*tables + 2*chairs >= 5*chairs"}
    result = optimize_from_text(f"{PROBLEM} {question}", backend=scripted(answers),
                                config=LLMOPTConfig(translation="stepwise", reading=False))
    rows = [c.expression for c in result.formulation.constraints]
    # the question writes no number: what the model restated from other sentences or made up is dropped
    assert sorted(rows) == ["4*tables + 1*chairs <= 40", "chairs >= 0.25*(tables + chairs)"]
    assert result.objective == pytest.approx(490)
    d = draft(s3="4*tables + 1*chairs <= 40", s4="chairs >= 0.25*(tables + chairs)\ntables <= 40")
    assert ungrounded(d, "s4") == ["tables <= 40"] and ungrounded(d, "s3") == []
    half = Draft(problem="Chairs are at most half the tables.", table=(), sentences=("Chairs are at most half the tables.",),
                 replies={"variables": "tables: integer\nchairs: integer", "s0": "2*chairs <= tables"})
    assert ungrounded(half, "s0") == []  # "half": 2*chairs <= tables is its own
    example = "How many should it make (e.g., you can't make half a chair)?"
    glossed = Draft(problem=example, table=(), sentences=(example,),
                    replies={"variables": "tables: integer\nchairs: integer", "s0": "2*tables + 2*chairs >= 5*chairs"})
    assert ungrounded(glossed, "s0") == ["2*tables + 2*chairs >= 5*chairs"]  # an example's number states no data


def test_a_piece_that_answers_a_check_by_dropping_its_relations_keeps_them() -> None:
    text = "A boat takes 10 crates per trip and a van 8 crates per trip. At least 300 crates must be moved. Minimize trips."
    replies = iter(["boat: integer\nvan: integer", "minimize boat + van", "none", "boat + van >= 300", "none"])
    result = optimize_from_text(text, backend=ScriptedBackend(lambda p, s: next(replies, "none")),
                                config=LLMOPTConfig(translation="stepwise", reading=False, correction_rounds=0,
                                                    objective_choice="greedy"))  # replies in call order
    rows = [c.expression for c in result.formulation.constraints]
    # the unit check's complaint was answered by `none`: the relation was kept, and mended from the rates
    assert rows == ["10*boat + 8*van >= 300"]


def test_a_limit_its_rates_of_the_same_unit_do_not_add_up_is_rewritten_from_them() -> None:
    text = ("A van carries 10 crates per trip while a cart carries 8 crates per trip. "
            "At least 300 crates must be moved. At most 500 units of fuel are available; a van burns 50 units of "
            "fuel per trip and a cart 20 units of fuel per trip. Minimize the trips.")
    d = Draft(problem=text, table=tuple(numbers(text)), sentences=tuple(sentences(text)),
              replies={"variables": "van: integer\ncart: integer", "objective": "minimize van + cart"})
    assert mend(d.with_reply("s1", "van >= 300"), "s1").rows("s1") == ["10*van + 8*cart >= 300"]
    assert mend(d.with_reply("s2", "van + cart >= 500"), "s2").rows("s2") == ["50*van + 20*cart <= 500"]
    assert mend(d.with_reply("s2", "van + cart <= 500"), "s2").rows("s2") == ["50*van + 20*cart <= 500"]
    vague = d.with_reply("variables", "trips: integer")  # no decision is named by the rates' words
    assert mend(vague.with_reply("s1", "trips >= 300"), "s1").rows("s1") == ["trips >= 300"]


def test_a_limit_the_model_leaves_out_is_written_from_its_rates_and_rates_are_not_asked_alone() -> None:
    text = ("A van carries 10 crates per trip while a cart carries 8 crates per trip. "
            "At least 300 crates must be moved. Minimize the trips.")
    d = Draft(problem=text, table=tuple(numbers(text)), sentences=tuple(sentences(text)),
              replies={"variables": "van: integer\ncart: integer", "objective": "minimize van + cart"})
    assert [d.table[k].written for k in to_ask(d)] == ["300"]  # 10 and 8 are rates of the bounded 300
    replies = iter(["van: integer\ncart: integer", "minimize van + cart"])
    result = optimize_from_text(text, backend=ScriptedBackend(lambda p, s: next(replies, "none")),
                                config=LLMOPTConfig(translation="stepwise", reading=False, correction_rounds=0,
                                                    objective_choice="greedy"))  # replies in call order
    assert [c.expression for c in result.formulation.constraints] == ["10*van + 8*cart >= 300"]
    assert result.objective == pytest.approx(30)  # 30 vans (or 300/8 rounded up carts: 38)


def test_the_sense_is_read_off_the_text_only_where_it_states_one() -> None:
    assert stated_sense("How many should it make to maximize profit?") == "maximize"
    assert stated_sense("Find the minimum cost of the mixture.") == "minimize"
    assert stated_sense("Maximize profit; at most 40 hours; at least 4 cakes.") == "maximize"  # at most/least: limits
    assert stated_sense("Minimize cost while the output is at its maximum.") is None
    # a limit's words state no sense; where both are stated, the question's is what is asked
    assert stated_sense("Minimize cost. Each crop has a maximum limit on its area: up to 100 acres.") == "minimize"
    assert stated_sense("The goal is to maximize profit. Each crop costs 5 units per acre. What is the minimum cost "
                        "of planting?") == "minimize"
    assert stated_sense("What is the minimum total resource requirement?") == "minimize"  # asked: the objective
    assert stated_sense("Maximize 3x1 + 2x2 subject to x1 <= 4.") == "maximize"  # the verb is never a limit
    assert stated_sense("How many of each should be made?") is None


def test_the_objectives_alternatives_are_the_drafted_ones_and_the_plain_sum_each_in_the_stated_sense() -> None:
    d = draft(variables="tables: integer\nchairs: integer", objective="maximize 4*tables + 1*chairs")
    options = alternatives(d, ["maximize 4*tables + 1*chairs", "minimize 50*tables + 10*chairs", "maximize 40"],
                           from_text=True)
    # the text says maximize: every alternative keeps it; `40` names no variable and is left out
    assert options == ["maximize 4*tables + 1*chairs", "maximize 50*tables + 10*chairs", "maximize tables + chairs"]
    # a sample that drops a decision the greedy objective names is no alternative (shorter, so likelier)
    assert alternatives(d, ["maximize 4*tables + 1*chairs", "maximize 50*tables"], from_text=True) == [
        "maximize 4*tables + 1*chairs", "maximize tables + chairs"]
    both = alternatives(d, ["maximize 4*tables + 1*chairs"], from_text=False)
    assert both == ["maximize 4*tables + 1*chairs", "minimize 4*tables + 1*chairs",
                    "maximize tables + chairs", "minimize tables + chairs"]


class _Prefers(ScriptedBackend):
    """A scripted model that writes one thing and, shown whole alternatives, scores `liked` highest."""

    def __init__(self, script, liked: str) -> None:
        super().__init__(script)
        self.liked = liked
        self.scored: list[list[str]] = []

    def score(self, prompt, continuations):
        self.scored.append(list(continuations))
        return [0.0 if c == self.liked else -5.0 for c in continuations]


@pytest.mark.parametrize(("choice", "objective"), [("scored", 490.0), ("greedy", 40.0)])
def test_the_objective_is_chosen_by_score_among_alternatives_not_as_greedily_written(choice: str,
                                                                                    objective: float) -> None:
    # greedy decoding writes the hours as the objective, a sample writes the profit; shown the
    # alternatives, the model prefers the profit
    greedy = scripted({**RIGHT, "Objective:": "maximize 4*tables + 1*chairs"})._script

    def script(prompt, params):
        if prompt[-1].content == "Objective:" and params.temperature > 0:
            return "maximize 50*tables + 10*chairs"
        return greedy(prompt, params)

    backend = _Prefers(script, liked="maximize 50*tables + 10*chairs")
    result = stepwise(backend, objective_choice=choice)
    assert result.objective == pytest.approx(objective)
    assert bool(backend.scored) == (choice == "scored")
    if choice == "scored":
        assert "maximize tables + chairs" in backend.scored[0] and "minimize" not in " ".join(backend.scored[0])
