"""Read the step-labelled critique sets (ProcessBench, Mr-GSM8K copies) and answer-extraction helpers.

The files under `critique/` of the data directory hold `{id, generator, problem, steps[],
final_answer_correct, label}`; `label` is the 0-based index of the first wrong step, -1 if none.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ratiocinator.errors import InvalidInput
from ratiocinator.evals.metrics import parse_number

STEP_SETS = {
    "processbench-gsm8k": "processbench_gsm8k.json",
    "processbench-math": "processbench_math.json",
    "mr-gsm8k": "mr_gsm8k.json",
}
FINAL_ANSWER_INSTRUCTION = "\nEnd your reply with a last line of the form 'Final answer: <answer>'."
_GSM8K_ANSWER = re.compile(r"####\s*([-+]?[\d,]*\.?\d+)")


@dataclass(frozen=True, kw_only=True)
class StepSolution:
    """One step-wise solution: the problem, its steps, the first wrong step (0-based, -1 none)."""

    id: str
    problem: str
    steps: tuple[str, ...]
    label: int
    final_answer_correct: bool


def read_step_set(data_dir: Path, name: str) -> list[StepSolution]:
    """Every solution of one of STEP_SETS, checked; InvalidInput names the file and the entry."""
    if name not in STEP_SETS:
        raise InvalidInput(f"step-labelled set {name!r}: expected one of {', '.join(STEP_SETS)}")
    path = data_dir / "critique" / STEP_SETS[name]
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: cannot read it as JSON ({exc})") from None
    out = []
    for i, row in enumerate(rows):
        try:
            steps = tuple(str(s) for s in row["steps"])
            label = int(row["label"])
            if not -1 <= label < len(steps):
                raise ValueError(f"label {label} outside -1..{len(steps) - 1}")
            out.append(
                StepSolution(
                    id=f"{name}/{row['id']}",
                    problem=str(row["problem"]),
                    steps=steps,
                    label=label,
                    final_answer_correct=bool(row["final_answer_correct"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(
                f"{path}, entry {i}: expected {{id, problem, steps[], label, "
                f"final_answer_correct}} with -1 <= label < len(steps) ({exc})"
            ) from None
    return out


def gsm8k_reference(solution: StepSolution) -> str | None:
    """The reference answer of a Mr-GSM8K solution that is correct throughout ("#### N"), else None."""
    if solution.label != -1 or not solution.final_answer_correct:
        return None
    for step in reversed(solution.steps):
        m = _GSM8K_ANSWER.search(step)
        if m:
            return m.group(1).replace(",", "")
    return None


def gsm8k_questions(data_dir: Path) -> list[tuple[str, str, str]]:
    """(id suffix, problem, reference answer) of each distinct Mr-GSM8K problem with a correct solution."""
    out, seen = [], set()
    for sol in read_step_set(data_dir, "mr-gsm8k"):
        ref = gsm8k_reference(sol)
        if ref is not None and sol.problem not in seen:
            seen.add(sol.problem)
            out.append((sol.id.rsplit("/", 1)[-1], sol.problem, ref))
    return out


def final_segment(text: str) -> str:
    """What follows the last 'Final answer:' of a reply, or its last 200 characters."""
    idx = text.lower().rfind("final answer")
    if idx >= 0:
        return text[idx + len("final answer") :].lstrip(" :*")[:200]
    return text[-200:]


def final_number(text: str) -> float | None:
    """The first number after the last 'Final answer:', or else the last number of the reply."""
    idx = text.lower().rfind("final answer")
    if idx >= 0:
        found = re.search(r"[-+]?\$?\s?(?:\d[\d,]*\.?\d*|\.\d+)", text[idx:])
        if found:
            return parse_number(found.group().replace("$", "").replace(" ", ""))
    return parse_number(text)
