"""`cqot`: standard vs chain-of-thought vs CQoT accuracy on checkable MT-Bench and GSM8K questions.

Items (data directory, `critique/`):
- `mtbench`: the first turn of the MT-Bench reasoning and math questions in `cqot_mtbench_evals.xlsx`
  (FCast07/CQoT, CC BY-NC 4.0) whose reference answer is exact; `_MTBENCH_KEYS` turns each such
  reference answer into a pattern that the final answer must contain (open questions are left out).
- `gsm8k`: Mr-GSM8K problems whose stored solution is correct throughout; the reference is its
  "#### N" answer, compared with Mamo's numeric rule.
Every method gets the same question with the same instruction to end on "Final answer: ...";
standard and CoT ("Let's think step by step.") are greedy, CQoT runs reasoning/cqot/ with the
paper's defaults except the token limits (its config is the option `config`). The score is CQoT's; `standard`, `cot`, `cqot`
are reported beside it. The paper (MT-Bench judged 1-10 by GPT-4o) reports +4.5-5.7% for CQoT.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.errors import InvalidInput
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome
from ratiocinator.evals.benchmarks._stepdata import (
    FINAL_ANSWER_INSTRUCTION,
    final_number,
    final_segment,
    gsm8k_questions,
)
from ratiocinator.evals.metrics import mamo_close
from ratiocinator.reasoning.cqot import CQoTConfig

METHODS = ("standard", "cot", "cqot")
COT_SUFFIX = "\nLet's think step by step."


def _num(value: str) -> str:
    return rf"(?<![\d.]){value}(?![\d])"


#: First words of an MT-Bench question -> a pattern its final answer must contain (from the reference).
_MTBENCH_KEYS: dict[str, str] = {
    "Imagine you are participating in a race": r"\bsecond\b|\b2nd\b",
    "You can see a beautiful red house": r"washington",
    "David has three sisters": r"\bno brothers?\b|\bzero\b|" + _num("0"),
    "Read the below passage carefully": r"\balice\b",
    "Each problem consists of three statements": r"\btrue\b",
    "A is the father of B": r"grandfather",
    "Which word does not belong": r"\bcar\b",
    "One morning after sunrise, Suresh": r"\bwest\b",
    "Parents have complained to the principal": r"\(c\)|\bc\)|\boption c\b|^\s*c\b",
    "The vertices of a triangle": _num("3"),
    "A tech startup invests": _num("12,?000"),
    "In a survey conducted at a local high school": _num("19") + r"\s*%|0\.19\b",
    "When rolling two dice": r"35\s*/\s*36|0\.97",
    "Some people got on a bus": _num("38"),
    "x+y = 4z": r"x\s*-\s*y\s*=\s*0\b|^\s*0\b",
    "How many integers are in the solution": _num("19"),
    "When a number is divided by 10": _num("0"),
    "Benjamin went to a bookstore": _num("280"),
    "Given that f(x) = 4x^3 - 9x - 14": _num("0"),
}


class CQoTBenchOptions(BaseModel):
    """Which sets, the baselines' token limit, and CQoT's config (smaller token limits for a CPU)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sets: tuple[str, ...] = ("gsm8k", "mtbench")
    max_tokens: int = Field(256, ge=1)  # the standard and CoT replies
    config: CQoTConfig = CQoTConfig(plan_max_tokens=256, answer_max_tokens=256)


def _first_turn(cell: str) -> str:
    """The first of the quoted turns in a cell of the sheet (`"turn 1", "turn 2"`)."""
    m = re.match(r'\s*"((?:[^"\\]|\\.)*)"', cell.replace("\xa0", " "))
    if not m:
        raise InvalidInput(f"cqot_mtbench_evals.xlsx: cannot read the first turn of {cell[:80]!r}")
    return m.group(1).encode().decode("unicode_escape") if "\\" in m.group(1) else m.group(1)


class CQoTBench(Benchmark):
    name = "cqot"
    description = (
        "standard vs CoT vs critical-questions-of-thought accuracy (MT-Bench exact, GSM8K)"
    )
    needs_model = True
    method = "cqot"
    Options = CQoTBenchOptions
    data_subdir = "critique"

    def _mtbench(self) -> list[Item]:
        import openpyxl

        assert self.data_dir is not None
        path = self.data_dir / "critique" / "cqot_mtbench_evals.xlsx"
        book = openpyxl.load_workbook(path, read_only=True)
        items = []
        for row in book.worksheets[0].iter_rows(values_only=True, max_col=3):
            if row[0] not in ("reasoning", "math") or not row[1]:
                continue
            question = _first_turn(str(row[1]))
            key = next((k for k in _MTBENCH_KEYS if question.startswith(k)), None)
            if key is not None:
                items.append(
                    Item(
                        id=f"mtbench/{key[:24].strip()}",
                        group=f"mtbench-{row[0]}",
                        inputs={"question": question, "pattern": _MTBENCH_KEYS[key]},
                    )
                )
        book.close()
        return items

    def _gsm8k(self) -> list[Item]:
        assert self.data_dir is not None
        return [
            Item(id=f"gsm8k/{key}", group="gsm8k", inputs={"question": problem, "reference": ref})
            for key, problem, ref in gsm8k_questions(self.data_dir)
        ]

    def items(self) -> list[Item]:
        opts: CQoTBenchOptions = self.options  # type: ignore[assignment]
        unknown = set(opts.sets) - {"gsm8k", "mtbench"}
        if unknown:
            raise InvalidInput(
                f"cqot: unknown set(s) {sorted(unknown)}; expected gsm8k and/or mtbench"
            )
        items: list[Item] = []
        for s in opts.sets:
            items += self._gsm8k() if s == "gsm8k" else self._mtbench()
        return items

    @staticmethod
    def correct(reply: str, inputs: dict) -> bool:
        """Whether a reply's final answer matches the item's reference (number) or pattern (MT-Bench)."""
        if "reference" in inputs:
            answer = final_number(reply)
            return answer is not None and mamo_close(answer, inputs["reference"])
        return (
            re.search(inputs["pattern"], final_segment(reply), re.IGNORECASE | re.MULTILINE)
            is not None
        )

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.models import Message, SamplingParams
        from ratiocinator.reasoning.cqot import run as run_cqot

        opts: CQoTBenchOptions = self.options  # type: ignore[assignment]
        question = item.inputs["question"] + FINAL_ANSWER_INSTRUCTION
        params = SamplingParams(max_tokens=opts.max_tokens)
        standard, cot = ctx.backend.generate(
            [
                [Message(role="user", content=question)],
                [Message(role="user", content=question + COT_SUFFIX)],
            ],
            params,
        )
        cfg = opts.config.model_copy(update={"seed": ctx.item_seed(item)})
        cq = run_cqot(question, backend=ctx.backend, config=cfg)
        replies = {"standard": standard.text, "cot": cot.text, "cqot": cq.answer}
        right = {m: self.correct(replies[m], dict(item.inputs)) for m in METHODS}
        output = {
            "replies": replies,
            "correct": right,
            "cqot_status": cq.acceptance,
            "verdict": cq.verdict.to_json(),
            "cqot_yes": [d.yes for d in cq.drafts],
            "plan": cq.plan,
        }
        metrics = {m: float(right[m]) for m in METHODS}
        metrics["cqot_redrafts"] = float(cq.redrafts)
        return Outcome(
            output=output,
            score=float(right["cqot"]),
            metrics=metrics,
            prompt_tokens=standard.prompt_tokens + cot.prompt_tokens + cq.usage.prompt_tokens,
            completion_tokens=standard.completion_tokens
            + cot.completion_tokens
            + cq.usage.completion_tokens,
        )
