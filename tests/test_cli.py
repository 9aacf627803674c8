"""Tests of the `ratiocinator` command: stdout carries only generated text, bad input exits 2 with a reason."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SMOLLM = "embedded:smollm2-135m-instruct"


def run(*args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ratiocinator.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
def test_generate_with_json_schema_prints_only_valid_json(tmp_path):
    schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20},
                                               "population": {"type": "integer", "minimum": 0,
                                                              "maximum": 100_000_000}},
              "required": ["city", "population"], "additionalProperties": False}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(schema))
    r = run("generate", "--model", SMOLLM, "--json-schema", str(path), "--max-tokens", "60",
            "Give the largest city of France as JSON.")
    assert r.returncode == 0, r.stderr
    value = json.loads(r.stdout)
    assert set(value) == {"city", "population"} and isinstance(value["population"], int)


@pytest.mark.slow
def test_generate_plain_text_and_seed_reproducibility():
    args = ("generate", "--model", SMOLLM, "--temperature", "1.0", "--seed", "5", "--max-tokens", "12", "Hi!")
    first, second = run(*args), run(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and first.stdout.strip()


@pytest.mark.slow
def test_constrained_output_cut_short_is_an_error_not_half_a_document(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"type": "object", "properties": {"story": {"type": "string"}}, "required": ["story"]}))
    r = run("generate", "--model", SMOLLM, "--json-schema", str(path), "--max-tokens", "5", "Tell a long story as JSON.")
    assert r.returncode == 1 and r.stdout == "" and "raise --max-tokens" in r.stderr


def test_bad_schema_file_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    r = run("generate", "--json-schema", str(path), "x")
    assert r.returncode == 2 and "bad.json" in r.stderr and "not valid JSON" in r.stderr and r.stdout == ""


def test_invalid_json_schema_is_refused(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"type": "banana"}))
    r = run("generate", "--json-schema", str(path), "x")
    assert r.returncode == 2 and "not a valid JSON schema" in r.stderr


def test_unknown_model_exits_2_with_the_known_names():
    r = run("generate", "--model", "embedded:nope", "x")
    assert r.returncode == 2 and "qwen2.5-coder-0.5b-instruct" in r.stderr and r.stdout == ""


def test_models_list_json():
    r = run("models", "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["embedded:qwen2.5-coder-0.5b-instruct"]["default"] is True
    assert rows[SMOLLM]["installed"] is True


@pytest.mark.slow
def test_chat_reads_stdin_when_not_a_tty():
    r = run("chat", "--model", SMOLLM, "--max-tokens", "16", stdin="Hello there\n/history\n/reset\n/history\n/quit\n")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].strip()  # the streamed reply
    assert any(line.startswith("user: Hello there") for line in lines)
    assert "(conversation reset)" in r.stderr


def test_chat_time_limit_is_an_option_and_must_be_positive():
    """The request limit is user-facing (`--time-limit`); a bad value is refused before any model loads."""
    r = run("chat", "--help", timeout=120)
    assert r.returncode == 0 and "--time-limit" in r.stdout
    r = run("chat", "--model", SMOLLM, "--time-limit", "0", "-c", "What is 2 + 3?", timeout=120)
    assert r.returncode == 2 and "time limit: expected positive seconds, got 0.0" in r.stderr


def test_pursue_is_a_command_and_a_missing_data_dir_exits_2(tmp_path):
    """`pursue` lives in pursue.py beside cli.py (it reads the pursuit-20q data of evals/)."""
    assert "Think of an animal" in run("pursue", "--help").stdout
    r = run("pursue", "--data-dir", str(tmp_path))
    assert r.returncode == 2 and "pursuit" in r.stderr and r.stdout == ""


@pytest.mark.parametrize("command", [("generate", "x"), ("chat", "--plain", "-c", "x"), ("eval", "run", "generate-smoke")])
def test_bad_device_exits_2_naming_it(command):
    r = run(*command, "--device", "gpu")
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert "--device" in r.stderr and "expected cpu, cuda or cuda:N" in r.stderr


def test_cuda_on_a_machine_without_one_exits_2_before_loading():
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the message on a machine without a GPU")
    r = run("generate", "--model", SMOLLM, "--device", "cuda", "x")
    assert r.returncode == 2 and "no CUDA device is visible" in r.stderr and r.stdout == ""


def _scripted_loads(monkeypatch, tmp_path) -> list[dict]:
    """Replace load_backend by a recorder that returns a scripted backend; returns the recorded calls."""
    import ratiocinator.models
    from ratiocinator.models.scripted import ScriptedBackend

    calls: list[dict] = []

    def loader(spec, **options):
        calls.append({"spec": spec, **options})
        return ScriptedBackend(lambda prompt, params: "scripted reply")

    monkeypatch.setattr(ratiocinator.models, "load_backend", loader)
    monkeypatch.setenv("RATIOCINATOR_HOME", str(tmp_path))
    return calls


def test_generate_and_chat_pass_the_device_to_the_loader(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from ratiocinator.cli import app

    calls = _scripted_loads(monkeypatch, tmp_path)
    r = CliRunner().invoke(app, ["generate", "--model", "m", "--device", "cuda:1", "--threads", "2", "hi"])
    assert r.exit_code == 0 and r.stdout.strip() == "scripted reply", r.output
    assert (calls[-1]["spec"], calls[-1]["device"], calls[-1]["threads"]) == ("m", "cuda:1", 2)
    r = CliRunner().invoke(app, ["chat", "--plain", "--model", "m", "--device", "cuda", "-c", "hi"])
    assert r.exit_code == 0 and "scripted reply" in r.stdout, r.output
    assert (calls[-1]["spec"], calls[-1]["device"]) == ("m", "cuda")
    r = CliRunner().invoke(app, ["generate", "--model", "m", "hi"])
    assert r.exit_code == 0 and calls[-1]["device"] is None  # no --device: the backend's default


@pytest.mark.slow
def test_generate_on_the_cpu_device_asked_for():
    r = run("generate", "--model", SMOLLM, "--device", "cpu", "--max-tokens", "8", "Hi!")
    assert r.returncode == 0 and r.stdout.strip(), r.stderr
