"""LLMOPT's config: samples, self-correction rounds, sampling, solver limits and plausibility checks, in one place.

Paper: "LLMOPT: Learning to Define and Solve General Optimization Problems from Scratch" (Jiang et al.,
ICLR 2025; reference code antgroup/LLMOPT).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ratiocinator.kit import MethodConfig


class LLMOPTConfig(MethodConfig):
    """LLMOPT (Jiang et al., ICLR 2025) with engine-driven self-correction: its samples, rounds and checks."""

    paper: ClassVar[str] = (
        "Jiang et al. 2025 (ICLR), LLMOPT: Learning to Define and Solve General Optimization Problems "
        "from Scratch"
    )

    samples: int = Field(
        1, ge=1, le=16, description="independent formulations (k); the value most agree on wins"
    )
    temperature: float = Field(
        0.7, ge=0.0, description="sampling temperature when samples > 1 (k = 1 is greedy)"
    )
    seed: int = Field(
        0, description="round r is sampled with seed + r (only when its temperature is above 0)"
    )
    correction_rounds: int = Field(
        2, ge=0, le=8, description="self-correction rounds per formulation"
    )
    correction_temperature: float = Field(
        0.7, ge=0.0, description="a greedy fix would often repeat the error"
    )
    max_tokens: int = Field(512, ge=32, description="tokens per formulation")
    solver: str = Field("auto", description="solvers.optimization's solver: auto, highs, scip, ...")
    solver_timeout: float = Field(20.0, gt=0, description="seconds per solve")
    agreement: float = Field(
        1e-4, gt=0, description="relative tolerance under which two optimal values agree"
    )
    max_abs_objective: float = Field(1e12, gt=0, description="a larger |objective| is implausible")
    reject_all_zero: bool = Field(
        True, description="an optimum where every variable is 0 is implausible"
    )
    min_numbers_from_text: float = Field(
        0.5, ge=0.0, le=1.0,
        description="fewer of the formulation's constants (3+) stated in the problem is implausible "
        "(a copied example); 0 turns the check off",
    )
    check_text: bool = Field(
        True,
        description="send a solved formulation that does not match the problem text back for correction "
        "(a constraint the text states missing or broken, another objective, a number of the text used "
        "nowhere: solvers.faithfulness); the verdict reports that comparison either way",
    )
    max_string: int = Field(400, ge=16, description="longest expression or name the schema admits")
    max_items: int = Field(60, ge=1, description="longest list the schema admits")
    declare_first: bool = Field(
        True,
        description="write declarations, then objective and constraints under a grammar of the declared "
        "names (NL4Opt, Qwen2.5-0.5B on vLLM, 8 items: 7/8 formulations built and solved, against 0/8 "
        "in one step, where it used names it never declared)",
    )
    translation: Literal["whole", "stepwise"] = Field(
        "stepwise",
        description="stepwise (the default; issue 17): many small checked decisions (the text's numbers "
        "named, variables, objective, then each sentence's constraints; what the words or symbols state "
        "read in code), errors sent back to the piece at fault (steps.py); NL4Opt 1-40 with the 0.5B: 35/40 "
        "against 1/20 whole. whole: the formulation in one or two constrained generations (declare_first)",
    )
    piece_retries: int = Field(
        1, ge=0, le=4, description="stepwise: re-asks of a piece whose check fails right away"
    )
    objective_choice: Literal["scored", "greedy"] = Field(
        "scored",
        description="stepwise: the objective chosen among alternatives (the greedy one, objective_samples "
        "sampled, the plain sum of the variables, each in both senses) by the model's log-probability of "
        "each (choose.py), or the greedy one as written",
    )
    objective_samples: int = Field(
        4, ge=0, le=16, description="stepwise, scored: sampled objectives added to the alternatives"
    )
    objective_temperature: float = Field(
        0.8, ge=0.0, description="stepwise, scored: temperature of the sampled objectives"
    )
    sense_from_text: bool = Field(
        True,
        description="stepwise, scored: where the text states only one sense (maximize/maximum, "
        "minimize/minimum), the alternatives keep that sense",
    )
    reading: bool = Field(
        True,
        description="stepwise: the relations the words decide read in code (readings.py: a limit over its "
        "column of rates, on one decision, on all; a share), the model asked only about the sentences left; "
        "the declaration chosen among the greedy and `variable_samples` sampled ones by how many of the "
        "text's numbers it explains; each column of rates an objective to choose from",
    )
    networks: bool = Field(
        True,
        description="stepwise: a text whose numbers are mostly between named places (network.py) is solved as "
        "the textbook model (tour, maximum flow, shortest path, transportation) the model scores highest for it "
        "(structure.py), unless it answers 'other'; Mamo complex 1-40 has 24 such texts",
    )
    variable_samples: int = Field(
        4, ge=0, le=16, description="stepwise, reading: sampled declarations the greedy one is compared with"
    )
