"""The `pursue` command: play 20 Questions with the model asking you (conformal information pursuit, interrupt/resume).

Think of one of the 20 animals; the model asks yes/no questions from the closed bank, each one through
LangGraph's `interrupt()`, and your answer resumes the graph (agents/pursuit/, `drive`). Thresholds
are calibrated on first use (slow on a CPU) and cached as JSON, or read from --thresholds. The game's
data come from the `pursuit-20q` benchmark, so this command lives beside cli.py, not in agents/.
Heavy modules load inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

_YES = {"y", "yes", "true", "1"}
_NO = {"n", "no", "false", "0"}


def yes_no(text: str) -> str | None:
    """'y' / 'no' / 'Yes.' ... -> "Yes." / "No." (the bank's answers); None for anything else."""
    word = text.strip().lower().rstrip(".!")
    return "Yes." if word in _YES else "No." if word in _NO else None


def _ask(query: str) -> str:
    """A person's answer to `query`, asked again until it is yes or no."""
    while True:
        answer = yes_no(typer.prompt(query))
        if answer is not None:
            return answer
        typer.echo("please answer y or n")


def _thresholds(
    backend: Any, samples: list[Any], queries: list[str], *, alpha: float, budget: int, n_cal: int,
    path: Path | None,
) -> Any:
    """q̂ per history length: from --thresholds, else the cached calibration, else calibrate now (and cache)."""
    from ratiocinator.agents.pursuit import Thresholds, calibrate
    from ratiocinator.models import catalog

    if path is not None:
        return Thresholds.load(path)
    cached = catalog.home() / "pursuit" / f"play-20q-{backend.info.identity[:16]}-b{budget}-n{n_cal}.json"
    if cached.is_file():
        return Thresholds.load(cached)
    typer.echo(f"calibrating q̂ for 0..{budget} questions ({n_cal} histories each) …", err=True)
    q = calibrate(
        backend, samples, queries, alpha=alpha, lengths=range(budget + 1), n_per_length=n_cal
    )
    typer.echo(f"thresholds saved to {q.save(cached)}", err=True)
    return q


def pursue_command(
    model: Annotated[str, typer.Option("--model", "-m", help="embedded:NAME or hf:PATH")] = (
        "embedded:qwen2.5-coder-0.5b-instruct"
    ),
    method: Annotated[str, typer.Option(help="cip (conformal) or ip (entropy)")] = "cip",
    budget: Annotated[int, typer.Option(help="most questions asked")] = 10,
    candidates: Annotated[
        int | None, typer.Option(help="queries weighed per step (default: all unasked)")
    ] = 8,
    thresholds: Annotated[
        Path | None, typer.Option(help="q̂ per history length (JSON from a calibration)")
    ] = None,
    n_cal: Annotated[
        int, typer.Option(help="calibration histories per length when calibrating")
    ] = 9,
    data_dir: Annotated[
        Path | None, typer.Option(help="folder holding pursuit/20q (e.g. ../shared/data)")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="torch CPU threads")] = None,
) -> None:
    """Think of an animal; the model asks yes/no questions until its prediction set is one animal."""
    from ratiocinator.agents.pursuit import PursuitConfig, PursuitTask, check_inputs, drive
    from ratiocinator.errors import RatiocinatorError
    from ratiocinator.evals.benchmark import resolve_data_dir
    from ratiocinator.evals.benchmarks.pursuit import PursuitOptions, TwentyQuestions
    from ratiocinator.models import load_backend

    try:
        root = resolve_data_dir(TwentyQuestions, data_dir)
        game = TwentyQuestions(PursuitOptions(), root)
        samples, queries = game.calibration_samples()
        task = PursuitTask(problem=samples[0].problem, queries=queries, samples=samples)
        config = PursuitConfig(method=method, budget=budget, n_candidate_queries=candidates)  # type: ignore[arg-type]
        backend = load_backend(model, threads=threads)
        q = _thresholds(
            backend, samples, queries, alpha=config.alpha, budget=budget, n_cal=n_cal, path=thresholds
        )
        check_inputs(task, config, q)
    except RatiocinatorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo("Think of one of: " + ", ".join(task.problem.labels) + ". Answer y or n.")
    result = drive(task, _ask, backend=backend, config=config, thresholds=q)
    typer.echo(
        f"I think it is: {result.prediction}  (prediction set: {', '.join(result.prediction_set) or 'empty'}; "
        f"{len(result.history)} question(s); stopped: {result.stop_reason.replace('_', ' ')})"
    )
    typer.echo(str(result.verdict))
