"""Random PDDL problems for scale tests and benchmarks (blocksworld with 4 operators)."""

from __future__ import annotations

import random


def blocksworld_problem(n: int, seed: int = 0, *, domain: str = "blocks") -> str:
    """A random blocksworld problem with n blocks: random initial towers, random goal towers."""
    rng = random.Random(seed)

    def towers() -> list[str]:
        blocks = [f"b{i}" for i in range(n)]
        rng.shuffle(blocks)
        facts, stacks = [], []
        for b in blocks:
            if stacks and rng.random() < 0.7:
                stack = rng.choice(stacks)
                facts.append(f"(on {b} {stack[-1]})")
                stack.append(b)
            else:
                facts.append(f"(on-table {b})")
                stacks.append([b])
        return facts + [f"(clear {s[-1]})" for s in stacks]

    init, goal = towers(), [f for f in towers() if f.startswith("(on ")]
    return (f"(define (problem bw{n}) (:domain {domain}) (:objects {' '.join(f'b{i}' for i in range(n))})\n"
            f"(:init (arm-empty) {' '.join(init)})\n(:goal (and {' '.join(goal)})))\n")
