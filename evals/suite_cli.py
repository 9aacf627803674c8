"""The `ratiocinator eval suite` commands: run a suite (size and time estimate first), report it, list suites.

    ratiocinator eval suite NAME [--model M] [--workers K] [--out DIR] [--resume [--retry-errors]] [--estimate]
        [--only A,B]
    ratiocinator eval suite report DIR [--compare DIR2]
    ratiocinator eval suite list

`eval suite NAME` is short for `eval suite run NAME` (NAME: a suite that ships, see `eval suite
list`, or a .toml file). Progress, the estimate and errors go to stderr, the report to stdout (and
to DIR/report.md, DIR/report.html). Bad input exits 2, an interrupted suite 130 (continue it with
the same command and --resume), a suite with members that could not run 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from ratiocinator.errors import RatiocinatorError


class _SuiteGroup(TyperGroup):
    """`suite NAME …` runs suite NAME unless NAME is one of the subcommands (list, report, run)."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().resolve_command(ctx, args)


suite_app = typer.Typer(cls=_SuiteGroup, no_args_is_help=True, help=__doc__.splitlines()[0])


def _err(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _default_out(name: str, model: str | None) -> Path:
    slug = "" if model is None else "-" + model.replace("embedded:", "").replace("llamacpp:", "").replace(
        ":", "-").replace("/", "_").replace("@", "_")
    return Path("eval-suites") / f"{Path(name).stem}{slug}"


@suite_app.command("run")
def run_command(
    name: Annotated[str, typer.Argument(help="a suite (smoke, core, full) or the path of a .toml suite file")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="the model of every member that runs one "
                                                                    "(default: the default model on the measured "
                                                                    "default engine, as `eval run`)")] = None,
    workers: Annotated[int, typer.Option(help="items in parallel within each member")] = 1,
    out: Annotated[Path | None, typer.Option(help="suite directory (default eval-suites/NAME-MODEL)")] = None,
    resume: Annotated[bool, typer.Option(help="continue the suite in --out")] = False,
    retry_errors: Annotated[bool, typer.Option(help="with --resume: run again the items that ended in an "
                                                    "error")] = False,
    estimate_only: Annotated[bool, typer.Option("--estimate", help="print the size and time estimate, run "
                                                                   "nothing")] = False,
    only: Annotated[str | None, typer.Option(help="only these members (comma-separated ids)")] = None,
    probe: Annotated[bool, typer.Option(help="measure the model's speed for the estimate (two short "
                                             "uncached requests)")] = True,
    seed: Annotated[int, typer.Option(help="the runs' seed (the samples have their own, in the suite)")] = 0,
    data_dir: Annotated[Path | None, typer.Option(help="folder with the benchmarks' data")] = None,
    executor: Annotated[str, typer.Option(help="local or ray")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster address")] = None,
    cache: Annotated[bool, typer.Option(help="model calls through the response cache")] = True,
    cache_path: Annotated[Path | None, typer.Option(help="the response cache's SQLite file")] = None,
    dtype: Annotated[str, typer.Option(help="auto, float32, bfloat16")] = "auto",
    threads: Annotated[int | None, typer.Option(help="CPU threads of the model")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda or cuda:N")] = None,
    progress: Annotated[bool | None, typer.Option(help="progress display on stderr (default: when a "
                                                       "terminal)")] = None,
) -> None:
    """Run a suite (or resume it): print its size and time estimate, run every member, print its report."""
    from pydantic import ValidationError

    from ratiocinator.evals import suite_run
    from ratiocinator.evals.progress import SuiteProgress
    from ratiocinator.evals.suite import load_suite

    if executor not in ("local", "ray"):
        raise _err(f"--executor {executor!r}: expected local or ray")
    if retry_errors and not resume:
        raise _err("--retry-errors needs --resume: it runs again the failed items of an existing suite run")
    try:
        suite = load_suite(name)
        if only:
            suite = suite.only([i.strip() for i in only.split(",") if i.strip()])
        out = out or _default_out(name, model)
        options = suite_run.SuiteOptions(
            model=model, out=str(out), seed=seed, workers=workers, resume=resume, retry_errors=retry_errors,
            data_dir=str(data_dir) if data_dir else None, executor=executor, ray_address=ray_address, cache=cache,
            cache_path=str(cache_path) if cache_path else None, dtype=dtype, threads=threads, device=device)
        if model is None and executor == "local":  # resolved once, so suite.json records the engine that ran
            options = options.model_copy(update={"model": suite_run._default_model(options)})
        if (out / suite_run.SUITE_FILE).exists() and not resume and not estimate_only:
            raise _err(f"{out} already holds a suite run; pass --resume to continue it, or --out NEW_DIR")
        plans = suite_run.plan_suite(suite, out, data_dir=options.data_dir, retry_errors=retry_errors)
        needs_model = any(p.needs_model and p.error is None and p.todo for p in plans)
        backend = suite_run.load_suite_backend(options) if needs_model else None
    except ValidationError as exc:
        e = exc.errors()[0]
        raise _err(f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}") from None
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None
    try:
        speed = suite_run.measure_speed(backend) if backend is not None and probe else None
        typer.echo(suite_run.format_estimate(suite, suite_run.estimate(plans, speed, out), speed, workers), err=True)
        if estimate_only:
            return
        if backend is not None and not any(suite_run.shares_the_model(p, options) for p in plans):
            backend.close()  # loaded to fail fast and for the probe: the members' worker processes load their own
            backend = None
        show = sys.stderr.isatty() if progress is None else progress
        result = suite_run.run_suite(suite, options, backend=backend, plans=plans,
                                     progress=SuiteProgress() if show else None)
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None
    except KeyboardInterrupt:
        typer.echo(f"\ninterrupted: finished items are saved (the items in flight are redone); continue with the "
                   f"same command --out {out} --resume", err=True)
        stop_now_if_busy()
        raise typer.Exit(130) from None
    finally:
        if backend is not None:
            backend.close()
    _finish(result)


def stop_now_if_busy(grace: float = 3.0, code: int = 130) -> None:
    """After Ctrl-C: exit at once if a worker thread is still inside an item (a model call in C cannot be
    interrupted, and Python would wait for it at exit, minutes for a long generation). Every finished
    record is already on disk (fsync'ed per line, safe against SIGKILL), so nothing is lost."""
    import os
    import threading
    import time

    deadline = time.monotonic() + grace
    workers = [t for t in threading.enumerate() if t.name.startswith("eval") and t is not threading.current_thread()]
    for t in workers:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in workers):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _finish(result: Any) -> None:
    from ratiocinator.evals.report import load_run, markdown
    from ratiocinator.evals.suite_report import write_suite_report

    for member in result.ran:
        run_dir = result.out_dir / member
        (run_dir / "report.md").write_text(markdown(load_run(run_dir)))
    md_path, html_path, text = write_suite_report(result.out_dir)
    typer.echo(text)
    typer.echo(f"report: {md_path}, {html_path}", err=True)
    if result.failed:
        for member, error in result.failed.items():
            typer.echo(f"member {member} could not run: {error}", err=True)
        raise typer.Exit(1)


@suite_app.command("report")
def report_command(
    suite_dir: Annotated[Path, typer.Argument(help="a suite directory (the --out of `eval suite`)")],
    compare: Annotated[Path | None, typer.Option(help="another suite directory: paired item by item")] = None,
) -> None:
    """Write DIR/report.md and DIR/report.html (values with 95 % CIs beside the anchors) and print the markdown."""
    from ratiocinator.evals.suite_report import write_suite_report

    try:
        md_path, html_path, text = write_suite_report(suite_dir, compare)
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None
    typer.echo(text)
    typer.echo(f"report: {md_path}, {html_path}", err=True)


@suite_app.command("list")
def list_command() -> None:
    """The suites that ship: name, members, items, description."""
    from ratiocinator.evals.suite import load_suite, suite_names

    for name in suite_names():
        suite = load_suite(name)
        sized = sum(m.sample or 0 for m in suite.members)
        whole = sum(1 for m in suite.members if m.sample is None)
        size = f"{sized} sampled items" + (f" + {whole} whole sets" if whole else "")
        typer.echo(f"{name:<8} {len(suite.members):>3} members  {size:<34} {suite.description}")
