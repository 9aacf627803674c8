"""Contradictions resolved by the model's scores (agents/llmp/resolve.py), alone and in the stepwise check node, with a scripted backend whose scores are given per sentence and answer."""

from __future__ import annotations

from ratiocinator.agents.llmp import LLMPConfig, load_domain, stepwise, vocabulary
from ratiocinator.agents.llmp.example import learn
from ratiocinator.agents.llmp.facts import Fact, read_facts
from ratiocinator.agents.llmp.resolve import resolve, variants
from ratiocinator.kit import StaticRuntime, method_context
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.models.types import Message
from tests.shared_data import needs, root

DATA = root("planning/barman/p01.pddl") / "planning"
pytestmark = needs("planning/barman/p01.pddl", "planning/<domain>/pNN.pddl (llm-pddl)")

BARMAN_OBJECTS = (
    [("shaker1", "shaker"), ("left", "hand"), ("right", "hand")]
    + [(f"ingredient{i}", "ingredient") for i in (1, 2, 3)]
    + [(f"cocktail{i}", "cocktail") for i in (1, 2, 3)]
)


class Scoring(ScriptedBackend):
    """Scores each (sentence, answer) from a table (-20 for an answer it does not list); counts calls."""

    def __init__(self, table: dict[tuple[str, str], float]):
        super().__init__([])
        self.table, self.calls_made = table, 0

    def score(self, prompt, continuations):
        self.calls_made += 1
        sentence = prompt[-1].content
        return [self.table.get((sentence, c), -20.0) for c in continuations]


def _prompt(sentence: str) -> list[Message]:
    return [Message(role="system", content="translate"), Message(role="user", content=sentence)]


def test_variants_change_the_predicate_within_its_signature_or_one_argument_within_its_type():
    vocab = vocabulary(load_domain("barman", data_dir=DATA))
    found = {str(v) for v in variants(Fact("cocktail-part2", ("cocktail2", "ingredient2")), vocab, BARMAN_OBJECTS)}
    assert found == {
        "(cocktail-part1 cocktail2 ingredient2)",
        "(cocktail-part2 cocktail1 ingredient2)", "(cocktail-part2 cocktail3 ingredient2)",
        "(cocktail-part2 cocktail2 ingredient1)", "(cocktail-part2 cocktail2 ingredient3)",
    }
    # the sentence names cocktail2 and ingredient2: only the predicate may change; the text names
    # cocktail1 elsewhere, so it never replaces an argument the sentence leaves open either
    said = {"cocktail2", "ingredient2"}
    assert [str(v) for v in variants(Fact("cocktail-part2", ("cocktail2", "ingredient2")), vocab, BARMAN_OBJECTS,
                                     said, {"cocktail1", "cocktail2", "ingredient2"})] == ["(cocktail-part1 cocktail2 ingredient2)"]


def test_the_sentence_whose_change_costs_least_is_changed():
    """barman p01 as the 0.5B answered it, with the 0.5B's own scores: the first-ingredient sentences move."""
    vocab = vocabulary(load_domain("barman", data_dir=DATA))
    rules = learn(load_domain("barman", data_dir=DATA)).functional
    s = {5: "The first ingredient of cocktail2 is ingredient2.", 6: "The second ingredient of cocktail2 is ingredient3.",
         7: "The first ingredient of cocktail3 is ingredient1.", 8: "The second ingredient of cocktail3 is ingredient2."}
    table = {
        (s[5], "(cocktail-part1 cocktail2 ingredient2)"): -3.392, (s[5], "(cocktail-part2 cocktail2 ingredient2)"): -0.446,
        (s[6], "(cocktail-part1 cocktail2 ingredient3)"): -5.001, (s[6], "(cocktail-part2 cocktail2 ingredient3)"): -0.899,
        (s[7], "(cocktail-part1 cocktail3 ingredient1)"): -1.909, (s[7], "(cocktail-part2 cocktail3 ingredient1)"): -1.783,
        (s[8], "(cocktail-part1 cocktail3 ingredient2)"): -4.75, (s[8], "(cocktail-part2 cocktail3 ingredient2)"): -1.384,
        # the 0.5B's cheapest change of sentence 6 renames cocktail2, which the sentence names: not a variant
        (s[6], "(cocktail-part2 cocktail1 ingredient3)"): -0.9,
    }
    answers = {
        5: read_facts("(cocktail-part2 cocktail2 ingredient2)"), 6: read_facts("(cocktail-part2 cocktail2 ingredient3)"),
        7: read_facts("(cocktail-part2 cocktail3 ingredient1)"), 8: read_facts("(cocktail-part2 cocktail3 ingredient2)"),
        9: read_facts("(contains shot1 cocktail2)"),
    }
    backend = Scoring(table)
    fixed, changes = resolve(answers, {9}, {i: _prompt(t) for i, t in s.items()}, vocab, BARMAN_OBJECTS, rules, backend,
                             {**s, 9: "shot1 contains cocktail2."})
    assert {i: [str(f) for f in fs] for i, fs in fixed.items() if i in s} == {
        5: ["(cocktail-part1 cocktail2 ingredient2)"], 6: ["(cocktail-part2 cocktail2 ingredient3)"],
        7: ["(cocktail-part1 cocktail3 ingredient1)"], 8: ["(cocktail-part2 cocktail3 ingredient2)"],
    }
    assert [c.index for c in changes] == [5, 7] and round(changes[0].loss, 3) == 2.946
    assert "changed to (cocktail-part1 cocktail2 ingredient2)" in changes[0].note()
    assert backend.calls_made == 4  # one call per sentence of each clash
    assert answers[5] == read_facts("(cocktail-part2 cocktail2 ingredient2)")  # the input is left alone


def test_a_clash_without_a_scored_prompt_is_left_for_the_feedback_round():
    vocab = vocabulary(load_domain("barman", data_dir=DATA))
    rules = learn(load_domain("barman", data_dir=DATA)).functional
    answers = {0: read_facts("(cocktail-part2 cocktail2 ingredient2)"), 1: read_facts("(cocktail-part2 cocktail2 ingredient3)")}
    fixed, changes = resolve(answers, set(), {}, vocab, BARMAN_OBJECTS, rules, Scoring({}))
    assert fixed == answers and changes == []


def test_the_check_node_resolves_a_contradiction_by_score_before_asking_again():
    text = "You have 3 blocks. \nb2 is on top of b3. \nb3 is on top of b1. \nb1 is on the table. \nb2 is clear. \n" \
           "Your arm is empty. \nYour goal is to move the blocks. \nb1 should be on top of b2. \n"
    domain = load_domain("blocksworld", data_dir=DATA)
    config = LLMPConfig(translation="stepwise", reground=False)  # reground alone would fix b2 -> b3
    state = stepwise.initial_state(text, domain, config)
    right = ["none", "(on b2 b3)", "(on b3 b1)", "(on-table b1)", "(clear b2)", "(arm-empty)", "none", "(on b1 b2)"]
    answers = {i: read_facts(a) for i, a in enumerate(right)}
    answers[2] = read_facts("(on b2 b1)")  # b3 is on top of b1, misread: b2 on two blocks
    state = {**state, "objects": [("b1", None), ("b2", None), ("b3", None)], "answers": answers, "round": 1,
             "pending": {}, "conversations": {i: _prompt(s.text) for i, s in enumerate(state["sentences"])}}
    table = {("b2 is on top of b3.", "(on b2 b3)"): -0.1, ("b3 is on top of b1.", "(on b2 b1)"): -1.0,
             ("b3 is on top of b1.", "(on b3 b1)"): -1.2}
    out = stepwise.check_pieces(state, StaticRuntime(method_context(Scoring(table), config)))
    assert out["translations"][-1].status == "solved" and out["pending"] == {}
    assert [str(f) for f in out["answers"][2]] == ["(on b3 b1)"]
    (piece,) = [p for p in out["pieces"] if p.index == 2]
    assert piece.facts == ("(on b3 b1)",) and "(on b2 b1) changed to (on b3 b1)" in piece.repairs[0]
    feedback = stepwise.check_pieces(state, StaticRuntime(method_context(
        Scoring(table), LLMPConfig(translation="stepwise", contradictions="feedback", reground=False))))
    assert feedback["translations"][-1].status == "contradiction" and set(feedback["pending"]) == {1, 2}
