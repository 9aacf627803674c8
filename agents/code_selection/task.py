"""What B4 code selection takes: a completion prompt and its entry point, with optional candidates, tests and trusted tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ratiocinator.errors import InvalidInput
from ratiocinator.selection.execution import check_program
from ratiocinator.selection.generate import Problem, codet_test_prompt
from ratiocinator.selection.reproduce import CodeTask


def _strings(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"CodeSelectionTask.{name}: expected a sequence of strings, got {value!r}")
    return tuple(value)


@dataclass(frozen=True, kw_only=True)
class CodeSelectionTask:
    """One coding task, as CodeT and B4 state it.

    - `prompt`: the code a solution continues (imports, the signature and the docstring); each
      candidate is appended to it and run.
    - `entry_point`: the function's name (tests are kept only if they call it).
    - `candidates`: completions of `prompt` to choose among (a function body, or whole definitions);
      none: `n_solutions` are sampled from the model.
    - `tests`: plausible tests, one statement each (`assert f(1) == 2`), used to choose; none:
      `n_test_samples` are sampled from the model with CodeT's test prompt (`test_prompt`).
    - `trusted_tests`: tests known to be right (e.g. a dataset's `check(candidate)` program and its
      call); never used to choose, only to check the choice: the verdict is `verified` only when the
      chosen candidate passes all of them.
    """

    prompt: str
    entry_point: str
    task_id: str = "task"
    test_prompt: str | None = None  # None: CodeT's (the prompt, a `pass` body, "# check ...", "assert ")
    candidates: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    trusted_tests: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise InvalidInput(f"CodeSelectionTask.prompt: expected the code to complete, got {self.prompt!r}")
        if not isinstance(self.entry_point, str) or not self.entry_point.isidentifier():
            raise InvalidInput(
                f"CodeSelectionTask.entry_point: expected a function name, got {self.entry_point!r}"
            )
        for name in ("candidates", "tests", "trusted_tests"):
            object.__setattr__(self, name, _strings(name, getattr(self, name)))

    @property
    def generation_prompt(self) -> str:
        """The prompt tests are sampled from."""
        return self.test_prompt or codet_test_prompt(self.prompt, self.entry_point)

    @classmethod
    def from_problem(cls, problem: Problem, *, trusted: bool = True) -> CodeSelectionTask:
        """A HumanEval/MBPP problem (selection.generate); its dataset test is the trusted test."""
        return cls(
            task_id=problem.task_id,
            prompt=problem.prompt,
            entry_point=problem.entry_point,
            test_prompt=problem.test_prompt,
            trusted_tests=(check_program(problem.test, problem.entry_point),) if trusted else (),
        )

    @classmethod
    def from_code_task(cls, task: CodeTask, *, trusted: bool = True) -> CodeSelectionTask:
        """A task with pre-generated samples (selection.reproduce), parsed as CodeT parses them."""
        return cls(
            task_id=task.task_id,
            prompt=task.prompt,
            entry_point=task.entry_point,
            candidates=task.solutions,
            tests=task.tests,
            trusted_tests=(check_program(task.test, task.entry_point),) if trusted else (),
        )
