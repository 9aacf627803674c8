"""LLM+P's stepwise translation, sentences of many facts as programs (agents/llmp/programs.py): the example's loops, the sandbox run, the checks, the node with a scripted backend; and the check of names a sentence does not say (pieces.misnamed)."""

from __future__ import annotations

from ratiocinator.agents.llmp import LLMPConfig, load_domain, stepwise, vocabulary
from ratiocinator.agents.llmp.example import learn
from ratiocinator.agents.llmp.facts import Fact, read_facts
from ratiocinator.agents.llmp.pieces import misnamed, reground, review
from ratiocinator.agents.llmp.programs import (
    object_lists,
    program_errors,
    run_program,
    strip_fence,
)
from ratiocinator.agents.llmp.sentences import Sentence
from ratiocinator.kit import StaticRuntime, method_context
from ratiocinator.models.scripted import ScriptedBackend
from tests.shared_data import needs, root

DATA = root("planning/grippers/p01.pddl") / "planning"
pytestmark = needs("planning/grippers/p01.pddl", "planning/<domain>/pNN.pddl (llm-pddl)")

GRIP = (
    "You control 3 robots, each robot has a left gripper and a right gripper. \n"
    "There are 2 rooms and 1 balls. \nrobot1 is in room1. robot2 is in room2. robot3 is in room1. \n"
    "ball1 is in room1. \nThe robots' grippers are free. \n"
    "Your goal is to transport the balls to their destinations. \nball1 should be in room2. \n"
)
OBJECTS = [("robot1", "robot"), ("robot2", "robot"), ("robot3", "robot"), ("room1", "room"), ("room2", "room"),
           ("ball1", "object")] + [(f"{s}gripper{i}", "gripper") for i in (1, 2, 3) for s in "rl"]
LOOP = "for a in robot:\n    for b in gripper:\n        if same(a, b):\n            fact('free', a, b)"


def _example_program(domain: str, start: str) -> tuple[str, bool]:
    example = learn(load_domain(domain))
    (found,) = [p for a, p in zip(example.aligned, example.programs, strict=True) if a.sentence.text.startswith(start)]
    return found


def test_the_examples_facts_are_written_as_loops_that_print_exactly_them():
    assert _example_program("grippers", "The robots' grippers") == (LOOP, True)
    assert _example_program("tyreworld", "The flat tyres are on")[0] == (
        "for a in wN:\n    for b in hub:\n        if same(a, b):\n            fact('on', a, b)"
    )
    grid, loops = _example_program("storage", "According to the map")
    assert loops and "next_to(a, b)" in grid
    levels, _ = _example_program("barman", "You have 1 shaker")
    assert "offset(a, b) == (1,)" in levels
    # a sentence of one fact, and one with no rule, stay literal
    assert _example_program("grippers", "robot2 is in room3") == ("fact('at-robby', 'robot2', 'room3')", False)
    example = learn(load_domain("storage"))
    for aligned, (program, _) in zip(example.aligned, example.programs, strict=True):
        if program:
            printed, error = run_program(program, object_lists(list(example.objects)))
            assert error == "" and set(printed) == set(aligned.facts), aligned.sentence.text


def test_a_program_runs_in_the_sandbox_over_the_problems_own_lists():
    printed, error = run_program(LOOP, object_lists(OBJECTS))
    assert error == "" and len(printed) == 6 and Fact("free", ("robot3", "lgripper3")) in printed
    _, error = run_program("fact('free', robots[0])", object_lists(OBJECTS))
    assert error.startswith("the program failed: ") and "robots" in error
    assert strip_fence("```python\nfact('x')\n```") == "fact('x')"


def test_a_programs_facts_are_checked_against_the_domain():
    vocab = vocabulary(load_domain("grippers"))
    names = [n for n, _ in OBJECTS]
    assert program_errors(read_facts("(free robot1 rgripper1)"), vocab, names) == ""
    assert "no predicate" in program_errors(read_facts("(grips robot1 rgripper1)"), vocab, names)
    assert "not 2" in program_errors(read_facts("(free robot1)"), vocab, names)
    assert "rgripper4, which is not an object" in program_errors(read_facts("(free robot1 rgripper4)"), vocab, names)


def _program_backend(program: str) -> ScriptedBackend:
    def reply(prompt, params):
        if prompt[0].content.startswith("You write a short Python program"):
            return program
        return "none"

    return ScriptedBackend(reply)


def test_the_facts_node_keeps_a_programs_facts_and_falls_back_when_it_fails():
    domain = load_domain("grippers")
    state = stepwise.initial_state(GRIP, domain, LLMPConfig(translation="stepwise"))
    state = {**state, "objects": OBJECTS, "pending": {s.index: "" for s in state["sentences"]}}
    (free,) = [s.index for s in state["sentences"] if s.text.startswith("The robots' grippers")]
    backend = _program_backend(LOOP)
    runtime = StaticRuntime(method_context(backend, LLMPConfig(translation="stepwise", analogy=False)))
    out = stepwise.facts(state, runtime)
    assert len(out["answers"][free]) == 6
    piece = next(p for p in out["pieces"] if p.index == free)
    assert piece.program == LOOP and piece.program_error == ""
    asked = [c for c in backend.calls if c.prompt[0].content.startswith("You write")]
    assert len(asked) == 1 and "robot = ['robot1', 'robot2', 'robot3']" in asked[0].prompt[-1].content
    # a sentence whose program's facts are kept is not asked for its facts as well
    facts_asked = [c for c in backend.calls if not c.prompt[0].content.startswith("You write")]
    assert all(not c.prompt[-1].content.endswith("The robots' grippers are free.") for c in facts_asked)
    assert out["said"][free].count("(free ") == 6
    out = stepwise.facts(state, StaticRuntime(method_context(_program_backend("fact('free', 'robot1', 'x')"),
                                                             LLMPConfig(translation="stepwise", analogy=False))))
    piece = next(p for p in out["pieces"] if p.index == free)
    assert out["answers"][free] == [] and "x, which is not an object" in piece.program_error


def test_a_fact_naming_an_object_its_sentence_does_not_is_sent_back():
    sentence = Sentence(1, "robot2 is in room1.", False)
    named = {"robot1", "robot2", "room1"}
    assert misnamed(sentence, read_facts("(at-robby robot1 room1)"), named) == "the sentence names robot2, not robot1"
    assert misnamed(sentence, read_facts("(at-robby robot2 room1)"), named) == ""
    # a sentence that names no object of that kind may state facts of any (the grippers are free)
    assert misnamed(Sentence(4, "The robots' grippers are free.", False),
                    read_facts("(free robot1 rgripper1)"), named) == ""
    sentences = [Sentence(0, "robot1 is in room1.", False), sentence, Sentence(2, "Your goal: ball1 should be in room1.", True)]
    answers = {0: read_facts("(at-robby robot1 room1)"), 1: read_facts("(at-robby robot1 room1)"),
               2: read_facts("(at ball1 room1)")}
    found = review(sentences, answers, [(n, None) for n in ("robot1", "robot2", "room1", "ball1")], frozenset(),
                   max_unused=None, goal_checked=True)
    assert found.status == "misnamed" and found.ask == ((1, "the sentence names robot2, not robot1"),)


def test_a_goal_fact_naming_another_object_that_fits_the_place_is_sent_back():
    """barman p13: `shot7 contains ingredient3` answered `(contains shot7 cocktail3)`; an ingredient is
    a beverage as a cocktail is, so the sentence's ingredient3 fits the place cocktail3 took."""
    beverages = {"cocktail3", "ingredient3"}

    def fit(pred, place):
        return beverages if (pred, place) == ("contains", 1) else set()

    goal = Sentence(5, "shot7 contains ingredient3.", True)
    named = {"shot7", "cocktail3", "ingredient3"}
    assert misnamed(goal, read_facts("(contains shot7 cocktail3)"), named) == ""  # other kinds: not without fit
    assert misnamed(goal, read_facts("(contains shot7 cocktail3)"), named, fit) == "the sentence names ingredient3, not cocktail3"
    assert misnamed(goal, read_facts("(contains shot7 ingredient3)"), named, fit) == ""
    sentences = [Sentence(0, "The first ingredient of cocktail3 is ingredient3.", False), goal]
    answers = {0: read_facts("(cocktail-part1 cocktail3 ingredient3)"), 5: read_facts("(contains shot7 cocktail3)")}
    objects = [("shot7", "shot"), ("cocktail3", "cocktail"), ("ingredient3", "ingredient")]
    assert review(sentences, answers, objects, frozenset(), max_unused=None, goal_checked=True).status == ""
    found = review(sentences, answers, objects, frozenset(), max_unused=None, goal_checked=True, fit=fit)
    assert found.status == "misnamed" and found.ask == ((5, "the sentence names ingredient3, not cocktail3"),)


def test_one_implied_fact_between_successive_numbers_is_a_successor_loop():
    from ratiocinator.agents.llmp.programs import synthesize

    succ, loops = _example_program("termes", "The robot is on a grid")  # states (succ n1 n0) unnamed
    assert loops and "offset(a, b) == (-1,)" in succ
    printed, error = run_program(succ, {"numb": ["n0", "n1", "n2", "n3"]})
    assert error == "" and [str(f) for f in printed] == ["(succ n1 n0)", "(succ n2 n1)", "(succ n3 n2)"]
    lists = {"bN": ["b1", "b2", "b3", "b4", "b5"]}
    # a fact the sentence names is a statement; a step other than one is no chain
    assert synthesize((Fact("on", ("b2", "b1")),), {"bN": ["b1", "b2"]}, frozenset({"b2", "b1"})) == ("fact('on', 'b2', 'b1')", False)
    assert synthesize((Fact("on", ("b5", "b1")),), lists) == ("fact('on', 'b5', 'b1')", False)
    assert synthesize((Fact("on", ("b2", "b1")),), lists) == ("fact('on', 'b2', 'b1')", False)  # prints 4 facts


def test_a_misnamed_object_is_replaced_by_the_one_the_sentence_names_in_its_place():
    beverages = {"cocktail3", "ingredient3"}

    def fit(pred, place):
        return beverages if (pred, place) == ("contains", 1) else set()

    goal = Sentence(5, "shot7 contains ingredient3.", True)
    named = {"shot7", "cocktail3", "ingredient3"}
    facts, note = reground(goal, read_facts("(contains shot7 cocktail3)"), named, fit)
    assert [str(f) for f in facts] == ["(contains shot7 ingredient3)"] and "it names ingredient3" in note
    assert reground(goal, read_facts("(contains shot7 ingredient3)"), named, fit) is None
    two = Sentence(1, "robot2 and robot3 are in room1.", False)  # two candidates: the model decides
    assert reground(two, read_facts("(at-robby robot1 room1)"), {"robot1", "robot2", "robot3", "room1"}) is None
    state = stepwise.initial_state("shot1 contains cocktail1. \nYour goal: shot7 contains ingredient3.",
                                   load_domain("barman"), LLMPConfig(translation="stepwise"))
    objects = [("shot1", "shot"), ("shot7", "shot"), ("cocktail1", "cocktail"), ("cocktail3", "cocktail"),
               ("ingredient3", "ingredient")]
    answers = {0: read_facts("(contains shot1 cocktail1)"), 1: read_facts("(contains shot7 cocktail1)")}
    state = {**state, "objects": objects, "answers": answers, "round": 1, "pending": {}}
    out = stepwise.check_pieces(state, StaticRuntime(method_context(ScriptedBackend([]), LLMPConfig(translation="stepwise"))))
    assert [str(f) for f in out["answers"][1]] == ["(contains shot7 ingredient3)"]
    assert any("it names ingredient3" in r for p in out["pieces"] for r in p.repairs)


def test_a_goal_of_one_value_for_all_but_one_object_is_a_loop_with_its_exception():
    goal, loops = _example_program("termes", "Your goal is to build blocks")
    assert loops and "'n1' if a == 'pos-1-1' else 'n0'" in goal and "print('(not (has-block))')" in goal
    mine = goal.replace("'n1'", "'n3'").replace("'pos-1-1'", "'pos-1-2'")  # what a right answer writes
    printed, error = run_program(mine, {"position": ["pos-0-0", "pos-1-2", "pos-3-2"], "numb": ["n0", "n3"]})
    assert error == "" and [str(f) for f in printed] == [
        "(height pos-0-0 n0)", "(height pos-1-2 n3)", "(height pos-3-2 n0)", "(not (has-block))"]


def test_a_rule_whose_constant_is_the_value_the_sentence_states_takes_this_sentences_value():
    """The example's goal `... the height at pos-1-1 is 1.` loops with n1: `... is 3.` names n3 where
    n3 is declared, and is the model's where it is not."""
    from ratiocinator.agents.llmp import vocabulary
    from ratiocinator.agents.llmp.analogy import transfer

    termes = load_domain("termes")
    grid = [(f"pos-{r}-{c}", "position") for r in range(3) for c in range(3)] + [(f"n{i}", "numb") for i in range(4)]
    said = "Your goal is to build blocks so that the height at pos-1-2 is {}."
    three = transfer(Sentence(7, said.format(3), True), learn(termes), grid, vocabulary(termes))
    assert three is not None and Fact("height", ("pos-1-2", "n3")) in three.facts
    assert Fact("height", ("pos-1-1", "n0")) in three.facts and len(three.facts) == 10
    assert transfer(Sentence(7, said.format(4), True), learn(termes), grid, vocabulary(termes)) is None
    same = transfer(Sentence(7, said.format(1), True), learn(termes), grid, vocabulary(termes))
    assert same is not None and Fact("height", ("pos-1-2", "n1")) in same.facts and len(same.facts) == 10
