"""A toy benchmark run as a real process by the resume tests: `python slow_toy.py OUT_DIR [N] [--workers K]`.

Each item sleeps a little and returns a deterministic output, so an interrupted run can be resumed
and compared with an uninterrupted one.
"""

from __future__ import annotations

import sys
import time

from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome, register
from ratiocinator.evals.runner import RunConfig, run


@register
class SlowToy(Benchmark):
    name = "slow-toy"
    description = "sleeps 30 ms per item; output and score are functions of the item"

    def __init__(self, options=None, data_dir=None, count: int = 40) -> None:
        super().__init__(options, data_dir)
        self.count = int(sys.argv[2]) if len(sys.argv) > 2 else count

    def items(self) -> list[Item]:
        return [Item(id=f"t{i:03d}", inputs={"i": i}, group="even" if i % 2 == 0 else "odd")
                for i in range(self.count)]

    def run(self, item: Item, ctx: Context) -> Outcome:
        time.sleep(0.03)
        i = item.inputs["i"]
        return Outcome(output={"square": i * i, "seed": ctx.item_seed(item)}, score=float(i % 3 == 0),
                       metrics={"value": i / 10})


if __name__ == "__main__":
    workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 2
    result = run(RunConfig(benchmark="slow-toy", out=sys.argv[1], resume=True, workers=workers))
    print(result.ran, result.skipped, result.summary.n_items)
