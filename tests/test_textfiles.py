"""textfiles.py: a user's file is UTF-8 text or one clear error (binary, UTF-16, unreadable), in every command."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratiocinator.cli import app
from ratiocinator.errors import InvalidInput
from ratiocinator.textfiles import read_text


def test_utf8_with_or_without_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(codecs.BOM_UTF8 + "héllo".encode())
    (tmp_path / "b.txt").write_text("héllo", encoding="utf-8")
    assert read_text(tmp_path / "a.txt", "x") == read_text(tmp_path / "b.txt", "x") == "héllo"


@pytest.mark.parametrize(("data", "says"), [
    ("hello".encode("utf-16"), "a UTF-16 file; save it as UTF-8"),
    ("hello".encode("utf-32"), "a UTF-32 file"),
    ("hello".encode("utf-16-le"), "a binary file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "a binary file"),
    ("héllo".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 1)"),
])
def test_what_is_not_utf8_text_is_named(tmp_path: Path, data: bytes, says: str) -> None:
    (tmp_path / "f").write_bytes(data)
    with pytest.raises(InvalidInput, match=rf"^problem {tmp_path}/f: .*{re.escape(says)}"):
        read_text(tmp_path / "f", "problem")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is a directory"):
        read_text(tmp_path, "--grammar")
    with pytest.raises(InvalidInput, match="cannot read it"):
        read_text(tmp_path / "missing", "--grammar")


@pytest.mark.parametrize("option", ["--json-schema", "--grammar"])
def test_generate_refuses_a_schema_or_grammar_that_is_not_text(tmp_path: Path, option: str) -> None:
    path = tmp_path / "f"
    path.write_bytes('{"type": "string"}'.encode("utf-16"))
    done = CliRunner().invoke(app, ["generate", "hi", option, str(path), "--model", "embedded:nonesuch"])
    assert done.exit_code == 2 and "Traceback" not in done.output
    assert done.stderr.strip() == f"error: {option} {path}: a UTF-16 file; save it as UTF-8 and try again"


def test_generate_refuses_a_prompt_on_stdin_that_is_not_text() -> None:
    done = CliRunner().invoke(app, ["generate", "-", "--model", "embedded:nonesuch"], input=b"\xff\xfeh\x00i\x00")
    assert done.exit_code == 2 and done.stderr.strip().startswith("error: the prompt on stdin: a UTF-16 file")
