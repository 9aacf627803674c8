"""The alpha-UMi tool agent's config: limits, the roles' token budgets and prompts, the caller's mode, and how roles decide (scores or text).

Paper: Shen et al. 2024, "Small LLMs Are Weak Tool Learners: A Multi-LLM Agent" (alpha-UMi; reference
code X-PLUG/Multi-LLM-Agent). The limits are ours; the paper's runs cap steps the same way.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ratiocinator.agents.tool_agent.prompts import PLANNER, SUMMARIZER
from ratiocinator.kit import IDENTITY_WHEN_SET, MethodConfig

#: where the scored decisions' calibration values come from (see the fields that use them)
ROLE_BIAS_SOURCE = "not calibrated (zeros)"
#: decision_bias for ToolBench (toolbench-static holds it): fitted once with fit_role_bias on 13 held-in
#: planner steps (items 64/2, 82/5, 85/10, 103/4, 110/1, 136/4, 154/12, 157/1, 195/8, 212/17, 218/7, 237/7,
#: 261/11 of toolbench_ood.json: 6 caller, 4 conclusion, 3 give up, drawn by role from steps 201-1152,
#: never the first 200 that are evaluated), Qwen2.5-Coder-0.5B on llama.cpp, planner_max_tokens=48,
#: then moved from the sample's role shares to those of steps 201-1152 (caller .745, conclusion .194,
#: give up .061); run dir /work/runs/umi-calib48-0.5b, 2026-12-05
TOOLBENCH_ROLE_BIAS: tuple[float, float, float] = (0.0, 3.359, 4.988)
#: asked_weights and give_up_threshold for ToolBench (toolbench-static holds them): fit_asked_rule on the
#: 160 held-in planner steps 201-360 of toolbench_ood.json (never the first 200 that are evaluated),
#: Qwen2.5-Coder-0.5B on llama.cpp, 2026-12-06; the model's answered log-odds and the calls so far
#: (the same fit on the answered log-odds alone, the model's judgement without the count:
#: `--set asked_weights=-1.5789,1.778,0`)
TOOLBENCH_ASKED_WEIGHTS: tuple[float, float, float] = (-3.1599, 0.8482, 0.9984)
TOOLBENCH_GIVE_UP_THRESHOLD = 5.8853
#: tool_prior and called_penalty for ToolBench: fit_called_penalty on the 116 gold caller steps among the
#: held-in steps 201-360 (the same model; the caller's prompt with the thought "Next: caller."), each
#: name's score less its content-free score: 2.0 (held-in 58/116; with raw scores the fit is 1.0, 53/116)
TOOLBENCH_TOOL_PRIOR: Literal["none", "content-free"] = "content-free"
TOOLBENCH_CALLED_PENALTY = 2.0
#: called_penalty and request_overlap fitted together (fit_tool_rule) on the same 117 held-in gold caller
#: steps with the same scores (session 20, `python bench/toolbench_tools.py fit` on the scores stored in
#: records/toolbench-tool-scores/): 6.0 and 3.5, held-in 60/117 against 58/117 for the penalty alone; on
#: evaluated steps (never fitted on) the first 200 steps' 142 caller steps 0.486 -> 0.507 and 92 of the
#: core sample's 0.457 -> 0.543
TOOLBENCH_OVERLAP_CALLED_PENALTY = 6.0
TOOLBENCH_REQUEST_OVERLAP = 3.5
GROUNDING_SOURCE = (
    "log(380 / 237): of the 617 string and number values of the gold calls of toolbench_ood.json's "
    "steps 201-1152 (held in: not the first 200 that are evaluated), 380 occur in the dialogue "
    "the caller sees"
)

#: the "asked" decision: a yes/no question about the dialogue, answered in the model's chat turn
ASK_PROMPT = """You have access to the following apis:
{doc}
The conversation history is:
{history}
Do the observations above already contain the information the user asked for? Answer yes or no."""
#: the "asked" decision's statements, scored after the planner's prompt: conclusion, give up
ROLE_STATEMENTS: tuple[str, str] = (
    " I have enough information to give the final answer to the user now.",
    " The API calls have failed, so I will give up and restart.",
)
ASKED_RULE_SOURCE = "not calibrated: any yes above no ends the calls, conclusion unless give up scores higher"

PAPER = 'Shen et al. 2024, "Small LLMs Are Weak Tool Learners: A Multi-LLM Agent" (alpha-UMi)'


class ToolAgentConfig(MethodConfig):
    """The alpha-UMi agent (Shen et al. 2024): planner, caller and summarizer on one backend, with limits."""

    paper: ClassVar[str] = PAPER

    max_steps: int = Field(8, ge=1, description="planner decisions per request before giving up")
    tool_timeout: float = Field(60.0, gt=0, description="seconds one tool call may take")
    total_timeout: float = Field(
        600.0,
        gt=0,
        description="seconds one request may take in all (the time a pending ask_user question "
        "waits for the user does not count); reaching it ends the request with an answer that says so",
    )
    planner_max_tokens: int = Field(160, ge=8)
    caller_max_tokens: int = Field(256, ge=8)
    summarizer_max_tokens: int = Field(256, ge=8)
    temperature: float = Field(0.0, ge=0.0)
    history_chars: int = Field(
        6000, ge=200, description="the history in a prompt is trimmed to this"
    )
    caller_retries: int = Field(
        1, ge=0, description="retries of a caller output that does not parse"
    )
    constrained: bool = Field(
        True,
        description="the caller writes the tool name under a grammar and the arguments under the "
        "tool's JSON schema (else free text, read by the tolerant parser)",
    )
    stream_tokens: bool = Field(
        True, description="the roles' text is streamed (TokenEvents on the graph's custom stream)"
    )
    planner_prompt: str = Field(PLANNER, description="the planner's template ({doc}, {history})")
    summarizer_prompt: str = Field(
        SUMMARIZER, description="the summarizer's template ({history})"
    )
    require_tool: bool = Field(
        False,
        description="a conclusion before any tool succeeded in this request goes to the caller instead",
    )
    stop_on_repeat: bool = Field(
        True,
        description="a call identical to one that already succeeded in this request ends in the summarizer",
    )
    decision: Literal["scored", "asked", "text"] = Field(
        "text",
        description="how the planner's next role is chosen after its generated rationale: 'scored' "
        "compares the model's log-probabilities of ' Next: caller | conclusion | give up' after the "
        "rationale (plus decision_bias); 'asked' asks the model whether the dialogue already answers "
        "the request and stops calling where asked_weights . (1, its Yes-minus-No log-odds, calls so "
        "far) > 0, then gives up where the give-up role_statement outscores the conclusion's by more "
        "than give_up_threshold; 'text' reads the marker the model wrote",
    )
    ask_prompt: str = Field(
        ASK_PROMPT, description="decision='asked': the yes/no question about the dialogue ({doc}, {history})"
    )
    role_statements: tuple[str, str] = Field(
        ROLE_STATEMENTS,
        description="decision='asked': the conclusion's and the give-up's statement, scored after the "
        "planner's prompt",
    )
    asked_weights: tuple[float, float, float] = Field(
        (0.0, 1.0, 0.0),
        description="decision='asked': a stop (conclusion or give up) where w0 + w1 * the answered "
        f"log-odds + w2 * calls so far (at most 5) > 0; fitted once on held-in steps: {ASKED_RULE_SOURCE}",
    )
    give_up_threshold: float = Field(
        0.0,
        description="decision='asked': on a stop, give up where the give-up statement's score exceeds "
        "the conclusion's by more than this (nats)",
    )
    decision_bias: tuple[float, float, float] = Field(
        (0.0, 0.0, 0.0),
        description="nats added to the scores of caller, conclusion, give up (decision='scored'); "
        f"calibrated once on held-in dialogues: {ROLE_BIAS_SOURCE}",
    )
    tool_choice: Literal["scored", "grammar"] = Field(
        "grammar",
        description="how the caller (constrained=True) picks the tool: 'scored' compares the model's "
        "log-probabilities of 'Action: NAME' for each tool; 'grammar' decodes the name greedily under "
        "a grammar over the names",
    )
    called_penalty: float = Field(
        0.0,
        ge=0,
        description="tool_choice='scored': nats subtracted from the score of a tool the dialogue already "
        "called (a small model favours the name it has just read; fitted once on held-in steps)",
    )
    tool_prior: Literal["none", "content-free"] = Field(
        "none",
        json_schema_extra=IDENTITY_WHEN_SET,
        description="tool_choice='scored': 'content-free' subtracts from each name's score its score after "
        "the caller prompt with no dialogue and no thought (contextual calibration, Zhao et al. 2021; "
        "the PMI of Holtzman et al. 2021): what the model gives a name whatever the step (its length, its "
        "place in the list) no longer decides",
    )
    request_overlap: float = Field(
        0.0,
        ge=0,
        json_schema_extra=IDENTITY_WHEN_SET,
        description="tool_choice='scored': nats added per unit of the user's request's overlap with a tool "
        "(the request's content words found in the tool's name and description, over the square root of "
        "the tool's word count; agents/tool_agent/decide.py): the tool the user's own words name",
    )
    grounding: bool = Field(
        False,
        description="an argument value (string or number) that does not occur in the dialogue competes, "
        "by the model's score, with values that do (agents/tool_agent/ground.py)",
    )
    grounding_bonus: float = Field(
        0.47, description=f"nats added to the score of a value from the dialogue: {GROUNDING_SOURCE}"
    )
    grounding_candidates: int = Field(
        12, ge=1, description="values from the dialogue scored against an ungrounded one (the nearest first)"
    )
