"""B4 code selection's result: the chosen solution, the group and score it was chosen by, the passing matrix in numbers, Verdict and Usage."""

from __future__ import annotations

from dataclasses import dataclass, field

from ratiocinator.kit import MethodResult


@dataclass(frozen=True, kw_only=True)
class MatrixSummary:
    """The passing matrix in numbers: distinct candidates and tests, how many loaded, passed, timed out."""

    candidates: int  # distinct candidates run
    loaded: int  # of them, the ones whose code defines without an error or a timeout
    tests: int  # distinct tests
    passing_cells: int  # (candidate, test) pairs that pass, over the candidates that load
    timeout_cells: int  # pairs that ran out of time
    groups: int  # distinct passing rows among the candidates that load (B4's hypotheses)


@dataclass(frozen=True, kw_only=True)
class CodeSelectionResult(MethodResult):
    """The chosen solution and why it was chosen.

    `solution` is the chosen completion and `program` the prompt with it (what ran); both are None
    when no candidate loads. `group` holds the indices (into `candidates`) of the candidates the
    strategy could not tell apart from the chosen one, `score` their score (B4: a log posterior).
    `passed` of `tests` is the chosen candidate's row of the matrix. The verdict is `verified` only
    when the chosen solution passed every trusted test of the task (tests the model did not write);
    generated tests are plausible, not ground truth, so passing them leaves it `unverified`.
    """

    solution: str | None
    program: str | None
    index: int | None
    strategy: str  # the ranking's name: b4_1e4, codet, mbr_exec, maxpass, random
    score: float | None
    group: tuple[int, ...] = ()
    passed: int = 0
    candidates: tuple[str, ...] = field(default_factory=tuple)
    tests: tuple[str, ...] = field(default_factory=tuple)
    candidates_generated: bool = False
    tests_generated: bool = False
    matrix: MatrixSummary
    trusted_passed: int | None = None  # None: the task has no trusted tests (or nothing was chosen)
    trusted_total: int = 0

    def report(self) -> str:
        if self.program is None:
            return f"no solution chosen\n({self.verdict})"
        return f"{self.program.rstrip()}\n\n({self.strategy}: {self.verdict})"
