"""What conformal information pursuit works on: the problem, the task (problem, query bank, prior draws, who answers), the posterior.

Conformal information pursuit (Chan et al., 2025): `PursuitTask` is the input of `run`; `Posterior`
turns the backend's label log-probs into p(label | history), memoised per (problem, history).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ratiocinator.errors import InvalidInput

History = tuple[tuple[str, str], ...]


@dataclass(frozen=True, kw_only=True)
class Problem:
    """What the predictor sees besides the history: an instruction, the question, and the closed label set.

    `label_texts` are what the model's scores are taken of, one per label (None: the labels
    themselves): a multiple-choice label "B" can be scored as its option's text, which a small model
    reads better than a letter it must match to a list (BENCHMARKS-history.md, MediQ).
    """

    system: str
    question: str
    labels: tuple[str, ...]
    label_texts: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise InvalidInput(
                f"labels: expected at least two distinct labels, got {self.labels!r}"
            )
        if self.label_texts is not None:
            texts = tuple(self.label_texts)
            if len(texts) != len(self.labels) or not all(isinstance(t, str) and t.strip() for t in texts):
                raise InvalidInput(
                    f"label_texts: expected one non-empty text per label ({len(self.labels)}), got {texts!r}"
                )
            object.__setattr__(self, "label_texts", texts)

    @property
    def targets(self) -> list[str]:
        """The continuations scored for the labels, in label order: `label_texts`, else the labels."""
        return list(self.label_texts if self.label_texts is not None else self.labels)

    def messages(self, history: History) -> list[dict[str, str]]:
        if history:
            facts = "".join(f"{i}. {q} {a}\n" for i, (q, a) in enumerate(history, 1))
            info = f"Here is the information you have gathered.\n{facts}"
        else:
            info = "You have not gathered any information yet.\n"
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": f"{info}\n{self.question}"},
        ]


@runtime_checkable
class Answerer(Protocol):
    """Whoever answers the questions: a simulated user in evals, a function, a person through the graph."""

    def answer(self, query: str) -> str: ...


@dataclass(frozen=True)
class DictAnswerer:
    """Answers from a dataset's answer dictionary (query -> answers; the first is used)."""

    answers: Mapping[str, str | Sequence[str]]
    default: str | None = None  # for a query not in the dictionary; None: an InvalidInput

    def answer(self, query: str) -> str:
        value = self.answers.get(query)
        if value is None:
            if self.default is None:
                raise InvalidInput(f"answer dictionary: no answer for the query {query!r}")
            return self.default
        if isinstance(value, str):
            return value
        if not value:
            raise InvalidInput(f"answer dictionary: the answers to {query!r} are empty")
        return str(value[0])


@dataclass(frozen=True)
class FunctionAnswerer:
    """Answers through a plain function of the query."""

    fn: Callable[[str], str]

    def answer(self, query: str) -> str:
        return self.fn(query)


@dataclass(frozen=True, kw_only=True)
class Sample:
    """A draw from the prior: a problem, its true label and the answers it would give."""

    problem: Problem
    label: str
    answerer: Answerer
    queries: tuple[str, ...] | None = (
        None  # its own query set for calibration (None: the shared bank)
    )

    @property
    def label_index(self) -> int:
        try:
            return self.problem.labels.index(self.label)
        except ValueError:
            raise InvalidInput(
                f"sample label {self.label!r} is not one of {self.problem.labels!r}"
            ) from None


@dataclass(frozen=True, kw_only=True)
class PursuitTask:
    """One pursuit's input: the problem (with its label set), the query bank, draws from the prior, who answers.

    `answerer` answers each question (an `Answerer` or a plain function of the query); None only for
    `drive`, where a person answers through LangGraph's `interrupt()`. `samples` are the prior draws
    that query selection simulates answers with (C-IP and IP need at least one).
    """

    problem: Problem
    queries: tuple[str, ...]
    samples: tuple[Sample, ...] = ()
    answerer: Answerer | Callable[[str], str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "queries", tuple(self.queries))
        object.__setattr__(self, "samples", tuple(self.samples))
        if len(set(self.queries)) != len(self.queries):
            raise InvalidInput("queries: the query bank holds duplicates")
        if self.answerer is not None and not isinstance(self.answerer, Answerer):
            if not callable(self.answerer):
                raise InvalidInput(
                    f"answerer: expected an Answerer or a function of the query, got {self.answerer!r}"
                )
            object.__setattr__(self, "answerer", FunctionAnswerer(self.answerer))


class Posterior:
    """p(label | history) from the backend's label log-probs, memoised per (problem, history).

    `using(backend)` is a view on another backend (a run's counting one) that shares the memo, so a
    benchmark can keep one memo across runs while each run counts the calls it makes. This is the
    reference's "direct" posterior; answers.AnswerPosterior is the one that multiplies the answers.
    """

    kind = "direct"

    def __init__(
        self, backend: Any, memo: dict[tuple[Problem, History], np.ndarray] | None = None
    ) -> None:
        self.backend = backend
        self.memo: dict[tuple[Problem, History], np.ndarray] = {} if memo is None else memo

    @property
    def scored(self) -> int:
        """The distinct histories scored (one `backend.score` call each), by this posterior and its views."""
        return len(self.memo)

    def using(self, backend: Any) -> Posterior:
        """The same memo, scoring misses on `backend`."""
        return Posterior(backend, self.memo)

    def __call__(self, problem: Problem, history: History) -> np.ndarray:
        key = (problem, tuple(history))
        if key not in self.memo:
            logp = np.asarray(
                self.backend.score(problem.messages(history), problem.targets), dtype=float
            )
            if logp.shape != (len(problem.labels),) or not np.all(np.isfinite(logp)):
                raise InvalidInput(
                    f"backend.score: expected {len(problem.labels)} finite log-probs, got {logp!r}"
                )
            p = np.exp(logp - logp.max())
            self.memo[key] = p / p.sum()
        return self.memo[key]
