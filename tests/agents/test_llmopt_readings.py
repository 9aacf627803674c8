"""Stepwise LLMOPT's reading of the text's numbers in code (readings.py, declarations.py), and the stepwise flow with it, on a scripted model."""

from __future__ import annotations

import json

from ratiocinator.agents.llmopt import LLMOPTConfig
from ratiocinator.agents.llmopt import run as optimize_from_text
from ratiocinator.agents.llmopt.declarations import (
    candidate_declarations,
    explained,
    labels,
    measured,
    names_a_datum,
    pruned,
    stated_domain,
    wordless,
)
from ratiocinator.agents.llmopt.draft import Draft
from ratiocinator.agents.llmopt.readings import limit_options, objective_bodies, read, settled
from ratiocinator.agents.llmopt.table import numbers, sentences
from ratiocinator.models.scripted import ScriptedBackend

WORKSHOP = (
    "A workshop builds desks and shelves. Each desk requires 5 hours of carpentry and 2 litres of varnish, while "
    "each shelf requires 3 hours of carpentry and 1 litre of varnish. The workshop has 120 hours of carpentry and "
    "40 litres of varnish. Each desk earns $70 and each shelf earns $30. At least 4 shelves must be built. How "
    "many of each should it build to maximize profit?"
)


def draft(text: str, *names: str, domain: str = "integer") -> Draft:
    d = Draft(problem=text, table=tuple(numbers(text)), sentences=tuple(sentences(text)))
    return d.with_reply("variables", "\n".join(f"{n}: {domain}" for n in names))


def rows(text: str, *names: str) -> list[str]:
    return sorted(read(draft(text, *names)).rows.values())


def test_a_limit_adds_up_the_rates_of_its_unit_each_times_the_decision_named_before_it() -> None:
    reading = read(draft(WORKSHOP, "desk", "shelf"))
    assert sorted(reading.rows.values()) == ["2*desk + 1*shelf <= 40", "5*desk + 3*shelf <= 120", "shelf >= 4"]
    # 120: "has" states an upper limit; 40 is listed with it ("and"); 4: the decision its words name next
    assert "70*desk + 30*shelf" in reading.columns
    d = draft(WORKSHOP, "desk", "shelf")
    assert all(settled(d, reading, s) for s in range(len(d.sentences)))


def test_rates_of_one_unit_are_told_apart_by_their_words() -> None:
    text = ("Each lamp needs 2 hours in assembly and 1 hour in testing. Each fan needs 3 hours in assembly and 2 "
            "hours in testing. There are 100 hours available in assembly and 50 hours available in testing.")
    assert rows(text, "lamp", "fan") == ["1*lamp + 2*fan <= 50", "2*lamp + 3*fan <= 100"]


def test_the_words_of_what_a_number_measures_do_not_name_the_owner_of_the_next() -> None:
    text = ("A steel-rich alloy needs 15 units of steel and 25 units of copper. A copper-rich alloy needs 20 units "
            "of steel and 14 units of copper. There are 450 units of steel and 390 units of copper available.")
    assert rows(text, "steel_rich", "copper_rich") == [
        "15*steel_rich + 20*copper_rich <= 450", "25*steel_rich + 14*copper_rich <= 390"]


def test_a_direction_comes_from_the_verb_and_travels_along_a_list() -> None:
    text = ("A truck carries 20 boxes and a van carries 8 boxes. The firm needs to ship 300 boxes. A truck uses "
            "30 litres of fuel and a van 10 litres of fuel.")
    assert rows(text, "truck", "van") == ["20*truck + 8*van >= 300"]
    feed = ("The mix must contain a minimum of 30 units of protein and 50 units of fat. Oats contain 10 units of "
            "protein and 8 units of fat per kilogram; barley contains 7 units of protein and 15 units of fat.")
    assert rows(feed, "oats", "barley") == ["10*oats + 7*barley >= 30", "8*oats + 15*barley >= 50"]


def test_a_list_of_limits_joined_by_commas_shares_its_direction() -> None:
    text = ("Coal costs $4 per unit, gas $3 per unit and nuclear power $2 per unit. It can only produce up to 3000 "
            "units from coal, 2000 units from gas, and 1500 units from nuclear power.")
    assert rows(text, "coal", "gas", "nuclear") == ["coal <= 3000", "gas <= 2000", "nuclear <= 1500"]


def test_a_limit_bounds_the_decisions_its_words_name_after_it() -> None:
    text = ("Each vehicle costs 10 units on route x1, 9 on x2, 11 on x3 and 12 on x4. At least 300 vehicles should be "
            "allocated between routes x1 and x3. Moreover, there must be at least 10 vehicles on route x2 due to "
            "demand and no more than 20 vehicles can be assigned to the route x4 due to traffic.")
    assert rows(text, "x1", "x2", "x3", "x4") == ["x1 + x3 >= 300", "x2 >= 10", "x4 <= 20"]


def test_what_the_subject_has_is_a_limit_on_the_one_rate_of_its_unit() -> None:
    text = ("A bakery makes brownies and lemon squares. Each brownie requires 5 units of chocolate mix and 4 units of "
            "fiber. Each lemon square requires 7 units of lemon mix and 6 units of fiber. If the bakery has 2500 "
            "units of chocolate mix and 3300 units of lemon mix, how many of each should be made to minimize the "
            "total amount of fiber needed?")
    # "has": a stock, not a rate of a `bakery`; one rate of chocolate mix is its column; the question's
    # "total" is no total of the decisions
    assert rows(text, "brownie", "lemon") == ["5*brownie <= 2500", "7*lemon <= 3300"]
    assert [n for n, _ in pruned(draft(text, "bakery", "brownie", "lemon")).variables()] == ["brownie", "lemon"]
    assert rows("Each table has 4 legs and each chair has 3 legs. The workshop has 40 legs.", "table", "chair") == [
        "4*table + 3*chair <= 40"]  # "each ... has": a rate


def test_a_limit_whose_clause_names_one_decision_before_it_bounds_that_decision() -> None:
    text = ("Salaries cost 0.3 units of resources and rent 0.2 units. Salaries should not be less than $50,000 and "
            "cannot exceed $80,000 due to contracts.")
    assert rows(text, "salaries", "rent") == ["salaries <= 80000", "salaries >= 50000"]
    listed = ("A firm hires for positions X, Y and Z at $5000, $4000 and $6000 respectively. Position X requires at "
              "least 30 employees, position Y requires at least 20, and position Z requires at least 10.")
    assert rows(listed, "x", "y", "z") == ["x >= 30", "y >= 20", "z >= 10"]
    compared = ("Each employee in departments x1 and x3 earns $5000 and $6000 respectively. The number of employees "
                "in department X1 must be at least 20 more than half the number of employees in department X3.")
    # not `x1 >= 20`: the clause compares with x3 (arithmetic reads it: the decisions count employees)
    assert read(draft(compared, "x1", "x3")).compared == {1: "x1 - 0.5*x3 >= 20"}
    bounds = ("Costs are 4, 3 and 5 for x1, x2 and x3 respectively. Minimize cost (X1, X2, X3 are restricted to "
              "have maximum 300, 500, 30, respectively).")
    assert rows(bounds, "x1", "x2", "x3") == ["x1 <= 300", "x2 <= 500", "x3 <= 30"]


def test_a_comparison_with_a_factor_in_digits_is_read_and_its_factor_is_no_limit() -> None:
    text = ("An almond croissant requires 5 units of butter and a pistachio croissant 3 units of butter. At least 3 "
            "times as many almond croissants should be made as pistachio croissants.")
    reading = read(draft(text, "almond", "pistachio"))
    assert reading.compared == {1: "almond >= 3*pistachio"} and 2 not in reading.rows and reading.explained(2)
    visits = "Each visit costs 5 units for site X1 and 7 for site X2. There can be up to 20 times for site X1."
    assert rows(visits, "x1", "x2") == ["x1 <= 20"]  # "20 times for": a count, not a factor


def test_a_limit_that_counts_no_money_does_not_bound_the_cost_column() -> None:
    text = ("Each unit of resource allocated to services x1 and x2 incurs costs of 0.5 and 0.2 units respectively. "
            "The service x1 requires at least 50 but no more than 150 units.")
    assert rows(text, "x1", "x2") == ["x1 <= 150", "x1 >= 50"]
    budget = "Each unit for x1 and x2 costs 0.5 and 0.2 units respectively. The budget is at most 150 units."
    assert rows(budget, "x1", "x2") == ["0.5*x1 + 0.2*x2 <= 150"]


def test_money_limits_bound_decisions_that_are_the_dollars_invested_not_the_column_of_their_costs() -> None:
    text = ("A trust splits its fund between two funds: fund A and fund B. The total amount invested in both funds cannot exceed "
            "$50,000. At least $5,000 must be placed in fund A. For fund B, the minimum investment required is $8,000. "
            "The fee per unit of return of fund A is $0.01 and of fund B is $0.04. Minimize the total fee.")
    reading = read(draft(text, "a", "b"))
    assert sorted(reading.rows.values()) == ["a + b <= 50000", "a >= 5000", "b >= 8000"] and reading.invested
    assert reading.columns == ("0.01*a + 0.04*b",)
    # the decisions are counted in something else: money limits bound the columns of what they cost
    trucks = ("Each truck costs $40,000 and each van costs $25,000. The total investment cannot exceed $500,000. "
              "Maximize the capacity.")
    assert rows(trucks, "truck", "van") == ["40000*truck + 25000*van <= 500000"]
    shares = ("Each share of stock A costs $20 and each share of stock B costs $30. The man has $6,000 to invest. "
              "How many shares of each should he buy to maximize his dividends?")
    assert rows(shares, "a", "b") == ["20*a + 30*b <= 6000"]
    acres = ("Each acre of corn requires an investment of $50 and each acre of wheat an investment of $70. At most "
             "$9,000 can be invested. Maximize the harvest.")
    assert rows(acres, "corn", "wheat") == ["50*corn + 70*wheat <= 9000"]


def test_a_limit_whose_sentence_gives_the_rates_after_it_bounds_their_column() -> None:
    text = ("Each hut costs $50 and each villa $70. At least 100 units of total housing must be built, where each hut "
            "contributes 5 units towards this requirement, and each villa contributes 10 units.")
    assert rows(text, "hut", "villa") == ["5*hut + 10*villa >= 100"]


def test_a_comparison_after_a_reason_is_read_in_the_order_of_its_own_words() -> None:
    text = ("A tractor carries 40 kg and a car 20 kg. Since tractors are very slow, the number of cars used has to be "
            "at least twice the number of tractors used.")
    assert read(draft(text, "tractor", "car")).compared == {1: "car >= 2*tractor"}


def test_a_subject_that_is_no_label_does_not_take_a_limit_of_something_else() -> None:
    park = ("A scooter can carry 2 people while a rickshaw can carry 3 people. If the park needs to transport at "
            "least 300 visitors, minimize the number of scooters.")
    assert "park >= 300" not in rows(park, "park", "scooter", "rickshaw")  # visitors, not parks
    shampoo = ("One unit of sulfate takes 0.5 minutes while one unit of ginger takes 0.75 minutes. The shampoo must "
               "contain at least 100 units of sulfates and a total of 400 units of both ingredient.")
    assert rows(shampoo, "sulfate", "ginger") == ["sulfate + ginger >= 400", "sulfate >= 100"]  # "a total of"


def test_limits_stated_as_a_minimum_is_and_as_more_than_are_read() -> None:
    assert [n.bound for n in numbers("For asset Z, the minimum investment required is $250.")] == [">="]
    assert [n.bound for n in numbers("The maximum load allowed is 500 kg.")] == ["<="]
    text = ("Each unit costs 2, 3 and 4 for departments X, Y and Z respectively. Department $X$ requires at least 50 "
            "more units of allocation than department $Y$. Project Z, on the other hand, demands a minimum of 40 "
            "units.")
    reading = read(draft(text, "x", "y", "z"))
    assert reading.compared == {1: "x - y >= 50", 2: "z >= 40"}


def test_whole_numbers_rule_out_a_binary_declaration_unless_the_words_say_yes_or_no() -> None:
    text = ("A firm invests in projects X and Y. Project X costs $5 per unit and project Y $7 per unit. At least 10 "
            "units are needed for project X and at least 20 units for project Y. All investments are whole numbers. "
            "Minimize the cost.")

    def reply(prompt, params) -> str:
        last = prompt[-1].content
        return "x: binary\ny: binary" if last.startswith("Problem:") else "minimize 5*x + 7*y" if last.startswith(
            "Objective:") else "none"

    result = optimize_from_text(text, backend=ScriptedBackend(reply), config=LLMOPTConfig())
    assert {v.domain for v in result.formulation.variables} == {"nonnegative_integer"}
    assert result.objective == 190.0  # 5*10 + 7*20, not infeasible as 0/1 decisions


def test_the_subjects_of_sentences_of_data_are_declared_even_when_named_once() -> None:
    text = ("Consider the following table of food: Bread contains 4 grams of protein and costs 3 dollars. Milk "
            "contains 6 grams of protein and costs 4 dollars. Fish contains 20 grams of protein and costs 8 "
            "dollars. At least 40 grams of protein are needed. Find the least costly diet.")
    assert candidate_declarations(draft(text), "continuous")[0] == (
        "bread: continuous\nmilk: continuous\nfish: continuous")


def test_a_rate_for_a_decision_labelled_by_a_number_belongs_to_it() -> None:
    text = ("The costs are $5 for each unit of resource in Project 1 and $7 for each unit in Project 2. At least 10 "
            "units must go to Project 1. Minimize the cost.")
    reading = read(draft(text, "project_1", "project_2"))
    assert reading.columns == ("5*project_1 + 7*project_2",) and sorted(reading.rows.values()) == ["project_1 >= 10"]


def test_a_column_of_a_specific_unit_is_of_that_kind_whatever_words_follow_its_rates() -> None:
    text = ("Beef: for a cost of $5, gives 18 grams of protein and 233 calories. Eggs: 20 grams of protein and 210 "
            "calories at a cost of $2. You need at least 68 grams of protein and 1900 calories. What is the least "
            "amount of money you need to spend?")
    d = draft(text, "beef", "eggs")
    assert sorted(read(d).rows.values()) == ["18*beef + 20*eggs >= 68", "233*beef + 210*eggs >= 1900"]
    assert objective_bodies(d) == (("5*beef + 2*eggs",), True)  # "the least amount of money": the cost column
    minimal = draft(text.replace("What is the least amount of money you need to spend?", "What is the minimal cost?"),
                    "beef", "eggs")
    assert objective_bodies(minimal) == (("5*beef + 2*eggs",), True)


def test_what_a_price_is_paid_per_is_a_candidate_decision() -> None:
    text = ("A clinic staffs doctors, nurses and porters, at costs of $10 per doctor, $20 per nurse and $30 per "
            "porter. At least 10 doctors are needed. At most 100 staff in all.")
    assert candidate_declarations(draft(text), "integer")[0] == "doctor: integer\nnurse: integer\nporter: integer"


def test_a_comparison_after_a_limit_is_no_sum_and_a_total_of_a_specific_unit_is_its_column() -> None:
    text = "Each unit of x1, x2 and x3 costs 3 units of labor. There must be at least 50 more units of x1 than x2."
    assert "x1 + x2 >= 50" not in rows(text, "x1", "x2", "x3")
    wood = "A chair needs 3 units of wood and a table 5 units of wood. The shop has a total of 90 units of wood."
    assert rows(wood, "chair", "table") == ["3*chair + 5*table <= 90"]


def test_letters_of_a_word_written_with_an_ampersand_are_no_labels() -> None:
    text = "A singer holds pop and R&B concerts. Each R&B concert brings 240 people; pop and R&B, X and Y, and X and Y."
    assert labels(draft(text)) == ["x", "y"]


def test_words_of_relations_name_no_decision() -> None:
    assert wordless("not") and wordless("less") and wordless("not_less") and not wordless("teacher")


def test_a_reason_clause_says_nothing_of_what_a_column_adds_up() -> None:
    text = ("Resource points are at most 100 units with respect to 4 times for project X and 5 times for project Y "
            "due to budget limitations. Each unit incurs different costs: project X requires 6 units per resource "
            "while project Y only needs 2 units per resource. Minimize the total cost.")
    # "due to budget" is no word of the first column; "costs:" heads the second one's list: the money
    assert objective_bodies(draft(text, "x", "y")) == (("6*x + 2*y",), True)


def test_cardinal_words_are_rates_shares_and_totals_are_read() -> None:
    text = ("A school sends letters by pigeons or owls. A pigeon carries two letters and needs 3 treats; an owl "
            "carries 5 letters and needs 5 treats. At most 40% of the birds can be owls. The school has 1000 "
            "treats. A total of at least 30 birds must fly. Maximize the number of letters sent.")
    reading = read(draft(text, "pigeon", "owl"))
    assert sorted(reading.rows.values()) == [
        "3*pigeon + 5*owl <= 1000", "owl <= 0.4*(pigeon + owl)", "pigeon + owl >= 30"]
    assert "2*pigeon + 5*owl" in reading.columns


def test_a_comparison_of_two_decisions_is_read_off_its_words() -> None:
    text = ("Each car needs 2 hours and each bike needs 1 hour. There are 40 hours available. The number of cars "
            "must exceed the number of bikes. There can be at most twice as many bikes as cars. The number of "
            "vans cannot exceed the number of cars. Vans must be three times the number of bikes. The number of "
            "bikes should be at least a third of the number of cars. Bikes must be more than cars and vans together.")
    d = draft(text, "car", "bike", "van")
    reading = read(d)
    assert reading.compared == {2: "car >= bike", 3: "bike <= 2*car", 4: "van <= car", 5: "van == 3*bike",
                                6: "bike >= car/3", 7: "bike >= car + van"}  # three named: read as arithmetic
    assert all(settled(d, reading, s) for s in range(len(d.sentences)))


def test_a_name_of_function_or_counting_words_is_no_decision() -> None:
    assert wordless("because") and wordless("units") and wordless("total_number")
    assert wordless("zodiac_pills_cost") and wordless("maximum_profit")  # the objective's words, not a decision
    assert not wordless("boat_trips") and not wordless("units_of_oak")


def test_the_declaration_that_explains_the_numbers_is_preferred_and_data_declared_as_a_decision_is_left_out() -> None:
    assert explained(draft(WORKSHOP, "desk", "shelf")) > explained(draft(WORKSHOP, "hours", "varnish"))
    assert measured(draft(WORKSHOP, "desk", "shelf", "varnish")) == ["desk", "shelf"]


def test_the_objective_may_be_the_one_decision_its_words_name() -> None:
    text = ("A bus takes 40 people and a car 4 people. At least 300 people must travel. At most 30% of the "
            "vehicles can be buses. Minimize the total number of cars used.")
    assert objective_bodies(draft(text, "bus", "car")) == (("car",), True)


def test_the_objective_is_the_column_the_first_telling_word_of_its_phrase_names() -> None:
    text = ("A van moves 10 crates per trip and takes 20 minutes per trip; a cart moves 4 crates per trip and takes "
            "30 minutes per trip. At least 200 crates must be moved. Minimize the total amount of time needed to "
            "move the crates.")
    # "time" names the minutes (a unit of time) before "crates" names the other column
    assert objective_bodies(draft(text, "van", "cart")) == (("20*van + 30*cart",), True)
    money = "Each desk earns $70 and uses 5 hours; each shelf earns $30 and uses 3 hours. Maximize the earnings."
    assert objective_bodies(draft(money, "desk", "shelf")) == (("70*desk + 30*shelf",), True)
    counted = ("A small press prints 80 pages an hour and uses 50 units of heat; a large press prints 150 pages an "
               "hour and uses 70 units of heat. Minimize the total number of machines needed.")
    assert objective_bodies(draft(counted, "small_press", "large_press")) == (("small_press + large_press",), True)
    trips = ("Each plane can transport 10 tires per trip and each truck 6 tires per trip. At least 200 tires must be "
             "moved. How many trips of each should be done to minimize the total number of trips?")
    assert objective_bodies(draft(trips, "plane", "truck")) == (("plane + truck",), True)  # counted per trip
    unsaid = "Each desk uses 5 hours and 2 litres; each shelf uses 3 hours and 1 litre. Maximize output."
    assert objective_bodies(draft(unsaid, "desk", "shelf")) == (("5*desk + 3*shelf", "2*desk + 1*shelf"), False)


class _Recording(ScriptedBackend):
    """Answers the declaration and the objective; scores its own answer highest; records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        super().__init__(self._reply)

    def _reply(self, prompt, params) -> str:
        last = prompt[-1].content
        self.asked.append(last)
        if last.startswith("Problem:"):
            return "desk: integer\nshelf: integer\nvarnish: continuous"
        if last.startswith("Objective:"):
            return "maximize 5*desk + 3*shelf"  # a wrong column; the reading offers the profit
        return "none"

    def score(self, prompt, continuations):
        return [0.0 if "70*desk" in c else -5.0 for c in continuations]


def test_stepwise_with_reading_asks_the_model_only_what_the_words_leave_open() -> None:
    backend = _Recording()
    result = optimize_from_text(WORKSHOP, backend=backend,
                                config=LLMOPTConfig(translation="stepwise", variable_samples=0, objective_samples=0))
    assert not [q for q in backend.asked if q.startswith(("Sentence:", "Number "))]
    attempt = result.attempts[0][-1]
    formulation = json.loads(attempt.formulation)
    assert [v["name"] for v in formulation["variables"]] == ["desk", "shelf"]  # varnish measures nothing
    assert formulation["objective"]["expression"] == "70*desk + 30*shelf"
    # 5d + 3s <= 120, 2d + s <= 40, s >= 4: d = 18, s = 4 gives 70*18 + 30*4 = 1380
    assert attempt.status == "ok" and attempt.objective == 1380


def test_declarations_are_made_from_the_words_before_the_numbers() -> None:
    text = ("Mix A costs $3 per kilogram and contains 10 units of iron. Mix B costs $2 per kilogram and contains 4 "
            "units of iron. The blend needs at least 40 units of iron. Minimize the cost.")
    d = Draft(problem=text, table=tuple(numbers(text)), sentences=tuple(sentences(text)))
    assert candidate_declarations(d, "continuous") == ["mix_a: continuous\nmix_b: continuous"]
    reading = read(d.with_reply("variables", "mix_a: continuous\nmix_b: continuous"))
    assert sorted(reading.rows.values()) == ["10*mix_a + 4*mix_b >= 40"]


def test_a_decision_whose_leaving_out_explains_as_much_is_pruned() -> None:
    text = ("A mill makes oak and pine flooring. It must make a total of at least 600 square feet of flooring. A "
            "square foot of oak flooring earns $4 and a square foot of pine flooring earns $3. At most 400 square "
            "feet of oak can be made.")
    kept = pruned(draft(text, "flooring", "oak", "pine"))
    assert [name for name, _ in kept.variables()] == ["oak", "pine"]


def test_a_limit_the_words_leave_open_is_offered_as_each_relation_it_may_state() -> None:
    text = ("A van carries 6 people and a car carries 3 people. At least 200 voters must be carried. At most 30% "
            "of the vehicles can be vans.")
    d = draft(text, "van", "car")
    assert limit_options(d, read(d), 2) == ["6*van + 3*car >= 200"]  # a column's sum where there is one
    assert limit_options(d, read(d), 0) == []  # a rate, read
    loose = "Vans and cars are sent. At least 20 trips must be made. At most 30% of the vehicles can be vans."
    d = draft(loose, "van", "car")
    assert limit_options(d, read(d), 0) == ["van >= 20", "car >= 20", "van + car >= 20"]
    hires = ("Hiring for department $X$ costs $5000 and for department $Y$ $4000. The company hires exactly 50 new "
             "employees this year.")
    d = draft(hires, "x", "y")  # the only column is money: 50 employees bound a decision or all of them
    assert limit_options(d, read(d), 2) == ["x == 50", "y == 50", "x + y == 50"]


def test_a_share_of_the_whole_names_its_part_after_the_whole() -> None:
    text = ("A van carries 6 people and a car 3 people. At least 25% of the cars must be vans. Vans must make up "
            "at least 40% of all vehicles.")
    reading = read(draft(text, "van", "car"))
    assert list(reading.rows.values()) == ["van >= 0.25*(van + car)"]  # "of all vehicles": no part named


class _Chooser(ScriptedBackend):
    """Declares `voters` (data) and scores the column's sum highest among a limit's options."""

    def __init__(self) -> None:
        super().__init__(lambda prompt, params: {"Problem:": "voters: integer\ncars: integer",
                                                  "Objective:": "minimize van + car"}.get(
            next((k for k in ("Problem:", "Objective:") if prompt[-1].content.startswith(k)), ""), "none"))

    def score(self, prompt, continuations):
        return [0.0 if c.startswith(("6*van", "van: integer", "minimize car")) else -3.0 for c in continuations]


def test_stepwise_with_reading_replaces_a_declaration_that_explains_few_numbers_and_chooses_open_limits() -> None:
    text = ("A van carries 6 people and a car carries 3 people. At least 200 voters must be carried. At most 30% "
            "of the vehicles can be vans. Minimize the number of cars used.")
    result = optimize_from_text(text, backend=_Chooser(),
                                config=LLMOPTConfig(translation="stepwise", variable_samples=0, objective_samples=0))
    formulation = json.loads(result.attempts[0][-1].formulation)
    assert [v["name"] for v in formulation["variables"]] == ["van", "car"]
    assert formulation["objective"]["expression"] == "car"
    assert sorted(c["expression"] for c in formulation["constraints"]) == [
        "6*van + 3*car >= 200", "van <= 0.3*(van + car)"]
    # 6v + 3c >= 200 and 0.7v <= 0.3c, integers: c = 37, v = 15 (201 people)
    assert result.attempts[0][-1].objective == 37


def test_a_limit_in_the_unit_the_decisions_are_counted_in_bounds_their_total() -> None:
    text = ("A farmer has 500 acres of land for wheat and corn. Wheat needs 50 minutes of water per acre and corn "
            "90 minutes of water per acre. The farmer has 40000 minutes of water. How many acres of each should "
            "he plant?")
    assert rows(text, "wheat", "corn") == ["50*wheat + 90*corn <= 40000", "wheat + corn <= 500"]


def test_a_limit_on_what_the_decisions_do_is_not_a_sum_of_them() -> None:
    text = ("A clinic hires doctors and nurses: one doctor treats 2 patients and one nurse treats 3 patients. The "
            "number of patients treated by doctors and nurses must be at least 10. Each doctor costs an investment "
            "of 5 units and each nurse an investment of 3 units. What is the minimum total cost for hiring doctors "
            "and nurses?")
    d = draft(text, "doctor", "nurse")
    reading = read(d)
    assert 1 not in reading.compared  # not `doctor + nurse >= 10`: the model chooses among the columns
    assert limit_options(d, reading, 2) == ["2*doctor + 3*nurse >= 10"]  # not the money: 10 counts no money
    assert objective_bodies(d) == (("5*doctor + 3*nurse",), True)  # "cost" names the money, not one decision


def test_a_declaration_that_names_some_of_the_texts_labels_gives_way_to_the_labels() -> None:
    text = ("A firm funds projects X and Y. Each unit for project X costs $4 and each unit for project Y costs $5. "
            "The combined units of projects X and Y must be at least 20. Twice the units of project X minus those "
            "of project Y cannot exceed 30. Minimize the total cost.")
    backend = ScriptedBackend(lambda prompt, params: "projects: integer\nx: integer"
                              if prompt[-1].content.startswith("Problem:") else "minimize 4*x")
    result = optimize_from_text(text, backend=backend,
                                config=LLMOPTConfig(translation="stepwise", variable_samples=0, objective_samples=0))
    formulation = json.loads(result.attempts[0][-1].formulation)
    assert [v["name"] for v in formulation["variables"]] == ["x", "y"]
    assert sorted(c["expression"] for c in formulation["constraints"]) == ["2*x - y <= 30", "x + y >= 20"]
    assert formulation["objective"]["expression"] == "4*x + 5*y" and result.objective == 84  # x = 16, y = 4


def test_the_words_state_the_domain_where_they_state_one() -> None:
    def domain(text: str) -> str | None:
        return stated_domain(Draft(problem=text, table=(), sentences=tuple(sentences(text))))

    assert domain("How many servings of each should she eat?") == "integer"
    assert domain("How many minutes of each beam should be used?") == "continuous"
    assert domain("How much of each feed should be mixed?") == "continuous"
    assert domain("Allocations must be whole numbers. What is the minimum cost?") == "integer"
    assert domain("Determine the minimum cost of the mixture.") is None


def test_a_rate_whose_words_after_it_name_no_column_takes_the_one_its_words_before_name() -> None:
    text = ("Oats contain 4 grams of protein, 7 grams of fibre and cost 3 dollars. Nuts are high in protein with 20 "
            "grams, contain no fibre and cost 8 dollars. Figs contain 1 gram of protein, are high in fibre with 30 "
            "grams, and cost 2 dollars. A day needs at least 40 grams of protein and 50 grams of fibre. What is the "
            "least cost?")
    assert rows(text, "oats", "nuts", "figs") == ["4*oats + 20*nuts + 1*figs >= 40", "7*oats + 30*figs >= 50"]


def test_a_goal_stated_before_the_rates_is_a_lower_limit_of_its_column() -> None:
    text = ("You aim to consume 60 grams of protein and 2000 calories each day. Oats cost $2 and provide 10 grams of "
            "protein and 300 calories. Eggs cost $3 and provide 12 grams of protein and 150 calories. What is the "
            "least cost?")
    assert rows(text, "oats", "eggs") == ["10*oats + 12*eggs >= 60", "300*oats + 150*eggs >= 2000"]


def test_a_name_that_carries_a_number_of_the_data_is_no_decision() -> None:
    text = "You aim to consume 74 grams of protein. Project 2 and Project 12 return 5% each."
    d = draft(text, "consume_74", "project_2", "project_12", "x1")
    assert names_a_datum("consume_74", d)
    assert not any(names_a_datum(n, d) for n in ("project_2", "project_12", "x1", "rice"))


def test_yes_no_decisions_that_make_the_model_infeasible_are_counted_where_the_words_never_say_yes_or_no() -> None:
    text = ("Oats cost $2 and provide 10 grams of protein. Eggs cost $3 and provide 12 grams of protein. You aim to "
            "consume 60 grams of protein. What is the least cost?")
    backend = ScriptedBackend(lambda prompt, params: "oats: binary\neggs: binary"
                              if prompt[-1].content.startswith("Problem:") else "minimize 2*oats + 3*eggs")
    result = optimize_from_text(text, backend=backend, config=LLMOPTConfig(variable_samples=0, objective_samples=0))
    assert result.attempts[0][0].status == "infeasible"  # 10 + 12 grams at most as 0/1 decisions
    assert {v.domain for v in result.formulation.variables} == {"nonnegative_integer"}
    assert result.objective == 12.0  # six oats
    left = text.replace("What is", "Decide whether to buy each. What is")  # the words say yes/no: no recount
    result = optimize_from_text(left, backend=backend, config=LLMOPTConfig(variable_samples=0, objective_samples=0))
    assert result.objective is None or {v.domain for v in result.formulation.variables} == {"binary"}


def test_identifiers_written_as_such_are_labels_even_named_once() -> None:
    text = ("- Food_1: Costs $4, provides 17 grams of protein.\n- Food_2: Costs $2, provides 4 grams of protein.\n"
            "- Food_3: Costs $6, provides 7 grams of protein.\nYou need at least 76 grams of protein.")
    assert labels(draft(text)) == ["food_1", "food_2", "food_3"]
    assert rows(text, "food_1", "food_2", "food_3") == ["17*food_1 + 4*food_2 + 7*food_3 >= 76"]


FARM = (
    "A farmer needs to decide how many cows, sheep, and chickens to raise in order to maximize profit. The farmer "
    "can sell cows, sheep, and chickens for $500, $200, and $8 respectively. The feed costs for each cow, sheep, "
    "and chicken are $100, $80, and $5 respectively. Profit is the difference between the selling price and the "
    "feed cost. Cows, sheep, and chickens produce 10, 5, and 3 units of manure per day respectively. They can "
    "clean a maximum of 800 units of manure per day. The total number of animals cannot exceed 100."
)


def test_a_list_per_sentence_is_a_column_and_singular_words_name_plural_decisions():
    """Two money lists, one per sentence ("sell ... for $500, $200 and $8"; "the feed costs for each cow, sheep
    and chicken are $100, $80 and $5"): two columns, told apart by their sentences' own words; "each cow" names
    `cows` (a list's later numbers have no words of their own in their clause)."""
    reading = read(draft(FARM, "cows", "sheep", "chickens"))
    assert set(reading.columns) == {"500*cows + 200*sheep + 8*chickens", "100*cows + 80*sheep + 5*chickens",
                                    "10*cows + 5*sheep + 3*chickens"}
    from ratiocinator.agents.llmopt.arithmetic import mentions

    said = mentions("The costs for each table, chair, and bookshelf are", ["tables", "chairs", "bookshelves"])
    assert [m.name for m in said] == ["tables", "chairs", "bookshelves"]
    one = FARM.replace("The feed costs for each cow, sheep, and chicken are $100, $80, and $5 respectively. ", "")
    assert "500*cows + 200*sheep + 8*chickens" in read(draft(one, "cows", "sheep", "chickens")).columns


def test_an_objective_defined_as_one_column_less_another_is_that_difference():
    """"maximize profit" where "Profit is the difference between the selling price and the feed cost": the
    selling column less the feed column, the only candidate; without the definition, both money columns."""
    assert objective_bodies(draft(FARM, "cows", "sheep", "chickens")) == (("400*cows + 120*sheep + 3*chickens",), True)
    plain = FARM.replace("Profit is the difference between the selling price and the feed cost. ", "")
    bodies, decided = objective_bodies(draft(plain, "cows", "sheep", "chickens"))
    assert decided  # "maximize profit": the money columns
    assert "400*cows + 120*sheep + 3*chickens" not in bodies and len(bodies) == 2
    vague = FARM.replace("the selling price and the feed cost", "what comes in and what goes out")
    assert objective_bodies(draft(vague, "cows", "sheep", "chickens"))[0] != ("400*cows + 120*sheep + 3*chickens",)


def test_a_label_number_is_no_rate_and_measures_nothing():
    """"Property 2 has an annual income of $35,000": 2 is the name's label, no rate of property_1 (a column
    "2*property_1 + 3*property_2 + ..." was the objective), and "annual income" are the words of the money
    column the objective names; "2 units for activity x1, 3 units for activity x2": 3 is a rate (the word
    right before it is x1's, not a label's)."""
    text = ("The Li family plans to buy commercial real estate. Property 1 has an annual income of $12,500, Property 2 "
            "has an annual income of $35,000, Property 3 has an annual income of $23,000. Property 1 costs $1.5 "
            "million, Property 2 costs $2.1 million, and Property 3 costs $2.3 million. The budget is $4 million. "
            "Help them decide which properties to purchase to maximize their annual income.")
    names = ("property_1", "property_2", "property_3")
    assert objective_bodies(draft(text, *names, domain="binary")) == (
        ("12500*property_1 + 35000*property_2 + 23000*property_3",), True)
    costs = ("The objective is to minimize the total cost, with costs being 2 units for activity x1, 3 units for "
             "activity x2 and 5 units for activity x3. The combined budget for x1 and x2 cannot exceed 100.")
    assert objective_bodies(draft(costs, "x1", "x2", "x3"))[0] == ("2*x1 + 3*x2 + 5*x3",)
