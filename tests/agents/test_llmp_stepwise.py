"""LLM+P's stepwise translation (agents/llmp/stepwise.py and its parts) with scripted backends: sentences and their alignment, the grammars, every check, each node alone, the assembly, the graph."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from ratiocinator.agents.llmp import LLMPConfig, available_domains, load_domain, plan_from_text, vocabulary
from ratiocinator.agents.llmp import stepwise
from ratiocinator.agents.llmp.consistency import (
    contradictions,
    count_errors,
    count_words,
    functional,
    goal_holds,
    unused_objects,
)
from ratiocinator.agents.llmp.example import learn, object_lines
from ratiocinator.agents.llmp.facts import Fact, assemble, problem_facts, read_facts
from ratiocinator.agents.llmp.grammar import bounds, candidate_objects, fact_grammar, objects_grammar
from ratiocinator.agents.llmp.pieces import least_confident, read_objects, review, vote
from ratiocinator.agents.llmp.sentences import Sentence, align, exemplars, split_sentences
from ratiocinator.kit import StaticRuntime, method_context
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.models.types import Completion, TokenLogprob

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "planning"
pytestmark = pytest.mark.skipif(
    not (DATA / "blocksworld").is_dir(), reason="needs shared/data/planning"
)

TEXT = (
    "You have 3 blocks. \nb2 is on top of b3. \nb3 is on top of b1. \nb1 is on the table. \n"
    "b2 is clear. \nYour arm is empty. \nYour goal is to move the blocks. \nb1 should be on top of b2. \n"
)
#: the facts of each sentence of TEXT, as a right answer gives them
RIGHT = {
    "You have 3 blocks.": "none",
    "b2 is on top of b3.": "(on b2 b3)",
    "b3 is on top of b1.": "(on b3 b1)",
    "b1 is on the table.": "(on-table b1)",
    "b2 is clear.": "(clear b2)",
    "Your arm is empty.": "(arm-empty)",
    "Your goal is to move the blocks.": "none",
    "b1 should be on top of b2.": "(on b1 b2)",
}


def _sentence(prompt) -> str:
    """The sentence a stepwise prompt asks about ('objects' for the objects step)."""
    last = prompt[-1].content
    if "Sentence: " not in last:
        return "objects" if "objects" in prompt[0].content else last
    return last.rsplit("Sentence: ", 1)[1]


def scripted(answers: dict[str, str], objects: str = "b1 b2 b3") -> ScriptedBackend:
    """A backend that answers each stepwise prompt from `answers` by its sentence."""

    def reply(prompt, params):
        said = _sentence(prompt)
        return objects if said == "objects" else answers[said]

    return ScriptedBackend(reply)


# ---------------------------------------------------------------- sentences and the example


def test_sentences_split_at_lines_full_stops_and_semicolons_and_the_goal_part_starts_at_goal():
    text = "robot2 is in room3. robot1 is in room2.\ngrid a b\nYour goal is this: x is white; y is black.\n"
    got = split_sentences(text)
    assert [s.text for s in got] == [
        "robot2 is in room3.", "robot1 is in room2.", "grid a b", "Your goal is this: x is white",
        "y is black.",
    ]
    assert [s.goal for s in got] == [False, False, False, True, True]
    assert [s.goal for s in split_sentences("a is red.\nb should be blue.")] == [False, True]


def test_the_examples_facts_are_aligned_with_the_sentences_that_state_them():
    bw = {a.sentence.text: [str(f) for f in a.facts] for a in learn(load_domain("blocksworld")).aligned}
    assert bw["b1 is on top of b4."] == ["(on b1 b4)"] and bw["b4 is on the table."] == ["(on-table b4)"]
    assert bw["Your arm is empty."] == ["(arm-empty)"] and bw["You have 5 blocks."] == []
    assert bw["b4 should be on top of b3."] == ["(on b4 b3)"]
    gr = {a.sentence.text: [str(f) for f in a.facts] for a in learn(load_domain("grippers")).aligned}
    assert gr["The robots' grippers are free."] == [  # by the kinds (robot, gripper) and `free`
        "(free robot1 rgripper1)", "(free robot1 lgripper1)", "(free robot2 rgripper2)", "(free robot2 lgripper2)",
    ]
    assert gr["robot1 is in room2."] == ["(at-robby robot1 room2)"]
    ty = {a.sentence.text: [str(f) for f in a.facts] for a in learn(load_domain("tyreworld")).aligned}
    assert ty["The hubs are on the ground."] == ["(on-ground the-hub1)", "(on-ground the-hub2)"]
    barman = learn(load_domain("barman")).aligned  # `ontable` by the words `on the table`
    assert "(ontable shot1)" in [str(f) for f in barman[1].facts]


def test_exemplars_are_the_most_similar_example_sentences_most_similar_last():
    example = list(learn(load_domain("blocksworld")).aligned)
    chosen = exemplars(Sentence(9, "b1 should be on top of b2.", True), example, 3)
    assert len(chosen) == 3 and chosen[-1].sentence.text == "b4 should be on top of b3."
    chosen = exemplars(Sentence(2, "b3 is on the table.", False), example, 2)
    assert chosen[-1].sentence.text == "b4 is on the table."


def test_facts_are_read_and_assembled_into_a_problem_that_parses_to_the_same_facts():
    from ratiocinator.solvers.pddl_reader import parse_texts

    for name in ("blocksworld", "grippers", "termes", "floortile", "manipulation"):
        domain = load_domain(name)
        gold = (DATA / name / "p02.pddl").read_text() if name != "manipulation" else domain.example_pddl
        from ratiocinator.solvers.pddl_compat import problem_objects

        objects = [(n.lower(), t.lower() if t else None) for n, t in problem_objects(gold)]
        init, goal = problem_facts(gold)
        pddl = assemble(vocabulary(domain), objects, init, goal)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parse_texts(domain.pddl, pddl)
        assert problem_facts(pddl) == (init, goal)
    assert read_facts("(on b1 b2)\n(not (clear b1))\n(= (distance a b) 4)") == [
        Fact("on", ("b1", "b2")), Fact("clear", ("b1",), negated=True), Fact("distance", ("a", "b"), value="4"),
    ]


# ---------------------------------------------------------------- grammars


def test_the_fact_grammar_types_each_argument_and_allows_none():
    from xgrammar.testing import _is_grammar_accept_string as accepts

    vocab = vocabulary(load_domain("grippers"))
    objects = [("robot1", "robot"), ("room1", "room"), ("room2", "room"), ("ball1", "object"), ("lg1", "gripper")]
    g = fact_grammar(vocab, objects, 2)
    assert accepts(g, "none") and accepts(g, "(at-robby robot1 room2)\n(at ball1 room1)")
    assert not accepts(g, "(at-robby room2 robot1)")  # a room is not a robot
    assert not accepts(g, "(at ball1 room9)")  # not declared
    assert not accepts(g, "(at ball1 room1)\n(at ball1 room2)\n(at ball1 room1)")  # at most 2
    assert not accepts(g, "(not (at ball1 room1))")
    assert accepts(fact_grammar(vocab, objects, 2, negation=True), "(not (at ball1 room1))")


def test_every_gold_problems_objects_and_facts_fit_the_stepwise_grammars():
    """The candidates from the text hold every gold object; the objects and fact grammars admit them."""
    from xgrammar.testing import _is_grammar_accept_string as accepts

    from ratiocinator.solvers.pddl_compat import problem_objects

    for domain in available_domains(DATA):
        example, vocab = learn(domain), vocabulary(domain)
        for nl in sorted((DATA / domain.name).glob("p[0-9]*.nl"))[:3]:
            text, gold = nl.read_text(), nl.with_suffix(".pddl").read_text()
            objects = [(n.lower(), t.lower() if t else None) for n, t in problem_objects(gold)]
            g = objects_grammar(list(example.kinds), candidate_objects(text, domain), bounds(text, domain, 2.0).objects)
            assert accepts(g, object_lines(objects, list(example.kinds))), nl
            init, goal = problem_facts(gold)
            numbers = tuple(sorted({f.value for f in init if f.value is not None})) or ("0",)
            facts = fact_grammar(vocab, objects, 1, negation=True, numbers=numbers)
            assert all(accepts(facts, str(f)) for f in init + goal), nl


# ---------------------------------------------------------------- checks


def test_function_like_predicates_are_inferred_from_the_example_only_where_it_shows_them():
    assert learn(load_domain("blocksworld")).functional == {("on", 0), ("on", 1)}
    grippers = learn(load_domain("grippers")).functional
    assert ("at", 1) in grippers  # a ball is in one room: six facts show it
    assert ("at-robby", 1) in grippers  # each robot in one room: the two facts cover both robots
    assert ("at-robby", 0) not in grippers  # one robot per room: two facts, two of four rooms
    assert ("at", 0) not in grippers  # room3 holds two balls
    init = [Fact("on", ("a", "b")), Fact("on", ("c", "d")), Fact("on", ("e", "f"))]
    assert functional(init, {}) == {("on", 0), ("on", 1)}
    assert functional(init[:2], {"a": "x", "c": "x", "z": "x"}) == set()  # two facts, a and c of a, c, z


def test_contradictions_are_two_values_for_one_key():
    rules = {("on", 1)}
    facts = [Fact("on", ("b1", "b2")), Fact("on", ("b1", "b3")), Fact("on", ("b2", "b3")), Fact("on", ("b1", "b2"))]
    assert contradictions(facts, rules) == [(facts[0], facts[1])]
    assert contradictions(facts, {("on", 0)}) == [(facts[1], facts[2])]  # b3 under b1 and b2


def test_no_check_fires_on_a_gold_problem():
    """Soundness on all 99 gold problems: no contradiction, counts as the text says, at most one unused
    object (grippers' unnamed empty room) and the goal holds at the start only where it truly does."""
    from ratiocinator.solvers.pddl_compat import problem_objects

    holds = []
    for domain in available_domains(DATA):
        example = learn(domain)
        for pddl in sorted((DATA / domain.name).glob("p[0-9]*.pddl")):
            text = pddl.with_suffix(".nl").read_text()
            names = [n.lower() for n, _ in problem_objects(pddl.read_text())]
            init, goal = problem_facts(pddl.read_text())
            assert contradictions(init, example.functional) == [], pddl
            assert contradictions(goal, example.functional) == [], pddl
            assert count_errors(text, names, dict(example.count_words)) == [], pddl
            assert len(unused_objects(names, init + goal)) <= 1, pddl
            if goal_holds(init, goal):
                holds.append(f"{domain.name}/{pddl.stem}")
    assert holds == ["blocksworld/p01", "grippers/p01"]  # the two trivial problems


def test_counts_are_read_from_the_example_and_compared_with_the_text():
    example = learn(load_domain("tyreworld"))
    assert dict(example.count_words) == {"the-hub#": "hubs", "nuts#": "nuts"}
    text = "You have a jack, 3 hubs, 3 nuts.\nThe hubs are fastened.\nYour goal is to make 9 nuts."
    assert count_errors(text, ["the-hub1", "the-hub2", "the-hub3", "nuts1"], dict(example.count_words)) == [
        "the text says 3 nuts, but 1 are declared (nuts1)"  # the goal's 9 is not a count of objects
    ]
    assert count_words("You have 2 rooms.\nYour goal: 3 cocktails", {"room1": "room", "room2": "room",
                                                                   "c1": None, "c2": None, "c3": None}) == {"room#": "rooms"}


def test_review_sends_each_failed_check_to_the_sentences_that_caused_it():
    sentences = split_sentences(TEXT)
    objects = [("b1", None), ("b2", None), ("b3", None)]
    rules = learn(load_domain("blocksworld")).functional
    answers = {s.index: read_facts(RIGHT[s.text]) for s in sentences}
    assert review(sentences, answers, objects, rules, max_unused=1, goal_checked=False).status == ""
    wrong = {**answers, 2: read_facts("(on b2 b1)")}  # b3 is on b1, said as b2 on b1
    found = review(sentences, wrong, objects, rules, max_unused=1, goal_checked=False)
    assert found.status == "contradiction" and dict(found.ask).keys() == {1, 2}
    assert "(on b2 b3) and (on b2 b1) cannot both hold" in found.message
    bare = {**answers, 1: [], 2: [], 3: [], 4: []}  # b2, b3 in no fact
    found = review(sentences, {**bare, 7: read_facts("(on b1 b1)")}, objects, rules, max_unused=0, goal_checked=False)
    assert found.status == "incomplete" and {i for i, _ in found.ask} == {1, 2, 4, 7}  # those naming b2, b3
    same = {**answers, 7: read_facts("(on b2 b3)")}  # the goal restates the start
    found = review(sentences, same, objects, rules, max_unused=1, goal_checked=False)
    assert found.status == "goal_holds" and [i for i, _ in found.ask] == [7]
    assert review(sentences, same, objects, rules, max_unused=1, goal_checked=True).status == ""
    found = review(sentences, {**answers, 7: []}, objects, rules, max_unused=1, goal_checked=False)
    assert found.status == "incomplete" and {i for i, _ in found.ask} == {6, 7}


def test_votes_keep_the_majority_of_each_fact():
    a, b, c = Fact("p", ("x",)), Fact("q", ("x",)), Fact("r", ("x",))
    assert vote([[a, b], [a], [a, c], [b, a]]) == [a]  # b in 2 of 4 is no majority
    assert vote([[a, b], [b], [a, b, b]]) == [a, b]
    assert least_confident({0: -0.1, 1: -3.0, 2: -1.0, 3: -5.0}, {3}, 2) == [1, 2]
    assert read_objects("b1 b2 - block\nb2 r1 - robot\n") == [("b1", "block"), ("b2", "block"), ("r1", "robot")]
