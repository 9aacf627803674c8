"""Stepwise ODE translation: constants fitted to conditions (fit.py), the decisions' grammars, assembly, the vote, the graph."""

from __future__ import annotations

import math

import pytest
import xgrammar as xg

from ratiocinator.agents.llmopt.table import sentences
from ratiocinator.agents.ode import ODEConfig, run
from ratiocinator.agents.ode import stepprompts as p
from ratiocinator.agents.ode.fit import fitted_value
from ratiocinator.agents.ode.result import ODEAttempt
from ratiocinator.agents.ode.solve import solve_ode
from ratiocinator.agents.ode.spec import FittedSpec, ODEError
from ratiocinator.agents.ode.stepwise import assemble, clean, question, vote
from ratiocinator.models.scripted import ScriptedBackend

COOLING = FittedSpec(functions=["T"], variable="t", equations=["T' = -k*(T - 7)"],
                     initial_conditions=["T(0) = 42", "T(11) = 31.079"], quantity="T", at=20, parameters=["k"])


def test_a_rate_constant_stated_only_by_an_observation_is_fitted() -> None:
    # Mamo ODE 136 (Newton's law of cooling): 24.732
    assert fitted_value(COOLING) == (pytest.approx(24.7313, abs=1e-3), False)  # k by Newton: not exact
    heating = COOLING.model_copy(update={"equations": ["T' = k*(T - 37)"],
                                         "initial_conditions": ["T(0) = -4", "T(13) = 28.714"], "at": 17})
    assert fitted_value(heating)[0] == pytest.approx(31.934, abs=1e-3)  # k < 0: found from a negative start
    logistic = FittedSpec(functions=["x"], variable="t", equations=["x' = k*x*(1000 - x)"],
                          initial_conditions=["x(0) = 1", "x(4) = 50"], quantity="x", at=6, parameters=["k"])
    assert fitted_value(logistic)[0] == pytest.approx(276.2, abs=0.1)  # Mamo ODE 274: 276
    torricelli = FittedSpec(functions=["H"], variable="t", equations=["H' = -k*sqrt(H)"],
                            initial_conditions=["H(0) = 16", "H(1) = 9"], quantity="H", at=2, parameters=["k"])
    assert fitted_value(torricelli)[0] == pytest.approx(4.0)  # the false root C1 = 8, k = 14 fails the ODE
    observed = COOLING.model_copy(update={"initial_conditions": [*COOLING.initial_conditions, "T(20) = 24.731"]})
    assert fitted_value(observed)[0] == pytest.approx(24.7313, abs=1e-3)  # a third, rounded observation agrees
    assert solve_ode(COOLING, ODEConfig(dsolve_timeout=30)) == (pytest.approx(24.7313, abs=1e-3), "fitted")


def test_conditions_at_any_point_the_limit_and_what_is_refused() -> None:
    second = FittedSpec(functions=["y"], variable="t", equations=["y'' + 4*y = 0"],
                        initial_conditions=["y(0) = 1", "y'(0) = 0"], quantity="y", at=1)
    assert fitted_value(second) == (pytest.approx(math.cos(2)), True)
    drug = FittedSpec(functions=["A"], variable="t", equations=["A' = 5*100 - 0.4*A"],
                      initial_conditions=["A(0) = 0"], quantity="A", at=math.inf)
    assert fitted_value(drug) == (pytest.approx(1250.0), True)  # Mamo ODE 248: "after a long time"
    assert '"at":Infinity' in drug.model_dump_json()
    assert FittedSpec.model_validate_json(drug.model_dump_json()).at == math.inf
    with pytest.raises(ODEError, match=r"2 unknown constants \(C1, k\) need as many conditions; .* gave 1"):
        fitted_value(COOLING.model_copy(update={"initial_conditions": ["T(0) = 42"]}))
    with pytest.raises(ODEError, match="contradict"):
        fitted_value(FittedSpec(functions=["y"], variable="t", equations=["y' = 2*y"],
                                initial_conditions=["y(0) = 1", "y(1) = 3"], quantity="y", at=1))
    with pytest.raises(ODEError, match="'open': unknown constants must be plain identifiers"):
        fitted_value(COOLING.model_copy(update={"parameters": ["open"]}))
    with pytest.raises(ODEError, match="'T' is also the variable or a function"):
        fitted_value(COOLING.model_copy(update={"parameters": ["T"]}))
    with pytest.raises(ODEError, match=r"the equation still depends on \['V'\]"):
        fitted_value(COOLING.model_copy(update={"equations": ["T' = -k*(T - V)"]}))
    implicit = FittedSpec(functions=["y"], variable="t", equations=["y' = t/(y + exp(y))"],
                          initial_conditions=["y(0) = 0"], quantity="y", at=1)
    with pytest.raises(ODEError, match="implicit solution"):
        fitted_value(implicit)
    assert solve_ode(implicit, ODEConfig(dsolve_timeout=30)) == (pytest.approx(0.3610, abs=1e-3), "numeric")


def test_every_grammar_compiles_and_admits_only_the_problems_numbers() -> None:
    lits = [0.0, 1.0, 42.0, 7.0, 0.5]
    for grammar in (p.unknown_grammar(), p.terms_grammar("T", lits), p.condition_grammar("T", lits),
                    p.asked_grammar("T", lits, [20.0]), p.terms_grammar("T", lits, allow_none=False),
                    p.form_grammar(), p.parameter_grammar(lits)):
        xg.Grammar.from_ebnf(grammar)
    assert '"T"' not in p.parameter_grammar(lits) and '"k"' in p.parameter_grammar(lits)  # the form places T
    terms = p.terms_grammar("T", lits)
    assert '"42"' in terms and '"k"' in terms and '"8"' not in terms  # no number of the examples
    asked = p.asked_grammar("T", lits, [20.0])
    assert '"60"' in asked and '"20"' in asked  # a time of the question, which may convert hours to minutes
    assert 'root ::= expr' in p.terms_grammar("T", lits, allow_none=False)


def test_the_shared_prefix_holds_the_examples_and_each_decision_one_question() -> None:
    prefix = p.prefix("A pot at 42 C cools in a room at 7 C. What is its temperature after 20 minutes?", "T: heat")
    assert prefix[0].role == "system" and prefix[-1].content == "T: heat"
    assert "Numbers:\n1. 42 in" in prefix[-2].content and prefix[-2].content.endswith("Unknown:")
    assert p.prefix("other problem")[:-1] == prefix[:-2]  # the same prefix for every problem
    assert sum(m.content == "k*P - 30" for m in prefix) == 2  # the whole rate, and its sentence's term


def test_candidates_are_assembled_from_the_decisions() -> None:
    spec = assemble("T", ["none", "-k*(T - 7)", "-k*(T - 7)"], ["T(0) = 42", "none", "T(11) = 31.079",
                                                                 "T(0) = 40"], "T at t = 1/3*60")
    assert spec.equations == ["T' = (-k*(T - 7))"] and spec.parameters == ["k"]
    assert spec.initial_conditions == ["T(0) = 42", "T(11) = 31.079"] and spec.at == pytest.approx(20)
    assert assemble("S", ["2 - S/100"], ["S(0) = 0"], "S/100 at t = infinity").at == math.inf
    with pytest.raises(ODEError, match="no sentence adds"):
        assemble("T", ["none"], [], "T at t = 5")
    with pytest.raises(ODEError, match="not 'expression at t = time'"):
        assemble("T", ["T"], [], "T")
    for cut in ("T at t = 20*", "T at t = 20/0"):  # a draft cut off, or dividing by 0: an error, not a crash
        with pytest.raises(ODEError, match="is not a number"):
            assemble("T", ["T"], [], cut)
    same = assemble("T", ["T"], ["T(0) = 42", "T(0*60) = 40", "T(1/0) = 3"], "T at t = 5")
    assert same.initial_conditions == ["T(0) = 42", "T(1/0) = 3"]  # 0 and 0*60 are one time
    with pytest.raises(ODEError, match="at most 8"):
        assemble("T", ["T"], [f"T({n}) = 1" for n in range(9)], "T at t = 5")


def test_the_vote_prefers_the_value_most_drafts_reach_then_the_earliest() -> None:
    a = [ODEAttempt(round=0, spec="", value=1.0), ODEAttempt(round=1, spec="", error="x"),
         ODEAttempt(round=2, spec="", value=2.0), ODEAttempt(round=3, spec="", value=2.00001)]
    assert vote(a) == (2, 2)
    assert vote(a[:2]) == (0, 1) and vote([a[1]]) == (0, 0)


def test_the_question_sentence_and_latex_delimiters() -> None:
    text = r"A tank holds \(1000\) L. How much salt is left after \(20\) minutes? Give three figures."
    assert clean(text) == "A tank holds 1000 L. How much salt is left after 20 minutes? Give three figures."
    assert question(sentences(clean(text))) == 1
    assert question(sentences("A bar cools. So, calculate its temperature after 5 hours. Keep two digits.")) == 1
    assert question(["A bar cools."]) == 0


def test_the_stepwise_agent_votes_over_its_drafts() -> None:
    problem = ("A pot is initially at 42 C in a room at 7 C. After 11 minutes it is at 31.079 C. Find its "
               "temperature after 20 minutes.")
    # the unknown; the greedy terms of the 3 sentences, then 2 sampled ones each; the conditions are read in
    # code (T(0) = 42, T(11) = 31.079); what is asked, greedy then sampled
    script = ["T: the temperature of the pot",
              "-k*(T - 7)", "none", "none",
              "-k*(T - 7)", "T", "none", "none", "none", "none",  # draw 2: T' = T, which T(11) contradicts
              "T at t = 20", "T at t = 20", "T at t = 11"]
    backend = ScriptedBackend(script)
    cfg = ODEConfig(translation="stepwise", rate="sentences", samples=2, dsolve_timeout=30)
    result = run(problem, backend=backend, config=cfg)
    assert result.value == pytest.approx(24.7313, abs=1e-3) and result.method == "fitted"
    assert len(result.attempts) == 3 and result.verdict.status == "unverified"
    assert "2 of 3 stepwise drafts reach this value" in result.verdict.reason
    assert result.spec is not None and result.spec.parameters == ["k"]  # type: ignore[attr-defined]
    assert all(c.params.grammar for c in backend.calls) and backend.calls[1].params.temperature == 0
    assert [c.params.n for c in backend.calls[1:7]] == [1, 1, 1, 2, 2, 2] and backend.calls[4].params.seed == 1
    assert len(backend.calls) == 13  # one per completion: unknown, 3 + 6 terms, 1 + 2 asked; none about a number
    assert "T(0) = 42" in result.attempts[0].spec and "T(11) = 31.079" in result.attempts[0].spec


def test_the_rate_as_a_form_and_its_parameters() -> None:
    problem = ("A pot is initially at 42 C in a room at 7 C. After 11 minutes it is at 31.079 C. Find its "
               "temperature after 20 minutes.")
    script = ["T: the temperature of the pot",
              "toward a level", "toward a level", "other",  # the form: greedy, then 2 sampled
              "k", "7", "0.5", "k", "42", "7",  # its r and L greedy, then 2 sampled each (draw 1: r 0.5, L 42)
              "-k*T", "T", "T",  # "other" (draw 2 only): the whole rate, greedy then 2 sampled
              "T at t = 20", "T at t = 20", "T at t = 20"]
    backend = ScriptedBackend(script)
    cfg = ODEConfig(translation="stepwise", rate="forms", samples=2, dsolve_timeout=30)
    result = run(problem, backend=backend, config=cfg)
    assert result.value == pytest.approx(24.7313, abs=1e-3) and result.method == "fitted"  # T' = k*(7 - T)
    assert result.spec is not None and result.spec.equations == ["T' = ((k)*((7) - T))"]
    assert [a.value is None for a in result.attempts] == [False, True, True]  # T' = 0.5*(42 - T) and T' = T
    assert "T(11)" in result.attempts[1].error or "condition" in result.attempts[1].error  # contradicted
    assert backend.calls[1].params.grammar == p.form_grammar()
    assert backend.calls[1].prompt[-1].content.startswith("Forms of the rate of change T':")
    r_turn = backend.calls[4].prompt
    assert [m.content for m in r_turn[-3:-1]] == [p.form_turn("T"), "toward a level"]
    assert r_turn[-1].content == "In T' = r*(L - T), r (the rate per unit of time at which the gap closes):"
    assert '"k"' in backend.calls[4].params.grammar  # two conditions: k can be fitted
    assert len(backend.calls) == 16  # one per completion: unknown, 3 forms, 2 + 4 parameters, 3 other, 3 asked
    # the forms' prefix shows every form once, each parameter filled from its example's own numbers
    turns = [m.content for m in p.prefix("x", forms=True)]
    assert {"toward a level", "growth limited by a capacity", "in proportion plus a fixed amount"} <= set(turns)
    assert p.prefix("x")[:3] == p.prefix("x", forms=True)[:3] and p.prefix("x") != p.prefix("x", forms=True)[:-1]


def test_the_whole_rate_is_one_decision_and_the_conditions_come_from_the_words() -> None:
    problem = ("A tank initially contains 1000 L of brine, which has 15 kg of dissolved salt. Pure water flows in at 10 "
               "L/min, and the mixed solution flows out at 10 L/min. How much salt is left after 20 minutes?")
    backend = ScriptedBackend(["S: the salt in the tank in kg", "-10*S/1000", "S at t = 20"])
    result = run(problem, backend=backend, config=ODEConfig(translation="stepwise", samples=0, dsolve_timeout=30))
    assert result.value == pytest.approx(15 * math.exp(-0.2)) and result.method == "dsolve"  # Mamo ODE 9: 12.3
    assert result.spec is not None and result.spec.initial_conditions == ["S(0) = 15"]  # kg, as the unknown says
    assert "none" not in backend.calls[1].params.grammar.split("\n")[0]  # the rate: no `none`
    assert '"k"' not in backend.calls[1].params.grammar  # one condition (S(0)): no constant could be fitted
    assert backend.calls[1].prompt[-1].content == "The rate of change S' of S, as terms with + or -:"


def test_conditions_are_read_from_time_phrases_and_never_from_rates_or_shares() -> None:
    from ratiocinator.agents.ode.times import conditions

    def read(text: str, unknown: str) -> list[str]:
        said = sentences(text)
        return conditions(text, unknown[0], unknown, question(said))

    assert read("At t = 0, the tank contains 50 kg of salt. How much salt is left after 10 minutes?",
                "S: the salt in kg") == ["S(0) = 50"]  # "at t = 0" names one time, not two
    assert read("Initially, water with 3 kg/L of salt flows in at 5 L/min. How much salt after 5 minutes?",
                "S: the salt in kg") == []  # rates are not values
    assert read("After 2 years the town has 10% more people. What is the population after 5 years?",
                "P: the people") == []  # a share states a change
    assert read("A pot is initially at 42 C in a room at 7 C. After 11 minutes it is at 31.079 C. Find its "
                "temperature after 20 minutes.", "T: the temperature of the pot") == ["T(0) = 42", "T(11) = 31.079"]
    assert read("Starting from a population of 10,000, calculate the population after 5 years.",
                "P: the population after 5 years") == ["P(0) = 10000"]  # the time asked is not a value
    assert read("At the initial time t = 0 days, 1217 people are infected. How many after 9 days?",
                "I: the infected people") == ["I(0) = 1217"]  # nor the 0 of "t = 0"
    assert read("Find the number infected after 6 days if after 4 days x(4) = 50.", "X: infected") == ["X(4) = 50"]


def test_the_state_before_any_time_phrase_is_the_value_at_time_zero() -> None:
    from ratiocinator.agents.ode.times import conditions

    def read(text: str, unknown: str) -> list[str]:
        return conditions(text, unknown[0], unknown, question(sentences(text)))

    # Mamo ODE 144: 72 °C is the rod's state; 10 °C is a room temperature its words call constant
    assert read("A blacksmith heats an iron rod to a temperature of 72°C and then leaves it to cool in a room where "
                "the ambient temperature is constantly maintained at 10°C. After 4 minutes, the temperature of the "
                "rod has decreased to 39.112°C. Calculate the temperature of the rod after 15 minutes.",
                "T: the temperature of the rod") == ["T(0) = 72", "T(4) = 39.112"]
    # Mamo ODE 140: the minus is the value's sign; the oven's constant 37 °C is not the chicken's state
    assert read("A frozen chicken at a temperature of -4°C is placed in an oven to thaw. The oven has a constant "
                "ambient temperature of 37°C. After 13 minutes, the temperature of the chicken has increased to "
                "28.714°C. Calculate the temperature of the chicken after 17 minutes.",
                "T: the temperature of the chicken") == ["T(0) = -4", "T(13) = 28.714"]
    # no value in the observation's unit before it: no time-0 condition is made up
    assert read("The room is kept at 20 C. After 5 minutes the tea is at 60 C. Find it after 10 minutes.",
                "T: the tea") == ["T(5) = 60"]
    assert read("A bacterium culture has 3 g/L of food. After 2 hours there are 500 cells. How many after 6 hours?",
                "N: the cells") == ["N(2) = 500"]  # grams per litre are not cells
    assert read("The gap between 3-4 hours is quiet. After 5 hours the mass is 7 kg. Find it after 9 hours.",
                "M: the mass in kg") == ["M(5) = 7"]  # a dash between two numbers is no sign


def test_zero_in_words_concentrations_and_unit_names_are_read() -> None:
    from ratiocinator.agents.ode.times import conditions

    def read(text: str, unknown: str) -> list[str]:
        return conditions(text, unknown[0], unknown, question(sentences(text)))

    assert read("A battery supplies 40 V. If the initial current is zero, calculate the current at 0.1 seconds.",
                "I: the current in the circuit") == ["I(0) = 0"]  # zero said of the unknown's word
    assert read("A room initially contains 5899 m^3 of air with no smoke. Find the smoke after 5 minutes.",
                "S: the smoke in the room") == ["S(0) = 0"]  # the air's volume is not the smoke
    # a concentration is a value of an unknown per litre, and a rate only per unit of time
    assert read("A tank of 1616 liters initially holds water with 33 grams per liter of salt. Water flows in at 7 "
                "liters per minute. Find the concentration after 6 minutes.",
                "C: the concentration of salt in grams per liter") == ["C(0) = 33"]
    assert read("Initially, water with 3 kg/L of salt flows in at 5 L/min. How much salt after 5 minutes?",
                "S: the salt in kg") == []  # kg per litre is not an amount in kg
    assert read("A birth rate of 0.11 per year applies initially. Find the population after 3 years.",
                "P: the population") == []  # per year: a rate
    # "kg" and "kilograms" name one unit: 53 kg of sugar, not 5375 litres of water
    assert read("A tank initially contains 5375 liters of water with 53 kg of sugar. Find the sugar after 64 minutes.",
                "S: the amount of sugar in kilograms") == ["S(0) = 53"]
