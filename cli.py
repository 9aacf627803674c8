"""The `ratiocinator` command: generate, chat, plan, optimize, eval, compress, models, mcp. Heavy imports per command.

Generated text goes to stdout and nothing else does; diagnostics, progress and errors go to stderr.
A bad input exits with status 2 and a message that names it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ratiocinator.errors import RatiocinatorError
from ratiocinator.models.catalog import DEFAULT_MODEL

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.splitlines()[0])
models_app = typer.Typer(no_args_is_help=True, help="Embedded models: list them, prepare (verify + convert) one.")
app.add_typer(models_app, name="models")

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="embedded:NAME, hf:PATH, vllm:NAME|PATH, "
                                                              "openai:MODEL@URL, or a bare embedded NAME")]
DefaultModelOpt = Annotated[str | None, typer.Option(
    "--model", "-m", show_default=False,
    help="embedded:NAME (transformers), llamacpp:NAME|FILE.gguf, hf:PATH, vllm:NAME|PATH, openai:MODEL@URL, or a "
         f"bare embedded NAME. Default: {DEFAULT_MODEL.removeprefix('embedded:')} on llama.cpp on a machine without "
         "a GPU (transformers when llama-cpp-python is missing, or with --dtype/--compress/a GPU; "
         "$RATIOCINATOR_ENGINE=transformers|llamacpp chooses)")]


def _default_model(model: str | None, dtype: str, device: str | None, compress: str | None) -> str:
    """The --model given, or the measured default engine's spec (models/loading.default_spec)."""
    if model is not None:
        return model
    from ratiocinator.models.loading import default_spec

    try:
        return default_spec(dtype=dtype, device=device, compress=compress or None)
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None


def _err(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


DeviceOpt = Annotated[str | None, typer.Option(help="cpu, cuda or cuda:N (default: the backend's, cpu for "
                                                  "embedded: and hf: models)")]


def _device(device: str | None) -> str | None:
    """--device checked before anything loads: a bad value exits 2 naming it."""
    if device is None:
        return None
    from ratiocinator.models.device import check_device

    try:
        return check_device(device)
    except RatiocinatorError as exc:
        raise _err(f"--device: {exc}") from None


def _load(model: str, dtype: str, threads: int | None, cache: bool, compress: str | None = None,
          device: str | None = None) -> Any:
    from rich.console import Console

    from ratiocinator.models import load_backend

    with Console(stderr=True).status(f"loading {model}{f' ({compress})' if compress else ''} …"):
        return load_backend(model, dtype=dtype, threads=threads, device=device, cache=True if cache else None,
                            compress=compress)


def _as_flags(exc: Exception) -> str:
    """A pydantic validation error in one line, each field named by its command-line flag: `--temperature:
    Input should be greater than or equal to 0 (got -1.0)`, not the multi-line dump with its web links."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for e in exc.errors()[:4]:
        field = "--" + "-".join(str(p) for p in e["loc"]).replace("_", "-") if e["loc"] else "the options"
        got = f" (got {e['input']!r})" if not isinstance(e.get("input"), dict) else ""
        parts.append(f"{field}: {e['msg']}{got}")
    return "; ".join(parts)


def _read_text(path: Path, option: str) -> str:
    from ratiocinator.textfiles import read_text

    try:
        return read_text(path, option)
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None


def _read_schema(path: Path) -> dict[str, Any]:
    try:
        schema = json.loads(_read_text(path, "--json-schema"))
    except ValueError as exc:
        raise _err(f"--json-schema {path}: not valid JSON ({exc})") from None
    if not isinstance(schema, dict):
        raise _err(f"--json-schema {path}: expected a JSON object (a JSON schema), got {type(schema).__name__}")
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise _err(f"--json-schema {path}: not a valid JSON schema: {exc.message}") from None
    return schema


@app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help="the request; '-' reads it from stdin")],
    model: DefaultModelOpt = None,
    json_schema: Annotated[Path | None, typer.Option(help="constrain the output to this JSON schema")] = None,
    grammar: Annotated[Path | None, typer.Option(help="constrain the output to this EBNF grammar (root ::= …)")] = None,
    system: Annotated[str | None, typer.Option(help="a system message")] = None,
    raw: Annotated[bool, typer.Option(help="send the prompt as plain text, without the chat template")] = False,
    seed: Annotated[int | None, typer.Option(help="sampling seed (same seed, same output)")] = None,
    temperature: Annotated[float, typer.Option(help="0 is greedy")] = 0.0,
    max_tokens: Annotated[int, typer.Option(help="at most this many new tokens")] = 512,
    dtype: Annotated[str, typer.Option(help="auto, float32, bfloat16")] = "auto",
    threads: Annotated[int | None, typer.Option(help="torch CPU threads")] = None,
    cache: Annotated[bool, typer.Option(help="use the response cache")] = False,
    compress: Annotated[str | None, typer.Option(help="compress the model first, e.g. int8, int4+eora64, "
                                                       "int4+gear-kv4 (a saved checkpoint: --model hf:DIR)")] = None,
    device: DeviceOpt = None,
) -> None:
    """Generate one reply on stdout (only the generated text)."""
    from ratiocinator.models import Message, SamplingParams

    device = _device(device)

    if prompt == "-":
        from ratiocinator.textfiles import decode

        try:
            prompt = decode(sys.stdin.buffer.read(), "the prompt on stdin")
        except RatiocinatorError as exc:
            raise _err(str(exc)) from None
    if not prompt.strip():
        raise _err("the prompt is empty")
    if json_schema and grammar:
        raise _err("give --json-schema or --grammar, not both")
    schema = _read_schema(json_schema) if json_schema else None
    ebnf = _read_text(grammar, "--grammar") if grammar else None
    try:
        params = SamplingParams(temperature=temperature, max_tokens=max_tokens, seed=seed, schema=schema,
                                grammar=ebnf)
    except ValueError as exc:
        raise _err(_as_flags(exc)) from None
    try:
        backend = _load(_default_model(model, dtype, device, compress), dtype, threads, cache, compress, device)
        if raw:
            request: Any = prompt
        else:
            request = ([Message(role="system", content=system)] if system else []) + [
                Message(role="user", content=prompt)
            ]
        (completion,) = backend.generate([request], params)
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None
    if completion.finish_reason != "length":
        sys.stdout.write(completion.text + "\n")
        return
    limit = _which_limit(completion, max_tokens, backend.info.context_length)
    if schema is not None or ebnf is not None:
        from ratiocinator.models.structured import is_complete

        if not is_complete(completion.text, params):  # half a document does not parse: say so, print none of it
            raise _err(f"the output reached {limit} before the constrained output was complete; raise "
                       f"--max-tokens or bound the schema (maxLength, maximum). Partial output: "
                       f"{completion.text!r}", code=1)
        sys.stdout.write(completion.text + "\n")
        typer.echo(f"note: stopped at {limit}, just as the constrained output was complete", err=True)
        return
    sys.stdout.write(completion.text + "\n")
    typer.echo(f"note: the output stopped at {limit}; it may be cut short", err=True)


def _which_limit(completion: Any, max_tokens: int, context: int) -> str:
    """Which limit ended a completion: --max-tokens, or the model's context when the prompt left less room."""
    used = completion.prompt_tokens + completion.completion_tokens
    if completion.completion_tokens < max_tokens and used >= context:
        return (f"the model's context limit ({context} tokens: the prompt took {completion.prompt_tokens}, "
                f"leaving {context - completion.prompt_tokens} for the output, less than --max-tokens {max_tokens})")
    return f"--max-tokens {max_tokens}"


@app.command()
def chat(
    model: DefaultModelOpt = None,
    command: Annotated[str | None, typer.Option("--command", "-c", help="one request: answer it and exit")] = None,
    plain: Annotated[bool, typer.Option(help="talk to the model directly, without the tool agent")] = False,
    ask: Annotated[bool, typer.Option(help="offer the agent an ask_user tool (it may ask you questions)")] = False,
    time_limit: Annotated[float, typer.Option(help="seconds one request may take; an answer cut short says so")] = 600.0,
    thread: Annotated[str | None, typer.Option(help="continue this saved conversation (the agent's thread id)")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="SQLite file of the conversations (default: in the "
                                                          "ratiocinator home)")] = None,
    system: Annotated[str | None, typer.Option(help="a system message (plain mode)")] = None,
    temperature: Annotated[float, typer.Option(help="0 is greedy")] = 0.0,
    max_tokens: Annotated[int, typer.Option(help="at most this many new tokens per reply")] = 512,
    dtype: Annotated[str, typer.Option(help="auto, float32, bfloat16")] = "auto",
    threads: Annotated[int | None, typer.Option(help="torch CPU threads")] = None,
    compress: Annotated[str | None, typer.Option(help="compress the model first, e.g. int8, int4+eora64, "
                                                       "int4+gear-kv4 (a saved checkpoint: --model hf:DIR)")] = None,
    device: DeviceOpt = None,
    mcp: Annotated[list[str] | None, typer.Option("--mcp", help="an MCP server whose tools the agent is offered "
                                                   "too: a command (started over stdio) or an http(s):// URL; "
                                                   "repeatable")] = None,
) -> None:
    """Chat through the tool agent (plans validated, models solved, code sandboxed, math checked); -c for one request.

    Streamed answers that say how they were verified; /tools, /history, /save, /load, /model, /compress,
    /reset, /quit. Reads one request per line when stdin is piped.
    """
    import functools

    from ratiocinator.models import SamplingParams, catalog, load_backend
    from ratiocinator.repl import ChatSession, agent_turn, run_repl

    device = _device(device)
    try:  # before the model loads
        SamplingParams(temperature=temperature, max_tokens=max_tokens)
    except ValueError as exc:
        raise _err(_as_flags(exc)) from None
    if plain and mcp:
        raise _err("--mcp: an MCP server's tools are offered to the tool agent; --plain talks to the model without it")
    interactive = command is None and sys.stdin.isatty()
    store = checkpoint or catalog.home() / "chat" / "conversations.sqlite"
    try:
        session = ChatSession(model=_default_model(model, dtype, device, compress), system=system, temperature=temperature, max_tokens=max_tokens,
                              dtype=dtype, threads=threads, compress=compress, plain=plain, checkpoint=store,
                              thread_id=thread, time_limit=time_limit,
                              ask_user=ask and interactive, mcp=tuple(mcp or ()),
                              # every model of the session (/model too) loads on --device
                              loader=functools.partial(load_backend, device=device))
        if command is None:
            run_repl(session, interactive=interactive)
        elif not command.strip():
            raise _err("-c: the request is empty")
        elif plain:
            for delta in session.reply(command):
                sys.stdout.write(delta)
            sys.stdout.write("\n")
        elif agent_turn(session, command, sys.stdout) == "gave_up":
            raise typer.Exit(1)
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None


@models_app.command("list")
def models_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """The embedded models: name, size, whether installed and whether converted."""
    from rich.console import Console
    from rich.table import Table

    from ratiocinator.models import catalog

    rows = [
        {
            "name": m.spec,
            "params": m.params,
            "gguf_bytes": m.size_bytes,
            "installed": catalog.is_installed(m),
            "cached": catalog.is_cached(m),
            "default": m.spec == DEFAULT_MODEL,
            "notes": m.notes,
        }
        for m in catalog.CATALOG.values()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"embedded models (cache: {catalog.home()})")
    for col in ("name", "params", "size", "installed", "cached", "notes"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"] + (" *" if r["default"] else ""), r["params"], f"{r['gguf_bytes'] / 1e6:.0f} MB",
                      "yes" if r["installed"] else "no", "yes" if r["cached"] else "no", r["notes"])
    Console().print(table)


@models_app.command("prepare")
def models_prepare(
    name: Annotated[str, typer.Argument(help="embedded model name")] = DEFAULT_MODEL,
    force: Annotated[bool, typer.Option(help="convert again even if cached")] = False,
) -> None:
    """Verify an embedded model's sha256 and convert it once to safetensors (with a progress bar)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ratiocinator.models import catalog

    try:
        model = catalog.get(name)
        if catalog.is_cached(model) and not force:
            typer.echo(f"{model.spec}: ready at {catalog.cache_dir(model)}", err=True)
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
                      TimeElapsedColumn(), console=_stderr_console()) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    label = {"verify": "verify sha256", "convert": "convert to safetensors"}.get(stage, stage)
                    tasks[stage] = bar.add_task(f"{model.name}: {label}", total=total, detail="")
                detail = f"{done / 1e6:.0f}/{total / 1e6:.0f} MB" if stage == "verify" else f"step {done}/{total}"
                bar.update(tasks[stage], completed=done, total=total, detail=detail)

            path = catalog.prepare(model, force=force, progress=progress)
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None
    typer.echo(f"{model.spec}: ready at {path}", err=True)


@app.command("methods")
def methods_command(
    as_json: Annotated[bool, typer.Option("--json", help="print the registry as JSON")] = False,
    name: Annotated[str | None, typer.Argument(help="one method: its config fields in full")] = None,
) -> None:
    """The registered methods: name, paper, what each does, its entry point and its config defaults."""
    from ratiocinator import methods

    try:
        chosen = [methods.get(name)] if name else list(methods.METHODS)
        described = [m.describe() for m in chosen]
    except RatiocinatorError as exc:
        raise _err(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(described, indent=2, default=str) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if name:
        (d,) = described
        console.print(f"[bold]{d['name']}[/bold]: {d['description']}\npaper: {d['paper']}\n"
                      f"run: {d['entry_point']}({d['input']}, *, backend, config=None)")
        table = Table("field", "type", "default", "description")
        for f in d["fields"]:
            table.add_row(f["name"], f["type"], repr(f["default"]), f["description"])
        console.print(table)
        return
    table = Table("method", "paper", "what it does")
    for d in described:
        table.add_row(d["name"], d["paper"], d["description"])
    console.print(table)


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


# --- commands of the other layers register here, one line each --------------------------------
from ratiocinator.models.compress import cli as _compress_cli  # noqa: E402  (torch loads per command)

app.command("compress")(_compress_cli.compress_command)
from ratiocinator.solvers import cli as _solvers_cli  # noqa: E402  (typer only; engines load per command)

app.command("plan")(_solvers_cli.plan_command)
app.command("optimize")(_solvers_cli.optimize_command)
from ratiocinator.evals.cli import eval_app  # noqa: E402  (typer only; the runner loads per command)

app.add_typer(eval_app, name="eval")
from ratiocinator import pursue as _pursue  # noqa: E402  (typer only; the graph and the data load per command)

app.command("pursue")(_pursue.pursue_command)
from ratiocinator.interop.cli import mcp_app  # noqa: E402  (typer only; the SDK and the engines load per command)

app.add_typer(mcp_app, name="mcp")


def main() -> None:
    """The console script: the app, with every way it can fail ending in one line on stderr (and, with --json,
    one JSON document on stdout): usage errors, an interrupt, a bug (RATIOCINATOR_DEBUG=1 shows its traceback)."""
    import os

    from typer.exceptions import Abort, TyperException

    as_json = "--json" in sys.argv[1:]
    if as_json:  # what each command prints is watched: an error that printed no JSON gets one at the end
        sys.stdout, sys.stderr = _Watched(sys.stdout), _Watched(sys.stderr)
    try:
        code = app(standalone_mode=False)
    except TyperException as exc:  # typer's (vendored click's) usage errors
        if type(exc).__name__ == "NoArgsIsHelpError" or not hasattr(exc, "format_message"):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(getattr(exc, "exit_code", 2))
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "ratiocinator"
        _last_words(f"{exc.format_message()} (see {command} --help)", as_json, "invalid_input",
                    getattr(exc, "exit_code", 2))
    except (Abort, KeyboardInterrupt):
        _last_words("interrupted", as_json, "interrupted", 130)
    except Exception as exc:
        if os.environ.get("RATIOCINATOR_DEBUG"):
            raise
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):  # options a layer below checks: named as flags, in one line
            _last_words(_as_flags(exc), as_json, "invalid_input", 2)
        _last_words(f"unexpected {type(exc).__name__}: {exc} (a bug: please report it; RATIOCINATOR_DEBUG=1 "
                    "shows where)", as_json, "error", 1)
    code = code if isinstance(code, int) else 0
    if as_json and code != 0 and not sys.stdout.written:  # type: ignore[attr-defined]
        errors = [ln for ln in sys.stderr.text().splitlines() if ln.startswith("error: ")]  # type: ignore[attr-defined]
        message = errors[-1][len("error: "):] if errors else f"exit status {code}"
        print(json.dumps({"status": "invalid_input" if code == 2 else "error", "message": message}, indent=2))
    sys.exit(code)


class _Watched:
    """A text stream that remembers whether anything was written to it, and its last few kilobytes."""

    def __init__(self, stream: Any) -> None:
        self._stream, self.written, self._tail = stream, False, ""

    def write(self, text: str) -> int:
        if text:
            self.written = True
            self._tail = (self._tail + text)[-8192:]
        return self._stream.write(text)

    def text(self) -> str:
        return self._tail

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _last_words(message: str, as_json: bool, status: str, code: int) -> None:
    from ratiocinator.solvers.cli import one_line

    message = one_line(message)
    sys.stdout.flush()
    print(f"error: {message}", file=sys.stderr)
    if as_json:
        print(json.dumps({"status": status, "message": message}, indent=2))
    sys.exit(code)


if __name__ == "__main__":
    main()
