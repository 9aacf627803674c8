"""The answers posterior of conformal information pursuit on the embedded 0.5B (llama.cpp): one real 20 Questions animal."""

from __future__ import annotations

import pytest

from ratiocinator import datadirs
from ratiocinator.agents.pursuit import (
    AnswerPosterior,
    PursuitConfig,
    PursuitTask,
    calibrate,
    make_posterior,
    run,
)
from ratiocinator.evals.benchmarks.pursuit import PursuitOptions, TwentyQuestions

pytestmark = pytest.mark.slow

QUESTIONS = (
    "Does the animal live in the ocean?",
    "Does the animal eat plankton?",
    "Does the animal have stripes?",
    "Does the animal have a long neck?",
    "Is the animal furry?",
    "Does the animal have hooves?",
)


def test_one_animal_of_20_questions_on_the_05b(qwen_llamacpp):
    game = TwentyQuestions(PursuitOptions(), datadirs.holding("pursuit/20q"))
    samples, bank = game.calibration_samples()
    assert set(QUESTIONS) <= set(bank)
    config = PursuitConfig(
        posterior="answers", budget=3, n_label_samples=16, draw_labels_from="posterior"
    )
    post = make_posterior(qwen_llamacpp, config)
    thresholds = calibrate(
        qwen_llamacpp, samples, QUESTIONS, lengths=range(4), n_per_length=9, posterior=post
    )
    assert isinstance(post, AnswerPosterior) and thresholds.posterior == "answers"
    assert post.scored == 2 * len(QUESTIONS)  # a fact and its negation per question, all labels at once
    whale = next(item for item in game.items() if item.id == "blue whale")
    problem, _, answerer, _ = game.case(whale)
    ocean = post(problem, (("Does the animal live in the ocean?", "Yes."),))
    assert not ocean.max() == pytest.approx(ocean.min())  # the answer moves the posterior
    task = PursuitTask(problem=problem, queries=QUESTIONS, samples=samples, answerer=answerer)
    result = run(task, backend=qwen_llamacpp, config=config, thresholds=thresholds, posterior=post)
    assert 1 <= len(result.history) <= 3 and result.prediction in problem.labels
    assert result.usage.calls == 0  # calibration asked the model every question already
    assert result.verdict.status in ("unverified", "gave_up") and "90% coverage" in result.verdict.reason


def test_the_question_likelihood_asks_each_animal_in_the_chat_turn(qwen_llamacpp):
    game = TwentyQuestions(PursuitOptions(), datadirs.holding("pursuit/20q"))
    whale = next(item for item in game.items() if item.id == "blue whale")
    problem, _, _, _ = game.case(whale)
    post = make_posterior(qwen_llamacpp, PursuitConfig(posterior="answers", likelihood="question"))
    odds = post.log_odds(problem, "Does the animal live in the ocean?")
    assert post.scored == len(problem.labels)  # one chat turn per animal for the question
    assert odds.shape == (len(problem.labels),) and all(abs(v) < 50 for v in odds)
    assert not odds.max() == pytest.approx(odds.min())  # the animals' replies differ
    ocean = post(problem, (("Does the animal live in the ocean?", "Yes."),))
    assert ocean.sum() == pytest.approx(1.0) and not ocean.max() == pytest.approx(ocean.min())
