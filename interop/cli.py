"""The `ratiocinator mcp` commands: `mcp serve` runs the MCP server over the exact engines (interop/mcp_server.py)."""

from __future__ import annotations

from typing import Annotated

import typer

mcp_app = typer.Typer(no_args_is_help=True, help="The Model Context Protocol: serve the exact engines to any MCP client.")


@mcp_app.command("serve")
def serve_command(
    transport: Annotated[str, typer.Option(help="stdio (what a desktop assistant starts) or http (streamable "
                                                "HTTP on 127.0.0.1, path /mcp)")] = "stdio",
    port: Annotated[int, typer.Option(help="the HTTP port (with --transport http)")] = 8765,
    model: Annotated[str | None, typer.Option("--model", "-m", help="a model for plan_from_text and "
                                                                    "optimize_from_text (embedded:NAME, hf:PATH, "
                                                                    "…); none: those tools are not offered")] = None,
) -> None:
    """Serve plan, validate_plan, optimize, check_derivation, check_math, solve_equation, run_python and select_code
    (and, with --model, plan_from_text and optimize_from_text) over MCP; each result says how it was verified."""
    from ratiocinator.errors import RatiocinatorError
    from ratiocinator.interop.mcp_server import serve

    if transport not in ("stdio", "http"):
        typer.echo(f"error: --transport {transport}: expected stdio or http", err=True)
        raise typer.Exit(2)
    try:
        serve(transport, port=port, model=model)  # type: ignore[arg-type]
    except RatiocinatorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
