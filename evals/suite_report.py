"""The report of a suite directory: per member our value with its 95 % interval beside the paper's anchor, as
markdown and as one self-contained HTML page (an inline SVG forest plot, no files or scripts it loads).

    md, html = write_suite_report("runs/core-q05", compare="runs/core-q15")

Each row is one summary row of a member's run (its headline metric, and every (metric, group) an
anchor names): n, the value and its interval (Wilson for 0/1 scores, bootstrap otherwise, as in
evals/summary.py), the anchor, the gap (ours − anchor), tokens and seconds per item, and a link to
the run directory. With `compare`, the same members of another suite directory are paired item by
item (McNemar's exact test for 0/1 scores, the sign test otherwise; evals/metrics.py `paired_test`).
"""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from ratiocinator.errors import InvalidInput
from ratiocinator.evals.metrics import PairedTest
from ratiocinator.evals.report import Run, load_run, paired_scores
from ratiocinator.evals.results import SESSIONS_FILE, read_json
from ratiocinator.evals.suite import Anchor, Suite, with_current_anchors, with_packaged_members
from ratiocinator.evals.suite_run import SUITE_FILE
from ratiocinator.evals.summary import Row


@dataclass(frozen=True, kw_only=True)
class SuiteRun:
    """A suite directory read back: the suite as run, the model, and each member's run (None: not started)."""

    path: Path
    suite: Suite
    model: str | None
    runs: dict[str, Run | None]
    failed: dict[str, str]
    workers: int | None = None  # of the latest session

    @property
    def label(self) -> str:
        return f"{self.path.name} ({(self.model or 'default model').removeprefix('embedded:')})"


def load_suite_run(path: Path | str) -> SuiteRun:
    """Read a suite directory; InvalidInput if it is not one."""
    path = Path(path)
    if not (path / SUITE_FILE).is_file():
        raise InvalidInput(f"{path} is not a suite directory (no {SUITE_FILE}); pass the --out folder of "
                           "`ratiocinator eval suite`")
    state = read_json(path / SUITE_FILE)
    # figures found since the run count; members no session has begun are listed as not run
    suite = with_packaged_members(with_current_anchors(Suite.model_validate(state["suite"])))
    runs: dict[str, Run | None] = {}
    for m in suite.members:
        runs[m.id] = load_run(path / m.id) if (path / m.id / "config.json").is_file() else None
    sessions = state.get("sessions") or [{}]
    return SuiteRun(path=path, suite=suite, model=state.get("model"), runs=runs, failed=dict(state.get("failed") or {}),
                    workers=sessions[-1].get("workers"))


@dataclass(frozen=True, kw_only=True)
class SuiteCost:
    """What the finished items took (worker-seconds: the items' own seconds, summed) and what is left."""

    items_done: int
    seconds_done: float
    items_left: int  # of the members begun
    seconds_left: float  # those items at their member's measured seconds per item
    no_rate: tuple[str, ...]  # members with no finished item: no rate to project
    no_rate_items: int | None  # their planned items (sample sizes: at most that many); None: a member has no sample


def _planned(run: Run | None, sample: int | None) -> int | None:
    """A member's item count: what its latest session planned (done before + to do), else the suite's sample."""
    path = run.path / SESSIONS_FILE if run is not None else None
    if path is not None and path.is_file():
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        try:
            last = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:  # a line cut off by a killed writer: the sample says as much
            last = {}
        if "todo" in last and "done_before" in last:
            return int(last["done_before"]) + int(last["todo"])
    return sample


def suite_cost(sr: SuiteRun) -> SuiteCost:
    """The suite's measured cost: worker-seconds of the finished items, and the rest projected per member."""
    done = seconds = left = 0
    unrated: int | None = 0
    projected = 0.0
    no_rate: list[str] = []
    for m in sr.suite.members:
        run = sr.runs.get(m.id)
        s = run.summary if run is not None else None
        n = s.n_items if s is not None else 0
        done += n
        seconds += s.seconds if s is not None else 0.0
        rest = max((_planned(run, m.sample) or n) - n, 0)
        if n and s is not None:
            left += rest
            projected += rest * s.seconds / n
        elif rest or run is None:
            no_rate.append(m.id)
            planned = _planned(run, m.sample)
            unrated = None if unrated is None or planned is None else unrated + rest
    return SuiteCost(items_done=done, seconds_done=seconds, items_left=left, seconds_left=projected,
                     no_rate=tuple(no_rate), no_rate_items=unrated)


def cost_sentence(sr: SuiteRun) -> str:
    """The cost in words: worker-hours so far and with the latest session's workers, and what is left."""
    c = suite_cost(sr)
    k = sr.workers or 1
    text = (f"Cost: {c.items_done} items took {c.seconds_done / 3600:.1f} worker-hours (each item's own seconds, "
            f"summed; {c.seconds_done / 3600 / k:.1f} h with {k} worker(s))")
    if c.items_left:
        text += (f"; {c.items_left} items left in the members begun, about {c.seconds_left / 3600:.1f} more "
                 "worker-hours at their measured seconds per item")
    if c.no_rate:
        text += (f"; no item finished yet, so no rate: {', '.join(c.no_rate)}"
                 + (f" (at most {c.no_rate_items} items)" if c.no_rate_items else ""))
    return text + "."


@dataclass(frozen=True, kw_only=True)
class SuiteRow:
    """One line of the report."""

    member: str
    benchmark: str
    metric: str
    group: str | None
    row: Row | None
    anchor: Anchor | None
    anchor_ref: int | None  # the footnote number of the anchor's citation
    tokens_per_item: float | None
    seconds_per_item: float | None
    errors: int
    run_dir: Path | None

    @property
    def gap(self) -> float | None:
        if self.row is None or self.row.value is None or self.anchor is None or self.anchor.value is None:
            return None
        return self.row.value - self.anchor.value


def suite_rows(sr: SuiteRun) -> tuple[list[SuiteRow], list[Anchor]]:
    """The report's rows (each member's headline metric, then each anchored (metric, group)) and the citations."""
    rows: list[SuiteRow] = []
    cited: list[Anchor] = []
    for m in sr.suite.members:
        run = sr.runs.get(m.id)
        keys: list[tuple[str, str | None]] = [(m.metric, None)]
        keys += [(a.metric, a.group) for a in m.anchors if (a.metric, a.group) not in keys]
        for metric, group in keys:
            anchor = next((a for a in m.anchors if (a.metric, a.group) == (metric, group)), None)
            ref = None
            if anchor is not None:
                same = next((i for i, c in enumerate(cited) if c.citation == anchor.citation
                             and c.measured_with == anchor.measured_with and c.note == anchor.note), None)
                if same is None:
                    cited.append(anchor)
                    same = len(cited) - 1
                ref = same + 1
            s = run.summary if run is not None else None
            n = s.n_items if s is not None else 0
            rows.append(SuiteRow(
                member=m.id, benchmark=m.benchmark, metric=metric, group=group,
                row=s.row(metric, group) if s is not None else None, anchor=anchor, anchor_ref=ref,
                tokens_per_item=(s.prompt_tokens + s.completion_tokens) / n if s is not None and n else None,
                seconds_per_item=s.seconds / n if s is not None and n else None,
                errors=s.n_errors if s is not None else 0, run_dir=run.path if run is not None else None))
    return rows, cited


def _f(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}" if abs(x) < 1000 or digits == 0 else f"{x:.4g}"


def _value(r: SuiteRow) -> str:
    if r.row is None or r.row.value is None:
        return "not run" if r.run_dir is None else "–"
    if r.row.method == "none" or r.row.low is None:
        return _f(r.row.value)
    return f"{_f(r.row.value)} [{_f(r.row.low)}, {_f(r.row.high)}]"


def _anchor(r: SuiteRow) -> str:
    if r.anchor is None:
        return "–"
    value = "n/a" if r.anchor.value is None else _f(r.anchor.value)
    return f"{value} [{r.anchor_ref}]" + (" (repr.)" if r.anchor.kind == "reproduction" else "")


def _link(target: Path | None, base: Path) -> str | None:
    return None if target is None else os.path.relpath(target, base)


def _paired(sr: SuiteRun, other: SuiteRun) -> list[tuple[str, str, PairedTest]]:
    from ratiocinator.evals.metrics import paired_test

    out = []
    for m in sr.suite.members:
        a, b = sr.runs.get(m.id), other.runs.get(m.id)
        if a is None or b is None:
            continue
        metric = m.metric  # a derived headline (ProcessBench's F1) has no per-item values: pair the scores
        if not any(metric in r.metrics for r in a.records):
            metric = "score"
        _, x, y = paired_scores(a, b, metric)
        if x:
            out.append((m.id, metric, paired_test(x, y)))
    return out


def _p(p: float) -> str:
    return "–" if math.isnan(p) else (f"{p:.2g}" if p < 0.01 else f"{p:.3f}")


def suite_markdown(sr: SuiteRun, compare: SuiteRun | None = None, *, base: Path | None = None) -> str:
    """The report as markdown; links are relative to `base` (default: the suite directory)."""
    base = base or sr.path
    rows, cited = suite_rows(sr)
    s = sr.suite
    items = sum(r.summary.n_items for r in sr.runs.values() if r is not None)
    lines = [f"# Suite {s.name} — {sr.model or 'default model'}", "",
             f"{s.description}. {items} items in {sum(r is not None for r in sr.runs.values())} of "
             f"{len(s.members)} members; samples seeded with {s.sample_seed} (the same items for every model). "
             "Values are means over the items with their 95 % interval (Wilson for 0/1 scores, bootstrap "
             "otherwise); gap = ours − anchor; an item that ended in an error counts as 0.", "",
             cost_sentence(sr), "",
             "| member | metric | n | ours [95 % CI] | anchor | gap | tokens / item | s / item | errors | run |",
             "|---|---|---:|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        metric = r.metric + (f" [{r.group}]" if r.group else "")
        link = _link(r.run_dir, base)
        lines.append(f"| {r.member} | {metric} | {r.row.n if r.row else 0} | {_value(r)} | {_anchor(r)} | "
                     f"{_f(r.gap)} | {_f(r.tokens_per_item, 0)} | {_f(r.seconds_per_item, 1)} | {r.errors} | "
                     + (f"[{Path(link).name}]({link}/)" if link else "–") + " |")
    if cited:
        lines += ["", "Anchors:", ""]
        for i, a in enumerate(cited, 1):
            lines.append(f"{i}. {a.citation}" + (f" — {a.measured_with}" if a.measured_with else "")
                         + (f". {a.note}" if a.note else "") + (" (a reproduction, not the paper's table)"
                                                                 if a.kind == "reproduction" else ""))
    if sr.failed:
        lines += ["", "Members that could not run:", ""] + [f"- {k}: {v}" for k, v in sr.failed.items()]
    if compare is not None:
        lines += ["", f"## Paired comparison: {compare.label} − {sr.label}", "",
                  "Item by item on the items both ran (McNemar's exact test for 0/1 scores, else the sign test; "
                  "the interval of Δ is a paired bootstrap).", "",
                  "| member | metric | paired items | this | other | Δ other − this | 95 % CI of Δ | better here / "
                  "there | test | p |", "|---|---|---:|---:|---:|---:|---|---|---|---:|"]
        for member, metric, t in _paired(sr, compare):
            lines.append(f"| {member} | {metric} | {t.n} | {_f(t.mean_a)} | {_f(t.mean_b)} | {_f(t.delta)} | "
                         f"[{_f(t.low)}, {_f(t.high)}] | {t.a_only} / {t.b_only} | {t.test} | {_p(t.p_value)} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- HTML


def _svg(rows: list[SuiteRow], other: dict[tuple[str, str, str | None], Row | None]) -> str:
    """A forest plot, drawn by hand: each row in [0, 1] as its interval and value, the anchor as a diamond, the
    compared run as a hollow circle."""
    shown = [r for r in rows if r.row is not None and r.row.value is not None and 0 <= r.row.value <= 1]
    if not shown:
        return "<p>No value in [0, 1] to plot.</p>"
    left, width, step, top = 260, 420, 22, 30
    height = top + step * len(shown) + 30

    def x(v: float) -> float:
        return left + width * min(max(v, 0.0), 1.0)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 40}" height="{height}" '
             f'role="img" aria-label="values with 95 % intervals and anchors">',
             '<rect width="100%" height="100%" fill="white"/>']
    for t in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line x1="{x(t)}" y1="{top - 8}" x2="{x(t)}" y2="{height - 24}" stroke="#ddd"/>'
                     f'<text x="{x(t)}" y="{height - 8}" font-size="11" text-anchor="middle">{t:g}</text>')
    for i, r in enumerate(shown):
        y = top + step * i
        assert r.row is not None and r.row.value is not None
        label = html.escape(f"{r.member} · {r.metric}" + (f" [{r.group}]" if r.group else ""))
        parts.append(f'<text x="{left - 8}" y="{y + 4}" font-size="11" text-anchor="end">{label}</text>')
        if r.row.low is not None and r.row.high is not None and r.row.method != "none":
            parts.append(f'<line x1="{x(r.row.low)}" y1="{y}" x2="{x(r.row.high)}" y2="{y}" stroke="#1f77b4" '
                         'stroke-width="2"/>')
        parts.append(f'<circle cx="{x(r.row.value)}" cy="{y}" r="4" fill="#1f77b4"><title>{label}: '
                     f'{_f(r.row.value)} (n={r.row.n})</title></circle>')
        o = other.get((r.member, r.metric, r.group))
        if o is not None and o.value is not None:
            parts.append(f'<circle cx="{x(o.value)}" cy="{y}" r="4" fill="none" stroke="#2ca02c" '
                         f'stroke-width="2"><title>compared run: {_f(o.value)}</title></circle>')
        if r.anchor is not None and r.anchor.value is not None:
            ax = x(r.anchor.value)
            parts.append(f'<path d="M{ax} {y - 6} L{ax + 6} {y} L{ax} {y + 6} L{ax - 6} {y} Z" fill="#d62728">'
                         f'<title>anchor: {_f(r.anchor.value)}</title></path>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 7px}th{background:#f3f3f3}td.n{text-align:right}
.legend span{margin-right:1.5em}.dot{color:#1f77b4}.anc{color:#d62728}.cmp{color:#2ca02c}"""


def _table(head: list[str], body: list[list[str]], numeric: set[int]) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for cells in body:
        out.append("<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(cells)) + "</tr>")
    return "".join(out) + "</table>"


def suite_html(sr: SuiteRun, compare: SuiteRun | None = None, *, base: Path | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, relative links to the run directories)."""
    base = base or sr.path
    rows, cited = suite_rows(sr)
    esc = html.escape
    body = []
    for r in rows:
        link = _link(r.run_dir, base)
        body.append([esc(r.member), esc(r.metric + (f" [{r.group}]" if r.group else "")),
                     str(r.row.n if r.row else 0), esc(_value(r)), esc(_anchor(r)), _f(r.gap),
                     _f(r.tokens_per_item, 0), _f(r.seconds_per_item, 1), str(r.errors),
                     f'<a href="{esc(link)}/">{esc(Path(link).name)}</a>' if link else "–"])
    other: dict[tuple[str, str, str | None], Row | None] = {}
    if compare is not None:
        for r in suite_rows(compare)[0]:
            other[(r.member, r.metric, r.group)] = r.row
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Suite {esc(sr.suite.name)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Suite {esc(sr.suite.name)} — {esc(sr.model or 'default model')}</h1>",
             f"<p>{esc(sr.suite.description)}. Means with 95 % intervals (Wilson for 0/1 scores, bootstrap "
             "otherwise); gap = ours − anchor.</p>",
             f"<p>{esc(cost_sentence(sr))}</p>",
             '<p class="legend"><span class="dot">● ours, with its 95 % interval</span>'
             '<span class="anc">◆ anchor</span>'
             + (f'<span class="cmp">○ {esc(compare.label)}</span>' if compare is not None else "") + "</p>",
             _svg(rows, other),
             "<h2>Results</h2>",
             _table(["member", "metric", "n", "ours [95 % CI]", "anchor", "gap", "tokens / item", "s / item",
                     "errors", "run"], body, {2, 5, 6, 7, 8})]
    if cited:
        parts.append("<h2>Anchors</h2><ol>" + "".join(
            f"<li>{esc(a.citation)}" + (f" — {esc(a.measured_with)}" if a.measured_with else "")
            + (f". {esc(a.note)}" if a.note else "") + "</li>" for a in cited) + "</ol>")
    if sr.failed:
        parts.append("<h2>Members that could not run</h2><ul>"
                     + "".join(f"<li>{esc(k)}: {esc(v)}</li>" for k, v in sr.failed.items()) + "</ul>")
    if compare is not None:
        body2 = [[esc(member), esc(metric), str(t.n), _f(t.mean_a), _f(t.mean_b), _f(t.delta),
                  f"[{_f(t.low)}, {_f(t.high)}]", f"{t.a_only} / {t.b_only}", t.test, _p(t.p_value)]
                 for member, metric, t in _paired(sr, compare)]
        parts += [f"<h2>Paired comparison: {esc(compare.label)} − {esc(sr.label)}</h2>",
                  _table(["member", "metric", "paired items", "this", "other", "Δ", "95 % CI of Δ",
                          "better here / there", "test", "p"], body2, {2, 3, 4, 5, 9})]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_suite_report(path: Path | str, compare: Path | str | None = None) -> tuple[Path, Path, str]:
    """Write `report.md` and `report.html` into the suite directory; returns their paths and the markdown."""
    sr = load_suite_run(path)
    other = load_suite_run(compare) if compare is not None else None
    md = suite_markdown(sr, other)
    md_path, html_path = sr.path / "report.md", sr.path / "report.html"
    md_path.write_text(md)
    html_path.write_text(suite_html(sr, other))
    return md_path, html_path, md
