"""Conformal information pursuit (Chan et al., 2025) and its baseline IP: ask questions until the prediction set is one label.

    from ratiocinator.agents.pursuit import PursuitConfig, PursuitTask, calibrate, make_posterior, run
    config = PursuitConfig(posterior="answers")
    thresholds = calibrate(backend, cal_samples, bank, lengths=range(21), n_per_length=20,
                           posterior=make_posterior(backend, config))
    result = run(PursuitTask(problem=problem, queries=bank, samples=prior, answerer=answers),
                 backend=backend, config=config, thresholds=thresholds)
    result.prediction, result.prediction_set, result.history, result.verdict

The posterior is the config's: "answers" (the benchmarks'; the prior times the model's
p(answer | label, question) per history entry, answers.py) or "direct" (the reference's, the
default).
`fit_temperatures(posterior, held_out_histories)` fits the answers posterior's prior and answer
temperatures (temperature.py; the benchmarks' `fit_temperatures` option).
`PursuitConfig(method="ip")` is information pursuit (the paper's baseline); `drive(task, ask, ...)`
lets a person answer through LangGraph's `interrupt()` (the `ratiocinator pursue` command).
"""

from ratiocinator.agents.pursuit.answers import AnswerPosterior, about, fact, make_posterior, yes_no
from ratiocinator.agents.pursuit.config import PursuitConfig, PursuitMethod
from ratiocinator.agents.pursuit.conformal import (
    Thresholds,
    calibrate,
    calibration_histories,
    conformal_quantile,
    entropy,
    min_calibration_samples,
    prediction_set,
    size_bound,
)
from ratiocinator.agents.pursuit.graph import build_graph, check_inputs, drive, pursuit_context, run
from ratiocinator.agents.pursuit.nodes import PursuitContext, PursuitState
from ratiocinator.agents.pursuit.policy import select_query
from ratiocinator.agents.pursuit.result import PursuitResult, StopReason
from ratiocinator.agents.pursuit.temperature import TemperatureFit, fit_temperatures
from ratiocinator.agents.pursuit.types import (
    Answerer,
    DictAnswerer,
    FunctionAnswerer,
    History,
    Posterior,
    Problem,
    PursuitTask,
    Sample,
)

__all__ = [
    "AnswerPosterior",
    "Answerer",
    "DictAnswerer",
    "FunctionAnswerer",
    "History",
    "Posterior",
    "Problem",
    "PursuitConfig",
    "PursuitContext",
    "PursuitMethod",
    "PursuitResult",
    "PursuitState",
    "PursuitTask",
    "Sample",
    "StopReason",
    "TemperatureFit",
    "Thresholds",
    "about",
    "build_graph",
    "calibrate",
    "calibration_histories",
    "check_inputs",
    "conformal_quantile",
    "drive",
    "entropy",
    "fact",
    "fit_temperatures",
    "make_posterior",
    "min_calibration_samples",
    "prediction_set",
    "pursuit_context",
    "run",
    "select_query",
    "size_bound",
    "yes_no",
]
