"""Calibration and held-out evaluation text from the team's offline data, split disjointly, and perplexity.

English comes from MediQ case texts and Mamo / LLMOPT optimization questions, code from HumanEval
prompts with their canonical solutions (the team's data folder); with no data folder, from the text
that ships in the package (`data/calibration/`: the project's own documentation and source). Every
document goes to the calibration or the evaluation split by a hash of its normalised text, so the splits are disjoint (duplicates across sets land together)
and stable across runs. Texts are concatenated and cut into fixed-length token windows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import torch

from ratiocinator.errors import InvalidInput

Split = Literal["calibration", "evaluation"]
Domain = Literal["english", "code", "mixed"]
_ENGLISH = ("pursuit/mediq/all_dev_good.jsonl", "pursuit/mediq/all_craft_md.jsonl",
            "optimization/mamo/easy_lp.jsonl", "optimization/mamo/complex_lp.jsonl",
            "optimization/llmopt/nl4opt_test.jsonl", "optimization/llmopt/industryor.jsonl",
            "optimization/llmopt/nlp4lp.jsonl", "optimization/llmopt/optibench.jsonl")
_CODE = ("code/humaneval/problems.jsonl",)
#: the package's own text (ratiocinator.datadirs.PACKAGED): only read where the team's data is absent
_SHIPPED_ENGLISH = ("calibration/english.jsonl",)
_SHIPPED_CODE = ("calibration/code.jsonl",)


def data_root() -> Path:
    """The first data root that holds the team's texts (ratiocinator.datadirs), else the package's own data/."""
    from ratiocinator.datadirs import PACKAGED, data_roots

    return next((r for r in data_roots() if any((r / f).is_file() for f in _ENGLISH + _CODE)), PACKAGED)


def _text(record: dict[str, Any]) -> str | None:
    if "canonical_solution" in record:  # HumanEval
        return str(record["prompt"]) + str(record["canonical_solution"])
    if isinstance(record.get("context"), list):  # MediQ: the case, then the question
        return " ".join(str(c).strip().rstrip(".") + "." for c in record["context"]) + " " + str(record.get("question", ""))
    for key in ("Question", "question", "text"):
        if isinstance(record.get(key), str):
            return record[key]
    return None


def _split_of(text: str) -> Split:
    norm = " ".join(text.split()).lower()
    return "calibration" if hashlib.sha256(norm.encode()).digest()[0] % 2 == 0 else "evaluation"


def documents(split: Split, domain: Domain = "mixed", root: Path | None = None) -> list[str]:
    """The documents of one split, in file order; raises InvalidInput when no data file is found."""
    root = root or data_root()
    english, code = _ENGLISH + _SHIPPED_ENGLISH, _CODE + _SHIPPED_CODE  # a root holds one kind or the other
    files = {"english": english, "code": code, "mixed": english + code}[domain]
    seen: set[str] = set()
    out: list[str] = []
    found = 0
    for rel in files:
        path = root / rel
        if not path.is_file():
            continue
        found += 1
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            text = _text(json.loads(line))
            if not text or text in seen or _split_of(text) != split:
                continue
            seen.add(text)
            out.append(text)
    if not found:
        raise InvalidInput(f"no calibration/evaluation text under {root}: expected the team's shared data "
                           f"(e.g. {root / _ENGLISH[0]}); set $RATIOCINATOR_DATA to the folder that holds it")
    return out


def _interleave(domain: Domain, split: Split, root: Path | None) -> list[str]:
    if domain != "mixed":
        return documents(split, domain, root)
    english, code = documents(split, "english", root), documents(split, "code", root)
    out: list[str] = []
    for i in range(max(len(english), len(code))):  # mix both so any prefix holds both kinds
        out.extend(x[i] for x in (english, code) if i < len(x))
    return out


def token_windows(tokenizer: Any, *, split: Split, n: int, seq_len: int, domain: Domain = "mixed",
                  root: Path | None = None) -> torch.Tensor:
    """[n, seq_len] token ids: the split's documents joined by blank lines, cut into consecutive windows."""
    if n < 1 or seq_len < 2:
        raise InvalidInput(f"token windows: need n >= 1 and seq_len >= 2, got n={n}, seq_len={seq_len}")
    ids: list[int] = []
    need = n * seq_len
    for doc in _interleave(domain, split, root):
        ids.extend(tokenizer(doc + "\n\n", add_special_tokens=False)["input_ids"])
        if len(ids) >= need:
            break
    if len(ids) < need:
        raise InvalidInput(f"{split} text holds {len(ids)} tokens; {n} windows of {seq_len} need {need}")
    return torch.tensor(ids[:need], dtype=torch.long).reshape(n, seq_len)


def _batches(windows: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    for start in range(0, windows.shape[0], batch_size):
        yield windows[start:start + batch_size]


@torch.inference_mode()
def perplexity(model: Any, windows: torch.Tensor, *, batch_size: int = 4,
               cache_factory: Any = None) -> float:
    """exp(mean next-token NLL) of a causal LM over [n, T] windows (each window scored on its own).

    `cache_factory`: a callable returning a fresh KV cache; when given, each window is fed in two halves
    (prefill the first, then score the second through the cache), which exercises a compressed cache.
    """
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for batch in _batches(windows, batch_size):
        batch = batch.to(device)
        if cache_factory is None:
            logits = model(input_ids=batch, use_cache=False).logits.float()
            targets = batch[:, 1:]
            lp = torch.log_softmax(logits[:, :-1], dim=-1)
        else:
            half = batch.shape[1] // 2
            cache = cache_factory()
            first = model(input_ids=batch[:, :half], past_key_values=cache, use_cache=True).logits.float()
            lps = [torch.log_softmax(first[:, :-1], dim=-1).gather(-1, batch[:, 1:half, None]).squeeze(-1)]
            prev = first[:, -1:]
            for t in range(half, batch.shape[1]):  # token by token: decode reads the compressed cache
                lps.append(torch.log_softmax(prev, dim=-1).gather(-1, batch[:, t:t + 1, None]).squeeze(-1))
                prev = model(input_ids=batch[:, t:t + 1], past_key_values=cache, use_cache=True).logits.float()
            total -= float(torch.cat(lps, dim=1).sum())
            count += batch.shape[0] * (batch.shape[1] - 1)
            continue
        total -= float(lp.gather(-1, targets[..., None]).sum())
        count += targets.numel()
    return float(torch.exp(torch.tensor(total / count)))

