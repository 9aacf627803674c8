"""Conformal information pursuit's config: the policy, the posterior, α, the question budget and the draws.

Paper: "Conformal Information Pursuit for Interactively Guiding Large Language Models" (Chan et al.,
2025; reference code ryanchankh/Conformal-IP). `method` chooses the policy: "cip" (conformal
information pursuit), "ip" (information pursuit, the paper's baseline) or "direct" (ask nothing).
`posterior` chooses p(label | history): "answers" multiplies the model's per-(label, question)
probabilities of the observed answers with the prior (answers.py); "direct" is the reference's, the
model's label scores after the whole history prompt (types.Posterior).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ratiocinator.kit import IDENTITY_WHEN_SET, MethodConfig

#: how the next question is chosen: the least expected prediction-set-size bound (C-IP), the least
#: posterior entropy (IP), or no question at all (direct prediction)
PursuitMethod = Literal["cip", "ip", "direct"]

#: p(label | history): "answers" (prior x the model's p(answer | label, question) per history entry)
#: or "direct" (the reference's: the model's label scores after the history prompt)
PosteriorKind = Literal["answers", "direct"]

#: how "answers" gets p(answer | label, question): "answer" scores the answer after a prompt naming
#: the label; "label" scores the labels after the answer stated as a fact and after its negation
#: (Bayes: p(yes | y, q) = p(y | q, yes) / (p(y | q, yes) + p(y | q, no)), equal prior on yes/no);
#: "question" asks the model the question about the label in its chat format ("Is a zebra black?")
#: and scores "Yes" / "No" as its reply
LikelihoodKind = Literal["answer", "label", "question"]

ANSWER_PROMPT = (
    "Answer the question about the {label} with yes or no.\nQuestion: {question}\nAnswer:"
)
FACT_PROMPT = "Think of an animal that {fact}. The animal is a"
QUESTION_SYSTEM = "Answer the question with yes or no."


class PursuitConfig(MethodConfig):
    """Conformal information pursuit (Chan et al., 2025): α = 0.1 and 20 questions as in the paper, 64 draws.

    64 sampled labels per query is the reference code's default (ryanchankh/Conformal-IP); its 20Q
    scripts draw 4, with which the size bound ranks queries poorly (bench/pursuit_truthful.py: C-IP
    0.60 vs IP 1.00 after six questions with 4 draws, 0.95 vs 1.00 with 64). Draws are cheap:
    posteriors are memoised per history, and the draws of one query lead to few distinct histories.
    """

    paper: ClassVar[str] = (
        "Chan et al. 2025, Conformal Information Pursuit for Interactively Guiding Large Language "
        "Models"
    )

    method: PursuitMethod = Field(
        "cip",
        description="cip: conformal information pursuit (least expected prediction-set-size bound); "
        "ip: information pursuit, the baseline (least posterior entropy); direct: ask nothing",
    )
    alpha: float = Field(
        0.1, gt=0, lt=1, description="miscoverage: prediction sets cover the true label 1-α of the time"
    )
    budget: int = Field(20, ge=0, description="most questions asked")
    n_label_samples: int = Field(
        64, ge=1, description="labels drawn to simulate each candidate query's answer"
    )
    draw_labels_from: Literal["prior", "posterior"] = Field(
        "prior",
        description="prior: uniformly from the samples (the reference's 20Q scripts); posterior: in "
        "proportion to p(sample's label | history) under the sample's own problem (the expectation "
        "given the history that the paper's bound is about)",
    )
    n_candidate_queries: int | None = Field(
        None, ge=1, description="unasked queries weighed per step, drawn at random (None: all)"
    )
    stop_on_singleton: bool = Field(
        True, description="stop once the prediction set holds one label (needs thresholds)"
    )
    seed: int = Field(
        0, description="the draws of a step come from a generator seeded by seed and the history"
    )
    posterior: PosteriorKind = Field(
        "direct",
        description="answers: prior x the model's p(observed answer | label, question) over the "
        "history (computed once per label and question; the benchmarks' default); direct: the "
        "reference's, the model's label scores after the whole history prompt",
    )
    likelihood: LikelihoodKind = Field(
        "label",
        description="answers posterior: 'answer' scores yes/no after answer_prompt naming the label; "
        "'label' scores every label after fact_prompt states the answer and after its negation; "
        "'question' asks the question about the label as a chat turn and scores Yes / No as the reply",
    )
    prior: Literal["uniform", "model"] = Field(
        "uniform",
        description="answers posterior: the prior over labels, uniform or the model's label scores "
        "after the empty history (the direct posterior at no question)",
    )
    answer_floor: float = Field(
        0.05,
        ge=0,
        lt=0.5,
        description="answers posterior: p(answer | label, question) is clipped to [floor, 1 - floor], "
        "so one answer the model got wrong cannot rule the true label out",
    )
    answer_temperature: float = Field(
        1.0, gt=0, description="answers posterior: the yes/no log-odds are divided by it (>1: softer)"
    )
    prior_temperature: float = Field(
        1.0,
        gt=0,
        json_schema_extra=IDENTITY_WHEN_SET,
        description="answers posterior with prior 'model': the model's label log-scores are divided by it "
        "before they are normalised (>1: a flatter prior that the answers can move)",
    )
    answer_prompt: str = Field(
        ANSWER_PROMPT,
        description="likelihood 'answer': the prompt after which ' yes' and ' no' are scored "
        "({label}, {question})",
    )
    fact_prompt: str = Field(
        FACT_PROMPT,
        description="likelihood 'label': the prompt after which ' <label>' is scored ({fact}: the "
        "question and answer stated as a fact, e.g. 'does not have stripes')",
    )
    question_system: str = Field(
        QUESTION_SYSTEM,
        description="likelihood 'question': the system turn before the question about the label",
    )
