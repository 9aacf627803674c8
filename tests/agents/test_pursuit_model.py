"""Conformal information pursuit on the real embedded model (tiny), and the shared-prompt scoring it relies on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ratiocinator.agents.pursuit import (
    DictAnswerer,
    Posterior,
    Problem,
    PursuitConfig,
    PursuitTask,
    Sample,
    calibrate,
    run,
)
from ratiocinator.models.backend import normalize_prompts

pytestmark = pytest.mark.slow

LABELS = ("cat", "dog", "fish", "bird")
TRUTH = {
    "Does the animal swim?": {"cat": "No.", "dog": "No.", "fish": "Yes.", "bird": "No."},
    "Does the animal bark?": {"cat": "No.", "dog": "Yes.", "fish": "No.", "bird": "No."},
    "Does the animal fly?": {"cat": "No.", "dog": "No.", "fish": "No.", "bird": "Yes."},
}
PROBLEM = Problem(
    system="You are playing 20 questions. The animal is one of: cat, dog, fish, bird.",
    question="Which animal is it? Answer with the name of the animal only.",
    labels=LABELS,
)


def test_shared_prompt_scoring_equals_scoring_each_sequence(smollm):
    prompt = PROBLEM.messages((("Does the animal swim?", "Yes."),))
    (item,) = normalize_prompts(prompt)
    ids = smollm.encode(item)
    conts = [
        smollm.tokenizer(c, add_special_tokens=False)["input_ids"]
        for c in (*LABELS, "a goldfish in a bowl")
    ]
    with torch.inference_mode():
        shared, full = smollm._score_shared(ids, conts), smollm._score_full(ids, conts)
    assert shared == pytest.approx(full, abs=1e-3)
    assert smollm.score(prompt, list(LABELS)) == pytest.approx(full[:4], abs=1e-3)


def test_pursuit_on_qwen_asks_one_question_and_predicts_a_label(qwen):
    samples = [
        Sample(problem=PROBLEM, label=y, answerer=DictAnswerer({q: a[y] for q, a in TRUTH.items()}))
        for y in LABELS
    ]
    post = Posterior(qwen)
    thresholds = calibrate(
        qwen, samples, list(TRUTH), alpha=0.1, lengths=[0, 1], n_per_length=9, posterior=post
    )
    assert all(-1.0 <= q <= 0.0 for q in thresholds.qhat.values())
    swims = post(PROBLEM, (("Does the animal swim?", "Yes."),))
    assert not np.allclose(
        swims, post(PROBLEM, ())
    )  # the answer reaches the prompt and moves the posterior
    config = PursuitConfig(budget=1, n_label_samples=4, stop_on_singleton=False)
    calibrated = post.scored
    result = run(
        PursuitTask(
            problem=PROBLEM, queries=list(TRUTH), samples=samples, answerer=samples[2].answerer
        ),
        backend=qwen,
        config=config,
        thresholds=thresholds,
        posterior=post,
    )
    assert result.stop_reason == "budget_spent" and len(result.history) == 1
    assert result.history[0][0] in TRUTH and result.prediction in LABELS
    assert len(result.trace) == 2 and sum(result.probs) == pytest.approx(1.0)
    assert post.scored <= 1 + 2 * len(TRUTH)  # memoised: each distinct history is scored once
    # the run's usage counts the score calls it made (the histories calibration had not scored)
    assert result.usage.calls == post.scored - calibrated
    assert result.verdict.status in ("unverified", "gave_up") and "90% coverage" in result.verdict.reason
