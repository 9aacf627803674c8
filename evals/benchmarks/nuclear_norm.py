"""`nuclear-norm`: the Matrix Nuclear-Norm of a model's responses to a prompt set (Li et al. 2024).

For each prompt (`evals/data/nuclear_norm_prompts.jsonl`, or `--set prompts=FILE`) the model's
greedy response is generated through the response cache, then the prompt + response are run once
more through the model to read the last layer's hidden states at the response tokens; the metric
(`metrics.nuclear_norm`: centred, row-normalised, sum of the top-D column norms over length) is the
item's score. Lower means the model compresses its responses more. `exact_nuclear_norm` (by SVD) is
reported beside it. Hidden states come from a backend's own `hidden_states(prompt, response) ->
(tokens, hidden)` (the llama.cpp backend: its per-token embeddings, the output head's input; tests'
scripted backends) or from a transformers backend's model (`embedded:` or `hf:`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.errors import InvalidInput, UnsupportedFeature
from ratiocinator.evals.benchmark import VENDORED_DATA, Benchmark, Context, Item, Outcome
from ratiocinator.evals.benchmarks._jsonl import read_jsonl
from ratiocinator.evals.metrics import exact_nuclear_norm, nuclear_norm


class NuclearNormOptions(BaseModel):
    """How long the responses may be, and where the prompts are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int = Field(64, ge=2)
    prompts: str | None = None  # a .jsonl file of {id, prompt}; None: the vendored set


def response_hidden_states(backend: Any, prompt: Any, response: str) -> np.ndarray:
    """(response tokens, hidden) float64 array: the last layer's states at the response's positions."""
    own = getattr(backend, "hidden_states", None)
    if callable(own):
        return np.asarray(own(prompt, response), dtype=np.float64)
    model, tokenizer, encode = (getattr(backend, a, None) for a in ("model", "tokenizer", "encode"))
    if model is None or tokenizer is None or encode is None:
        raise UnsupportedFeature(f"nuclear-norm needs hidden states; the {backend.info.backend} backend does not "
                                 "expose them. Use a llamacpp:NAME, embedded:NAME or hf:PATH model.")
    import torch

    prompt_ids = encode(prompt)
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    if not response_ids:
        raise InvalidInput("the response is empty; the nuclear norm needs at least one token")
    ids = torch.tensor([prompt_ids + response_ids], device=model.device)
    with torch.inference_mode():
        out = model(input_ids=ids, output_hidden_states=True)
    states = out.hidden_states[-1][0, len(prompt_ids):]  # (response tokens, hidden)
    return states.float().cpu().numpy().astype(np.float64)


class NuclearNorm(Benchmark):
    name = "nuclear-norm"
    description = "Matrix Nuclear-Norm of a model's responses to a prompt set (lower: more compressed)"
    needs_model = True
    Options = NuclearNormOptions

    def items(self) -> list[Item]:
        opts: NuclearNormOptions = self.options  # type: ignore[assignment]
        path = Path(opts.prompts) if opts.prompts else VENDORED_DATA / "nuclear_norm_prompts.jsonl"
        return [Item(id=str(r["id"]), inputs={"prompt": r["prompt"]}) for r in read_jsonl(path, ("prompt",))]

    def run(self, item: Item, ctx: Context) -> Outcome:
        from ratiocinator.models import Message, SamplingParams

        opts: NuclearNormOptions = self.options  # type: ignore[assignment]
        conversation = (Message(role="user", content=item.inputs["prompt"]),)
        with ctx.backend.exclusive() as backend:
            (reply,) = backend.generate([conversation], SamplingParams(max_tokens=opts.max_tokens))
            hidden = response_hidden_states(backend, conversation, reply.text)
        value = nuclear_norm(hidden)
        return Outcome(output={"text": reply.text, "response_tokens": int(hidden.shape[0])}, score=value,
                       metrics={"exact_nuclear_norm": exact_nuclear_norm(hidden),
                                "response_tokens": float(hidden.shape[0])},
                       prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens)
