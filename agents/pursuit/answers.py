"""The answers posterior: p(label | history) ∝ prior(label) × Π p(observed answer | label, question), from the model's per-(label, question) answer probabilities.

Conformal information pursuit (Chan et al., 2025) needs a posterior that moves with the answers; a
small model asked for the label after the whole history ignores them (the reference's "direct"
posterior, types.Posterior). Here the model judges one (question, answer) at a time:
- likelihood "answer": p(yes | y, q) from the scores of " yes" and " no" after `answer_prompt`
  naming the label (normalised over the two answers), one call per (label, question);
- likelihood "label": p(yes | y, q) = p(y | q, yes) / (p(y | q, yes) + p(y | q, no)) — Bayes with
  an even prior on the two answers — from the scores of every label after `fact_prompt` stating the
  answer and its negation ("is black" / "is not black"), one call per (question, answer) for all
  labels (the prompt is computed once and shared among the label continuations);
- likelihood "question": p(yes | y, q) from the scores of "Yes" and "No" as the model's chat reply to
  the question asked about the label ("Is the animal black?" -> "Is a zebra black?"), one call per
  (label, question). A model's chat turn is where an instruct model answers questions; Qwen2.5-Coder
  1.5B separates the 20 Questions set's yes from no with AUC 0.78 this way against 0.73 for "label"
  (0.54 vs 0.64 for the 0.5B; BENCHMARKS-history.md, scored decisions).
The yes/no log-odds are divided by `answer_temperature` and p is clipped to [floor, 1 - floor]. A
free-text answer (MediQ's simulated patient) counts through the ratio p(y | that entry alone) /
p(y | no entry) of the model's label scores, with the same floor on the ratio between labels; the
same free-text answer heard again (to another question) counts once: it is one observation.
Everything the model says is computed once per (problem, question[, answer]) and memoised; the
history's posterior is a sum of memoised log-likelihoods (no model call once they are known).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ratiocinator.agents.pursuit.config import PursuitConfig
from ratiocinator.agents.pursuit.types import History, Posterior, Problem
from ratiocinator.errors import InvalidInput
from ratiocinator.models.types import Message

_YES_NO = re.compile(r"^\W*(yes|no)\W*$", re.I)
_QUESTION = re.compile(r"^\s*(is|are|does|do|can|has|have)\s+the\s+\w+\s+(.*?)\s*\?\s*$", re.I)


def yes_no(answer: str) -> bool | None:
    """True for the answer "yes" (any case and punctuation), False for "no", None for anything else."""
    m = _YES_NO.match(answer)
    return None if m is None else m.group(1).lower() == "yes"


def fact(question: str, yes: bool) -> str:
    """A yes/no question's answer as a verb phrase: "Is the animal black?" -> "is not black" (no)."""
    m = _QUESTION.match(question)
    if m is None:
        return f"answers {'yes' if yes else 'no'} to the question {question.strip()!r}"
    verb, rest = m.group(1).lower(), m.group(2)
    if verb == "can":
        return f"{'can' if yes else 'cannot'} {rest}"
    return f"{verb} {rest}" if yes else f"{verb} not {rest}"


def about(question: str, label: str) -> str:
    """The question asked of the label itself: "Is the animal black?" + zebra -> "Is a zebra black?"."""
    m = _QUESTION.match(question)
    if m is None:
        return f"About the {label}: {question.strip()}"
    article = "an" if label[:1].lower() in "aeiou" else "a"
    verb = question.strip().split(None, 1)[0]
    return f"{verb} {article} {label} {m.group(2)}?"


def _finite(logp: Any, n: int, where: str) -> np.ndarray:
    out = np.asarray(logp, dtype=float)
    if out.shape != (n,) or not np.all(np.isfinite(out)):
        raise InvalidInput(f"backend.score ({where}): expected {n} finite log-probs, got {out!r}")
    return out


def _log_normalise(logp: np.ndarray) -> np.ndarray:
    shifted = logp - logp.max()
    return shifted - np.log(np.exp(shifted).sum())


class AnswerPosterior(Posterior):
    """p(label | history) = prior × Π p(answer | label, question), normalised; the model's parts memoised.

    `using(backend)` is a view scoring misses on another backend (a run's counting one) that shares
    every memo; `scored` counts the score calls made by this posterior and its views.
    """

    kind = "answers"

    def __init__(self, backend: Any, config: PursuitConfig, shared: dict[str, Any] | None = None) -> None:
        super().__init__(backend, None if shared is None else shared["memo"])
        self.config = config
        self.shared = shared if shared is not None else {
            "memo": self.memo, "odds": {}, "free": {}, "prior": {}, "calls": [0]}

    @property
    def scored(self) -> int:
        return self.shared["calls"][0]

    def using(self, backend: Any) -> AnswerPosterior:
        return AnswerPosterior(backend, self.config, self.shared)

    def with_temperatures(self, prior: float, answer: float) -> AnswerPosterior:
        """The same memoised model scores under other prior and answer temperatures (its own posterior memo)."""
        config = self.config.model_copy(update={"prior_temperature": prior, "answer_temperature": answer})
        return AnswerPosterior(self.backend, config, {**self.shared, "memo": {}})

    def _score(self, prompt: Any, continuations: list[str], where: str) -> np.ndarray:
        self.shared["calls"][0] += 1
        return _finite(self.backend.score(prompt, continuations), len(continuations), where)

    def __call__(self, problem: Problem, history: History) -> np.ndarray:
        key = (problem, tuple(history))
        if key not in self.memo:
            logp = self.log_prior(problem)
            heard: set[str] = set()
            for question, answer in history:
                if yes_no(answer) is None:  # a free-text answer heard before is the same observation again
                    said = " ".join(answer.split()).lower()
                    if said in heard:
                        continue
                    heard.add(said)
                logp = logp + self.log_likelihood(problem, question, answer)
            self.memo[key] = np.exp(_log_normalise(logp))
        return self.memo[key]

    def log_prior(self, problem: Problem) -> np.ndarray:
        """log p(label): uniform, or the model's label scores after the empty history (config.prior), divided
        by config.prior_temperature."""
        n = len(problem.labels)
        if self.config.prior == "uniform":
            return np.full(n, -np.log(n))
        scaled = self._model_prior(problem) / self.config.prior_temperature
        return scaled if self.config.prior_temperature == 1.0 else _log_normalise(scaled)

    def _model_prior(self, problem: Problem) -> np.ndarray:
        """The model's log p(label) after the empty history, asked once per problem."""
        if problem not in self.shared["prior"]:
            logp = self._score(problem.messages(()), problem.targets, "the empty history")
            self.shared["prior"][problem] = _log_normalise(logp)
        return self.shared["prior"][problem]

    def log_likelihood(self, problem: Problem, question: str, answer: str) -> np.ndarray:
        """log p(answer | label, question) per label (up to a constant for a free-text answer)."""
        said = yes_no(answer)
        floor = self.config.answer_floor
        if said is None:
            ratio = self._free_text(problem, question, answer) / self.config.answer_temperature
            if floor > 0:
                ratio = np.maximum(ratio, ratio.max() + np.log(floor / (1 - floor)))
            return ratio
        odds = self.log_odds(problem, question) / self.config.answer_temperature
        logp = -np.logaddexp(0.0, -odds if said else odds)  # log sigmoid, stable at any odds
        return np.clip(logp, np.log(floor), np.log1p(-floor)) if floor > 0 else logp

    def log_odds(self, problem: Problem, question: str) -> np.ndarray:
        """log p(yes | label, question) - log p(no | label, question) per label, as the model says."""
        key = (problem, question, self.config.likelihood)
        if key not in self.shared["odds"]:
            if self.config.likelihood == "label":
                self.shared["odds"][key] = self._label_odds(problem, question)
            elif self.config.likelihood == "question":
                self.shared["odds"][key] = self._question_odds(problem, question)
            else:
                self.shared["odds"][key] = self._answer_odds(problem, question)
        return self.shared["odds"][key]

    def known_odds(self, problem: Problem) -> dict[str, list[float]]:
        """The yes/no log-odds asked of the model so far for `problem`, per question (to save and reload)."""
        like = self.config.likelihood
        return {q: v.tolist() for (p, q, k), v in self.shared["odds"].items() if p == problem and k == like}

    def add_odds(self, problem: Problem, odds: dict[str, list[float]]) -> None:
        """Log-odds per question from an earlier run of the same model and prompts (`known_odds`)."""
        for question, values in odds.items():
            value = _finite(values, len(problem.labels), f"saved log-odds of {question!r}")
            self.shared["odds"][(problem, question, self.config.likelihood)] = value

    def _label_odds(self, problem: Problem, question: str) -> np.ndarray:
        labels = [f" {y}" for y in problem.targets]
        said = {}
        for yes in (True, False):
            prompt = _fill(self.config.fact_prompt, "fact_prompt", fact=fact(question, yes))
            said[yes] = self._score(prompt, labels, f"the labels after {prompt!r}")
        return said[True] - said[False]

    def _answer_odds(self, problem: Problem, question: str) -> np.ndarray:
        odds = []
        for label in problem.targets:
            prompt = _fill(self.config.answer_prompt, "answer_prompt", label=label, question=question)
            yes, no = self._score(prompt, [" yes", " no"], f"yes/no after {prompt!r}")
            odds.append(yes - no)
        return np.array(odds)

    def _question_odds(self, problem: Problem, question: str) -> np.ndarray:
        odds = []
        for label in problem.targets:
            asked = about(question, label)
            turns = [Message(role="system", content=self.config.question_system),
                     Message(role="user", content=asked)]
            yes, no = self._score(turns, ["Yes", "No"], f"Yes/No after {asked!r}")
            odds.append(yes - no)
        return np.array(odds)

    def _free_text(self, problem: Problem, question: str, answer: str) -> np.ndarray:
        """log p(y | this entry alone) - log p(y | no entry): how far the answer moves each label."""
        key = (problem, question, answer)
        if key not in self.shared["free"]:
            alone = self._score(problem.messages(((question, answer),)), problem.targets, "a free-text answer")
            self.shared["free"][key] = _log_normalise(alone) - self._model_prior(problem)
        return self.shared["free"][key]


def _fill(template: str, name: str, **values: str) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise InvalidInput(
            f"{name}: expected a template with only {{{'}, {'.join(values)}}} fields, got {template!r} ({exc})"
        ) from None


def make_posterior(backend: Any, config: PursuitConfig) -> Posterior:
    """The config's posterior on `backend`: the answers posterior, or the reference's direct one."""
    return AnswerPosterior(backend, config) if config.posterior == "answers" else Posterior(backend)
