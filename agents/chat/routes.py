"""How the chat sorts a request: keyword families -> a kind, and the solver tools each kind offers.

Cheap and predictable: a 0.5B model is better spent on the roles than on routing. A kind that a
registered method answers (its `chat_kind`, ratiocinator.methods) offers that method instead of
these tools (agents/chat/method_tools.py).
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal[
    "pddl", "blocksworld", "planning", "optimization", "coding", "math", "arithmetic", "general"
]
#: One checking tool per kind where possible: a 0.5B caller picks badly among similar tools.
ROUTES: dict[Kind, tuple[str, ...]] = {
    "pddl": ("plan",),
    "blocksworld": ("blocksworld",),
    "planning": ("plan",),  # a registered method with chat_kind "planning" (LLM+P) instead, if any
    "optimization": ("optimize",),  # ... with chat_kind "optimization" (LLMOPT) instead, if any
    "coding": ("run_python",),
    "math": ("solve_equation", "check_math", "calculator"),
    "arithmetic": ("calculator",),
    "general": (),
}
_KEYWORDS: list[tuple[Kind, re.Pattern[str]]] = [
    ("pddl", re.compile(r"\(define\s*\((domain|problem)\b", re.I)),
    ("blocksworld", re.compile(r"\b(blocks?(world)?|unstack)\b", re.I)),
    ("planning", re.compile(r"\b(plan|pddl|gripper|robot arm|logistics)\b", re.I)),
    (
        "optimization",
        re.compile(
            r"\b(maximi[sz]e|minimi[sz]e|optimi[sz]e|optimal|profit|knapsack|linear program|"
            r"constraints?|allocat\w*|schedul\w*)\b",
            re.I,
        ),
    ),
    ("coding", re.compile(r"\b(python|function|code|program|script|implement|def)\b", re.I)),
    (
        "math",
        re.compile(
            r"\b(solve|equation|derivative|integral|simplify|prove|derivation|factor)\b|[a-z]\s*\^|=",
            re.I,
        ),
    ),
    (
        "arithmetic",
        re.compile(
            r"\d\s*[-+*/^%]\s*\(?\d|\bsqrt\b|\bpercent\b|\d\s*(times|plus|minus)\s*\d", re.I
        ),
    ),
]


def classify(request: str) -> Kind:
    """The kind of request, by the first matching keyword family (planning before optimization, …)."""
    for kind, pattern in _KEYWORDS:
        if pattern.search(request):
            return kind
    return "general"
