"""Assemble the shipped calibration text (english.jsonl, code.jsonl) from the project's own documentation and source.

Run from the checkout: `python data/calibration/assemble.py`. English: the Markdown documents, cut into
paragraphs grouped to about 1,500 characters, and every module's docstring; code: the source files of the
layers below the agents (models, solvers, selection, kit), one document each. All of it is the project's
own text (Apache-2.0), so the default EoRA / GEAR calibration needs no data folder. The files are kept
as written here, so that a calibration is the same from one install to the next.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DOCS = ("README.md", "BENCHMARKS.md", "evals/README.md", "data/README.md")
CODE = ("models", "solvers", "selection", "kit")


def _paragraphs(text: str, size: int = 1500) -> list[str]:
    out, cur = [], ""
    for para in (p.strip() for p in text.split("\n\n")):
        if not para:
            continue
        cur = f"{cur}\n\n{para}" if cur else para
        if len(cur) >= size:
            out.append(cur)
            cur = ""
    return [*out, cur] if cur else out


def english() -> list[str]:
    docs = [p for name in DOCS if (ROOT / name).is_file() for p in _paragraphs((ROOT / name).read_text())]
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("tests", "bench", "examples", "data") or rel.parts[0].startswith("."):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text()))
        if doc and len(doc) > 200:
            docs.append(doc)
    return docs


def code() -> list[str]:
    return [p.read_text() for d in CODE for p in sorted((ROOT / d).rglob("*.py")) if p.stat().st_size > 500]


def main() -> None:
    for name, docs in (("english", english()), ("code", code())):
        with open(HERE / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for text in docs:
                f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        print(name, len(docs), sum(len(d) for d in docs))


if __name__ == "__main__":
    main()
