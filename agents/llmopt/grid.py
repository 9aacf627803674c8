"""Tables of one number per pair of two different label sets (workers by tasks), read in code from markdown or LaTeX.

"The time required for each worker to complete each task is shown in Table 5-2" followed by a LaTeX
`tabular` (or a markdown table) whose header row labels the columns (A B C D), whose other rows each start
with a row label (I II III IV V) and give one number per column: that is a matrix over two sets, the data of
an assignment. Parsing it here is exact and costs no model call; a heading row whose other cells are empty
("Worker & & & &") is skipped, and a table with any other cell (a unit, a total, a blank where a number should
be) is not read, so production tables with totals or mixed rows never look like one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: the fewest row labels and column labels a grid has
FEWEST = 2
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")
_TABULAR = re.compile(r"\\begin\{tabular\}(?:\{[^}]*\})?(.*?)\\end\{tabular\}", re.DOTALL)
_MARKDOWN = re.compile(r"(?:^[ \t]*\|.*\|[ \t]*$\n?){3,}", re.MULTILINE)


@dataclass(frozen=True)
class Grid:
    """A number for each (row label, column label); the corner cell's words say what they are."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]  # values[i][j]: row i, column j
    corner: str = ""


def _cell(text: str) -> str:
    """A cell without LaTeX markup: `$A$` is A, `\\hline` and braces go."""
    text = re.sub(r"\\(?:hline|cline\{[^}]*\}|textbf|mathrm|text)", " ", text)
    return re.sub(r"\s+", " ", re.sub(r"[${}]", "", text)).strip()


def _rows(text: str) -> list[list[list[str]]]:
    """Each table of the text as rows of cells (LaTeX tabulars split at `\\\\` and `&`, markdown at `|`)."""
    tables = []
    for body in _TABULAR.findall(text):
        tables.append([[_cell(c) for c in line.split("&")] for line in re.split(r"\\\\", body) if _cell(line)])
    for block in _MARKDOWN.findall(text):
        lines = [[c.strip() for c in line.strip().strip("|").split("|")] for line in block.strip().splitlines()]
        tables.append([r for r in lines if not all(re.fullmatch(r":?-{3,}:?", c) for c in r if c)])
    return tables


def _grid(rows: list[list[str]]) -> Grid | None:
    """The table as a grid, or None unless its first row labels the columns and every other row (but empty
    heading rows) is a label and a number per column."""
    if not rows:
        return None
    header, body = rows[0], [r for r in rows[1:] if any(c for c in r[1:])]
    columns = tuple(header[1:])
    if len(columns) < FEWEST or any(not c or _NUMBER.fullmatch(c) for c in columns) or len(body) < FEWEST:
        return None
    values = []
    for row in body:
        cells = row[1:]
        if len(cells) != len(columns) or not row[0] or any(not _NUMBER.fullmatch(c) for c in cells):
            return None
        values.append(tuple(float(c.replace(",", "")) for c in cells))
    labels = tuple(r[0] for r in body)
    if len(set(labels)) < len(labels) or len(set(columns)) < len(columns) or set(labels) & set(columns):
        return None
    return Grid(rows=labels, columns=columns, values=tuple(values), corner=header[0])


def read(text: str) -> Grid | None:
    """The text's one grid; None where it has none or several (which one the question is about is not
    guessed)."""
    found = [g for g in map(_grid, _rows(text)) if g is not None]
    return found[0] if len(found) == 1 else None
