"""Two-place predicate properties learned from the one-shot example (agents/llmp/relations.py) and the stepwise facts node completing an init sentence by them."""

from __future__ import annotations

from ratiocinator.agents.llmp import LLMPConfig, available_domains, load_domain, stepwise
from ratiocinator.agents.llmp.example import learn
from ratiocinator.agents.llmp.facts import Fact, problem_facts
from ratiocinator.agents.llmp.relations import Relations, complement, complete, learn_relations
from ratiocinator.kit import StaticRuntime, method_context
from ratiocinator.models.scripted import ScriptedBackend
from tests.shared_data import needs, root

DATA = root("planning/storage/p01.pddl") / "planning"
needs_data = needs("planning/storage/p01.pddl", "planning/<domain>/pNN.pddl (llm-pddl)")


def _f(text: str) -> Fact:
    pred, *args = text.strip("()").split()
    return Fact(pred, tuple(args))


def test_properties_are_learned_only_where_the_example_shows_them_on_enough_facts():
    two_way = [_f("(link a b)"), _f("(link b a)"), _f("(link b c)"), _f("(link c b)")]
    kinds = {"a": "n", "b": "n", "c": "n"}
    learned = learn_relations(two_way, kinds)
    assert learned.symmetric == {"link"} and learned.irreflexive == {"link"}
    one_pair = learn_relations(two_way[:2], kinds)  # one pair is no evidence of symmetry
    assert one_pair.symmetric == frozenset() and one_pair.irreflexive == frozenset()
    with_self = learn_relations([*two_way, _f("(link a a)")], kinds)
    assert with_self.symmetric == {"link"} and with_self.irreflexive == frozenset()
    mirrored = learn_relations([_f("(up a b)"), _f("(up b c)"), _f("(down b a)"), _f("(down c b)")], kinds)
    assert mirrored.converse == (("down", "up"), ("up", "down"))
    # objects of different kinds: (in crate0 depot0) says nothing about (in x x)
    apart = learn_relations([_f("(in c1 d1)"), _f("(in c2 d1)"), _f("(in c3 d2)")],
                            {"c1": "crate", "c2": "crate", "c3": "crate", "d1": "depot", "d2": "depot"})
    assert apart == Relations()


def test_a_fact_is_completed_both_ways_and_a_reflexive_one_dropped_with_notes():
    relations = Relations(frozenset({"link"}), (("down", "up"), ("up", "down")), frozenset({"link"}))
    facts, notes = complete([_f("(link a b)"), _f("(link c c)"), _f("(up a b)"), _f("(on a b)")], relations)
    assert [str(f) for f in facts] == ["(link a b)", "(up a b)", "(on a b)", "(link b a)", "(down b a)"]
    assert notes[0].startswith("(link c c) dropped") and "(link b a) (down b a)" in notes[1]
    same, none = complete([_f("(link a b)"), _f("(link b a)")], relations)
    assert [str(f) for f in same] == ["(link a b)", "(link b a)"] and none == []


@needs_data
def test_the_shared_domains_examples_give_these_properties():
    def rel(name):
        return learn(load_domain(name, data_dir=DATA)).relations

    assert rel("storage").symmetric == {"connected"} and rel("termes").symmetric == {"neighbor"}
    assert set(rel("floortile").converse) == {("up", "down"), ("down", "up"), ("left", "right"), ("right", "left")}
    assert rel("blocksworld").irreflexive == {"on"} and rel("grippers") == Relations()


@needs_data
def test_every_gold_init_is_already_complete_under_its_examples_properties():
    """Soundness: completing a gold problem's :init adds and drops nothing, on all 99 problems."""
    for domain in available_domains(DATA):
        relations = learn(domain).relations
        for pddl in sorted((DATA / domain.name).glob("p[0-9]*.pddl")):
            init, _ = problem_facts(pddl.read_text())
            done, notes = complete(init, relations)
            assert notes == [] and sorted(done) == sorted(init), pddl


def test_a_one_place_predicate_that_is_another_places_complement_is_learned_and_applied():
    tiles = {f"t{i}": "tile" for i in range(5)} | {"r1": "robot", "r2": "robot"}
    init = [_f("(at r1 t0)"), _f("(at r2 t4)"), *(_f(f"(clear t{i})") for i in (1, 2, 3))]
    learned = learn_relations(init, tiles)
    assert learned.complements == (("clear", "tile", "at", 1),)
    assert learn_relations(init[:4], tiles).complements == ()  # two facts are no evidence
    assert learn_relations([*init, _f("(paint t0)")], tiles).complements == (("clear", "tile", "at", 1),)
    mixed = learn_relations([*init, _f("(seen t0)"), _f("(seen t4)")], tiles)  # seen names the same: ambiguous
    assert mixed.complements == ()

    def of_type(kind):
        return [n for n, k in tiles.items() if k == kind] + ["t9"]

    said = [_f("(at r1 t2)"), _f("(clear t2)"), _f("(up t1 t0)")]  # the model's clear contradicts the rule
    done = complement(said, learned, of_type)
    assert {str(f) for f in done if f.pred == "clear"} == {f"(clear {t})" for t in ("t0", "t1", "t3", "t4", "t9")}
    assert complement([_f("(up t1 t0)")], learned, of_type) == [_f("(up t1 t0)")]  # nobody placed: unchanged


@needs_data
def test_floortile_clear_tiles_follow_from_the_robots_on_every_gold_problem():
    """Soundness: the rule gives each gold :init's own `clear` facts (14/14); the example's sentences
    no longer carry them, and the names its :objects leave out (robot2, black) are its objects."""
    domain = load_domain("floortile", data_dir=DATA)
    example = learn(domain)
    assert example.relations.complements == (("clear", "tile", "robot-at", 1),)
    assert {"robot2", "black"} <= {n for n, _ in example.objects}
    assert not any(f.pred == "clear" for a in example.aligned for f in a.facts)
    from ratiocinator.solvers.pddl_compat import problem_objects

    for pddl in sorted((DATA / "floortile").glob("p[0-9]*.pddl")):
        init, _ = problem_facts(pddl.read_text())
        tiles = [n.lower() for n, t in problem_objects(pddl.read_text()) if t == "tile"]
        rest = [f for f in init if f.pred != "clear"]
        assert sorted(complement(rest, example.relations, lambda k, tiles=tiles: tiles)) == sorted(init), pddl


def _sentence(prompt) -> str:
    asked = [m.content for m in prompt if m.role == "user" and "Sentence: " in m.content]
    return asked[-1].rsplit("Sentence: ", 1)[1] if asked else ""


@needs_data
def test_the_facts_node_states_a_symmetric_fact_both_ways_in_init_not_in_the_goal():
    text = (
        "You have 2 depot storeareas, 1 hoists, 1 crates, 1 depot48. \n"
        "Depot storeareas are: depot48-0-0 depot48-0-1 \n"
        "depot48-0-0 and depot48-0-1 are connected. \n"
        "depot48-0-1 and depot48-0-1 are connected. \n"
        "Your goal is to connect depot48-0-0 and depot48-0-1. \n"
    )
    answers = {
        "depot48-0-0 and depot48-0-1 are connected.": "(connected depot48-0-0 depot48-0-1)",
        "depot48-0-1 and depot48-0-1 are connected.": "(connected depot48-0-1 depot48-0-1)",
        "Your goal is to connect depot48-0-0 and depot48-0-1.": "(connected depot48-0-1 depot48-0-0)",
    }

    def reply(prompt, params):
        if prompt[0].content.startswith("You write a short Python program"):
            return "print()"  # prints no fact: the grammar's answer stands
        return answers.get(_sentence(prompt), "none")

    domain = load_domain("storage", data_dir=DATA)
    config = LLMPConfig(translation="stepwise")
    state = stepwise.initial_state(text, domain, config)
    objects = [("depot48-0-0", "storearea"), ("depot48-0-1", "storearea"), ("hoist0", "hoist"),
               ("crate0", "crate"), ("depot48", "depot")]
    state = {**state, "objects": objects, "pending": {s.index: "" for s in state["sentences"]}}
    out = stepwise.facts(state, StaticRuntime(method_context(ScriptedBackend(reply), config)))
    by_text = {s.text: s.index for s in state["sentences"]}
    said = {t: [str(f) for f in out["answers"][i]] for t, i in by_text.items() if t in answers}
    assert said == {
        "depot48-0-0 and depot48-0-1 are connected.":
            ["(connected depot48-0-0 depot48-0-1)", "(connected depot48-0-1 depot48-0-0)"],
        "depot48-0-1 and depot48-0-1 are connected.": [],
        "Your goal is to connect depot48-0-0 and depot48-0-1.": ["(connected depot48-0-1 depot48-0-0)"],
    }
    pieces = {p.text: p for p in out["pieces"]}
    assert "both ways" in pieces["depot48-0-0 and depot48-0-1 are connected."].repairs[0]
    assert "dropped" in pieces["depot48-0-1 and depot48-0-1 are connected."].repairs[0]
    assert pieces["Your goal is to connect depot48-0-0 and depot48-0-1."].repairs == ()
