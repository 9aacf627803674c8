"""B4 code selection's config: the strategy, B4's prior, how candidates and tests are sampled, the sandbox's limits.

Paper: "B4: Towards Optimal Assessment of Plausible Code Solutions with Plausible Tests" (Chen et
al., ASE 2024; reference code ZJU-CTAG/B4). The engine below this kit (selection/) keeps the
numbers themselves in its own configs, because it is used without the kit (selection.select, the
reproduction of the paper's tables, the benchmarks): B4's β0 and α_xy in `selection.b4.B4Config`,
CodeT's sampling in `selection.generate.GenerateConfig`, the per-test limits in
`selection.execution.ExecutionConfig` and the sandbox's in `selection.sandbox.SandboxConfig`. This
config reads its defaults from there (`_engine_default`), so each default is written once.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

from pydantic import Field

from ratiocinator.kit import MethodConfig
from ratiocinator.selection.b4 import B4Config
from ratiocinator.selection.execution import ExecutionConfig
from ratiocinator.selection.generate import GenerateConfig
from ratiocinator.selection.sandbox import SandboxConfig

#: how the candidate is chosen: B4 (the paper) or one of the baselines it is compared with
Strategy = Literal["b4", "codet", "mbr_exec", "maxpass", "random"]


def _engine_default(config: type, name: str) -> Any:
    """The default of field `name` of one of selection's dataclass configs (the one place it is written)."""
    default = config.__dataclass_fields__[name].default
    if default is dataclasses.MISSING:
        raise TypeError(f"{config.__name__}.{name} has no plain default")
    return default


class CodeSelectionConfig(MethodConfig):
    """B4 (Chen et al., 2024): choose among generated solutions by how they pass generated tests.

    CodeT's sampling (temperature 0.8, top-p 0.95) draws `n_solutions` solutions and `n_test_samples`
    test samples when the task brings none; every candidate runs every test in the sandbox; the
    `strategy` ranks the groups of candidates that pass the same tests (B4: a Beta-Bernoulli log
    posterior with the prior β0, α_xy) and a seeded uniform pick within the top group is the answer.
    """

    paper: ClassVar[str] = (
        "Chen et al. 2024, B4: Towards Optimal Assessment of Plausible Code Solutions with "
        "Plausible Tests (ASE 2024)"
    )

    strategy: Strategy = Field(
        "b4", description="b4 (the paper) or a baseline: codet, mbr_exec, maxpass, random"
    )
    beta0: float = Field(
        _engine_default(B4Config, "beta0"),
        gt=0,
        description="B4's prior pseudo-count that a wrong solution fails a test (paper: 1e4, 1e5, 1e6)",
    )
    alpha_xy: float = Field(
        _engine_default(B4Config, "alpha_xy"),
        gt=0,
        description="B4's prior pseudo-count on the share of correct solutions and of correct tests",
    )
    n_solutions: int = Field(
        _engine_default(GenerateConfig, "n_solutions"), ge=1,
        description="solutions sampled when the task has no candidates",
    )
    n_test_samples: int = Field(
        _engine_default(GenerateConfig, "n_test_samples"), ge=0,
        description="test samples (each holds several asserts) drawn when the task has no tests",
    )
    temperature: float = Field(
        _engine_default(GenerateConfig, "temperature"), gt=0.0, le=2.0,
        description="of solutions and tests (CodeT's); > 0, identical greedy samples select nothing",
    )
    top_p: float = Field(_engine_default(GenerateConfig, "top_p"), gt=0.0, le=1.0)
    max_tokens: int = Field(
        _engine_default(GenerateConfig, "max_tokens"), ge=1, description="per solution sample"
    )
    test_max_tokens: int | None = Field(
        _engine_default(GenerateConfig, "test_max_tokens"), ge=1,
        description="per test sample (None: max_tokens)",
    )
    seed: int = Field(
        _engine_default(GenerateConfig, "seed"),
        description="of the sampling and of the uniform pick within the top group",
    )
    test_timeout: float = Field(
        _engine_default(ExecutionConfig, "test_timeout"), gt=0,
        description="seconds per generated test (B4's 0.1)",
    )
    setup_timeout: float = Field(
        _engine_default(ExecutionConfig, "setup_timeout"), gt=0,
        description="seconds to define a candidate (prompt + completion)",
    )
    slack: float = Field(
        _engine_default(ExecutionConfig, "slack"), ge=0,
        description="extra wall-clock seconds per sandboxed job",
    )
    trusted_test_timeout: float = Field(
        1.0, gt=0, description="seconds per trusted test of the task (a HumanEval check: 1 s)"
    )
    memory_bytes: int = Field(
        _engine_default(SandboxConfig, "memory_bytes"), gt=0,
        description="address-space limit of each sandboxed process",
    )
    require_isolation: bool = Field(
        _engine_default(SandboxConfig, "require_isolation"),
        description="refuse to run code when bubblewrap is unusable (instead of a warning)",
    )

    @property
    def strategy_name(self) -> str:
        """The ranking's name: b4_1e4 (with its β0) or the baseline's name."""
        return self.b4_config().name if self.strategy == "b4" else self.strategy

    def selector(self) -> str | B4Config:
        """What `selection.select` takes as its strategy: this B4Config, or the baseline's name."""
        return self.b4_config() if self.strategy == "b4" else self.strategy

    def b4_config(self) -> B4Config:
        return B4Config(beta0=self.beta0, alpha_xy=self.alpha_xy)

    def generate_config(self) -> GenerateConfig:
        """CodeT's sampling with these counts (the stop strings and batching are GenerateConfig's)."""
        return GenerateConfig(
            n_solutions=self.n_solutions,
            n_test_samples=self.n_test_samples,
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            test_max_tokens=self.test_max_tokens,
            seed=self.seed,
        )

    def execution_config(self, **overrides: Any) -> ExecutionConfig:
        """The per-test limits (workers, batching and the cache from `overrides` or ExecutionConfig's)."""
        return ExecutionConfig(
            test_timeout=self.test_timeout,
            setup_timeout=self.setup_timeout,
            slack=self.slack,
            **overrides,
        )

    def sandbox_config(self) -> SandboxConfig:
        return SandboxConfig(memory_bytes=self.memory_bytes, require_isolation=self.require_isolation)
