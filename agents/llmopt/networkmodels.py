"""The textbook models of a network read in code (network.py), as LLMOPT's five-element formulation with sets.

A network text leaves the model one decision its numbers cannot settle: which question is asked of them
("visit each city exactly once and return", "the maximum flow from the source to the destination", "the
shortest distance from S to T"). Once that is decided, the formulation is fixed by the structure and
written here, not by the model: each is the standard one (Ahuja, Magnanti and Orlin, "Network Flows", 1993):
- tour: the travelling salesman problem with Miller-Tucker-Zemlin subtour elimination (binary x[i,j],
  order u[i]);
- flow: maximum flow from a source to a sink (flow within each arc's capacity, conserved elsewhere);
- path: shortest path from a start to an end (one unit of flow; its LP relaxation is integral);
- transport: shipping from the arcs' tails to their heads to meet demands within capacities, with a binary
  for opening a tail where the text gives a cost for it (fixed-charge facility location); or, where every
  place has a stock and a need, moving amounts between them until each has its need (min-cost flow);
- assign: a grid of one number per (row, column) of two label sets (grid.py): each item of the smaller set
  to exactly one of the larger, each of the larger at most once (the linear assignment problem; its LP
  relaxation is integral, the variables are binary anyway);
- cover: staff who each work a shift of several consecutive periods (shifts.py), as few as meet every period's
  need (cyclic staffing: Baker, "Scheduling a full-time workforce", 1974), whole people unless the text
  allows fractions.
A pair the text gives no number for is no arc (its mask is 0; a capacity of 0 is none either).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from ratiocinator.agents.llmopt.grid import Grid
from ratiocinator.agents.llmopt.network import NEED, Network
from ratiocinator.agents.llmopt.shifts import Shifts

Structure = Literal["tour", "flow", "path", "transport", "assign", "cover"]
STRUCTURES: tuple[Structure, ...] = ("tour", "flow", "path", "transport", "assign", "cover")


def _matrix(places: tuple[str, ...], values: dict[tuple[str, str], float]) -> dict[str, dict[str, float]]:
    return {a: {b: values.get((a, b), 0.0) if a != b else 0.0 for b in places} for a in places}


def _mask(places: tuple[str, ...], values: dict[tuple[str, str], float]) -> dict[str, dict[str, float]]:
    return {a: {b: 1.0 if (a, b) in values and a != b else 0.0 for b in places} for a in places}


def _base(network: Network, values: dict[tuple[str, str], float], name: str) -> dict[str, Any]:
    return {"name": name, "sets": [{"name": "P", "elements": list(network.places)}],
            "parameters": [{"name": "c", "index": ["P", "P"], "value": _matrix(network.places, values)},
                           {"name": "a", "index": ["P", "P"], "value": _mask(network.places, values)}]}


def tour(network: Network) -> dict[str, Any]:
    """Visit every place once and return, at least total cost (the pairs' numbers; each stated once counts
    both ways)."""
    values = network.symmetric()
    places = network.places
    n = len(places)
    model = _base(network, values, "tour")
    model["sets"].append({"name": "Q", "elements": list(places[1:])})
    model["parameters"].append({"name": "n", "value": n})
    model["variables"] = [{"name": "x", "index": ["P", "P"], "domain": "binary"},
                          {"name": "u", "index": ["P"], "domain": "nonnegative", "upper": n}]
    model["objective"] = {"sense": "minimize", "expression": "sum(c[i, j] * x[i, j] for i in P for j in P)"}
    model["constraints"] = [
        {"name": "leave_once", "expression": "sum(x[i, j] for j in P if j != i) == 1", "forall": {"i": "P"}},
        {"name": "enter_once", "expression": "sum(x[i, j] for i in P if i != j) == 1", "forall": {"j": "P"}},
        {"name": "arcs_only", "expression": "x[i, j] <= a[i, j]", "forall": {"i": "P", "j": "P"}},
        {"name": "no_subtour", "expression": "u[i] - u[j] + n * x[i, j] <= n - 1", "forall": {"i": "Q", "j": "Q"}},
    ]
    return model


def flow(network: Network, source: str, sink: str) -> dict[str, Any]:
    """The most flow from `source` to `sink` within the arcs' capacities."""
    values = network.cost()
    model = _base(network, values, "flow")
    model["sets"].append({"name": "M", "elements": [p for p in network.places if p not in (source, sink)]})
    model["variables"] = [{"name": "f", "index": ["P", "P"], "domain": "nonnegative"}]
    model["objective"] = {"sense": "maximize",
                          "expression": f"sum(f[{source!r}, j] for j in P) - sum(f[i, {source!r}] for i in P)"}
    model["constraints"] = [
        {"name": "capacity", "expression": "f[i, j] <= c[i, j]", "forall": {"i": "P", "j": "P"}},
        {"name": "conserved", "expression": "sum(f[i, k] for i in P) == sum(f[k, j] for j in P)",
         "forall": {"k": "M"}},
    ]
    return model


def path(network: Network, start: str, end: str) -> dict[str, Any]:
    """The shortest path from `start` to `end` (the pairs' numbers as lengths; each stated once counts both
    ways where the text never gives a pair in both directions)."""
    values = network.cost() if end in network.reachable(start) else network.undirected()  # one-way unless stuck
    model = _base(network, values, "path")
    supply = {p: 1.0 if p == start else -1.0 if p == end else 0.0 for p in network.places}
    model["parameters"].append({"name": "b", "index": ["P"], "value": supply})
    model["variables"] = [{"name": "x", "index": ["P", "P"], "domain": "nonnegative", "upper": 1}]
    model["objective"] = {"sense": "minimize", "expression": "sum(c[i, j] * x[i, j] for i in P for j in P)"}
    model["constraints"] = [
        {"name": "arcs_only", "expression": "x[i, j] <= a[i, j]", "forall": {"i": "P", "j": "P"}},
        {"name": "balance", "expression": "sum(x[k, j] for j in P) - sum(x[i, k] for i in P) == b[k]",
         "forall": {"k": "P"}},
    ]
    return model


def transport(network: Network) -> dict[str, Any] | None:
    """Ship from the arcs' tails to their heads at least cost: each head's number (its heading's) is a demand
    met, each tail's is a capacity; a tail's number under a heading that names a cost is paid once for using
    the tail at all (a binary y opens it: capacity only when open). None unless the tails and heads are apart
    and every head has a demand."""
    cost = network.cost()
    if not priced(network):
        return None
    tails = [p for p in network.places if any(a == p for a, _ in cost)]
    heads = [p for p in network.places if any(b == p for _, b in cost)]
    if not tails or not heads or set(tails) & set(heads):
        return None
    roles: dict[str, list[dict[str, float]]] = {"demand": [], "fixed": [], "capacity": []}
    for heading, values in network.series:
        owners = {p for p, _ in values}
        if owners == set(heads):
            roles["demand"].append(dict(values))
        elif owners == set(tails):
            if _COST.search(heading) and re.search(r"\bper\b", heading, re.IGNORECASE):
                return None  # a cost per unit at each source ("production cost per unit"): no model here yet
            roles["fixed" if _COST.search(heading) else "capacity"].append(dict(values))
    if len(roles["demand"]) != 1 or any(len(found) > 1 for found in roles.values()):
        return None  # no demand, or two tables that could be the same role: not guessed
    demand = roles["demand"][0]
    fixed = roles["fixed"][0] if roles["fixed"] else None
    capacity = roles["capacity"][0] if roles["capacity"] else None
    model: dict[str, Any] = {
        "name": "transport",
        "sets": [{"name": "S", "elements": tails}, {"name": "D", "elements": heads}],
        "parameters": [{"name": "c", "index": ["S", "D"],
                        "value": {a: {b: cost.get((a, b), 0.0) for b in heads} for a in tails}},
                       {"name": "demand", "index": ["D"], "value": demand}],
        "variables": [{"name": "x", "index": ["S", "D"], "domain": "nonnegative"}],
        "constraints": [{"name": "met", "expression": "sum(x[s, d] for s in S) >= demand[d]", "forall": {"d": "D"}}],
    }
    shipped = "sum(c[s, d] * x[s, d] for s in S for d in D)"
    total = sum(demand.values())  # the most any source can ship where nothing else bounds it
    model["objective"] = {"sense": "minimize", "expression": shipped}
    missing = [(a, b) for a in tails for b in heads if (a, b) not in cost]
    if missing:
        model["parameters"].append({"name": "a", "index": ["S", "D"], "value": {
            a: {b: 0.0 if (a, b) in missing else 1.0 for b in heads} for a in tails}})
        model["constraints"].append({"name": "arcs_only", "expression": f"x[s, d] <= {total} * a[s, d]",
                                     "forall": {"s": "S", "d": "D"}})
    if fixed is not None:
        model["parameters"].append({"name": "fixed", "index": ["S"], "value": fixed})
        model["variables"].append({"name": "y", "index": ["S"], "domain": "binary"})
        model["objective"]["expression"] = f"sum(fixed[s] * y[s] for s in S) + {shipped}"
    if capacity is not None:
        model["parameters"].append({"name": "capacity", "index": ["S"], "value": capacity})
        opened = " * y[s]" if fixed is not None else ""
        model["constraints"].append({"name": "within", "expression": f"sum(x[s, d] for d in D) <= capacity[s]{opened}",
                                     "forall": {"s": "S"}})
    elif fixed is not None:
        model["constraints"].append({"name": "opened", "expression": f"sum(x[s, d] for d in D) <= {total} * y[s]",
                                     "forall": {"s": "S"}})
    return model


def priced(network: Network) -> bool:
    """Whether the arcs' numbers are what a move costs: their heading or most of their sentences say so ("the
    transportation cost per unit from each center", "to City 2 costs 2"); a table of amounts ("Food 1: 2 units
    of Nutrient 1") is no shipping."""
    said = [arc for arc in network.arcs if _COST.search(arc.heading) or _COST.search(arc.sentence)]
    return len(said) * 2 > len(network.arcs)


_COST = re.compile(r"\b(cost|costs|price|prices|fee|fees|charge|charges)\b", re.IGNORECASE)


def redistribute(network: Network) -> dict[str, Any] | None:
    """Move amounts between places at least cost (the arcs' numbers per unit moved, each pair's both ways where the
    text gives each once) until each place has what it
    needs: each place's stock plus what it receives less what it sends is at least its need (a min-cost flow).
    None unless every place has exactly one stock and one need (network.NEED)."""
    whole = set(network.places)
    need = [dict(v) for h, v in network.series if h.endswith(f"| {NEED}") and {p for p, _ in v} == whole]
    stock = [dict(v) for h, v in network.series if not h.endswith(f"| {NEED}") and {p for p, _ in v} == whole]
    if len(need) != 1 or len(stock) != 1 or not priced(network):
        return None
    short = [p for p in network.places if stock[0][p] < need[0][p]]
    spare = [p for p in network.places if stock[0][p] > need[0][p]]
    served = all(any(p in network.reachable(q) for q in spare) for p in short)
    values = network.cost() if served else network.undirected()  # one-way unless a need cannot be reached
    model = _base(network, values, "redistribute")
    model["parameters"] += [{"name": "stock", "index": ["P"], "value": stock[0]},
                            {"name": "need", "index": ["P"], "value": need[0]}]
    total = sum(stock[0].values())
    model["variables"] = [{"name": "x", "index": ["P", "P"], "domain": "nonnegative"}]
    model["objective"] = {"sense": "minimize", "expression": "sum(c[i, j] * x[i, j] for i in P for j in P)"}
    model["constraints"] = [
        {"name": "arcs_only", "expression": f"x[i, j] <= {total} * a[i, j]", "forall": {"i": "P", "j": "P"}},
        {"name": "enough", "expression": "stock[k] + sum(x[i, k] for i in P) - sum(x[k, j] for j in P) >= need[k]",
         "forall": {"k": "P"}},
    ]
    return model


def assign(grid: Grid, sense: str = "minimize") -> dict[str, Any]:
    """Each member of the grid's smaller label set matched to one of the larger, each of the larger used at most
    once (all exactly once where the two are the same size), the matched numbers' sum minimized (or maximized)."""
    rows, columns = list(grid.rows), list(grid.columns)
    value = {r: {c: grid.values[i][j] for j, c in enumerate(columns)} for i, r in enumerate(rows)}
    every_row = "==" if len(rows) <= len(columns) else "<="
    every_column = "==" if len(columns) <= len(rows) else "<="
    return {
        "name": "assign",
        "sets": [{"name": "R", "elements": rows}, {"name": "C", "elements": columns}],
        "parameters": [{"name": "v", "index": ["R", "C"], "value": value}],
        "variables": [{"name": "x", "index": ["R", "C"], "domain": "binary"}],
        "objective": {"sense": sense, "expression": "sum(v[r, c] * x[r, c] for r in R for c in C)"},
        "constraints": [
            {"name": "row_once", "expression": f"sum(x[r, c] for c in C) {every_row} 1", "forall": {"r": "R"}},
            {"name": "column_once", "expression": f"sum(x[r, c] for r in R) {every_column} 1", "forall": {"c": "C"}},
        ],
    }


def cover(shifts: Shifts, whole: bool = True) -> dict[str, Any]:
    """As few staff as meet every period's need, each starting at a period and on duty for `span` periods in a row
    (wrapping around where the periods are cyclic)."""
    periods, n = list(shifts.periods), len(shifts.periods)

    def covers(start: int, t: int) -> bool:
        ahead = (t - start) % n if shifts.cyclic else t - start
        return 0 <= ahead < shifts.span

    return {
        "name": "cover",
        "sets": [{"name": "P", "elements": periods}, {"name": "L", "elements": ["shift", "period", "whole"]}],
        "parameters": [{"name": "need", "index": ["P"], "value": dict(zip(periods, shifts.need, strict=True))},
                       {"name": "on", "index": ["P", "P"], "value": {
                           a: {b: 1.0 if covers(i, j) else 0.0 for j, b in enumerate(periods)}
                           for i, a in enumerate(periods)}},
                       {"name": "lengths", "index": ["L"], "value": dict(zip(("shift", "period", "whole"),
                                                                               shifts.lengths, strict=True))}],
        "variables": [{"name": "x", "index": ["P"], "domain": "nonnegative_integer" if whole else "nonnegative"}],
        "objective": {"sense": "minimize", "expression": "sum(x[s] for s in P)"},
        "constraints": [{"name": "met", "expression": "sum(on[s, t] * x[s] for s in P) >= need[t]",
                         "forall": {"t": "P"}}],
    }
