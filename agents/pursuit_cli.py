"""The `pursue` command: play 20 Questions with the model asking you (conformal information pursuit, interrupt/resume).

Think of one of the 20 animals; the model asks yes/no questions from the closed bank, each one through
LangGraph's `interrupt()`, and your answer resumes the graph. Thresholds are calibrated on first use
(slow on a CPU) and cached as JSON, or read from --thresholds. Heavy modules load inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

_YES = {"y", "yes", "true", "1"}
_NO = {"n", "no", "false", "0"}


def yes_no(text: str) -> str | None:
    """'y' / 'no' / 'Yes.' ... -> "Yes." / "No." (the bank's answers); None for anything else."""
    word = text.strip().lower().rstrip(".!")
    return "Yes." if word in _YES else "No." if word in _NO else None


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
    from langgraph.checkpoint.memory import InMemorySaver

    from ratiocinator.agents.pursuit import PursuitConfig, build_pursuit_graph, calibrate, drive
    from ratiocinator.agents.pursuit_conformal import Thresholds
    from ratiocinator.errors import RatiocinatorError
    from ratiocinator.evals.benchmark import resolve_data_dir
    from ratiocinator.evals.benchmarks.pursuit import PursuitOptions, TwentyQuestions
    from ratiocinator.models import catalog, load_backend

    try:
        root = resolve_data_dir(TwentyQuestions, data_dir)
        game = TwentyQuestions(PursuitOptions(), root)
        samples, queries = game.calibration_samples()
        problem = samples[0].problem
        config = PursuitConfig(method=method, budget=budget, n_candidate_queries=candidates)  # type: ignore[arg-type]
        backend = load_backend(model, threads=threads)
        if thresholds is not None:
            q = Thresholds.load(thresholds)
        else:
            path = (
                catalog.home()
                / "pursuit"
                / f"play-20q-{backend.info.identity[:16]}-b{budget}-n{n_cal}.json"
            )
            if path.is_file():
                q = Thresholds.load(path)
            else:
                typer.echo(
                    f"calibrating q̂ for 0..{budget} questions ({n_cal} histories each) …", err=True
                )
                q = calibrate(
                    backend,
                    samples,
                    queries,
                    alpha=config.alpha,
                    lengths=range(budget + 1),
                    n_per_length=n_cal,
                )
                typer.echo(f"thresholds saved to {q.save(path)}", err=True)
        graph = build_pursuit_graph(
            backend,
            problem,
            queries,
            samples=samples,
            config=config,
            thresholds=q,
            checkpointer=InMemorySaver(),
        )
    except RatiocinatorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo("Think of one of: " + ", ".join(problem.labels) + ". Answer y or n.")

    def ask(query: str) -> str:
        while True:
            answer = yes_no(typer.prompt(query))
            if answer is not None:
                return answer
            typer.echo("please answer y or n")

    result = drive(graph, ask)
    typer.echo(
        f"I think it is: {result.prediction}  (prediction set: {', '.join(result.prediction_set) or 'empty'}; "
        f"{len(result.history)} question(s); stopped: {result.stop_reason})"
    )
