"""The `ratiocinator eval` commands: run a benchmark (resumable), list benchmarks, report and compare runs.

    ratiocinator eval BENCHMARK [--model M] [--device D] [--limit N] [--seed S] [--workers K] [--out DIR] [--resume] [--json]
    ratiocinator eval list [--json]
    ratiocinator eval report DIR [--compare DIR2 ...] [--plot PNG] [--json]
    ratiocinator eval suite NAME [--model M] [--workers K] [--out DIR] [--resume] [--estimate]
    ratiocinator eval suite report DIR [--compare DIR2]
    ratiocinator eval suite list

`eval BENCHMARK` is short for `eval run BENCHMARK`. Reports go to stdout (markdown, or JSON with
--json); progress and errors go to stderr. Bad input exits 2, an interrupted run 130 (resume it
with the same command and --resume). Only typer is imported here; the runner loads per command.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from ratiocinator.errors import RatiocinatorError


class _EvalGroup(TyperGroup):
    """`eval NAME …` runs benchmark NAME unless NAME is one of the subcommands (list, report, run)."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().resolve_command(ctx, args)


eval_app = typer.Typer(cls=_EvalGroup, no_args_is_help=True, help=__doc__.splitlines()[0])


def _err(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _parse_sets(pairs: list[str]) -> dict[str, Any]:
    """key=value pairs; a value is JSON when it parses (numbers, true, lists), else a string ("a,b" fills a list)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise _err(f"--set {pair!r}: expected KEY=VALUE, e.g. --set timeout=30")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        options[key.strip()] = value
    return options


@eval_app.command("run")
def run_command(
    benchmark: Annotated[str, typer.Argument(help="a benchmark name (see `ratiocinator eval list`)")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="embedded:NAME, hf:PATH, vllm:NAME|PATH, "
                                                                    "llamacpp:NAME, openai:MODEL@URL or a bare "
                                                                    "embedded NAME (model benchmarks; default: the "
                                                                    "default model on the measured default engine, "
                                                                    "llama.cpp on a machine without a GPU)")] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N items")] = None,
    sample: Annotated[int | None, typer.Option(help="a fixed seeded sample of N items (the same for every "
                                                    "model), not the first N")] = None,
    sample_seed: Annotated[int, typer.Option(help="the seed of --sample")] = 0,
    seed: Annotated[int, typer.Option(help="the run's seed (per-item seeds derive from it)")] = 0,
    workers: Annotated[int, typer.Option(help="items in parallel (threads, or processes where needed)")] = 1,
    out: Annotated[Path | None, typer.Option(help="run directory (default eval-runs/BENCH-MODEL-sSEED)")] = None,
    resume: Annotated[bool, typer.Option(help="continue the run in --out, skipping finished items")] = False,
    retry_errors: Annotated[bool, typer.Option(help="with --resume: run again the items that ended in an "
                                                    "error (a server that went away, say)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="folder with the benchmark's data (e.g. ../shared/data)")] = None,
    dataset: Annotated[str | None, typer.Option(help="the benchmark's dataset option, if it has one")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="benchmark option KEY=VALUE (repeatable)")] = None,
    executor: Annotated[str, typer.Option(help="local (thread/process pool) or ray")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster address (default: a local instance)")] = None,
    cache: Annotated[bool, typer.Option(help="model calls through the response cache")] = True,
    cache_path: Annotated[Path | None, typer.Option(help="the response cache's SQLite file")] = None,
    dtype: Annotated[str, typer.Option(help="auto, float32, bfloat16")] = "auto",
    threads: Annotated[int | None, typer.Option(help="torch CPU threads")] = None,
    compress: Annotated[str | None, typer.Option(help="compress the model first, e.g. int4+eora64+gear-kv4 "
                                                       "(or load a saved checkpoint with --model hf:DIR)")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda or cuda:N (default: the backend's, cpu for "
                                                     "embedded: and hf: models)")] = None,
    progress: Annotated[bool | None, typer.Option(help="progress bar on stderr (default: when a terminal)")] = None,
) -> None:
    """Run a benchmark (or resume it) and print its report."""
    from pydantic import ValidationError

    from ratiocinator.evals.progress import NoProgress, RichProgress
    from ratiocinator.evals.report import load_run, markdown
    from ratiocinator.evals.runner import RunConfig, run

    if retry_errors and not resume:
        raise _err("--retry-errors needs --resume: it runs again the failed items of an existing run")
    if device is not None:
        from ratiocinator.models.device import check_device

        try:
            device = check_device(device)
        except RatiocinatorError as exc:
            raise _err(f"--device: {exc}") from None
    options = _parse_sets(set_ or [])
    if dataset is not None:
        options["dataset"] = dataset
    try:
        config = RunConfig(benchmark=benchmark, model=model, options=options, seed=seed, limit=limit,
                           sample=sample, sample_seed=sample_seed,
                           workers=workers, executor=executor, ray_address=ray_address,  # type: ignore[arg-type]
                           data_dir=str(data_dir) if data_dir else None, out=str(out) if out else None,
                           resume=resume, require_run=resume, retry_errors=retry_errors, cache=cache, cache_path=str(cache_path) if cache_path else None,
                           dtype=dtype, threads=threads, compress=compress, device=device)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise _err(f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}") from None
    show = sys.stderr.isatty() if progress is None else progress
    try:
        result = run(config, progress=RichProgress() if show else NoProgress())
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None
    except KeyboardInterrupt:
        where = f" --out {out}" if out else ""
        typer.echo(f"\ninterrupted: finished items are saved; continue with the same command{where} --resume",
                   err=True)
        from ratiocinator.evals.suite_cli import stop_now_if_busy

        stop_now_if_busy()
        raise typer.Exit(130) from None
    report = markdown(load_run(result.out_dir))
    (result.out_dir / "report.md").write_text(report)
    typer.echo(f"{result.ran} items run, {result.skipped} already done; {result.out_dir}", err=True)
    if result.summary.n_errors:
        typer.echo(f"{result.summary.n_errors} item(s) ended in an error; to run them again: the same command "
                   "with --resume --retry-errors", err=True)
    if as_json:
        typer.echo(json.dumps({"out_dir": str(result.out_dir), "ran": result.ran, "skipped": result.skipped,
                               "seconds": result.seconds, "summary": result.summary.model_dump(mode="json")},
                              indent=2))
    else:
        typer.echo(report)


@eval_app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """The registered benchmarks: name, whether they run a model, the data they read, their options."""
    from ratiocinator.evals import benchmark as registry

    rows = []
    for name in registry.names():
        try:
            cls = registry.get(name)
        except RatiocinatorError as exc:  # pragma: no cover - a broken plug-in should not hide the others
            rows.append({"name": name, "error": str(exc)})
            continue
        rows.append({"name": name, "description": cls.description, "needs_model": cls.needs_model,
                     "data": f"{cls.data_subdir}/ under --data-dir" if cls.data_subdir else "vendored",
                     "options": cls.Options().model_dump(mode="json")})
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    for r in rows:
        model = "model" if r.get("needs_model") else "no model"
        typer.echo(f"{r['name']:<16} {model:<9} {r.get('data', ''):<32} {r.get('description', r.get('error'))}")


@eval_app.command("report")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    compare: Annotated[list[Path] | None, typer.Option(help="other run directories to compare with")] = None,
    plot: Annotated[Path | None, typer.Option(help="PNG path (default: report.png in the run directory)")] = None,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="do not draw the PNG")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summaries as JSON")] = False,
) -> None:
    """A markdown table of a run (with --compare: side by side, and paired item by item with McNemar's exact test
    or the sign test), and a PNG of the scores with 95 % CIs."""
    from ratiocinator.evals.report import (
        compare_markdown,
        different_items,
        load_run,
        markdown,
        paired_markdown,
    )
    from ratiocinator.evals.report import plot as draw

    try:
        runs = [load_run(p) for p in [run_dir, *(compare or [])]]
        if len(runs) > 1 and different_items(runs):
            typer.echo(f"warning: {different_items(runs)}", err=True)
        text = "\n".join(markdown(r) for r in runs)
        if len(runs) > 1:
            text += "\n" + compare_markdown(runs) + "\n" + paired_markdown(runs)
        png = None
        if not no_plot:
            png = draw(runs, plot or run_dir / ("compare.png" if len(runs) > 1 else "report.png"))
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None
    if png is not None:
        typer.echo(f"plot: {png}", err=True)
    if as_json:
        typer.echo(json.dumps([{"run": str(r.path), "summary": r.summary.model_dump(mode="json")} for r in runs],
                              indent=2))
    else:
        typer.echo(text)


from ratiocinator.evals.suite_cli import suite_app  # noqa: E402  (typer only, as this module)

eval_app.add_typer(suite_app, name="suite")
