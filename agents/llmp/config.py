"""LLM+P's config: the paper's one greedy translation, our error feedback, k-sample selection, grammar and checks, in one place.

Paper: "LLM+P: Empowering Large Language Models with Optimal Planning Proficiency" (Liu et al.,
2023; reference code Cranial-XIX/llm-pddl). The paper made one greedy translation, with no feedback
and no grammar; every other default is our addition, and says so.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ratiocinator.kit import MethodConfig


class LLMPConfig(MethodConfig):
    """LLM+P (Liu et al. 2023): every default of the LLM+P graph in one place (the rest are our additions)."""

    paper: ClassVar[str] = (
        "Liu et al. 2023, LLM+P: Empowering Large Language Models with Optimal Planning Proficiency"
    )

    translation: Literal["whole", "stepwise"] = Field(
        "stepwise",
        description="stepwise (the default; issue 17): objects first, then each sentence's facts, each "
        "a short grammar-constrained answer with example sentences chosen for it (or, for a sentence "
        "of many facts, a short program run in the sandbox), assembled and checked; whole: the model "
        "writes the problem PDDL in one generation (the paper; the 0.5B was valid for the gold "
        "problem on 0 of the blocksworld problems that way, stepwise on 10 of 10)",
    )
    k: int = Field(1, ge=1, le=32, description="translations sampled; the paper made one")
    temperature: float = Field(
        0.7,
        ge=0.0,
        le=2.0,
        description="sampling temperature when k > 1, and of every feedback round (k = 1 is greedy "
        "at first, as the paper's temperature 0; a greedy retry of a weak model repeated its "
        "translation word for word whatever the feedback)",
    )
    retries: int = Field(
        2, ge=0, le=10, description="rounds of error feedback per translation (the paper: none)"
    )
    max_tokens: int = Field(
        1024, ge=16, description="longest problem PDDL (or plan) the model may write"
    )
    length_factor: float = Field(
        2.0,
        gt=0,
        description="a translation may be this many times longer than the example's "
        "PDDL-to-English ratio predicts (bounds a model that repeats facts); see token_budget",
    )
    objects_from_text: bool = Field(
        True,
        description="object names limited to the text's words and the example's names (issue: "
        "'objects named in the English text should be the only objects')",
    )
    max_unused_objects: int | None = Field(
        1,
        ge=0,
        description="a translation that declares more objects than this which appear in no :init "
        "or :goal fact is sent back as incomplete (it dropped part of the text: the 0.5B described 2 "
        "of tyreworld's 9 hubs and planned that); the gold problems leave at most one (an empty "
        "room in grippers); None turns the check off",
    )
    grammar: bool = Field(
        True, description="constrain the PDDL (and the baseline's plan) by the domain's grammar"
    )
    show_domain: bool = Field(
        False, description="put the domain PDDL in the prompt (llm-pddl's prompt omits it)"
    )
    exemplars: int = Field(
        5, ge=1, le=32, description="stepwise: example sentences shown for each input sentence"
    )
    unsure_logprob: float = Field(
        -0.7,
        le=0.0,
        description="stepwise: a greedy answer with a token less likely than this (log-probability) "
        "is sampled `votes` more times and each fact kept by majority",
    )
    votes: int = Field(
        4,
        ge=1,
        le=32,
        description="stepwise: samples drawn (besides the greedy answer) where the model is unsure, "
        "repeats an answer shown wrong, or is asked again after the planner found no plan",
    )
    analogy: bool = Field(
        True,
        description="stepwise: a sentence that is one of the example's sentences with other names "
        "(same words once numbers are #) takes the example's facts renamed, or its rule run over this "
        "problem's objects, without a model call (a translation memory; analogy.py); every other "
        "sentence is the model's decision. False: the model decides every sentence",
    )
    reground: bool = Field(
        True,
        description="stepwise: a fact that names an object its sentence does not, in a place where the "
        "sentence names exactly one unused object that fits, takes that object before the checks "
        "(`shot7 contains ingredient3` answered `(contains shot7 cocktail3)`); False: the misnamed "
        "check sends it back to the model (the 0.5B then answered none)",
    )
    contradictions: Literal["scored", "feedback"] = Field(
        "scored",
        description="stepwise: two facts that give a function-like predicate two values are resolved "
        "by the one change (another predicate or argument) that costs the model's score least "
        "(scored; resolve.py), or sent back to both sentences with the error (feedback: the 0.5B "
        "changed the wrong sentence of barman p01 that way)",
    )
    planner: str = Field("auto", description="solvers.pddl planner name")
    optimal: bool = Field(
        False, description="plan optimally (the paper's claim; its code ran the lama alias)"
    )
    timeout: float = Field(30.0, gt=0, description="seconds per planner call")
    seed: int = Field(
        0,
        description="seed of the k sampled translations; feedback round r is sampled with seed + 1000 r",
    )
