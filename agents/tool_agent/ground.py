"""Arguments grounded in the dialogue: a generated value that does not occur in it competes with values that do.

After the caller wrote the arguments under the tool's JSON schema, each string or number value that
does not occur in the dialogue (the request, the turns so far and the planner's rationale) is
compared, by the model's score of the arguments text up to and including the value, with values
taken from the dialogue: quoted spans, runs of capitalised words, numbers and tokens with digits or
`@ / _` in them (names, ids, dates, addresses), the nearest to the generated value first. A value
from the dialogue gets `grounding_bonus` nats on top of its score (the log prior odds that an
argument value is copied from the dialogue, as the config says where it was measured). The keys and
the values' types stay those the schema allowed.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from ratiocinator.agents.tool_agent.context import ToolAgentContext
from ratiocinator.agents.tool_agent.decide import conversation

_QUOTED = re.compile(r"'([^'\n]{1,80})'|\"([^\"\n]{1,80})\"")
_CAPITALISED = re.compile(r"\b[A-Z][\w'&.-]*(?:[ ][A-Z][\w'&.-]*)*")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_MARKED = re.compile(r"[^\s,;:()\[\]{}'\"]*[\d@/_][^\s,;:()\[\]{}'\"]*")


def occurs(value: Any, dialogue: str) -> bool:
    """Whether a value is in the dialogue (case aside; a number as a whole number, not a digit of one)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return any(float(n) == float(value) for n in _NUMBER.findall(dialogue))
    text = str(value).strip()
    return bool(text) and text.casefold() in dialogue.casefold()


def dialogue_values(dialogue: str, *, numeric: bool) -> list[Any]:
    """Candidate argument values found in the dialogue, in order of appearance, without repeats."""
    if numeric:
        found: list[Any] = [float(n) if "." in n else int(n) for n in _NUMBER.findall(dialogue)]
    else:
        found = []
        for pattern in (_QUOTED, _CAPITALISED, _MARKED):
            for m in pattern.finditer(dialogue):
                span = next((g for g in m.groups() if g), m.group(0)) if m.groups() else m.group(0)
                span = span.strip(" .,!?")
                if span:
                    found.append((m.start(), span))
        found = [s for _, s in sorted(found, key=lambda x: x[0])]
    return list(dict.fromkeys(found))


def _kind(schema: dict[str, Any], value: Any) -> str | None:
    """"string" or "number" for a value this module grounds (as the schema types it), else None."""
    if "enum" in schema or "const" in schema:  # the schema's own values, not the dialogue's
        return None
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if isinstance(value, str) and ("string" in kinds or not kinds):
        return "string"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number" if "number" in kinds else ("integer" if "integer" in kinds else None)
    return None


def _candidates(value: Any, kind: str, dialogue: str, limit: int) -> list[Any]:
    pool = dialogue_values(dialogue, numeric=kind != "string")
    if kind == "integer":
        pool = [v for v in pool if isinstance(v, int)]
    near = sorted(
        pool, key=lambda v: -difflib.SequenceMatcher(None, str(v).casefold(), str(value).casefold()).ratio()
    )
    return [value, *[v for v in near if v != value][:limit]]


def _prefix(chosen: dict[str, Any], key: str) -> str:
    """The arguments' JSON text up to the value of `key` (the keys before it with their chosen values)."""
    parts = [f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}" for k, v in chosen.items()]
    return "{" + "".join(p + ", " for p in parts) + json.dumps(key, ensure_ascii=False) + ": "


def ground_arguments(
    ctx: ToolAgentContext[Any], prompt: str, arguments: dict[str, Any], schema: dict[str, Any], dialogue: str
) -> dict[str, Any]:
    """The arguments with each value not in the dialogue replaced by the best-scoring value that is (or kept)."""
    cfg, props = ctx.config, (schema or {}).get("properties", {})
    chosen: dict[str, Any] = {}
    for key, value in arguments.items():
        kind = _kind(props.get(key, {}), value) if isinstance(props.get(key), dict) else None
        if kind is None or occurs(value, dialogue):
            chosen[key] = value
            continue
        cands = _candidates(value, kind, dialogue, cfg.grounding_candidates)
        if len(cands) == 1:
            chosen[key] = value
            continue
        head = _prefix(chosen, key)
        texts = [head + json.dumps(c, ensure_ascii=False) for c in cands]
        scores = ctx.backend.score(conversation(prompt), texts)
        bonus = [cfg.grounding_bonus * occurs(c, dialogue) for c in cands]
        best = max(range(len(cands)), key=lambda i: scores[i] + bonus[i])
        chosen[key] = cands[best]
    return chosen
