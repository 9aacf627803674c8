"""Where offline data is found: the one resolver every layer uses (agents' planning domains, eval benchmarks, compression text).

In order: `$RATIOCINATOR_DATA`, then the team's `shared/data` beside the checkout (the package
folder's parent), then `shared/data` beside and under the working directory. Data that ships inside
the package lies under `data/` (`PACKAGED`: the last root tried, so the team's copy wins) and
`evals/data/` (`VENDORED`: small benchmark sets). A caller that needs one sub-folder asks
`find(subdir)`; when nothing holds it, the error names every place that was looked in and how to
point at the data.
"""

from __future__ import annotations

import os
from pathlib import Path

from ratiocinator.errors import InvalidInput

#: Data shipped with the package (small, permissively licensed sets, each with its licence).
VENDORED = Path(__file__).resolve().parent / "evals" / "data"
#: Data the agents need that ships inside the package (e.g. planning domains), laid out as shared/data is.
PACKAGED = Path(__file__).resolve().parent / "data"
ENV = "RATIOCINATOR_DATA"


def data_roots() -> list[Path]:
    """Every folder that may hold the team's data, in the order they are tried (duplicates dropped)."""
    found: list[Path] = []
    env = os.environ.get(ENV)
    if env:
        found.append(Path(env).expanduser())
    package_root = Path(__file__).resolve().parent
    found += [
        package_root.parent / "shared" / "data",
        Path.cwd().parent / "shared" / "data",
        Path.cwd() / "shared" / "data",
        PACKAGED,
    ]
    unique: list[Path] = []
    for root in found:
        if root not in unique:
            unique.append(root)
    return unique


def find(
    subdir: str, data_dir: Path | str | None = None, *, who: str = "this", packaged: bool = True
) -> Path:
    """The data root that holds `subdir` (`data_dir` if given, else the first of `data_roots()` that does).

    `packaged=False` leaves out the package's own `data/`: a benchmark reads a whole set, and the
    package ships the pieces the agents need (a benchmark whose set ships whole says so, see
    `Benchmark.shipped`). Raises InvalidInput naming `who` needs it, where it was looked for, and how
    to point at it.
    """
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        if (root / subdir).is_dir():
            return root.resolve()
        raise InvalidInput(
            f"--data-dir {data_dir}: {who} reads {subdir}/ under the data directory, and "
            f"{root / subdir} is not a directory; pass the folder that holds it (e.g. ../shared/data)"
        )
    candidates = [r for r in data_roots() if packaged or r != PACKAGED]
    for root in candidates:
        if (root / subdir).is_dir():
            return root.resolve()
    raise InvalidInput(
        f"{who} needs its data ({subdir}/) and no data directory was found; pass --data-dir DIR "
        f"(the folder that holds it, e.g. ../shared/data) or set ${ENV}. Looked in: "
        f"{', '.join(str(c) for c in candidates)}"
    )


def holding(path: str) -> Path | None:
    """The first of `data_roots()` under which `path` (a file or folder) exists, or None."""
    return next((root for root in data_roots() if (root / path).exists()), None)


def missing(path: str) -> str:
    """Why a test or tool that needs `path` (data the package does not ship) cannot run, and what to pass."""
    return (
        f"needs {path} (not shipped with the package): set ${ENV} to the folder that holds it "
        f"(e.g. ../shared/data)"
    )


def existing(subdir: str) -> list[Path]:
    """Every `root/subdir` of `data_roots()` that exists (for listings that merge several roots)."""
    return [root / subdir for root in data_roots() if (root / subdir).is_dir()]
