"""DeepCritic's config: the second look, sympy evidence, refinement rounds, token limits and sampling, in one place.

Paper: "DeepCritic: Deliberate Critique with Large Language Models" (Yang et al., 2025; reference
prompts RUCBM/DeepCritic `Critique_Generation/`). Refinement (critique, then correct the first
error and critique again) is `max_refinements > 0`; the registry lists it as `deepcritic-refine`.

Each step's verdict is either the paper's free text (`verdict="text"`: the critique ends in
"\\boxed{1|-1}") or, for small models that copy the prompt instead of deciding, scored
(`verdict="scored"`, issue 21): after an optional short critique (`critique`, `critique_max_tokens`),
the model's log-probabilities of "Step i is correct" / "Step i is incorrect" are compared on one
shared prompt that holds sympy's evidence for the step, and the step is judged incorrect when the
log-odds exceed `threshold` (reasoning/critique/scoring.py); or, with `verdict="surprise"`, by how
strongly the model, reading the solution as its own answer, would have written other numbers in the
step, against `surprise_threshold` (reasoning/critique/surprise.py; no critique is written).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ratiocinator.kit import IDENTITY_WHEN_SET, MethodConfig

#: the scored verdict's log-odds threshold, calibrated (reasoning/critique/scoring.calibrate_threshold,
#: bench/critique_scores.py --calibrate) for Qwen2.5-Coder-0.5B-Instruct on llama.cpp, critique=False,
#: on held-in ProcessBench items that the evaluation (the first 100 of each set) does not use: items
#: 100-123 of processbench-gsm8k and 100-111 of processbench-math in the benchmark's order
#: (`--set start=100`); the best harmonic mean there was 0.36 (0.50 on the GSM8K items alone, at the
#: same threshold). Other models and settings should calibrate their own.
SCORED_THRESHOLD = -1.4385
#: the surprise verdict's threshold (reasoning/critique/surprise.py), in nats, calibrated the same way
#: (bench/critique_scores.py --calibrate) for Qwen2.5-Coder-0.5B-Instruct on llama.cpp on held-in items
#: 100-159 of processbench-gsm8k and of processbench-math together (best harmonic mean there 0.40; the
#: evaluated first 100 of each set are not among them); see BENCHMARKS-history.md for the 1.5B's.
SURPRISE_THRESHOLD = 1.6759
CALIBRATION = "Qwen2.5-Coder-0.5B, critique=False, ProcessBench GSM8K items 100-123 + MATH items 100-111"


class DeepCriticConfig(MethodConfig):
    """DeepCritic (Yang et al., 2025): deliberate step-wise critique, with sympy evidence and optional refinement."""

    paper: ClassVar[str] = "Yang et al. 2025, DeepCritic: Deliberate Critique with Large Language Models"

    second_look: bool = Field(
        True, description="DeepCritic's in-depth critique of each initial critique (text verdict only)"
    )
    symbolic: bool = Field(True, description="give sympy's verdict on symbolic steps to the critic")
    symbolic_decides: bool = Field(
        False, description="let a definite sympy verdict override the critic's judgement"
    )
    max_refinements: int = Field(
        0, ge=0, description='rounds of "fix the first error, critique again" (0: critique only)'
    )
    refine_from: Literal["solution", "error"] = Field(
        "solution",
        json_schema_extra=IDENTITY_WHEN_SET,
        description="refinement: 'solution': the model rewrites the whole solution (the paper's); 'error': "
        "the steps before the first error are kept in code and the model writes from that step on, a rewrite "
        "that repeats the wrong step or whose arithmetic sympy refutes drawn again (reasoning/critique/refine.py)",
    )
    refine_draws: int = Field(
        3, ge=1, le=8, json_schema_extra=IDENTITY_WHEN_SET,
        description="refine_from='error': draws of a rewrite at most (greedy, then at refine_temperature)",
    )
    refine_temperature: float = Field(
        0.7, gt=0.0, le=2.0, json_schema_extra=IDENTITY_WHEN_SET,
        description="refine_from='error': the temperature of the draws after the greedy one",
    )
    verdict: Literal["text", "scored", "surprise"] = Field(
        "text",
        description='"text": the critique\'s boxed judgement (the paper); "scored": compare the model\'s '
        'log-probabilities of "correct" / "incorrect" after the critique; "surprise": how strongly the '
        "model, writing the solution itself, would have put other numbers in the step (no critique)",
    )
    critique: bool = Field(
        True,
        description="scored verdict: write a short critique before scoring (False: score straight from "
        "the problem, the solution and sympy's evidence)",
    )
    threshold: float = Field(
        SCORED_THRESHOLD,
        description="scored verdict: a step is incorrect when log P(incorrect) - log P(correct) exceeds "
        "this (calibrated on held-in ProcessBench items, see SCORED_THRESHOLD)",
    )
    surprise_threshold: float = Field(
        SURPRISE_THRESHOLD,
        description="surprise verdict: a step is incorrect when the largest gap, in nats, between the "
        "model's top choice and the written token at the step's digits exceeds this (see SURPRISE_THRESHOLD)",
    )
    critique_max_tokens: int = Field(512, ge=1, description="each step's initial critique")
    second_look_max_tokens: int = Field(512, ge=1, description="each step's second look")
    solve_max_tokens: int = Field(512, ge=1, description="the solution written (or rewritten) by the model")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0: greedy, as in the benchmarks")
    seed: int = Field(0, description="the sampling seed, used when temperature > 0")
