"""LLM+P stepwise objects grounded in the text (agents/llmp/grounding.py) and a grid's rows as one sentence (sentences.py): sound on every gold problem, and what they correct."""

from __future__ import annotations

from ratiocinator.agents.llmp import available_domains, load_domain
from ratiocinator.agents.llmp.consistency import highest_numbers, stated_highest
from ratiocinator.agents.llmp.example import learn
from ratiocinator.agents.llmp.grounding import ground_objects
from ratiocinator.agents.llmp.sentences import split_sentences
from tests.shared_data import needs, root

DATA = root("planning/termes/p01.pddl") / "planning"
pytestmark = needs("planning/termes/p01.pddl", "planning/<domain>/pNN.pddl (llm-pddl)")


def _ground(domain_name: str, text: str, declared):
    example = learn(load_domain(domain_name, data_dir=DATA))
    numbered = stated_highest(text, {p: (k, low) for p, k, low in example.highest})
    return ground_objects(text, declared, list(example.objects), dict(example.count_words), numbered, example.listed)


def test_grounding_leaves_every_gold_problems_objects_as_they_are():
    from ratiocinator.solvers.pddl_compat import problem_objects

    for domain in available_domains(DATA):
        for pddl in sorted((DATA / domain.name).glob("p[0-9]*.pddl")):
            gold = [(n.lower(), t.lower() if t else None) for n, t in problem_objects(pddl.read_text())]
            got, notes = _ground(domain.name, pddl.with_suffix(".nl").read_text(), gold)
            assert notes == [] and sorted(got) == sorted(gold), pddl


def test_a_kind_numbered_up_to_a_stated_number_follows_the_texts_number():
    example = learn(load_domain("termes", data_dir=DATA))
    assert example.highest == (("n#", "the maximum height of blocks is #", 0),)
    text = (DATA / "termes" / "p01.nl").read_text()  # "The maximum height of blocks is 3."
    copied = [("n0", "numb"), ("n1", "numb"), ("pos-0-0", "position")]
    got, notes = _ground("termes", text, copied)
    assert [n for n, k in got if k == "numb"] == ["n0", "n1", "n2", "n3"]
    assert "n# up to 3 as the text states: n0 n1 n2 n3" in notes
    # only a sentence the example states the highest number in alone, before the goal, counts
    assert highest_numbers("There are 2 levels. \nThe top is 1.", {"l0": "x", "l1": "x"}, {"l#"}) == {}
    assert highest_numbers("The top is 1. \nThe bottom is 1.", {"l0": "x", "l1": "x"}, set()) == {}
    assert highest_numbers("The top is 1.", {"l0": "x", "l1": "x"}, set()) == {"l#": ("the top is #", 0)}


def test_a_word_or_spaced_name_the_text_uses_is_kept():
    got, notes = _ground("floortile", "Each robot can paint in color white or black.", [("white", "color"), ("black", "color"), ("grey", "color")])
    assert [n for n, _ in got] == ["white", "black"] and notes == ["grey dropped: neither the text nor the example names such an object"]


def test_consecutive_lines_of_names_are_one_sentence_and_align_as_one_rule():
    text = "A grid of 2 rows. \npos-0-0 pos-0-1 \npos-1-0 pos-1-1 \nThe robot is at pos-0-0. \nGoal: pos-1-1 pos-0-0"
    got = [s.text for s in split_sentences(text)]
    assert got == ["A grid of 2 rows.", "pos-0-0 pos-0-1\npos-1-0 pos-1-1", "The robot is at pos-0-0.", "Goal: pos-1-1 pos-0-0"]
    example = learn(load_domain("termes", data_dir=DATA))
    grid = next(a for a in example.aligned if a.sentence.text.startswith("pos-0-0"))
    assert len(grid.facts) == 24 and {f.pred for f in grid.facts} == {"neighbor"}
    program, loops = dict(zip(example.aligned, example.programs, strict=True))[grid]
    assert loops and "next_to(a, b)" in program


def test_a_word_joined_to_a_declared_object_by_or_is_an_object_of_its_type():
    from ratiocinator.agents.llmp.grounding import coordinated

    text = (DATA / "floortile" / "p01.nl").read_text()  # "Each robot can paint in color white or black."
    gold_without_black = [("robot1", "robot"), ("robot2", "robot"), ("white", "color")]
    got, notes = _ground("floortile", text, gold_without_black)
    assert ("black", "color") in got and "black declared color: the text names it beside white" in notes
    declared = {"wrench": "tool", "jack": "tool", "boot": "container"}
    assert coordinated("The jack, pump, wrench and intact tyres are in the boot.", declared, {"tyre"}) == {}
    assert coordinated("Take the jack or the pump.", declared, set()) == {}  # `the`: not an object
    assert coordinated("It is in the boot or crate.", declared, set()) == {"crate": ("boot", "container")}


def test_a_domain_that_declares_its_own_object_type_keeps_other_types_out_of_it():
    """grippers' balls are of a type named `object`: a robot must not fit `(at ?o - object ?x - room)`
    (the 1.5B wrote `(at robot3 room3)`, which the grammar allowed and UP rejected)."""
    from ratiocinator.agents.llmp import vocabulary
    from ratiocinator.agents.llmp.grammar import fitting

    grippers = vocabulary(load_domain("grippers", data_dir=DATA))
    objects = [("robot1", "robot"), ("ball1", "object"), ("rgripper1", "gripper")]
    assert fitting(grippers, objects, "object") == ["ball1"]
    barman = vocabulary(load_domain("barman", data_dir=DATA))
    assert fitting(barman, [("shot1", "shot"), ("cocktail1", "cocktail")], "container") == ["shot1"]


def test_a_counted_kind_the_text_names_none_of_is_numbered_as_the_example_numbers_it():
    """tyreworld p02, the 1.5B: `9 intact tyres` declared r1 r2 r3 r5 ... r10; the gold has r1..r9."""
    text = (DATA / "tyreworld" / "p02.nl").read_text()
    declared = [(f"r{i}", "wheel") for i in (1, 2, 3, 5, 6, 7, 8, 9, 10)] + [(f"w{i}", "wheel") for i in range(1, 10)]
    got, notes = _ground("tyreworld", text, declared)
    assert [n for n, _ in got if n.startswith("r")] == [f"r{i}" for i in range(1, 10)]
    assert any(note.startswith("9 intact") for note in notes)


def test_a_name_of_a_kind_the_text_lists_by_name_and_does_not_name_is_dropped():
    """floortile p11 (0.5B): tile_0-5 and tile_0-6 declared beside the 24 tiles the text lists; the
    example's English names every tile, so a tile the text does not name is invented."""
    assert learn(load_domain("floortile", data_dir=DATA)).listed == {"robot#", "tile_#-#"}
    assert learn(load_domain("grippers", data_dir=DATA)).listed == frozenset()  # its rooms are counted
    text = (DATA / "floortile" / "p11.nl").read_text()
    tiles = [(f"tile_{r}-{c}", "tile") for r in range(6) for c in range(1, 5)]
    got, notes = _ground("floortile", text, [*tiles, ("tile_0-5", "tile"), ("tile_0-6", "tile"),
                                             ("robot1", "robot"), ("robot2", "robot"), ("white", "color")])
    assert ("tile_0-5", "tile") not in got and ("tile_0-6", "tile") not in got and set(tiles) <= set(got)
    assert "tile_0-5 dropped: the text lists every such object, and not this one" in notes
