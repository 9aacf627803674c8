"""Networks read in code (network.py), their textbook models (networkmodels.py) and the network step (structure.py)."""

from __future__ import annotations

import itertools

import pytest

from ratiocinator.agents.llmopt import network, networkmodels, structure
from ratiocinator.agents.llmopt.config import LLMOPTConfig
from ratiocinator.agents.llmopt.graph import run
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.solvers.formulation import Formulation
from ratiocinator.solvers.optimization import solve

TOUR = (
    "A courier must visit four depots, labeled Depot A, Depot B, Depot C and Depot D, each exactly once, and come "
    "back to where she started. The cost of driving from Depot A to Depot B is 12 units, to Depot C is 30 units, "
    "and to Depot D is 9 units. From Depot B, it costs 12 units to Depot A, 7 units to Depot C, and 25 units to "
    "Depot D. From Depot C, the costs are 30 units to Depot A, 7 units to Depot B and 6 units to Depot D. Lastly, "
    "from Depot D, it costs 9 units to Depot A, 25 units to Depot B, and 6 units to Depot C. What is the minimum "
    "total cost of her round trip?"
)
FLOW = (
    "Water runs through pipes between 5 pumping stations.\n"
    "- From Station 0 (the source): pipes lead to Station 1 (7), Station 2 (4), and Station 3 (0).\n"
    "- From Station 1: to Station 2 (3), Station 4 (5).\n"
    "- From Station 2: to Station 3 (6), Station 4 (2).\n"
    "- From Station 3: to Station 4 (9).\n"
    "A capacity of 0 means there is no pipe. What is the maximum amount of water that can be sent from "
    "Station 0 to Station 4?"
)
PATH = (
    "Roads join the junctions S and T and the junctions numbered 1 to 3. Junction S is connected to junctions "
    "1 and 2 with lengths of 4 and 1, respectively. Junction 2 is connected to junction 1 with a length of 2 and "
    "to junction 3 with a length of 7. Junction 1 is connected to junction 3 with a length of 1 and to junction "
    "T with a length of 6. Junction 3 is connected to junction T with a length of 1. Find the shortest distance "
    "from S to T."
)
SHIP = (
    "A firm can open any of three warehouses to serve three shops.\n"
    "The fixed cost of opening each warehouse is:\n- Warehouse 1: $500\n- Warehouse 2: $300\n- Warehouse 3: $400\n"
    "The cost per unit shipped is:\n- From Warehouse 1: $2 to Shop 1, $4 to Shop 2, $5 to Shop 3\n"
    "- From Warehouse 2: $3 to Shop 1, $1 to Shop 2, $3 to Shop 3\n"
    "- From Warehouse 3: $4 to Shop 1, $3 to Shop 2, $2 to Shop 3\n"
    "The demand of each shop is:\n- Shop 1: 100 units\n- Shop 2: 80 units\n- Shop 3: 90 units\n"
    "The capacity of each warehouse is:\n- Warehouse 1: 200 units\n- Warehouse 2: 150 units\n"
    "- Warehouse 3: 180 units\n"
    "What is the least total cost of opening warehouses and shipping to meet every shop's demand?"
)

SHARE = (
    "Three towns share water. Here is what each town has and needs:\n- Town A has 50 tons but needs 20 tons.\n"
    "- Town B has 10 tons but needs 40 tons.\n- Town C has 30 tons, yet it requires only 25 tons.\n"
    "Moving water costs, per ton:\n- From Town A: to Town B costs 3, to Town C costs 5.\n"
    "- From Town B: to Town A costs 3, to Town C costs 2.\n- From Town C: to Town A costs 5, to Town B costs 2.\n"
    "What is the minimum cost of moving water so that every town has what it needs?"
)


def optimum(model: dict) -> float:
    result = solve(Formulation.model_validate(model))
    assert result.status == "optimal", result
    return result.objective


def test_places_and_arcs_are_read_from_each_clause():
    net = network.read(TOUR)
    assert net is not None and net.places == ("Depot A", "Depot B", "Depot C", "Depot D")
    cost = net.cost()
    assert cost[("Depot A", "Depot B")] == 12 and cost[("Depot A", "Depot C")] == 30  # "to Depot C is 30 units"
    assert cost[("Depot B", "Depot C")] == 7 and cost[("Depot C", "Depot D")] == 6  # "7 units to Depot C"
    assert len(net.arcs) == 12 and not net.unread


def test_respectively_lists_plural_lists_and_bare_letters():
    net = network.read(PATH)
    assert net is not None
    cost = net.cost()
    assert cost[("Junction S", "Junction 1")] == 4 and cost[("Junction S", "Junction 2")] == 1
    assert cost[("Junction 2", "Junction 3")] == 7 and cost[("Junction 3", "Junction T")] == 1
    assert net.routes[-1] == ("Junction S", "Junction T")  # "from S to T": capital letters the text labels


def test_aliases_in_parentheses_and_bare_labels_after_to():
    aliased = ("Three shops are labeled as X, Y and Z. From Shop X (1), the cost to reach Shop Y (2) is 35 units and "
               "to Z (3) is 90 units. From Shop Y (2), the cost to Shop X (1) is 35 units, to Z (3) is 53 units. "
               "From Shop Z (3), it costs 90 units to reach Shop X (1) and 53 units to get to Y (2).")
    net = network.read(aliased)
    assert net is not None and not net.unread and len(net.arcs) == 6  # "(2)" is Y's other label, no data
    assert net.cost()[("Shop X", "Shop Z")] == 90 and net.cost()[("Shop Z", "Shop Y")] == 53
    bare = ("- From/To Depot 1: To 2 costs 12, to 3 costs 47.\n- From/To Depot 2: To 1 costs 14, to 3 costs 39.\n"
            "- From/To Depot 3: To 1 costs 15, to 2 costs 6.")
    net = network.read(bare)
    assert net is not None and net.cost()[("Depot 1", "Depot 3")] == 47 and net.cost()[("Depot 3", "Depot 2")] == 6
    assert not net.series and not net.unread


def test_a_place_with_one_number_is_listed_under_its_heading():
    net = network.read(SHIP)
    assert net is not None
    headings = {h.split()[1]: dict(v) for h, v in net.series}
    assert headings["fixed"]["Warehouse 2"] == 300 and headings["demand"]["Shop 3"] == 90
    assert net.cost()[("Warehouse 3", "Shop 3")] == 2


def test_few_labels_are_no_network():
    assert network.read("Project 1 returns 5% and Project 2 returns 7%; invest at most $100.") is None
    assert structure.candidates("A farmer grows wheat and corn on 100 acres; wheat earns $3 per acre.") == {}


def test_tour_is_the_cheapest_round_trip():
    net = network.read(TOUR)
    cost = net.symmetric()
    first, *rest = net.places
    best = min(sum(cost[(t[k], t[(k + 1) % 4])] for k in range(4)) for t in ([first, *p] for p in
                                                                              itertools.permutations(rest)))
    assert optimum(networkmodels.tour(net)) == pytest.approx(best) == 34


def test_flow_and_path_and_transport_optima():
    assert optimum(networkmodels.flow(network.read(FLOW), "Station 0", "Station 4")) == pytest.approx(11)
    net = network.read(PATH)
    assert optimum(networkmodels.path(net, "Junction S", "Junction T")) == pytest.approx(5)  # S-2-1-3-T
    # open warehouses 2 and 3: 300 + 400, ship 80 + 70 from 2 (shop 2, shop 1) and 30 + 90 from 3
    shipped = networkmodels.transport(network.read(SHIP))
    assert shipped is not None and optimum(shipped) == pytest.approx(700 + 80 * 1 + 70 * 3 + 30 * 4 + 90 * 2)


def test_stock_and_need_of_every_place_is_a_redistribution():
    net = network.read(SHARE)
    assert net is not None and len(net.series) == 2  # "has 50", and "needs 20" / "requires only 25" alike
    shared = networkmodels.redistribute(net)
    assert shared is not None and networkmodels.transport(net) is None  # every place both sends and receives
    assert optimum(shared) == pytest.approx(5 * 2 + 25 * 3)  # C's surplus of 5 is nearer to B than A's
    assert set(structure.candidates(SHARE)) == {"transport"}


def test_lowercase_places_after_from_and_a_need_stated_after_its_number():
    text = ("Moving a car from location 1 to 2 costs 4 units. Moving a car from location 1 to 3 costs 9 units. Moving "
            "a car from location 2 to 3 costs 3 units. At location 1, there are currently 50 cars present, but 20 "
            "cars are needed. At location 2, there are currently 10 cars present, but 30 cars are needed. At "
            "location 3, there are 40 cars present, but 45 cars are needed. What is the least costly way to move "
            "the cars so that every need is met?")
    net = network.read(text)
    assert net is not None and net.places == ("Location 1", "Location 2", "Location 3")
    assert [h.rsplit("| ", 1)[1] for h, _ in net.series] == ["0", "need"]
    shared = networkmodels.redistribute(net)  # each pair stated once: a move costs the same either way
    assert shared is not None and optimum(shared) == pytest.approx(20 * 4 + 5 * 3 + 5 * 4)  # 1->2 25, 2->3 5


def test_a_matrix_table_of_the_places_gives_the_arcs():
    text = ("A courier visits 4 shops and returns to the first; the (symmetric) distance matrix is:\n\n"
            "|  | 1 | 2 | 3 | 4 |\n| :---: | :---: | :---: | :---: | :---: |\n| 1 | - | 5 | 9 | 4 |\n"
            "| 2 |  | - | 3 | 8 |\n| 3 |  |  | - | 2 |\n\nStart from shop 1 and minimize the distance travelled.")
    net = network.read(text)
    assert net is not None and net.places == ("Shop 1", "Shop 2", "Shop 3", "Shop 4") and len(net.arcs) == 6
    assert set(structure.candidates(text)) == {"tour"}
    assert optimum(networkmodels.tour(net)) == pytest.approx(4 + 2 + 3 + 5)  # 1-4-3-2-1


def test_candidates_follow_the_stated_sense():
    assert set(structure.candidates(FLOW)) == {"flow"}  # "the maximum amount": no path, no tour
    assert set(structure.candidates(TOUR)) == {"tour"}
    assert set(structure.candidates(SHIP)) == {"transport"}
    assert "path" in structure.candidates(PATH)


class Prefers(ScriptedBackend):
    """Scores one answer highest (the scripted backend's own score favours the shortest)."""

    def __init__(self, answer: str):
        super().__init__()
        self.answer = answer

    def score(self, prompt, continuations):
        return [0.0 if c == self.answer else -5.0 for c in continuations]


def test_the_model_decides_the_question_and_other_leaves_the_text_to_the_steps():
    chosen = structure.decide(PATH, Prefers("path"), LLMOPTConfig())
    assert chosen is not None and chosen[0] == "path" and chosen[1].objective == pytest.approx(5)
    assert structure.decide(PATH, Prefers("other"), LLMOPTConfig()) is None


def test_run_solves_a_network_text_with_one_scored_decision():
    result = run(FLOW, backend=Prefers("flow"), config=LLMOPTConfig(samples=1))
    assert result.objective == pytest.approx(11)
    assert result.formulation is not None and result.formulation.name == "flow"
    # the stations' labels (0 to 4) are used as the set's elements, "5 pumping stations" is its size
    assert result.verdict.status == "verified", result.verdict.reason


def test_what_the_review_found_stays_fixed():
    # a diet table is no shipping: the pairs' numbers are amounts, not what a move costs
    diet = ("- Food 1: 2 units of Nutrient 1, 3 units of Nutrient 2, 1 unit of Nutrient 3\n"
            "- Food 2: 1 unit of Nutrient 1, 1 unit of Nutrient 2, 4 units of Nutrient 3\n"
            "- Food 3: 5 units of Nutrient 1, 2 units of Nutrient 2, 2 units of Nutrient 3\n"
            "The minimum daily requirement is:\n- Nutrient 1: 20 units\n- Nutrient 2: 15 units\n- Nutrient 3: 12 units\n"
            "The cost per kilogram is:\n- Food 1: $4\n- Food 2: $3\n- Food 3: $6\nMinimize the total cost.")
    assert structure.candidates(diet) == {}
    # a workers-by-tasks table has numbers on its diagonal: no network of places
    assignment = "| Worker | 1 | 2 | 3 |\n|---|---|---|---|\n| 1 | 9 | 2 | 7 |\n| 2 | 6 | 4 | 3 |\n| 3 | 5 | 8 | 1 |\nMinimize."
    assert network.read(assignment) is None
    assert network.read("|---|---|\n|---|---|\n|---|---|\n") is None  # no crash on a table of separators
    # "at most 20 hours" names no place; a tail repeated in a later clause keeps that clause's arc
    assert network.read("Machine 1 can run at most 20 hours, Machine 2 at most 25 hours, Machine 3 at most 15.") \
        is None or not any(p.startswith("Most") for p in network.read(
            "Machine 1 can run at most 20 hours, Machine 2 at most 25 hours, Machine 3 at most 15.").places)
    pipes = ("The pipe from Station 1 to Station 2 can carry 10 units, the pipe from Station 1 to Station 3 can carry "
             "5 units. The pipe from Station 2 to Station 4 can carry 4 units. The pipe from Station 3 to Station 4 "
             "can carry 5 units. What is the maximum flow from Station 1, via the others, to Station 4?")
    net = network.read(pipes)
    assert net.cost()[("Station 1", "Station 3")] == 5 and net.routes[-1] == ("Station 1", "Station 4")
    assert optimum(networkmodels.flow(net, "Station 1", "Station 4")) == pytest.approx(9)
    # one-way roads stay one-way while the start reaches the end along them
    one_way = ("Roads are one-way. From Town A to Town B is 2 km, from Town B to Town C is 3 km, from Town A to "
               "Town C is 9 km. Find the shortest distance from Town A to Town C.")
    net = network.read(one_way)
    assert optimum(networkmodels.path(net, "Town A", "Town C")) == pytest.approx(5)
