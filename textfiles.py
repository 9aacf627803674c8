"""Read a user's file as UTF-8 text, or raise InvalidInput saying what it is instead (binary, UTF-16, unreadable).

    text = read_text(path, "problem")      # "problem p.pddl: a UTF-16 file; save it as UTF-8 and try again"

Every command that reads a file the user named (PDDL, formulations, LP/MPS, schemas, grammars, saved
conversations) reads it here, so that a wrong file is one clear line, never a UnicodeDecodeError. A
UTF-8 byte-order mark is dropped; anything else that is not UTF-8 is refused, named by what it looks
like, because decoding it some other way would read a different problem than the one on the user's
screen.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ratiocinator.errors import InvalidInput

_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"),
)


def read_bytes(path: str | Path, what: str) -> bytes:
    """The file's bytes, or InvalidInput naming `what` and the path when it cannot be read."""
    path = Path(path)
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise InvalidInput(f"{what} {path}: is a directory, not a file") from None
    except OSError as exc:
        raise InvalidInput(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None


def decode(data: bytes, label: str) -> str:
    """`data` as UTF-8 text (a UTF-8 byte-order mark dropped), or InvalidInput starting with `label`."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise InvalidInput(f"{label}: a {encoding} file; save it as UTF-8 and try again")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    if b"\x00" in data[:8192]:
        raise InvalidInput(f"{label}: a binary file (or UTF-16 without a byte-order mark), not text; "
                           "expected a UTF-8 text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{label}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                           "save it as UTF-8 and try again") from None


def read_text(path: str | Path, what: str) -> str:
    """The file as text; `what` names it in errors ("problem", "formulation", "--json-schema")."""
    return decode(read_bytes(path, what), f"{what} {path}")


def check_text(path: str | Path, what: str) -> None:
    """Raise InvalidInput unless the file is UTF-8 text (for files an engine reads itself, e.g. LP/MPS)."""
    read_text(path, what)
