"""A toy suite run as a real process by the Ctrl-C test: `python suite_toy.py SUITE.toml OUT_DIR [--resume]`.

`suite-sleepy` (no model) finishes items quickly except `s05`, which stays inside `run` for ten
minutes (as a long model call in C that no signal interrupts), unless $SUITE_TOY_FAST is set.
"""

from __future__ import annotations

import os
import sys
import time

from ratiocinator.cli import app
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome, register


@register
class Sleepy(Benchmark):
    name = "suite-sleepy"

    def items(self) -> list[Item]:
        return [Item(id=f"s{i:02d}", inputs={"i": i}) for i in range(8)]

    def run(self, item: Item, ctx: Context) -> Outcome:
        if item.id == "s05" and not os.environ.get("SUITE_TOY_FAST"):
            time.sleep(600)
        return Outcome(output=None, score=float(item.inputs["i"] % 2))


if __name__ == "__main__":
    app(["eval", "suite", sys.argv[1], "--out", sys.argv[2], "--no-probe", *sys.argv[3:]])
