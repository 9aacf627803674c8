"""Conformal information pursuit (agents/pursuit/) on a deterministic scoring backend: every loop edge, each node alone."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from ratiocinator.agents.pursuit import (
    DictAnswerer,
    Posterior,
    Problem,
    PursuitConfig,
    PursuitResult,
    PursuitTask,
    Sample,
    Thresholds,
    build_graph,
    calibrate,
    conformal_quantile,
    drive,
    entropy,
    min_calibration_samples,
    nodes,
    prediction_set,
    pursuit_context,
    run,
    select_query,
    size_bound,
)
from ratiocinator.errors import InvalidInput
from ratiocinator.kit import StaticRuntime
from ratiocinator.models.scripted import ScriptedBackend

LABELS = ("cat", "dog", "fish", "bird")
# "Is it alive?" tells nothing; "Does it swim?" singles out fish; "Is it furry?" halves the set.
TRUTH = {
    "Is it alive?": {"cat": "Yes.", "dog": "Yes.", "fish": "Yes.", "bird": "Yes."},
    "Does it swim?": {"cat": "No.", "dog": "No.", "fish": "Yes.", "bird": "No."},
    "Is it furry?": {"cat": "Yes.", "dog": "Yes.", "fish": "No.", "bird": "No."},
    "Does it bark?": {"cat": "No.", "dog": "Yes.", "fish": "No.", "bird": "No."},
    "Does it fly?": {"cat": "No.", "dog": "No.", "fish": "No.", "bird": "Yes."},
}
QUERIES = tuple(TRUTH)
PROBLEM = Problem(
    system="Guess the animal: cat, dog, fish or bird.",
    question="Which animal is it?",
    labels=LABELS,
)
LINE = re.compile(r"^\d+\. (.+\?) (Yes\.|No\.)$", re.M)


class ToyBackend(ScriptedBackend):
    """Scores a label by how many answers in the prompt's history it agrees with (3 nats each)."""

    def __init__(self) -> None:
        super().__init__(name="toy-scorer")
        self.scored: list[str] = []

    def score(self, prompt, continuations):  # type: ignore[override]
        text = prompt[-1]["content"]
        self.scored.append(text)
        history = LINE.findall(text)
        return [3.0 * sum(TRUTH[q][c] == a for q, a in history) for c in continuations]


def answerer(label: str) -> DictAnswerer:
    return DictAnswerer({q: [TRUTH[q][label]] for q in QUERIES})


SAMPLES = [Sample(problem=PROBLEM, label=y, answerer=answerer(y)) for y in LABELS]


def task(label: str | None, queries=QUERIES, samples=SAMPLES) -> PursuitTask:
    """The pursuit of `label` (answered from its truth table), or one a person answers (None)."""
    return PursuitTask(
        problem=PROBLEM,
        queries=queries,
        samples=samples,
        answerer=answerer(label) if label is not None else None,
    )


# q̂ = -0.5: a label is in the set when p >= 0.5, so the set is a single label or empty.
STRICT = Thresholds(alpha=0.1, qhat=dict.fromkeys(range(6), -0.5))
# calibrated on the toy model (20 random histories per length): the sets cover the truth ~90% of the time
CALIBRATED = calibrate(
    ToyBackend(), SAMPLES, QUERIES, alpha=0.1, lengths=range(6), n_per_length=20, seed=0
)


def test_quantile_is_the_finite_sample_level_with_method_higher():
    scores = [-0.9, -0.8, -0.7, -0.6, -0.5, -0.4, -0.3, -0.2, -0.1, 0.0]  # n = 10, α = 0.1
    # level ceil(11 * 0.9) / 10 = 1.0 -> the largest score
    assert conformal_quantile(scores, 0.1) == 0.0
    # α = 0.3: ceil(11 * 0.7) / 10 = 0.8 -> numpy "higher" at 0.8 of 10 sorted values is index 8 (-0.1)
    assert conformal_quantile(scores, 0.3) == pytest.approx(
        float(np.quantile(scores, 0.8, method="higher"))
    )
    assert conformal_quantile(scores, 0.3) == pytest.approx(-0.1)


def test_too_few_calibration_samples_is_a_clear_error():
    assert min_calibration_samples(0.1) == 9
    conformal_quantile([-0.5] * 9, 0.1)  # 9 is enough
    with pytest.raises(
        InvalidInput, match=r"history length 2: 8 calibration score\(s\).*at least 9"
    ):
        Thresholds.from_scores({0: [-0.5] * 9, 2: [-0.5] * 8}, 0.1)
    with pytest.raises(InvalidInput, match="alpha"):
        conformal_quantile([-0.5] * 20, 1.0)


def test_thresholds_round_trip_through_json(tmp_path):
    t = Thresholds.from_scores(
        {0: list(np.linspace(-1, 0, 10)), 1: list(np.linspace(-1, -0.5, 12))}, 0.1
    )
    back = Thresholds.load(t.save(tmp_path / "q.json"))
    assert back == t and back.n_samples == {0: 10, 1: 12}
    with pytest.raises(InvalidInput, match="no q̂ for history length 3"):
        back.at(3)
    (tmp_path / "bad.json").write_text('{"alpha": 0.1}')
    with pytest.raises(InvalidInput, match=r"bad\.json"):
        Thresholds.load(tmp_path / "bad.json")


def test_size_bound_matches_the_formula_and_handles_empty_sets():
    psets = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 1, 1, 1]], dtype=bool)
    labels = [0, 0, 1, 0]  # covered, covered, not covered (empty set), not covered (size 3)
    a = 0.1
    h_b = -a * math.log2(a) - (1 - a) * math.log2(1 - a)
    expect = (
        h_b
        + (1 - (a - 1 / 5)) * (math.log2(2) + math.log2(1)) / 2
        + a * (math.log2(4) + math.log2(1)) / 2
    )
    assert size_bound(psets, labels, a) == pytest.approx(expect)
    assert prediction_set(np.array([0.3, 0.3, 0.4]), -0.5).sum() == 0  # an empty set is possible
    assert entropy(np.array([[0.5, 0.5]])) == pytest.approx(1.0)


def test_cip_asks_informative_questions_and_stops_on_a_single_label():
    config = PursuitConfig(budget=4, n_label_samples=8)
    for label in LABELS:
        result = run(task(label), backend=ToyBackend(), config=config, thresholds=CALIBRATED)
        assert result.prediction == label and result.prediction_set == (label,)
        assert result.stop_reason == "single_label_set"
        assert "Is it alive?" not in [q for q, _ in result.history]  # never the uninformative query
        assert [s["questions"] for s in result.trace] == list(range(len(result.history) + 1))
        assert result.prediction_after(10) == label
    fish = run(task("fish"), backend=ToyBackend(), config=config, thresholds=CALIBRATED)
    assert fish.history == (("Does it swim?", "Yes."),)
    # a coverage statement, never "verified": the set's size and coverage in words
    assert fish.verdict.status == "unverified" and not fish.verified
    assert "prediction set of 1 label at 90% coverage after 1 question " in fish.verdict.reason
    assert fish.coverage == pytest.approx(0.9) and fish.questions == 1

def test_posteriors_are_memoised_per_distinct_history():
    backend = ToyBackend()
    post = Posterior(backend)
    select_query(post, (), QUERIES, SAMPLES, PursuitConfig(n_label_samples=16), STRICT)
    # 5 queries with at most 2 distinct answers each: at most 10 scored histories for 16 draws per query
    assert post.scored == len(backend.scored) <= 10
    assert len(set(backend.scored)) == len(backend.scored)


def test_ip_baseline_minimises_posterior_entropy():
    post = Posterior(ToyBackend())
    query, objective = select_query(
        post, (), QUERIES, SAMPLES, PursuitConfig(method="ip", n_label_samples=16), None
    )
    e3 = math.exp(3)
    furry = np.array([e3, e3, 1, 1]) / (
        2 * e3 + 2
    )  # every answer to "Is it furry?" leaves this shape
    assert objective["Is it furry?"] == pytest.approx(float(-(furry * np.log2(furry)).sum()))
    assert objective["Is it alive?"] == pytest.approx(2.0)  # uniform over four labels
    assert query == min(objective, key=objective.__getitem__) != "Is it alive?"


def test_budget_spent_with_empty_prediction_sets():
    # q̂ = -1.5: no probability reaches 1.5, every prediction set is empty, so the loop runs to the budget
    never = Thresholds(alpha=0.1, qhat=dict.fromkeys(range(6), -1.5))
    result = run(
        task("fish"), backend=ToyBackend(), config=PursuitConfig(budget=2), thresholds=never
    )
    assert result.stop_reason == "budget_spent" and len(result.history) == 2
    assert result.prediction_set == () and all(s["set_size"] == 0 for s in result.trace)
    assert result.prediction in LABELS
    # the budget ran out before the set was small: the method gave up, and says so
    assert result.verdict.status == "gave_up"
    assert result.verdict.reason.startswith("the question budget ran out")
    assert "an empty prediction set at 90% coverage after 2 questions" in result.verdict.reason


def test_no_query_left_and_direct_prediction():
    never = Thresholds(alpha=0.1, qhat=dict.fromkeys(range(6), -1.5))
    result = run(
        task("cat", queries=QUERIES[:2]),
        backend=ToyBackend(),
        config=PursuitConfig(budget=5),
        thresholds=never,
    )
    assert result.stop_reason == "no_query_left" and len(result.history) == 2
    assert result.verdict.status == "gave_up" and "every query of the bank" in result.verdict.reason
    direct = run(task("cat"), backend=ToyBackend(), config=PursuitConfig(method="direct"))
    assert (
        direct.stop_reason == "direct_prediction"
        and direct.history == ()
        and len(direct.trace) == 1
    )
    # no thresholds: no prediction set, and the verdict makes no coverage statement
    assert direct.verdict.status == "unverified" and direct.coverage is None
    assert "no coverage statement" in direct.verdict.reason


def test_interrupt_and_resume_with_a_person_answering():
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import Command

    saver = InMemorySaver()
    graph = build_graph(saver)
    assert build_graph(saver) is graph and build_graph() is build_graph() is not graph
    context = pursuit_context(
        task(None),
        backend=ToyBackend(),
        config=PursuitConfig(budget=4, n_label_samples=8),
        thresholds=CALIBRATED,
    )
    thread = {"configurable": {"thread_id": "t1"}}
    state = graph.invoke({"history": [], "trace": []}, thread, context=context)
    asked = []
    while "__interrupt__" in state:
        (intr,) = state["__interrupt__"]
        query = intr.value["query"]
        assert intr.value["questions_asked"] == len(asked)
        asked.append(query)
        state = graph.invoke(Command(resume=TRUTH[query]["bird"]), thread, context=context)
    assert state["prediction"] == "bird" and state["stop_reason"] == "single_label_set"
    assert [q for q, _ in state["history"]] == asked
    # an empty answer is refused, naming the query
    t2 = {"configurable": {"thread_id": "t2"}}
    graph.invoke({"history": [], "trace": []}, t2, context=context)
    with pytest.raises(InvalidInput, match="expected a non-empty string"):
        graph.invoke(Command(resume="  "), t2, context=context)


def test_drive_asks_a_person_at_each_interrupt_and_forgets_the_thread():
    asked: list[str] = []

    def person(query: str) -> str:
        asked.append(query)
        return TRUTH[query]["dog"]

    backend = ToyBackend()
    config = PursuitConfig(budget=4, n_label_samples=8)
    # the task's own answerer is not used: every question goes to the person
    result = drive(task("cat"), person, backend=backend, config=config, thresholds=CALIBRATED)
    assert result.prediction == "dog" and [q for q, _ in result.history] == asked
    assert result.usage.calls == len(backend.scored) > 0
    same = run(task("dog"), backend=ToyBackend(), config=config, thresholds=CALIBRATED)
    assert same.history == result.history  # the same pursuit as with an answerer
    from ratiocinator.agents.pursuit.graph import _saver

    assert not _saver().storage  # drive's own thread is deleted at the end


def test_calibrate_per_history_length_and_its_errors():
    thresholds = calibrate(
        ToyBackend(), SAMPLES, QUERIES, alpha=0.1, lengths=[0, 1, 2], n_per_length=9, seed=1
    )
    assert sorted(thresholds.qhat) == [0, 1, 2] and thresholds.n_samples == {0: 9, 1: 9, 2: 9}
    assert thresholds.at(0) == pytest.approx(-0.25)  # no history: uniform posterior
    assert all(-1 <= q <= 0 for q in thresholds.qhat.values())
    with pytest.raises(InvalidInput, match="at least 9"):
        calibrate(ToyBackend(), SAMPLES, QUERIES, alpha=0.1, lengths=[1], n_per_length=5)
    with pytest.raises(InvalidInput, match=r"outside 0\.\.5"):
        calibrate(ToyBackend(), SAMPLES, QUERIES, alpha=0.1, lengths=[6], n_per_length=9)



def test_calibration_draws_for_length_k_only_samples_with_k_queries_of_their_own():
    def own(y: str, n: int) -> Sample:  # each sample its own problem, so the posterior can tell them apart
        problem = Problem(system=y, question=PROBLEM.question, labels=LABELS)
        return Sample(problem=problem, label=y, answerer=answerer(y), queries=QUERIES[:n])

    short, full = [own("cat", 1), own("dog", 1)], [own("fish", 3), own("bird", 3)]
    drawn: dict[int, set[str]] = {}

    class Recording:  # the posterior the calibration asks, recording whose histories it scores
        kind = "direct"

        def __call__(self, problem, history):
            drawn.setdefault(len(history), set()).add(problem.system)
            return np.full(len(LABELS), 0.25)

    calibrate(ToyBackend(), [*short, *full], QUERIES, alpha=0.1, lengths=[0, 1, 2], n_per_length=9, seed=2,
              posterior=Recording())  # type: ignore[arg-type]
    assert drawn[2] == {"fish", "bird"} and drawn[1] & {"cat", "dog"}
    with pytest.raises(InvalidInput, match="exceeds every calibration sample's own queries"):
        calibrate(ToyBackend(), short, QUERIES, alpha=0.1, lengths=[2], n_per_length=9)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(InvalidInput, match="needs calibrated thresholds"):
        run(task("cat"), backend=ToyBackend())
    with pytest.raises(InvalidInput, match=r"calibrated at α = 0\.1"):
        run(task("cat"), backend=ToyBackend(), thresholds=STRICT, config=PursuitConfig(alpha=0.2))
    with pytest.raises(InvalidInput, match="needs an answerer"):
        run(task(None), backend=ToyBackend(), thresholds=STRICT)
    with pytest.raises(InvalidInput, match="expected a PursuitTask"):
        run("Which animal?", backend=ToyBackend(), thresholds=STRICT)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="duplicates"):
        PursuitTask(problem=PROBLEM, queries=(*QUERIES, QUERIES[0]), samples=SAMPLES)
    with pytest.raises(InvalidInput, match="answerer"):
        PursuitTask(problem=PROBLEM, queries=QUERIES, answerer="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="method"):
        PursuitConfig(method="oracle")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="no answer for the query"):
        DictAnswerer({}).answer("Is it big?")
    with pytest.raises(InvalidInput, match="two distinct labels"):
        Problem(system="s", question="q", labels=("a", "a"))
    with pytest.raises(InvalidInput, match="needs draws from the prior"):
        select_query(Posterior(ToyBackend()), (), QUERIES, [], PursuitConfig(), STRICT)


def test_labels_drawn_from_the_posterior_follow_the_history():
    history = (("Does it swim?", "Yes."), ("Is it furry?", "No."))  # p(fish) ~ 0.95, p(dog) ~ 0.002
    samples = [SAMPLES[2], SAMPLES[1]]  # fish, dog
    for draw, expect in (("posterior", 3), ("prior", 4)):
        post = Posterior(ToyBackend())
        config = PursuitConfig(method="ip", n_label_samples=8, draw_labels_from=draw)
        select_query(post, history, QUERIES, samples, config, None)
        # three unasked queries; fish and dog answer only "Does it bark?" differently, so drawing both
        # scores 4 histories, drawing fish alone 3 (plus the current history, for the weights)
        assert post.scored - (1 if draw == "posterior" else 0) == expect


def _runtime(label: str | None = "fish", thresholds=CALIBRATED, **config) -> StaticRuntime:
    cfg = PursuitConfig(**{"budget": 4, "n_label_samples": 8, **config})
    return StaticRuntime(
        pursuit_context(task(label), backend=ToyBackend(), config=cfg, thresholds=thresholds)
    )


def test_predict_alone_gives_the_posterior_the_set_and_whether_to_stop():
    rt = _runtime()
    update = nodes.predict({"history": [], "trace": []}, rt)
    assert update["probs"] == pytest.approx([0.25] * 4) and update["stop_reason"] is None
    assert update["trace"] == [{"questions": 0, "prediction": "cat", "set_size": 4}]
    assert rt.context.usage.usage().calls == 1  # one score call, counted by the context's backend
    swam = nodes.predict({"history": [("Does it swim?", "Yes.")], "trace": update["trace"]}, rt)
    assert swam["prediction_set"] == ["fish"] and swam["stop_reason"] == "single_label_set"
    assert nodes.after_predict(swam) == "stop" and nodes.after_predict(update) == "select"
    # without thresholds there is no set, and no stop on one
    bare = nodes.predict({"history": [("Does it swim?", "Yes.")]}, _runtime(thresholds=None, method="ip"))
    assert bare["prediction_set"] == [] and bare["trace"][0]["set_size"] is None
    assert bare["stop_reason"] is None


def test_select_and_ask_alone():
    rt = _runtime()
    query = nodes.select({"history": []}, rt)["query"]
    assert query in QUERIES and query != "Is it alive?"
    update = nodes.ask({"history": [], "query": "Does it swim?"}, rt)
    assert update == {"history": [("Does it swim?", "Yes.")]}  # the task's answerer (fish) answered
    with pytest.raises(InvalidInput, match="method 'direct' asks no questions"):
        nodes.select({"history": []}, _runtime(method="direct"))


def test_stop_reasons_in_order():
    ctx = _runtime(budget=2).context
    assert nodes.stop_reason(ctx, 2, 1) == "budget_spent"  # the budget before the singleton
    assert nodes.stop_reason(ctx, 1, 1) == "single_label_set"
    assert nodes.stop_reason(ctx, 1, 2) is None
    assert nodes.stop_reason(_runtime(stop_on_singleton=False).context, 1, 1) is None
    assert nodes.stop_reason(_runtime(budget=9).context, 5, 2) == "no_query_left"


def test_usage_is_the_score_calls_the_run_made_and_a_shared_memo_saves_them():
    backend = ToyBackend()
    config = PursuitConfig(budget=4, n_label_samples=8)
    memo = Posterior(backend)
    first = run(task("bird"), backend=backend, config=config, thresholds=CALIBRATED, posterior=memo)
    assert first.usage.calls == len(backend.scored) == memo.scored > 0
    assert first.usage.prompt_tokens == first.usage.completion_tokens == 0  # scoring generates nothing
    again = run(task("bird"), backend=backend, config=config, thresholds=CALIBRATED, posterior=memo)
    assert again.usage.calls == 0 and again.history == first.history  # every history was memoised
    assert isinstance(again, PursuitResult) and again.usage.seconds > 0


def test_an_answer_function_and_the_report():
    truth = TRUTH

    result = run(
        PursuitTask(
            problem=PROBLEM,
            queries=QUERIES,
            samples=SAMPLES,
            answerer=lambda q: truth[q]["dog"],
        ),
        backend=ToyBackend(),
        config=PursuitConfig(method="ip", budget=3, n_label_samples=8),
        thresholds=CALIBRATED,
    )
    assert result.prediction == "dog"
    report = result.report()
    assert report.startswith("dog; prediction set: dog;") and report.endswith(f"({result.verdict})")
    assert all(f"{q} {a}" in report for q, a in result.history)
