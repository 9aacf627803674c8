"""CQoT's prompts (worded as in the reference code, FCast07/CQoT) and the schema of the eight Yes/No answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

#: The eight critical questions, worded as in the reference code (FCast07/CQoT, `assess_plan`).
CRITICAL_QUESTIONS: tuple[str, ...] = (
    "Does the reasoning process start with clearly defined premises?",
    "Are the premises supported by evidence or accepted facts?",
    "Does the reasoning process use logical connections between premises and conclusions?",
    "Are the logical connections used in the reasoning process valid?",
    "Does the reasoning process avoid fallacies or logical errors?",
    "Is the conclusion logically derived from the premises?",
    "Is the reasoning process consistent with established knowledge or principles?",
    "Does the reasoning process lead to a conclusion that is plausible and reasonable?",
)

PLAN_SYSTEM = (
    "You are a critical and analytical reasoner. Carefully read the user prompt. Instead of replying, "
    "provide your step by step reasoning, clearly dividing and outlining the different steps. Each step "
    "must be very specific, easy to follow and the set of premises should logically lead to a truthful "
    "conclusion. Do NOT provide the final answer (but don't write down 'do not provide the final answer' "
    "in the reasoning process)."
)
PLAN_REMINDER = " Remember not to provide the final answer, just spell out the reasoning plan."
ASSESS_SYSTEM = (
    "You are an analytical and critical reasoner. Assess the provided reasoning steps against the "
    "following questions using the user prompt as a context. Reply simply with 'Yes' or 'No' for each "
    "question. Be very strict and strongly critical and answer 'No' when in doubts. Do NOT answer or "
    "reply to anything else than this.\n"
    + "\n".join(f"{i}.{q}" for i, q in enumerate(CRITICAL_QUESTIONS, 1))
)
ASSESS_REMINDER = (
    " Remember: you MUST reply to EACH question. The replies should be ONLY 'Yes' or 'No'"
)
ANSWER_SYSTEM = (
    "You are a skilled, critical and analytical reasoner. You always reason in steps according to the "
    "provided instruction. Give an answer to the user prompt by utterly and strictly following the "
    "protocol established by the reasoning steps. Here are the stages of what you have to do:\n"
    "1) Carefully read and understand the protocol detailed by the reasoning steps. Then, start your "
    "reasoning.\n"
    "2) Each intermediate conclusion of your reasoning MUST be yielded by the truthfulness of its "
    "respective premises.\n"
    "3) Each established conclusion MUST NOT contradict other information. After each step, look back "
    "at previous steps and check that you are not contradicting what you previously deduced.\n"
    "4) Your final reply MUST be logically entailed by the reasoning steps and each established "
    "conclusion. Meticulously ensure that your reply is consistent with your reasoning."
)

YesNo = Literal["Yes", "No"]


class CriticalAnswers(BaseModel):
    """The constrained reply to the eight critical questions (q1..q8, each "Yes" or "No").

    Decoded under this schema, so it always parses: the reference code counts "Yes" with a regex over
    free text, which a small model can defeat.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    q1: YesNo
    q2: YesNo
    q3: YesNo
    q4: YesNo
    q5: YesNo
    q6: YesNo
    q7: YesNo
    q8: YesNo

    def as_tuple(self) -> tuple[bool, ...]:
        return tuple(getattr(self, f"q{i}") == "Yes" for i in range(1, 9))
