"""Critical-Questions-of-Thought as a LangGraph graph: plan, eight critical questions, redraft, answer from the plan.

Paper: "Critical-Questions-of-Thought: Steering LLM reasoning with Argumentative Querying" (Castagna
et al., 2024; reference code FCast07/CQoT). The model first drafts a step-wise reasoning plan without
the final answer; then it answers eight Toulmin-style critical questions about that plan with Yes/No.
With fewer than 7 "Yes" the plan is redrafted; from the 5th redraft on more than 4 "Yes" suffice; after
the 10th redraft the last plan is taken as it is. The final answer strictly follows the accepted plan.

The eight answers are decoded under a JSON schema (`CriticalAnswers`), so they always parse: the
reference code counts "Yes" with a regex over free text, which a small model can defeat.

    graph = build_cqot_graph(backend)             # compiled LangGraph StateGraph
    result = run_cqot(backend, "How many ...?")   # CQoTResult(answer=..., plan=..., status="strict", ...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict

from ratiocinator.errors import InvalidInput, ModelOutputError
from ratiocinator.models.types import Message, SamplingParams

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
Status = Literal["strict", "relaxed", "gave_up"]


class CriticalAnswers(BaseModel):
    """The constrained reply to the eight critical questions (q1..q8, each "Yes" or "No")."""

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


@dataclass(frozen=True, kw_only=True)
class CQoTConfig:
    """The paper's defaults: thresholds, redraft limits and sampling (FCast07/CQoT `activate`)."""

    strict_yes: int = 7  # accept a plan with at least this many "Yes"
    relaxed_yes: int = 5  # ... or with at least this many ("more than 4") once relaxed
    relax_after_redrafts: int = 4  # relaxed from the 5th redraft on
    max_redrafts: int = 10  # after this many redrafts the last plan is taken as it is
    plan_temperature: float = 0.8  # plans are sampled, so redrafts differ
    temperature: float = 0.2  # critical questions and the final answer
    top_p: float = 0.95
    plan_max_tokens: int = 512
    answer_max_tokens: int = 512
    assess_max_tokens: int = 96  # the JSON of eight answers takes about 50 tokens
    seed: int = 0  # draft k is sampled with seed + k, so a run is reproducible (and cached)

    def __post_init__(self) -> None:
        if not 0 <= self.relaxed_yes <= self.strict_yes <= len(CRITICAL_QUESTIONS):
            raise InvalidInput(
                f"CQoTConfig: expected 0 <= relaxed_yes ({self.relaxed_yes}) <= strict_yes "
                f"({self.strict_yes}) <= {len(CRITICAL_QUESTIONS)}"
            )
        if self.max_redrafts < 0 or self.relax_after_redrafts < 0:
            raise InvalidInput("CQoTConfig: max_redrafts and relax_after_redrafts must be >= 0")

    def accepts(self, yes: int, redrafts: int) -> Status | None:
        """Whether a plan with `yes` "Yes" answers, drafted after `redrafts` redrafts, is accepted, and how."""
        if yes >= self.strict_yes:
            return "strict"
        if redrafts > self.relax_after_redrafts and yes >= self.relaxed_yes:
            return "relaxed"
        if redrafts >= self.max_redrafts:
            return "gave_up"
        return None


@dataclass(frozen=True, kw_only=True)
class Draft:
    """One drafted plan and its eight Yes/No answers."""

    plan: str
    answers: tuple[bool, ...]
    parsed: bool = True  # False: the reply did not parse and counts as eight "No" (the paper: "No" when in doubt)

    @property
    def yes(self) -> int:
        return sum(self.answers)


@dataclass(frozen=True, kw_only=True)
class CQoTResult:
    """The answer, the plan it follows, how that plan was accepted, and every draft on the way."""

    answer: str
    plan: str
    status: Status
    drafts: tuple[Draft, ...] = field(default_factory=tuple)
    completion_tokens: int = 0

    @property
    def redrafts(self) -> int:
        return len(self.drafts) - 1


class CQoTState(TypedDict, total=False):
    """The graph's state: the question, the drafts so far, the verdict and the answer."""

    question: str
    plan: str
    drafts: list[Draft]
    status: Status | None
    answer: str
    completion_tokens: int


def build_cqot_graph(backend: Any, config: CQoTConfig | None = None) -> Any:
    """The compiled graph: plan -> assess -> (plan again | answer) -> end, on one shared backend."""
    from langgraph.graph import END, START, StateGraph

    cfg = config or CQoTConfig()

    def plan(state: CQoTState) -> CQoTState:
        k = len(state.get("drafts", []))
        params = SamplingParams(
            temperature=cfg.plan_temperature,
            top_p=cfg.top_p,
            max_tokens=cfg.plan_max_tokens,
            seed=cfg.seed + k,
        )
        (c,) = backend.generate(
            [
                [
                    Message(role="system", content=PLAN_SYSTEM),
                    Message(role="user", content=state["question"] + PLAN_REMINDER),
                ]
            ],
            params,
        )
        return {
            "plan": c.text.strip(),
            "completion_tokens": state.get("completion_tokens", 0) + c.completion_tokens,
        }

    def assess(state: CQoTState) -> CQoTState:
        drafts = list(state.get("drafts", []))
        params = SamplingParams(
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_tokens=cfg.assess_max_tokens,
            seed=cfg.seed + len(drafts),
            schema=CriticalAnswers,
        )
        (c,) = backend.generate(
            [
                [
                    Message(role="system", content=ASSESS_SYSTEM),
                    Message(role="assistant", content=state["plan"]),
                    Message(role="user", content=state["question"] + ASSESS_REMINDER),
                ]
            ],
            params,
        )
        try:
            answers, parsed = c.parsed(CriticalAnswers).as_tuple(), True
        except ModelOutputError:  # cut off at max_tokens, or a backend that ignores the schema
            answers, parsed = (False,) * len(CRITICAL_QUESTIONS), False
        drafts.append(Draft(plan=state["plan"], answers=answers, parsed=parsed))
        return {
            "drafts": drafts,
            "status": cfg.accepts(sum(answers), len(drafts) - 1),
            "completion_tokens": state.get("completion_tokens", 0) + c.completion_tokens,
        }

    def answer(state: CQoTState) -> CQoTState:
        params = SamplingParams(
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_tokens=cfg.answer_max_tokens,
            seed=cfg.seed,
        )
        (c,) = backend.generate(
            [
                [
                    Message(role="system", content=ANSWER_SYSTEM),
                    Message(role="assistant", content=state["plan"]),
                    Message(role="user", content=state["question"]),
                ]
            ],
            params,
        )
        return {
            "answer": c.text.strip(),
            "completion_tokens": state.get("completion_tokens", 0) + c.completion_tokens,
        }

    def route(state: CQoTState) -> str:
        return "plan" if state.get("status") is None else "answer"

    graph = StateGraph(CQoTState)
    graph.add_node("plan", plan)
    graph.add_node("assess", assess)
    graph.add_node("answer", answer)
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "assess")
    graph.add_conditional_edges("assess", route, {"plan": "plan", "answer": "answer"})
    graph.add_edge("answer", END)
    return graph.compile()


def run_cqot(backend: Any, question: str, config: CQoTConfig | None = None) -> CQoTResult:
    """Run the CQoT graph on one question."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidInput(f"question: expected a non-empty string, got {question!r}")
    cfg = config or CQoTConfig()
    # each draft takes two graph steps (plan, assess); the answer one more
    limit = 2 * (cfg.max_redrafts + 1) + 4
    state = build_cqot_graph(backend, cfg).invoke(
        {"question": question, "drafts": []}, {"recursion_limit": limit}
    )
    return CQoTResult(
        answer=state["answer"],
        plan=state["plan"],
        status=state["status"],
        drafts=tuple(state["drafts"]),
        completion_tokens=state.get("completion_tokens", 0),
    )
