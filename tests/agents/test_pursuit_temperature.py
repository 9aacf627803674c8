"""Temperature scaling of the answers posterior (agents/pursuit/temperature.py) on a scripted scorer whose prior is confidently wrong."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ratiocinator.agents.pursuit import DictAnswerer, Problem, PursuitConfig, Sample, make_posterior
from ratiocinator.agents.pursuit.conformal import calibration_histories
from ratiocinator.agents.pursuit.temperature import TemperatureFit, fit_temperatures
from ratiocinator.errors import InvalidInput
from ratiocinator.models.scripted import ScriptedBackend

LABELS = ("cat", "dog", "fish", "bird")
QUERIES = ("What does it eat?", "Where does it live?", "How does it move?")


class Overconfident(ScriptedBackend):
    """Scores "cat" 6 nats above the rest after the bare case; an answer naming a label raises it by 2."""

    def __init__(self) -> None:
        super().__init__(name="overconfident")
        self.calls = 0

    def score(self, prompt, continuations):  # type: ignore[override]
        self.calls += 1
        text = prompt[-1]["content"]
        named = "gathered any" not in text
        return [(6.0 if c == "cat" else 0.0) + (2.0 if named and f"a {c}." in text else 0.0) for c in continuations]


def _samples() -> list[Sample]:
    """One case per label; every answer names the case's label ("...: it is like a dog.")."""
    return [
        Sample(
            problem=Problem(system="Guess the animal.", question=f"Case {i}: which animal?", labels=LABELS),
            label=y,
            answerer=DictAnswerer({q: f"Asked {q.lower()!r}: it is like a {y}." for q in QUERIES}),
            queries=QUERIES,
        )
        for i, y in enumerate(LABELS)
    ]


def _config(**fields) -> PursuitConfig:
    return PursuitConfig(posterior="answers", prior="model", answer_floor=0.0, **fields)


def test_the_prior_temperature_flattens_the_models_prior():
    problem = _samples()[1].problem
    p1 = make_posterior(Overconfident(), _config())(problem, ())
    p2 = make_posterior(Overconfident(), _config(prior_temperature=2.0))(problem, ())
    assert p1[0] / p1[1] == pytest.approx(math.exp(6.0))
    assert p2[0] / p2[1] == pytest.approx(math.exp(3.0)) and p2.sum() == pytest.approx(1.0)
    history = (("What does it eat?", "It is like a dog."),)
    moved = make_posterior(Overconfident(), _config(prior_temperature=6.0))(problem, history)
    assert int(np.argmax(moved)) == 1  # e^(6/6) for the cat against e^2 for the dog the answer names
    assert int(np.argmax(make_posterior(Overconfident(), _config())(problem, history))) == 0


def test_the_fit_lets_the_answers_decide_when_the_prior_is_wrong():
    scorer = Overconfident()
    post = make_posterior(scorer, _config())
    histories = [(s, h) for _, s, h in calibration_histories(_samples(), QUERIES, lengths=[0, 1, 2, 3],
                                                             n_per_length=8, seed=0)]
    fit = fit_temperatures(post, histories)
    assert isinstance(fit, TemperatureFit) and fit.histories == 32
    assert fit.prior_temperature > 1.0 and fit.nll < fit.nll_unscaled
    assert fit.accuracy > fit.accuracy_unscaled
    # every grid point reuses the model's scores: one prior per case, one call per distinct answer heard
    heard = {(s.problem, q) for s, h in histories for q, _ in h}
    assert scorer.calls == len(LABELS) + len(heard)
    assert post.scored == scorer.calls
    assert set(fit.to_json()) == {"prior_temperature", "answer_temperature", "nll", "accuracy",
                                  "nll_unscaled", "accuracy_unscaled", "histories"}


def test_the_fit_keeps_the_unscaled_posterior_when_the_grid_allows_nothing_else():
    post = make_posterior(Overconfident(), _config())
    histories = [(s, ()) for s in _samples()]
    fit = fit_temperatures(post, histories, prior_grid=[1.0], answer_grid=[1.0])
    assert (fit.prior_temperature, fit.answer_temperature) == (1.0, 1.0)
    assert fit.nll == pytest.approx(fit.nll_unscaled) and fit.accuracy == fit.accuracy_unscaled == 0.25


def test_ties_go_to_the_temperatures_nearest_one():
    """Without answers and with a uniform prior no temperature changes anything: the fit is (1, 1)."""
    post = make_posterior(Overconfident(), PursuitConfig(posterior="answers", prior="uniform"))
    fit = fit_temperatures(post, [(s, ()) for s in _samples()])
    assert (fit.prior_temperature, fit.answer_temperature) == (1.0, 1.0)


def test_bad_fits_are_clear_errors():
    post = make_posterior(Overconfident(), _config())
    with pytest.raises(InvalidInput, match="at least one held-out history"):
        fit_temperatures(post, [])
    with pytest.raises(InvalidInput, match="temperatures > 0"):
        fit_temperatures(post, [(_samples()[0], ())], prior_grid=[0.0, 1.0])
    with pytest.raises(InvalidInput, match="empty grid"):
        fit_temperatures(post, [(_samples()[0], ())], answer_grid=[])
