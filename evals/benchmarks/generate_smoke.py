"""`generate-smoke`: a tiny model benchmark (a few one-word questions, exact match) that exercises the model path.

Prompts come from `evals/data/generate_smoke.jsonl` (or `--set prompts=FILE` with `{id, prompt,
answer}` lines). Each is sent as one user turn; the reply scores 1 when it equals the answer after
normalisation (case, surrounding punctuation, spaces). `contains` (the answer appears as a word of
the reply) is reported beside it, since small models tend to add words. Greedy by default; with a
temperature the per-item seed makes the sample reproducible, so it is cached too.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.evals.benchmark import VENDORED_DATA, Benchmark, Context, Item, Outcome
from ratiocinator.evals.benchmarks._jsonl import read_jsonl
from ratiocinator.evals.metrics import exact_match


class GenerateSmokeOptions(BaseModel):
    """Sampling for the smoke test, and where the prompts are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int = Field(16, ge=1)
    temperature: float = Field(0.0, ge=0.0)
    prompts: str | None = None  # a .jsonl file; None: the vendored set


class GenerateSmoke(Benchmark):
    name = "generate-smoke"
    description = "a few one-word questions to a model, exact-match scored (exercises the model path)"
    needs_model = True
    Options = GenerateSmokeOptions

    def items(self) -> list[Item]:
        opts: GenerateSmokeOptions = self.options  # type: ignore[assignment]
        path = Path(opts.prompts) if opts.prompts else VENDORED_DATA / "generate_smoke.jsonl"
        return [Item(id=str(r["id"]), inputs={"prompt": r["prompt"], "answer": r["answer"]})
                for r in read_jsonl(path, ("prompt", "answer"))]

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.models import Message, SamplingParams

        opts: GenerateSmokeOptions = self.options  # type: ignore[assignment]
        params = SamplingParams(max_tokens=opts.max_tokens, temperature=opts.temperature,
                                seed=ctx.item_seed(item) if opts.temperature > 0 else None)
        (reply,) = ctx.backend.generate([[Message(role="user", content=item.inputs["prompt"])]], params)
        answer = item.inputs["answer"]
        contains = re.search(rf"(?<!\w){re.escape(answer.lower())}(?!\w)", reply.text.lower()) is not None
        return Outcome(output={"text": reply.text, "finish_reason": reply.finish_reason},
                       score=float(exact_match(reply.text, answer)), metrics={"contains": float(contains)},
                       prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens)
