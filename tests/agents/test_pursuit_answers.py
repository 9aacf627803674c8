"""The answers posterior of conformal information pursuit (agents/pursuit/answers.py) on a scripted scorer with known answer probabilities."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from ratiocinator.agents.pursuit import (
    AnswerPosterior,
    DictAnswerer,
    Posterior,
    Problem,
    PursuitConfig,
    PursuitTask,
    Sample,
    Thresholds,
    about,
    calibrate,
    conformal_quantile,
    fact,
    make_posterior,
    pursuit_context,
    run,
    select_query,
    yes_no,
)
from ratiocinator.agents.pursuit.config import ANSWER_PROMPT, FACT_PROMPT
from ratiocinator.errors import InvalidInput
from ratiocinator.models.scripted import ScriptedBackend

LABELS = ("cat", "dog", "fish", "bird")
QUERIES = (
    "Is the animal alive?",
    "Can the animal swim?",
    "Is the animal furry?",
    "Does the animal bark?",
    "Can the animal fly?",
)
# p(yes | label, question) as the scripted model says it: "alive" tells nothing, the rest tell a lot
P_YES = {
    "Is the animal alive?": (0.9, 0.9, 0.9, 0.9),
    "Can the animal swim?": (0.1, 0.2, 1.0, 0.05),
    "Is the animal furry?": (0.95, 0.9, 0.0, 0.05),
    "Does the animal bark?": (0.05, 0.95, 0.0, 0.05),
    "Can the animal fly?": (0.0, 0.0, 0.05, 0.9),
}
TRUTH = {q: {y: "Yes." if p > 0.5 else "No." for y, p in zip(LABELS, P_YES[q], strict=True)} for q in QUERIES}
PROBLEM = Problem(
    system="Guess the animal: cat, dog, fish or bird.", question="Which animal is it?", labels=LABELS
)
SAMPLES = [
    Sample(problem=PROBLEM, label=y, answerer=DictAnswerer({q: TRUTH[q][y] for q in QUERIES}))
    for y in LABELS
]
MODEL_PRIOR = (0.4, 0.3, 0.2, 0.1)


def _log(p: float) -> float:
    return math.log(p) if p > 0 else -1e9  # a hard zero, as a model can nearly say


class TableScorer(ScriptedBackend):
    """Scores the answers posterior's prompts from P_YES; the empty-history chat prompt from MODEL_PRIOR."""

    def __init__(self) -> None:
        super().__init__(name="table-scorer")
        self.prompts: list[str] = []
        self.facts = {fact(q, yes): (q, yes) for q in QUERIES for yes in (True, False)}

    def score(self, prompt, continuations):  # type: ignore[override]
        if not isinstance(prompt, str) and continuations == ["Yes", "No"]:  # likelihood "question"
            self.prompts.append(prompt[-1].content)
            verb, label, rest = re.fullmatch(r"(\w+) an? (\w+) (.*)\?", prompt[-1].content).groups()
            p = P_YES[f"{verb} the animal {rest}?"][LABELS.index(label)]
            return [_log(p), _log(1 - p)]
        if not isinstance(prompt, str):  # the direct posterior's chat prompt: the model's prior
            self.prompts.append("prior")
            return [math.log(MODEL_PRIOR[LABELS.index(c)]) for c in continuations]
        self.prompts.append(prompt)
        if continuations == [" yes", " no"]:  # likelihood "answer": the label and question are named
            label, question = re.search(r"about the (\w+) .*\nQuestion: (.*)\n", prompt).groups()
            p = P_YES[question][LABELS.index(label)]
            return [_log(p), _log(1 - p)]
        said = re.fullmatch(r"Think of an animal that (.*)\. The animal is a", prompt).group(1)
        question, yes = self.facts[said]  # likelihood "label": p(label | fact) ∝ p(fact | label)
        return [_log(p if yes else 1 - p) for p in (P_YES[question][LABELS.index(c.strip())] for c in continuations)]


def expected(history, *, floor=0.0, temperature=1.0, prior=(0.25,) * 4) -> np.ndarray:
    """prior × Π clip(p(answer | label, question)) with the log-odds divided by the temperature."""
    logp = np.log(np.array(prior))
    for q, a in history:
        p = np.array(P_YES[q])
        with np.errstate(divide="ignore"):
            odds = np.log(np.clip(p, 1e-300, None)) - np.log(np.clip(1 - p, 1e-300, None))
        p = np.clip(1 / (1 + np.exp(-odds / temperature)), floor, 1 - floor)
        logp = logp + np.log(np.clip(p if a == "Yes." else 1 - p, 1e-300, None))
    p = np.exp(logp - logp.max())
    return p / p.sum()


def answers(**fields) -> PursuitConfig:
    return PursuitConfig(**{"posterior": "answers", "answer_floor": 0.0, **fields})


def test_yes_no_answers_and_facts():
    assert yes_no("Yes.") is True and yes_no(" no ") is False and yes_no("NO!") is False
    assert yes_no("No history of smoking.") is None and yes_no("maybe") is None
    assert fact("Is the animal black?", True) == "is black"
    assert fact("Is the animal black?", False) == "is not black"
    assert fact("Does the animal have stripes?", False) == "does not have stripes"
    assert fact("Can the animal fly?", False) == "cannot fly"
    assert fact("What does it eat?", True) == "answers yes to the question 'What does it eat?'"
    assert about("Is the animal black?", "zebra") == "Is a zebra black?"
    assert about("Does the animal have stripes?", "elephant") == "Does an elephant have stripes?"
    assert about("What does it eat?", "cow") == "About the cow: What does it eat?"


@pytest.mark.parametrize("likelihood", ["answer", "label", "question"])
def test_the_posterior_multiplies_the_answer_probabilities_with_the_prior(likelihood):
    post = make_posterior(TableScorer(), answers(likelihood=likelihood, answer_floor=0.01))
    assert isinstance(post, AnswerPosterior) and post.kind == "answers"
    history = (("Can the animal swim?", "No."), ("Is the animal furry?", "Yes."))
    assert post(PROBLEM, ()) == pytest.approx([0.25] * 4)  # the uniform prior
    assert post(PROBLEM, history) == pytest.approx(expected(history, floor=0.01))
    # "Does it bark? No." after the dog's answers: the floor keeps the dog (p = 0.05 -> 0.05) alive
    barkless = (*history, ("Does the animal bark?", "No."))
    assert post(PROBLEM, barkless) == pytest.approx(expected(barkless, floor=0.01))
    assert post(PROBLEM, barkless)[1] > 0
    soft = make_posterior(TableScorer(), answers(likelihood=likelihood, answer_temperature=2.0))
    assert soft(PROBLEM, history) == pytest.approx(expected(history, temperature=2.0))
    assert soft(PROBLEM, history).max() < post(PROBLEM, history).max()  # softer, as asked


def test_the_same_yes_no_answer_to_two_questions_counts_twice():
    post = make_posterior(TableScorer(), answers())
    history = (("Can the animal swim?", "No."), ("Can the animal fly?", "No."))
    assert post(PROBLEM, history) == pytest.approx(expected(history))


def test_the_floor_keeps_a_label_the_model_ruled_out():
    history = (("Can the animal fly?", "Yes."),)  # the model says a cat never flies (p = 0)
    hard = make_posterior(TableScorer(), answers())(PROBLEM, history)
    floored = make_posterior(TableScorer(), answers(answer_floor=0.05))(PROBLEM, history)
    assert hard[0] == pytest.approx(0.0, abs=1e-12) and floored[0] > 0.04
    assert floored == pytest.approx(expected(history, floor=0.05))


def test_the_model_is_asked_once_per_question_whatever_the_histories():
    scorer = TableScorer()
    post = make_posterior(scorer, answers(likelihood="label"))
    for q in QUERIES:
        for a in ("Yes.", "No."):
            post(PROBLEM, ((q, a),))
            post(PROBLEM, (("Can the animal swim?", "No."), (q, a)))
    assert post.scored == len(scorer.prompts) == 2 * len(QUERIES)  # a fact and its negation each
    per_label = TableScorer()
    view = make_posterior(per_label, answers(likelihood="answer"))
    view(PROBLEM, (("Is the animal furry?", "Yes."), ("Can the animal fly?", "No.")))
    view(PROBLEM, (("Can the animal fly?", "Yes."), ("Is the animal furry?", "No.")))
    assert view.scored == len(per_label.prompts) == 2 * len(LABELS)  # one call per (label, question)
    assert ANSWER_PROMPT.format(label="cat", question=QUERIES[2]) in per_label.prompts
    asked = TableScorer()
    chat = make_posterior(asked, answers(likelihood="question"))
    chat(PROBLEM, (("Is the animal furry?", "Yes."), ("Can the animal fly?", "No.")))
    chat(PROBLEM, (("Can the animal fly?", "Yes."),))
    assert chat.scored == len(asked.prompts) == 2 * len(LABELS)  # one chat turn per (label, question)
    assert "Is a cat furry?" in asked.prompts and "Can a bird fly?" in asked.prompts
    # a view on another backend shares the memo: nothing is asked again
    other = TableScorer()
    assert view.using(other)(PROBLEM, (("Can the animal fly?", "No."),)).sum() == pytest.approx(1)
    assert other.prompts == [] and view.using(other).scored == view.scored
    assert FACT_PROMPT.format(fact="is not furry") in scorer.prompts


def test_the_model_prior_is_the_direct_posterior_at_no_question():
    scorer = TableScorer()
    post = make_posterior(scorer, answers(prior="model"))
    history = (("Can the animal swim?", "No."),)
    assert post(PROBLEM, ()) == pytest.approx(MODEL_PRIOR)
    assert post(PROBLEM, history) == pytest.approx(expected(history, prior=MODEL_PRIOR))
    assert scorer.prompts.count("prior") == 1


def test_a_free_text_answer_counts_by_how_far_it_moves_the_labels():
    class Moves(ScriptedBackend):
        def score(self, prompt, continuations):  # type: ignore[override]
            text = prompt[-1]["content"]
            fever = "fever" in text
            return [2.0 if fever and c == "dog" else 0.0 for c in continuations]

    post = make_posterior(Moves(name="moves"), answers(answer_floor=0.2))
    p = post(PROBLEM, (("What are the symptoms?", "The patient has a fever."),))
    # the answer alone raises the dog by e^2 against the others; the floor caps the ratio at 0.8/0.2
    assert p[1] / p[0] == pytest.approx(4.0) and p[0] == pytest.approx(p[2])
    free = make_posterior(Moves(name="moves"), answers())(PROBLEM, (("Symptoms?", "A fever."),))
    assert free[1] / free[0] == pytest.approx(math.exp(2.0))
    # the same free-text answer to another question is the same observation: counted once
    again = make_posterior(Moves(name="moves"), answers())(PROBLEM, (("Symptoms?", "A fever."), ("Temperature?", "a  FEVER.")))
    assert again == pytest.approx(free)


def test_label_texts_are_what_is_scored_and_the_labels_what_is_predicted():
    """A multiple-choice problem scores each option's text (Problem.label_texts) but predicts its letter."""
    texts = ("Aspirin", "Heparin", "Warfarin")

    class Texts(ScriptedBackend):
        def __init__(self) -> None:
            super().__init__(name="texts")
            self.seen: list[list[str]] = []

        def score(self, prompt, continuations):  # type: ignore[override]
            self.seen.append(list(continuations))
            fever = "fever" in prompt[-1]["content"]
            return [{"Heparin": 1.0, "Warfarin": 3.0 if fever else 0.0}.get(c, 0.5) for c in continuations]

    choice = Problem(system="s", question="Which drug?", labels=("A", "B", "C"), label_texts=texts)
    scorer = Texts()
    direct = Posterior(scorer)(choice, ())
    assert scorer.seen == [list(texts)] and int(np.argmax(direct)) == 1
    post = make_posterior(scorer, answers(prior="model"))
    moved = post(choice, (("Symptoms?", "A fever."),))
    assert int(np.argmax(moved)) == 2 and all(seen == list(texts) for seen in scorer.seen)
    assert Problem(system="s", question="q", labels=("x", "y")).targets == ["x", "y"]
    for bad in (("one",), ("one", " "), ("a", "b", "c")):  # too few, a blank one, too many
        with pytest.raises(InvalidInput, match="label_texts: expected one non-empty text per label"):
            Problem(system="s", question="q", labels=("A", "B"), label_texts=bad)


def test_calibration_over_the_answers_posterior():
    post = make_posterior(TableScorer(), answers(answer_floor=0.05))
    thresholds = calibrate(
        TableScorer(), SAMPLES, QUERIES, alpha=0.1, lengths=[0, 1, 2], n_per_length=9, seed=3,
        posterior=post,
    )
    assert thresholds.posterior == "answers" and thresholds.at(0) == pytest.approx(-0.25)
    rng = np.random.default_rng(3)  # the reference's draws: a sample, then k distinct queries
    for k in (0, 1, 2):
        scores = []
        for _ in range(9):
            s = SAMPLES[int(rng.integers(len(SAMPLES)))]
            picked = rng.choice(len(QUERIES), size=k, replace=False)
            history = tuple((QUERIES[i], s.answerer.answer(QUERIES[i])) for i in picked)
            scores.append(-float(expected(history, floor=0.05)[s.label_index]))
        assert thresholds.at(k) == pytest.approx(conformal_quantile(scores, 0.1))
    direct = calibrate(TableScorer(), SAMPLES, QUERIES, alpha=0.1, lengths=[0], n_per_length=9)
    assert direct.posterior == "direct"
    # thresholds and posterior must agree: a clear error, before any model call
    task = PursuitTask(problem=PROBLEM, queries=QUERIES, samples=SAMPLES, answerer=SAMPLES[0].answerer)
    with pytest.raises(InvalidInput, match="calibrated on the 'direct' posterior"):
        run(task, backend=TableScorer(), config=answers(), thresholds=direct)
    with pytest.raises(InvalidInput, match="got a 'direct' posterior"):
        run(task, backend=TableScorer(), config=answers(), thresholds=thresholds,
            posterior=Posterior(TableScorer()))


def test_the_query_choice_weighs_candidates_with_the_same_posterior():
    config = answers(answer_floor=0.05, n_label_samples=16)
    post = make_posterior(TableScorer(), config)
    for method in ("ip", "cip"):
        cfg = config.model_copy(update={"method": method})
        thresholds = Thresholds(alpha=0.1, qhat=dict.fromkeys(range(6), -0.2), posterior="answers")
        query, objective = select_query(post, (), QUERIES, SAMPLES, cfg, thresholds)
        assert query != "Is the animal alive?"  # the answer every label gives alike tells nothing
        assert objective["Is the animal alive?"] == max(objective.values())
    # IP's objective is the mean entropy of this posterior after the drawn samples' answers
    _, ip = select_query(post, (), QUERIES, SAMPLES, config.model_copy(update={"method": "ip"}), None)
    p = expected((("Is the animal alive?", "Yes."),), floor=0.05)
    assert ip["Is the animal alive?"] == pytest.approx(float(-(p * np.log2(p)).sum()))


def test_cip_and_ip_find_every_animal_with_the_answers_posterior():
    config = answers(answer_floor=0.05, budget=4, n_label_samples=16, draw_labels_from="posterior")
    post = make_posterior(TableScorer(), config)
    thresholds = calibrate(
        TableScorer(), SAMPLES, QUERIES, alpha=0.1, lengths=range(5), n_per_length=20, posterior=post
    )
    for method in ("cip", "ip"):
        cfg = config.model_copy(update={"method": method})
        for i, label in enumerate(LABELS):
            task = PursuitTask(problem=PROBLEM, queries=QUERIES, samples=SAMPLES, answerer=SAMPLES[i].answerer)
            result = run(task, backend=TableScorer(), config=cfg, thresholds=thresholds, posterior=post)
            assert result.prediction == label
            assert "Is the animal alive?" not in [q for q, _ in result.history]
    context = pursuit_context(task, backend=TableScorer(), config=config, thresholds=thresholds)
    assert isinstance(context.posterior, AnswerPosterior)  # the config's posterior, built by the run
    assert post.scored == 2 * len(QUERIES)  # the whole game asked the model once per question


def test_bad_templates_are_clear_errors():
    post = make_posterior(TableScorer(), answers(likelihood="answer", answer_prompt="{animal}: {question}"))
    with pytest.raises(InvalidInput, match=r"answer_prompt: expected a template with only \{label\}, \{question\}"):
        post(PROBLEM, (("Can the animal fly?", "No."),))
