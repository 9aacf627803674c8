"""Stepwise LLMOPT's network step: a text whose numbers are mostly between named places (or a grid of two label sets) is one decision for the model.

network.py reads the places and the number of each ordered pair in code; networkmodels.py writes the textbook
model of each question such data can ask (a tour, a maximum flow, a shortest path, a transportation with
opening costs). What is left is which question this text asks: the model scores the one-word answers of the
structures the data can build (a flow or path needs the two places "from ... to ..." names, a tour a number for
every place's pair, a transportation a demand for every head) and "other"; the words' sense (choose.stated_sense)
rules out those of the other sense. The chosen model is solved and checked by the engine like any formulation;
"other", a network too small or too little of the text, or a model that does not solve ok leave the text to
the sentence-by-sentence steps. A text that speaks of assigning and gives one grid (grid.py: workers by tasks)
is asked the same way between an assignment and "other", and a text of staffing periods (shifts.py) between a
covering and "other".
"""

from __future__ import annotations

import json
import re
from typing import Any

from ratiocinator.agents.llmopt import grid as grids
from ratiocinator.agents.llmopt import network as networks
from ratiocinator.agents.llmopt import networkmodels as models
from ratiocinator.agents.llmopt import shifts
from ratiocinator.agents.llmopt.choose import stated_sense
from ratiocinator.agents.llmopt.config import LLMOPTConfig
from ratiocinator.agents.llmopt.engine import evaluate
from ratiocinator.agents.llmopt.result import Attempt
from ratiocinator.models.types import Completion, Message

QUESTION = (
    "Which kind of problem is this? Answer with one word: tour (visit every place exactly once and return), "
    "flow (send as much as possible from a source to a sink), path (the shortest way from a start to an end), "
    "transport (ship from sources to meet each destination's demand at least cost), or other."
)
#: the answers a question offers beside the network's four, where the text's data is a grid (grid.py) or
#: staffing periods (shifts.py)
OTHER_KINDS = {
    "assign": "assign (give each task to exactly one worker, each worker at most one task, as the table's "
              "numbers of each pair say)",
    "cover": "cover (staff who each work several consecutive periods, enough of them on duty in every period)",
}
#: a grid is an assignment only where the words say so
_ASSIGN = re.compile(r"\bassign", re.IGNORECASE)
#: words that allow a fractional count of staff
_FRACTIONS = re.compile(r"\bignor\w* (?:the )?integrality|\ballow\w*\W+(?:\w+\W+){0,3}half\b|\bfractional\b",
                        re.IGNORECASE)
#: each structure's sense: a text that states the other sense asks another question
SENSES = {"tour": "minimize", "flow": "maximize", "path": "minimize", "transport": "minimize"}  # assign: either
#: the largest share of a tour's, flow's or path's numbers the network reading may leave unread
MOST_UNREAD = 0.25
FEWEST_ARCS = 3


def candidates(problem: str) -> dict[str, dict[str, Any]]:
    """The formulations the text's network or grid can be, by structure (none where it is neither)."""
    table = grids.read(problem) if _ASSIGN.search(problem) else None
    if table is not None:
        return {"assign": models.assign(table, stated_sense(problem) or "minimize")}
    staffed = shifts.read(problem)
    if staffed is not None and stated_sense(problem) in (None, "minimize"):
        return {"cover": models.cover(staffed, whole=not _FRACTIONS.search(problem))}
    net = networks.read(problem)
    if net is None or len(net.arcs) < FEWEST_ARCS or net.tables() > 1:  # one table of pairs: no two at once
        return {}
    sense = stated_sense(problem)
    listed = sum(len(values) for _, values in net.series)
    built: dict[str, dict[str, Any]] = {}
    if sense in (None, "minimize"):
        shipped = models.transport(net) or models.redistribute(net)
        if shipped is not None:
            built["transport"] = shipped
    if listed or len(net.unread) > MOST_UNREAD * (len(net.arcs) + len(net.unread)):
        return built  # numbers of the places themselves, or many numbers unread: no tour, flow or path
    if sense in (None, "minimize") and _complete(net):
        built["tour"] = models.tour(net)
    if net.routes:
        start, end = net.routes[-1]
        if sense in (None, "maximize"):
            built["flow"] = models.flow(net, start, end)
        if sense in (None, "minimize"):
            built["path"] = models.path(net, start, end)
    return built


def _complete(net: networks.Network) -> bool:
    """Every place has a number to and from every other (each pair stated once counts both ways)."""
    pairs = net.symmetric()
    return len(net.places) >= 3 and all((a, b) in pairs for a in net.places for b in net.places if a != b)


def decide(problem: str, backend: Any, config: LLMOPTConfig) -> tuple[str, Attempt] | None:
    """The structure the model scores highest for this text, its formulation solved and checked; None where
    the text is no network, the model answers "other", or the formulation does not solve ok (a number of the
    text it leaves unused, an infeasible or implausible optimum: the sentence-by-sentence steps try then)."""
    built = candidates(problem)
    if not built:
        return None
    options = [*built, "other"]
    extra = [OTHER_KINDS[kind] for kind in built if kind in OTHER_KINDS]
    question = f"Which kind of problem is this? Answer with one word: {', '.join(extra)}, or other." if extra else QUESTION
    prompt = [Message(role="user", content=f"{problem}\n\n{question}")]
    scores = backend.score(prompt, options)
    choice = options[max(range(len(options)), key=scores.__getitem__)]
    if choice == "other":
        return None
    text = json.dumps(built[choice])
    completion = Completion(text=text, finish_reason="stop", prompt_tokens=0, completion_tokens=0)
    attempt = evaluate(completion, sample=0, round_=0, config=config, problem=problem)
    return (choice, attempt) if attempt.status == "ok" else None  # doubtful: the steps translate the text
