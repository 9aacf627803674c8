"""Stepwise LLMOPT's scored choice of the objective: alternatives drafted, the model's log-probability of each compared.

Constrained greedy decoding commits to a token at a time: once it has written `minimize 8*` it can
only finish a weighted sum, although the model, shown whole alternatives, prefers another. So the
objective is chosen, not written: the greedy objective, a few sampled ones, the plain sum of the
declared variables (for "the total number of ..."), each in both senses, are scored as the reply to the
objective's question in the same conversation (one prompt, `Backend.score`), and the most probable one
that passes the piece's check wins. The sense can be read off the text instead, where only one of
"maximize" / "minimize" (or their nouns) occurs in it. Measured on NL4Opt 1-10 with the 0.5B
(alternatives: the right objective, the plain sum, another number group): the score picked the right
one on 7 of 9, the model's yes/no judgement of each on 4 of 9.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ratiocinator.agents.llmopt.draft import Draft, check_objective
from ratiocinator.agents.llmopt.stepprompts import conversation
from ratiocinator.agents.llmopt.table import sentences
from ratiocinator.models.sampling import sample_each
from ratiocinator.models.types import SamplingParams

SENSES = ("minimize", "maximize")
_SENSE_WORDS = {
    "minimize": re.compile(r"\b(minimi[sz]\w*|minimum|minimal|smallest|lowest|cheapest|fewest|(?<!at )least(?! \d))\b",
                           re.IGNORECASE),
    "maximize": re.compile(r"\b(maximi[sz]\w*|maximum|maximal|largest|highest)\b", re.IGNORECASE),
}


def stated_sense(problem: str) -> str | None:
    """The one sense the text's words state (`minimize the cost`, `the maximum profit`), or None when both or neither.
    Words of a limit say nothing of the objective ("a maximum limit on each crop", "a minimum of 30 units"); where
    both senses are stated, the question's decides ("maximize his profit ... what is the minimum cost?": what is
    asked is answered)."""
    said = [(s, {sense for sense, words in _SENSE_WORDS.items() if any(
        m.group(0).lower().startswith(("minimi", "maximi")) or _QUESTION.search(s) or not _LIMIT_USE.match(s[m.end():])
        for m in words.finditer(s))}) for s in sentences(problem)]
    found = set().union(*(senses for _, senses in said))
    if len(found) == 1:
        return found.pop()
    asked = [senses for s, senses in said if len(senses) == 1 and _QUESTION.search(s)]
    return next(iter(asked[-1])) if found and asked else None


#: what follows a sense word used of a limit: a number or a limit's noun ("maximum limit", "minimum of 30")
_LIMIT_USE = re.compile(r"\s*of\s+\$?\d|\s*(?:[a-z]+\s+){0,2}?(?:limit|bound|allowed|allowable|threshold)\b", re.IGNORECASE)
#: a sentence that asks what the answer is
_QUESTION = re.compile(r"\?\s*$|^\s*(?:the question is:?\s*)?(?:what|how|calculate|determine|find|compute)\b",
                       re.IGNORECASE)


def alternatives(draft: Draft, drafted: list[str], *, from_text: bool, read: tuple[str, ...] = (),
                 decided: bool = False) -> list[str]:
    """The candidate objectives: each drafted one and the plain sum of the variables, in both senses (or the
    text's), deduplicated in order, only those that pass the objective's check and name every decision the
    first (greedy) one names: an alternative may weigh the decisions otherwise, not drop one (a shorter
    expression is more probable, so a dropped decision would win by its length alone). `read` are bodies
    the text's words support (readings.py: a column of rates, the one decision the objective names); they
    are kept though they name other decisions than the greedy one; where the words `decided`, only they are."""
    names = [name for name, _ in draft.variables()]
    bodies = [text.partition(" ")[2].strip() for text in drafted if text.partition(" ")[0] in SENSES]
    named = _named(names, bodies[0]) if bodies else set()
    if names:
        bodies.append(" + ".join(names))
    sense = stated_sense(draft.problem) if from_text else None
    senses = [sense] if sense else [s for s in (draft.objective()[0], *SENSES) if s in SENSES]
    out: list[str] = []
    for body in ([*read] if decided and read else [*bodies, *read]):
        for s in senses:
            text = f"{s} {body}"
            if (text not in out and body and (body in read or named <= _named(names, body))
                    and not check_objective(draft.with_reply("objective", text))):
                out.append(text)
    return out


def _named(names: list[str], expression: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]\w*", expression)) & set(names)


def choose_objective(backend: object, drafts: list[Draft], grammar: Callable[[Draft], tuple[str, int]], *, samples: int,
                     temperature: float, seed: int, from_text: bool,
                     read: Callable[[Draft], tuple[tuple[str, ...], bool]] | None = None) -> list[Draft]:
    """Each draft with its objective replaced by the most probable of its alternatives (the greedy one kept
    when it has none to compare with)."""
    out = []
    for i, draft in enumerate(drafts):
        prompt = conversation(draft.problem, list(draft.table), draft.replies, "objective")
        drafted = [draft.replies.get("objective", "")]
        if samples:
            ebnf, limit = grammar(draft)
            params = SamplingParams(grammar=ebnf, max_tokens=limit, temperature=temperature, seed=seed + i)
            drafted += [c.text.strip() for c in sample_each(backend, [prompt] * samples, params)]
        bodies, decided = read(draft) if read else ((), False)
        options = alternatives(draft, drafted, from_text=from_text, read=bodies, decided=decided)
        if len(options) < 2:
            out.append(draft.with_reply("objective", options[0]) if options and decided else draft)
            continue
        scores = backend.score(prompt, options)  # type: ignore[attr-defined]
        best = max(range(len(options)), key=scores.__getitem__)
        out.append(draft.with_reply("objective", options[best]))
    return out
