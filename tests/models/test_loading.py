"""load_backend (models/loading.py): every bad spec names all spec kinds; threads and device are honoured or refused."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from ratiocinator.errors import InvalidInput, ModelNotFound, UnsupportedFeature
from ratiocinator.models import load_backend
from ratiocinator.models.device import check_device

SMOLLM = "embedded:smollm2-135m-instruct"
SERVER = "openai:m@http://127.0.0.1:9/v1"  # nothing listens there: a refusal must come before any request
KINDS = ("embedded:NAME", "hf:PATH", "vllm:NAME|PATH", "openai:MODEL@URL", "bare embedded NAME")
needs_vllm = pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vLLM is not installed")


def _names_every_kind(message: str) -> None:
    for kind in KINDS:
        assert kind in message, f"{kind!r} missing from: {message}"


@pytest.mark.parametrize(
    "spec,error",
    [
        ("  ", InvalidInput),
        ("llamafile:x", ModelNotFound),
        ("embedded:gpt-17", ModelNotFound),
        ("gpt-17", ModelNotFound),
        ("hf:Qwen/Qwen2.5-0.5B-Instruct", ModelNotFound),
        ("openai:bad model@ftp://x", InvalidInput),
    ],
)
def test_every_bad_spec_lists_all_spec_kinds(spec, error):
    with pytest.raises(error) as info:
        load_backend(spec)
    _names_every_kind(str(info.value))


@needs_vllm
def test_unknown_vllm_model_lists_all_spec_kinds():
    with pytest.raises(ModelNotFound) as info:
        load_backend("vllm:gpt-17")
    _names_every_kind(str(info.value))


@pytest.mark.parametrize("option,value", [("threads", 2), ("device", "cuda"), ("device", "cpu"), ("dtype", "float32")])
def test_openai_server_options_are_refused_not_ignored(option, value):
    with pytest.raises(UnsupportedFeature, match=rf"{option} '?{value}'?.*server"):
        load_backend(SERVER, **{option: value})


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:x", "CPU0", "", 3])
def test_bad_device_is_refused_before_anything_loads(device):
    with pytest.raises(InvalidInput, match="expected cpu, cuda or cuda:N"):
        load_backend(SMOLLM, device=device)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_bad_threads_are_refused(threads):
    with pytest.raises(InvalidInput, match="threads"):
        load_backend(SMOLLM, threads=threads)


def test_device_names():
    assert [check_device(d) for d in ("cpu", "cuda", "cuda:1", " cuda:0 ")] == ["cpu", "cuda", "cuda:1", "cuda:0"]


def test_transformers_backend_gets_threads_and_device(monkeypatch):
    from ratiocinator.models.hf import HFBackend

    seen = {}

    def fake(model, *, config, cache):
        seen["config"] = config
        return "loaded"

    monkeypatch.setattr(HFBackend, "from_embedded", fake)
    assert load_backend(SMOLLM, threads=3, device="cpu") == "loaded"
    assert (seen["config"].threads, seen["config"].device) == (3, "cpu")
    load_backend(SMOLLM)
    assert seen["config"].device == "cpu" and seen["config"].threads is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_cuda_without_a_gpu_is_a_clear_error_before_loading(monkeypatch):
    from ratiocinator.models import catalog

    monkeypatch.setattr(catalog, "prepare", lambda *a, **k: pytest.fail("weights prepared for an impossible device"))
    with pytest.raises(UnsupportedFeature, match=r"device 'cuda:0': no CUDA device is visible"):
        load_backend(SMOLLM, device="cuda:0")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_gpu_index_beyond_the_machine_is_refused():
    with pytest.raises(InvalidInput, match="visible GPU"):
        load_backend(SMOLLM, device=f"cuda:{torch.cuda.device_count()}")


def test_vllm_backend_gets_threads_and_device(monkeypatch):
    from ratiocinator.models import vllm

    seen = {}

    def fake(rest, *, cache, config):
        seen.update(rest=rest, config=config)
        return "engine"

    monkeypatch.setattr(vllm, "load", fake)
    assert load_backend("vllm:smollm2-135m-instruct", threads=2, device="cpu", dtype="float32") == "engine"
    c = seen["config"]
    assert (seen["rest"], c.threads, c.device, c.dtype) == ("smollm2-135m-instruct", 2, "cpu", "float32")
    with pytest.raises(UnsupportedFeature, match="compression"):
        load_backend("vllm:smollm2-135m-instruct", compress="int4")


@needs_vllm
def test_vllm_device_other_than_its_build_is_refused_before_loading(monkeypatch):
    from ratiocinator.models import catalog

    monkeypatch.setattr(catalog, "prepare", lambda *a, **k: pytest.fail("weights prepared for an impossible device"))
    other = "cpu" if torch.cuda.is_available() else "cuda"
    with pytest.raises(UnsupportedFeature, match=rf"device '{other}'"):
        load_backend("vllm:smollm2-135m-instruct", device=other)
    with pytest.raises(UnsupportedFeature, match="device 'cuda:1'"):
        load_backend("vllm:smollm2-135m-instruct", device="cuda:1")


def test_vllm_threads_are_set_or_refused(monkeypatch):
    from ratiocinator.models.vllm import engine_threads

    before = torch.get_num_threads()
    try:
        assert engine_threads(1, "vllm:x") == 1 == torch.get_num_threads()
        assert engine_threads(None, "vllm:x") == 1  # None leaves the count as it is
        # once an in-process vLLM CPU engine ran, torch.set_num_threads is a no-op: refuse, don't ignore
        monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
        with pytest.raises(UnsupportedFeature, match="threads 2"):
            engine_threads(2, "vllm:x")
    finally:
        monkeypatch.undo()
        torch.set_num_threads(before)
