"""`ratiocinator compress MODEL --weights int4 --eora-rank 64 --out DIR`: write a compressed checkpoint.

Only typer is imported at module level; torch and transformers load when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def compress_command(
    model: Annotated[str, typer.Argument(help="embedded:NAME or hf:PATH")],
    out: Annotated[Path, typer.Option("--out", "-o", help="directory to write the compressed checkpoint to")],
    weights: Annotated[str, typer.Option(help="int4, int8 or 2:4")] = "int4",
    group_size: Annotated[int, typer.Option(help="int4 group size: 32, 64, 128 or 256")] = 128,
    symmetric: Annotated[bool, typer.Option(help="symmetric (scale only) instead of scale + zero")] = False,
    head: Annotated[str, typer.Option(help="lm_head: int8, same (as --weights) or none (dense)")] = "int8",
    eora_rank: Annotated[int, typer.Option(help="EoRA compensation rank; 0 for none")] = 0,
    eora_method: Annotated[str, typer.Option(help="eigen (EoRA) or svd (plain SVD baseline)")] = "eigen",
    calibration_samples: Annotated[int, typer.Option(help="EoRA calibration windows")] = 64,
    calibration_len: Annotated[int, typer.Option(help="tokens per calibration window")] = 512,
    dtype: Annotated[str, typer.Option(help="auto, float32, bfloat16")] = "auto",
    threads: Annotated[int | None, typer.Option(help="torch CPU threads")] = None,
) -> None:
    """Compress a model's weights (int4/int8/2:4, optionally EoRA-compensated) and save the checkpoint."""
    from ratiocinator.errors import RatiocinatorError

    try:
        _compress(model, out, weights=weights, group_size=group_size, symmetric=symmetric, head=head,
                  eora_rank=eora_rank, eora_method=eora_method, calibration_samples=calibration_samples,
                  calibration_len=calibration_len, dtype=dtype, threads=threads)
    except RatiocinatorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _compress(model: str, out: Path, *, weights: str, group_size: int, symmetric: bool, head: str, eora_rank: int,
              eora_method: str, calibration_samples: int, calibration_len: int, dtype: str,
              threads: int | None) -> None:
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ratiocinator.errors import InvalidInput
    from ratiocinator.models import load_backend
    from ratiocinator.models.compress.checkpoint import save
    from ratiocinator.models.compress.config import CompressionConfig
    from ratiocinator.models.compress.pipeline import compress_model

    if weights in ("none", "bf16"):
        raise InvalidInput("--weights: a checkpoint needs compressed weights (int4, int8 or 2:4); "
                           "the GEAR KV cache is chosen at load time")
    cfg = CompressionConfig.from_options(weights=weights, group_size=group_size, symmetric=symmetric, head=head,
                                         eora_rank=eora_rank or None, eora_method=eora_method,
                                         calibration_samples=calibration_samples, calibration_len=calibration_len)
    if out.exists() and any(out.iterdir()):
        raise InvalidInput(f"--out {out}: the directory exists and is not empty")
    start = time.perf_counter()
    backend = load_backend(model, dtype=dtype, threads=threads)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=False) as bar:
        task = bar.add_task(f"compress {cfg.describe()}", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"compress {cfg.describe()}: {stage}", completed=done, total=total)

        compress_model(backend.model, backend.tokenizer, cfg, keep_codes=True,  # type: ignore[attr-defined]
                       progress=progress)
    save(backend.model, backend.tokenizer, cfg, out)  # type: ignore[attr-defined]
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    typer.echo(f"{cfg.describe()}: wrote {out} ({size / 1e6:.0f} MB) in {time.perf_counter() - start:.0f} s", err=True)
    typer.echo(f"load it with: ratiocinator generate --model hf:{out} …  (or load_backend(\"hf:{out}\"))", err=True)
