"""One sample per prompt, where copies of the same prompt in a batch still get different samples.

A seed belongs to a request (models/types.SamplingParams): a prompt sent twice in one batch with
the same seed comes back twice the same, on every backend (by design: a sample does not depend on
what else was in the batch). Agents that sample a retry for several chains at once (LLM+P feedback
rounds, LLMOPT's second step) would then repeat each other whenever two chains reached the same
conversation. `sample_each` sends each distinct prompt once, with `n` = the number of its copies,
so the copies are different draws of one seeded request (vLLM seeds child i with seed + i; the
transformers backend seeds sample i with a hash of (seed, i)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ratiocinator.errors import InvalidInput
from ratiocinator.models.backend import Prompt, normalize_prompts
from ratiocinator.models.cache import prompt_repr
from ratiocinator.models.types import Completion, SamplingParams


def sample_each(backend: Any, prompts: Sequence[Prompt], params: SamplingParams) -> list[Completion]:
    """`[completion for each prompt]`, identical prompts drawn as `n` samples of one request.

    One `generate` call per distinct number of copies (usually one or two calls), so the batch stays
    batched. `params.n` must be 1; under temperature 0 the copies are equal anyway.
    """
    if params.n != 1:
        raise InvalidInput(f"sample_each draws one sample per prompt; params.n must be 1, got {params.n}")
    items = normalize_prompts(list(prompts))
    first: dict[str, int] = {}
    copies: dict[int, list[int]] = {}
    for i, item in enumerate(items):
        copies.setdefault(first.setdefault(prompt_repr(item), i), []).append(i)
    by_count: dict[int, list[int]] = {}
    for head, members in copies.items():
        by_count.setdefault(len(members), []).append(head)
    out: list[Completion | None] = [None] * len(items)
    for count, heads in sorted(by_count.items()):
        completions = backend.generate([items[h] for h in heads], params.model_copy(update={"n": count}))
        for j, head in enumerate(heads):
            for member, completion in zip(copies[head], completions[j * count:(j + 1) * count], strict=True):
                out[member] = completion
    return out  # type: ignore[return-value]
