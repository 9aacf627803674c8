"""A model benchmark run as a real process by the load-count tests: `python load_toy.py OUT_DIR LOG BENCH WORKERS`.

The model loader is replaced by one that appends this process's pid (and the options it got) to LOG
and returns a scripted backend; the replacement is made at the module's top level, so it holds in
this process and in every spawned worker (each runs this file's top level). With $LOAD_TOY_FAIL set
the loader raises MissingPackage, an error that does not survive pickling as such. Prints this
process's pid on stdout.
"""

from __future__ import annotations

import json
import os
import sys

import ratiocinator.models
from ratiocinator.errors import MissingPackage, RatiocinatorError
from ratiocinator.evals.benchmark import Benchmark, Context, Item, Outcome, register
from ratiocinator.evals.runner import RunConfig, run
from ratiocinator.models.scripted import ScriptedBackend


def counting_loader(spec: str, **options: object) -> ScriptedBackend:
    with open(os.environ["LOAD_TOY_LOG"], "a") as log:
        log.write(json.dumps({"pid": os.getpid(), "spec": spec, "device": options.get("device")}) + "\n")
    if os.environ.get("LOAD_TOY_FAIL"):
        raise MissingPackage("the toy model needs a package", pip_command="pip install toy-weights")
    return ScriptedBackend(lambda prompt, params: "four", name="toy-model")


ratiocinator.models.load_backend = counting_loader  # what the runner's WorkerSpec.load_backend calls


class _Asks(Benchmark):
    description = "asks the model once per item"
    needs_model = True

    def items(self) -> list[Item]:
        return [Item(id=f"q{i}", inputs={"i": i}) for i in range(6)]

    def run(self, item: Item, ctx: Context) -> Outcome:
        (reply,) = ctx.backend.generate(f"question {item.inputs['i']}")
        return Outcome(output={"reply": reply.text, "pid": os.getpid()}, score=1.0)


@register
class AsksInProcesses(_Asks):
    name = "load-toy-processes"
    thread_safe = False  # workers > 1 are spawned processes


@register
class AsksInThreads(_Asks):
    name = "load-toy-threads"


if __name__ == "__main__":
    out, _log, bench, workers = sys.argv[1:5]
    print(os.getpid(), flush=True)
    try:
        run(RunConfig(benchmark=bench, model="embedded:toy", out=out, workers=int(workers), device="cpu"))
    except RatiocinatorError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(2)
