"""The pursuit-20q / pursuit-mediq benchmarks on the shared data with a deterministic scorer, and the fact answerer."""

from __future__ import annotations

import json
import re

import pytest

from ratiocinator import datadirs
from ratiocinator.agents.pursuit import PursuitConfig, Thresholds, fact
from ratiocinator.errors import InvalidInput
from ratiocinator.evals import benchmark as registry
from ratiocinator.evals.benchmarks.pursuit import (
    METHODS,
    FactAnswerer,
    MediQOptions,
    PursuitOptions,
    flat_options,
)
from ratiocinator.evals.results import load_results
from ratiocinator.evals.runner import RunConfig, run
from ratiocinator.models.scripted import ScriptedBackend

#: 20 Questions ships in the package (the team's copy wins where found); MediQ does not (7 MB)
DATA = datadirs.holding("pursuit/20q")
MEDIQ = datadirs.holding("pursuit/mediq")
needs_mediq = pytest.mark.skipif(MEDIQ is None, reason=datadirs.missing("pursuit/mediq (Conformal-IP's MediQ)"))
LINE = re.compile(r"^\d+\. (.+\?) (Yes\.|No\.)$", re.M)


class AnimalScorer(ScriptedBackend):
    """Scores each animal by how many answers of the history its answer dictionary agrees with."""

    def __init__(self) -> None:
        super().__init__(name="animal-scorer")
        root = DATA / "pursuit" / "20q" / "query_bank_closed_yesno" / "dicts"
        self.truth = {
            p.stem: {k.strip(): v[0] for k, v in json.loads(p.read_text()).items()}
            for p in root.iterdir()
        }
        self.calls = 0

    def score(self, prompt, continuations):  # type: ignore[override]
        self.calls += 1
        history = LINE.findall(prompt[-1]["content"])
        return [2.0 * sum(self.truth[c][q] == a for q, a in history) for c in continuations]


def test_fact_answerer_picks_the_fact_that_shares_most_words():
    patient = FactAnswerer(
        [
            "1. Patient is a 21-year-old male.",
            "2. Patient complains of fever.",
            "3. Culture of joint fluid shows a bacteria.",
        ],
        min_overlap=1,
    )
    assert patient.answer("Do you have a fever or chills?") == "Patient complains of fever."
    assert (
        patient.answer("What did the joint fluid culture show?")
        == "Culture of joint fluid shows a bacteria."
    )
    assert patient.answer("Do you smoke?") == "The patient cannot answer that."


def test_registered_with_their_options():
    assert {"pursuit-20q", "pursuit-mediq"} <= set(registry.names())
    cls = registry.get("pursuit-20q")
    assert cls.data_subdir == "pursuit" and cls.needs_model
    with pytest.raises(InvalidInput, match="unknown option"):
        cls.parse_options({"budgett": 3})
    with pytest.raises(InvalidInput, match=r"unknown \['oracle'\]"):
        cls(cls.parse_options({"methods": "direct,oracle"}))


def test_the_benchmarks_hold_a_pursuit_config_and_keep_their_threshold_cache_key():
    cls = registry.get("pursuit-20q")
    assert cls.method == "c-ip" and registry.get("pursuit-mediq").method == "c-ip"
    # the former options are fields of the config now; --set reaches them by name
    opts = cls.parse_options({"budget": 3, "draw_labels_from": "posterior", "n_cal_per_length": 4})
    assert opts.config.budget == 3 and opts.config.draw_labels_from == "posterior"
    assert opts.n_cal_per_length == 4 and opts.config.n_candidate_queries == 6
    # the benchmarks run the answers posterior (issue 21); the direct one is --set posterior=direct
    assert PursuitOptions().config == PursuitConfig(
        budget=4, n_candidate_queries=6, posterior="answers"
    )
    assert MediQOptions().config == PursuitConfig(
        budget=3, n_label_samples=2, n_candidate_queries=3, posterior="answers", prior="model"
    )
    # the cached thresholds of the direct posterior are named by a hash of the options as they were
    # recorded before; the answers posterior's add its own fields
    direct = PursuitOptions(config=PursuitConfig(budget=4, n_candidate_queries=6))
    assert set(flat_options(PursuitOptions())) - set(flat_options(direct)) == {
        "posterior", "likelihood", "prior", "answer_floor", "answer_temperature", "answer_prompt",
        "fact_prompt",
    }
    asked = PursuitOptions(config=PursuitConfig(posterior="answers", likelihood="question"))
    assert set(flat_options(asked)) - set(flat_options(PursuitOptions())) == {"question_system"}
    assert flat_options(direct) == {
        "methods": METHODS,
        "alpha": 0.1,
        "budget": 4,
        "n_label_samples": 64,
        "draw_labels_from": "prior",
        "n_candidate_queries": 6,
        "n_cal_per_length": 10,
        "seed": 0,
    }
    assert set(flat_options(MediQOptions())) == set(flat_options(PursuitOptions())) | {
        "specialty",
        "split",
        "n_case_queries",
        "min_overlap",
    }


def test_pursuit_20q_beats_direct_prediction_with_a_truthful_scorer(tmp_path, monkeypatch):
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path / "home"))
    backend = AnimalScorer()
    # the scorer reads the history prompt: the reference's direct posterior
    options = {"budget": 5, "n_candidate_queries": 10, "n_cal_per_length": 10, "posterior": "direct"}
    run(
        RunConfig(
            benchmark="pursuit-20q",
            data_dir=str(DATA),
            out=str(tmp_path / "r"),
            limit=4,
            options=options,
            cache=False,
        ),
        backend=backend,
    )
    records = load_results(tmp_path / "r" / "results.jsonl")
    assert [r.item_id for r in records] == ["giraffe", "zebra", "elephant", "killer whale"]
    assert all(r.error is None for r in records)
    for r in records:
        assert r.metrics["direct_acc"] == r.metrics["cip_acc@0"] == r.metrics["ip_acc@0"]
        assert set(r.metrics) >= {f"{m}_acc@{k}" for m in ("ip", "cip") for k in range(6)}
        assert len(r.output["cip"]["history"]) == r.metrics["cip_questions"] <= 5
        assert all(a in ("Yes.", "No.") for _, a in r.output["cip"]["history"])
        for m in METHODS:
            verdict = r.output[m]["verdict"]
            assert verdict["status"] in ("unverified", "gave_up") and "coverage" in verdict["reason"]
            stop = r.output[m]["stop"]
            assert stop in ("single_label_set", "budget_spent", "no_query_left", "direct_prediction")
            assert (verdict["status"] == "gave_up") == (len(r.output[m]["set"]) != 1 and m != "direct")
    mean = {
        k: sum(r.metrics[k] for r in records) / 4 for k in ("direct_acc", "cip_acc@5", "ip_acc@5")
    }
    assert mean["direct_acc"] <= 0.25 and mean["cip_acc@5"] >= 0.75 and mean["ip_acc@5"] >= 0.5
    (path,) = (
        tmp_path / "home" / "pursuit"
    ).iterdir()  # thresholds cached as JSON for the next run
    assert sorted(Thresholds.load(path).qhat) == [0, 1, 2, 3, 4, 5] and records[0].output[
        "thresholds"
    ] == str(path)


class LetterScorer(ScriptedBackend):
    """Prefers option A, more so with each answered fact (a stand-in; checks plumbing, not medicine)."""

    def score(self, prompt, continuations):  # type: ignore[override]
        known = prompt[-1]["content"].count("\n") - prompt[-1]["content"].count("cannot answer")
        return [float(known) if c == "A" else 0.0 for c in continuations]


class ShortestScorer(ScriptedBackend):
    """Prefers the shortest continuation (a stand-in that tells option texts from letters)."""

    def score(self, prompt, continuations):  # type: ignore[override]
        return [-float(len(c)) for c in continuations]


@needs_mediq
def test_pursuit_mediq_can_score_the_options_texts(tmp_path, monkeypatch):
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path / "home"))
    options = {"methods": ["direct"], "label_scoring": "text"}
    run(RunConfig(benchmark="pursuit-mediq", data_dir=str(MEDIQ), out=str(tmp_path / "t"), limit=3,
                  options=options, cache=False), backend=ShortestScorer())
    bench = registry.get("pursuit-mediq")(registry.get("pursuit-mediq").parse_options(options), MEDIQ)
    items = {item.id: item for item in bench.items()}
    records = load_results(tmp_path / "t" / "results.jsonl")
    assert len(records) == 3 and all(r.error is None for r in records)
    for r in records:
        problem, label, _, _ = bench.case(items[r.item_id])
        assert problem.label_texts is not None and "\nA. " not in problem.question
        shortest = problem.labels[min(range(4), key=lambda i: len(problem.label_texts[i]))]
        assert r.metrics["direct_acc"] == float(label == shortest)
    assert flat_options(bench.options)["label_scoring"] == "text"
    recorded = json.loads((tmp_path / "t" / "config.json").read_text())["identity"]["options"]
    assert recorded["label_scoring"] == "text"
    assert "label_scoring" not in flat_options(MediQOptions())  # the letters' cached thresholds keep their key


@needs_mediq
def test_pursuit_mediq_distinct_answers_asks_one_question_per_answer():
    cls = registry.get("pursuit-mediq")
    plain = cls(cls.parse_options({}), MEDIQ)
    distinct = cls(cls.parse_options({"distinct_answers": True}), MEDIQ)
    item = plain.items()[0]
    _, _, answerer, queries = plain.case(item)
    _, _, _, kept = distinct.case(item)
    answers = [answerer.answer(q) for q in kept]
    assert len(set(answers)) == len(answers) and len(kept) <= len(queries) == 20
    assert len({answerer.answer(q) for q in queries}) < len(queries)  # the plain set repeats answers
    assert kept[0] == queries[0]  # the best-matching question comes first in both
    assert "distinct_answers" not in flat_options(plain.options) and flat_options(distinct.options)["distinct_answers"]


@needs_mediq
def test_pursuit_mediq_runs_on_disjoint_splits(tmp_path, monkeypatch):
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path / "home"))
    options = {"budget": 2, "n_candidate_queries": 2, "n_case_queries": 6, "n_cal_per_length": 9}
    run(
        RunConfig(
            benchmark="pursuit-mediq",
            data_dir=str(MEDIQ),
            out=str(tmp_path / "m"),
            limit=2,
            options=options,
            cache=False,
        ),
        backend=LetterScorer(),
    )
    records = load_results(tmp_path / "m" / "results.jsonl")
    assert len(records) == 2 and all(r.error is None for r in records)
    # an option added later joins a run's identity only when set: runs recorded before it resume
    assert "label_scoring" not in json.loads((tmp_path / "m" / "config.json").read_text())["identity"]["options"]
    for r in records:
        assert r.output["label"] in "ABCD" and r.group == "internal_medicine"
        assert r.metrics["direct_acc"] == float(r.output["label"] == "A")
        assert len(r.output["ip"]["history"]) <= 2
    bench = registry.get("pursuit-mediq")(
        registry.get("pursuit-mediq").parse_options(options), MEDIQ
    )
    bench._load()
    ids = {part: {cid for cid, *_ in bench._cases[part]} for part in ("train", "cal", "test")}
    assert (
        not (ids["train"] & ids["cal"])
        and not (ids["cal"] & ids["test"])
        and not (ids["train"] & ids["test"])
    )


def test_pursue_command_asks_the_person_through_interrupts(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import ratiocinator.models
    from ratiocinator import pursue as pursuit_cli
    from ratiocinator.cli import app

    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path / "home"))
    scorer = AnimalScorer()
    monkeypatch.setattr(ratiocinator.models, "load_backend", lambda *a, **k: scorer)
    asked: list[str] = []

    def person(query: str) -> str:  # thinks of a zebra; answers "maybe" once, then y/n
        asked.append(query)
        return (
            "maybe" if len(asked) == 1 else ("y" if scorer.truth["zebra"][query] == "Yes." else "n")
        )

    monkeypatch.setattr(pursuit_cli.typer, "prompt", person)
    args = [
        "pursue",
        "--budget",
        "6",
        "--candidates",
        "10",
        "--n-cal",
        "9",
        "--data-dir",
        str(DATA),
    ]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "please answer y or n" in out.output and "I think it is: zebra" in out.output
    assert "at 90% coverage after" in out.output  # the verdict in words, never "verified"
    assert 2 <= len(asked) <= 7 and asked[0] == asked[1]  # the unclear answer is asked again
    assert (
        pursuit_cli.yes_no(" Yes. ") == "Yes."
        and pursuit_cli.yes_no("N") == "No."
        and pursuit_cli.yes_no("?") is None
    )


class FactScorer(ScriptedBackend):
    """Scores each animal after a stated fact by whether its answer dictionary agrees (0 or -2 nats)."""

    def __init__(self) -> None:
        super().__init__(name="fact-scorer")
        self.truth = AnimalScorer().truth
        queries = next(iter(self.truth.values()))
        self.facts = {fact(q, yes): (q, yes) for q in queries for yes in (True, False)}
        self.calls = 0

    def score(self, prompt, continuations):  # type: ignore[override]
        self.calls += 1
        said = re.fullmatch(r"Think of an animal that (.*)\. The animal is a", prompt).group(1)
        q, yes = self.facts[said]
        return [0.0 if (self.truth[c.strip()][q] == "Yes.") == yes else -2.0 for c in continuations]


def test_pursuit_20q_with_the_answers_posterior_and_its_cached_table(tmp_path, monkeypatch):
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path / "home"))
    options = {"budget": 5, "n_candidate_queries": 10, "n_cal_per_length": 10}
    backend = FactScorer()
    config = RunConfig(
        benchmark="pursuit-20q", data_dir=str(DATA), out=str(tmp_path / "r"), limit=4,
        options=options, cache=False,
    )
    run(config, backend=backend)
    records = load_results(tmp_path / "r" / "results.jsonl")
    assert all(r.error is None and r.output["posterior"] == "answers" for r in records)
    mean = {k: sum(r.metrics[k] for r in records) / 4 for k in ("direct_acc", "cip_acc@5", "ip_acc@5")}
    assert mean["cip_acc@5"] >= 0.75 and mean["ip_acc@5"] >= 0.75 and mean["direct_acc"] <= 0.25
    # two calls per question (the fact and its negation, every animal at once), whatever the items
    odds = json.loads(next((tmp_path / "home" / "pursuit").glob("pursuit-20q-odds-*.json")).read_text())
    assert backend.calls == 2 * len(odds) and all(len(v) == 20 for v in odds.values())
    # the next run finds the thresholds and the table on disk and asks the model nothing
    again = FactScorer()
    run(config.model_copy(update={"out": str(tmp_path / "r2")}), backend=again)
    assert again.calls == 0
    assert [r.metrics for r in load_results(tmp_path / "r2" / "results.jsonl")] == [r.metrics for r in records]


def test_workers_that_start_together_calibrate_once(tmp_path, monkeypatch):
    """--workers K on llama.cpp spawns K processes that set up at once: one calibrates, the others wait and read."""
    import threading
    import time

    from ratiocinator.evals.benchmark import Context

    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path / "home"))

    class Slow(AnimalScorer):
        def score(self, prompt, continuations):  # type: ignore[override]
            time.sleep(0.002)  # long enough for the second worker to arrive mid-calibration
            return super().score(prompt, continuations)

    cls = registry.get("pursuit-20q")
    options = cls.parse_options({"budget": 2, "n_cal_per_length": 10, "posterior": "direct"})
    backends = [Slow(), Slow()]
    benches = [cls(options, DATA), cls(options, DATA)]

    def setup(i: int) -> None:
        benches[i].setup(Context(backend=backends[i], seed=0))

    first = threading.Thread(target=setup, args=(0,))
    first.start()
    while backends[0].calls == 0:
        time.sleep(0.001)
    setup(1)
    first.join()
    assert backends[0].calls > 0 and backends[1].calls == 0
    assert benches[1].thresholds.qhat == benches[0].thresholds.qhat


class OverconfidentScorer(ScriptedBackend):
    """Scores the first option's text 6 nats above the others on the bare case (wrong on most cases); any
    answer in the history raises the true option's text by 2 (the answers are informative)."""

    def __init__(self, truth: dict[str, str]) -> None:
        super().__init__(name="overconfident")
        self.truth = truth
        self.calls = 0

    def score(self, prompt, continuations):  # type: ignore[override]
        self.calls += 1
        text = prompt[-1]["content"]
        true = next(t for q, t in self.truth.items() if text.endswith(q))
        heard = "information you have gathered" in text
        return [(6.0 if i == 0 else 0.0) + (2.0 if heard and c == true else 0.0) for i, c in enumerate(continuations)]


@needs_mediq
def test_pursuit_mediq_fits_the_temperatures_on_the_train_cases(tmp_path, monkeypatch):
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path / "home"))
    options = {"label_scoring": "text", "fit_temperatures": True, "methods": ["direct", "cip"], "budget": 2,
               "n_candidate_queries": 2, "n_case_queries": 6, "n_cal_per_length": 9}
    cls = registry.get("pursuit-mediq")
    bench = cls(cls.parse_options(options), MEDIQ)
    bench._load()
    truth = {p.question: p.label_texts[p.labels.index(y)] for part in bench._cases.values() for _, p, y, _ in part}
    scorer = OverconfidentScorer(truth)
    config = RunConfig(benchmark="pursuit-mediq", data_dir=str(MEDIQ), out=str(tmp_path / "f"), limit=6,
                       options=options, cache=False)
    run(config, backend=scorer)
    records = load_results(tmp_path / "f" / "results.jsonl")
    assert len(records) == 6 and all(r.error is None for r in records)
    fit = records[0].output["temperatures"]
    assert fit["prior_temperature"] > 1.0 and fit["nll"] < fit["nll_unscaled"] and fit["histories"] == 27
    thresholds = records[0].output["thresholds"]
    saved = json.loads(open(thresholds.replace(".json", "-temperatures.json")).read())
    assert saved == fit and flat_options(bench.options)["fit_temperatures"] is True
    mean = {k: sum(r.metrics[k] for r in records) / 6 for k in ("direct_acc", "cip_acc@2")}
    assert mean["cip_acc@2"] > mean["direct_acc"]  # the answers now move the prior
    # another run reads the fit and the thresholds from their files: no case of the fit is scored again
    again = OverconfidentScorer(truth)
    run(config.model_copy(update={"out": str(tmp_path / "g"), "limit": 1}), backend=again)
    assert load_results(tmp_path / "g" / "results.jsonl")[0].output["temperatures"] == fit
    assert again.calls < scorer.calls / 6
    assert "fit_temperatures" not in flat_options(MediQOptions())  # earlier runs' thresholds keep their key
    (tmp_path / "g").rename(tmp_path / "g0")
    open(thresholds.replace(".json", "-temperatures.json"), "w").write("{not json")
    with pytest.raises(InvalidInput, match=r"not a temperature fit .* delete it and the run fits again"):
        run(config.model_copy(update={"out": str(tmp_path / "g"), "limit": 1}), backend=OverconfidentScorer(truth))
    with pytest.raises(InvalidInput, match=r"fit_temperatures: .* expected posterior=answers"):
        cls(cls.parse_options({"fit_temperatures": True, "posterior": "direct"}), MEDIQ)
    with pytest.raises(InvalidInput, match="expected methods with ip or cip"):
        cls(cls.parse_options({"fit_temperatures": True, "methods": ["direct"]}), MEDIQ)
    with pytest.raises(InvalidInput, match="replaces prior_temperature and answer_temperature; expected them unset"):
        cls(cls.parse_options({"fit_temperatures": True, "answer_temperature": 2.0}), MEDIQ)
