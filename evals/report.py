"""Reports of run directories: a markdown table per run, a comparison across runs (side by side, and paired item
by item with McNemar's exact test or the sign test), a matplotlib PNG.

The summary is always recomputed from results.jsonl (the file is the truth; summary.json is a copy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ratiocinator.errors import InvalidInput
from ratiocinator.evals import benchmark as benchmark_registry
from ratiocinator.evals.metrics import PairedTest
from ratiocinator.evals.results import (
    CONFIG_FILE,
    RESULTS_FILE,
    ResultRecord,
    load_results,
    read_json,
)
from ratiocinator.evals.summary import Row, Summary, summarize


@dataclass(frozen=True, kw_only=True)
class Run:
    """A run directory read back: its recorded config, its records and their summary."""

    path: Path
    config: dict[str, Any]
    records: tuple[ResultRecord, ...]
    summary: Summary

    @property
    def label(self) -> str:
        model = (self.summary.model or "").removeprefix("embedded:")
        return self.path.name if not model or model in self.path.name else f"{self.path.name} ({model})"


def _harmonic_means(name: str) -> tuple[tuple[str, str, str], ...]:
    """The derived rows of the benchmark a run directory names (none for one this process does not know)."""
    try:
        return benchmark_registry.get(name).harmonic_means
    except (InvalidInput, ImportError):  # an unknown name, or a benchmark whose packages are missing here
        return ()


def load_run(path: Path | str) -> Run:
    """Read a run directory; InvalidInput if it is not one."""
    path = Path(path)
    if not (path / CONFIG_FILE).is_file():
        raise InvalidInput(f"{path} is not a run directory (no {CONFIG_FILE}); pass the --out folder of a run")
    config = read_json(path / CONFIG_FILE)
    records = load_results(path / RESULTS_FILE, repair=False)
    identity = config.get("identity", {})
    summary = summarize(records, benchmark=identity.get("benchmark", "?"), model=identity.get("model"),
                        config_hash=config.get("config_hash", "?"),
                        harmonic=_harmonic_means(identity.get("benchmark", "?")))
    return Run(path=path, config=config, records=tuple(records), summary=summary)


def _num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.4f}" if abs(x) < 1000 else f"{x:.4g}"


def _cell(row: Row | None) -> str:
    if row is None:
        return "–"
    if row.low is None or row.high is None or row.method == "none":
        return _num(row.value)
    return f"{_num(row.value)} [{_num(row.low)}, {_num(row.high)}]"


def markdown(run: Run) -> str:
    """One run: what was run, then a table of every metric (overall and per group) with its 95 % CI."""
    s, ident = run.summary, run.config.get("identity", {})
    options = ", ".join(f"{k}={v}" for k, v in (ident.get("options") or {}).items()) or "defaults"
    lines = [
        f"## {s.benchmark} — {run.path.name}",
        "",
        f"- model: {s.model or 'none'}; seed {ident.get('seed')}; options: {options}",
        f"- items: {s.n_items} ({s.n_errors} errors); item time {s.seconds:.1f} s; tokens {s.prompt_tokens} "
        f"prompt + {s.completion_tokens} completion; config {s.config_hash}",
        "",
        "| metric | group | n | value | 95 % CI | CI method |",
        "|---|---|---:|---:|---|---|",
    ]
    for row in s.rows:
        ci = f"[{_num(row.low)}, {_num(row.high)}]" if row.method != "none" else "–"
        lines.append(f"| {row.metric} | {row.group or 'all'} | {row.n} | {_num(row.value)} | {ci} | {row.method} |")
    if s.errors:
        lines += ["", "First errors:", *[f"- `{e[:300]}`" for e in s.errors]]
    return "\n".join(lines) + "\n"


def _keys(runs: Sequence[Run]) -> list[tuple[str, str | None]]:
    keys: list[tuple[str, str | None]] = []
    for run in runs:
        for row in run.summary.rows:
            if (row.metric, row.group) not in keys:
                keys.append((row.metric, row.group))
    return keys


def compare_markdown(runs: Sequence[Run]) -> str:
    """Runs side by side: one row per (metric, group), one column per run, and the change against the first."""
    if len(runs) < 2:
        raise InvalidInput("a comparison needs at least two run directories")
    head = "| metric | group | " + " | ".join(r.label for r in runs) + " | Δ last − first |"
    warning = different_items(runs)
    lines = ["## comparison", "", *([f"**Warning:** {warning}", ""] if warning else []),
             head, "|---|---|" + "---|" * len(runs) + "---:|"]
    for metric, group in _keys(runs):
        rows = [r.summary.row(metric, group) for r in runs]
        first, last = rows[0], rows[-1]
        delta = (_num(last.value - first.value) if first and last and first.value is not None
                 and last.value is not None else "–")
        lines.append(f"| {metric} | {group or 'all'} | " + " | ".join(_cell(r) for r in rows) + f" | {delta} |")
    benches = {r.summary.benchmark for r in runs}
    if len(benches) > 1:
        lines += ["", f"Note: these runs are of different benchmarks ({', '.join(sorted(benches))})."]
    return "\n".join(lines) + "\n"


def different_items(runs: Sequence[Run]) -> str:
    """A sentence when the runs were scored on different items (their difference is then not a like-for-like
    comparison), else ""."""
    first = {r.item_id for r in runs[0].records}
    parts = []
    for run in runs[1:]:
        items = {r.item_id for r in run.records}
        if items != first:
            parts.append(f"{run.label} has {len(items)} items, {len(items - first)} of them not in "
                         f"{runs[0].label} ({len(first)} items, {len(first - items)} not in {run.label})")
    if not parts:
        return ""
    return ("these runs cover different items (" + "; ".join(parts) + "): the Δ column compares scores of "
            "different item sets; compare runs of the same items (same --limit and data)")


def plotted_rows(run: Run) -> list[Row]:
    """What the figure shows of a run: the score per group when there are groups, else every overall metric;
    only rows whose confidence interval lies in [0, 1] (rates and pass@1), so that they share one axis."""
    rows = list(run.summary.rows)
    grouped = [r for r in rows if r.metric == "score" and r.group is not None]
    chosen = [r for r in rows if r.metric == "score" and r.group is None] + grouped if grouped else \
        [r for r in rows if r.group is None]
    return [r for r in chosen if r.value is not None and r.low is not None and r.high is not None
            and -1e-9 <= r.low and r.high <= 1 + 1e-9]


def plot(runs: Sequence[Run], path: Path | str, *, title: str | None = None) -> Path:
    """A horizontal bar chart: each plotted metric/group, one bar per run, 95 % CI as error bars; PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels: list[str] = []
    per_run = [{r.label: r for r in plotted_rows(run)} for run in runs]
    for rows in per_run:
        labels += [k for k in rows if k not in labels]
    if not labels:
        raise InvalidInput("nothing to plot: no metric of these runs lies in [0, 1]")
    height = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.45 * len(labels) * max(1, len(runs) * 0.7)))
    for i, (run, rows) in enumerate(zip(runs, per_run, strict=True)):
        ys = [len(labels) - 1 - j + (len(runs) - 1 - 2 * i) * height / 2 for j in range(len(labels))]
        vals = [rows[k].value if k in rows else math.nan for k in labels]
        lows = [rows[k].value - rows[k].low if k in rows else 0 for k in labels]  # type: ignore[operator]
        highs = [rows[k].high - rows[k].value if k in rows else 0 for k in labels]  # type: ignore[operator]
        bars = ax.barh(ys, vals, height=height * 0.9, xerr=[lows, highs], capsize=3, label=run.label,
                       error_kw={"elinewidth": 1})
        for bar, v, k in zip(bars, vals, labels, strict=True):
            if not math.isnan(v):
                ax.text(rows[k].high + 0.015, bar.get_y() + bar.get_height() / 2,  # type: ignore[operator]
                        f"{v:.3f} (n={rows[k].n})", va="center", fontsize=7)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(list(reversed(labels)), fontsize=8)
    ax.set_xlim(0, 1.25)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_xlabel("value (bars: 95 % confidence interval)")
    benches = sorted({r.summary.benchmark for r in runs})
    ax.grid(axis="x", alpha=0.3)
    if len(runs) > 1:
        ncol = 1 if max(len(r.label) for r in runs) > 30 else min(len(runs), 3)
        ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=ncol, frameon=False)
        ax.set_title(title or ", ".join(benches), pad=8 + 12 * math.ceil(len(runs) / ncol))
    else:
        ax.set_title(title or f"{', '.join(benches)}: {runs[0].label}")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def paired_scores(a: Run, b: Run, metric: str = "score") -> tuple[list[str], list[float], list[float]]:
    """The items both runs scored on `metric` (an item that raised scores 0, as in the summary), in a's order."""
    def values(run: Run) -> dict[str, float]:
        if metric == "score":
            return {r.item_id: (r.score if r.score is not None else 0.0) for r in run.records}
        return {r.item_id: r.metrics[metric] for r in run.records if metric in r.metrics}

    va, vb = values(a), values(b)
    ids = [i for i in va if i in vb]
    return ids, [va[i] for i in ids], [vb[i] for i in ids]


def _p(p: float) -> str:
    return "–" if math.isnan(p) else (f"{p:.2g}" if p < 0.01 else f"{p:.3f}")


def paired_rows(a: Run, b: Run) -> list[tuple[str, PairedTest]]:
    """The paired test of every metric both runs have on common items: the score first."""
    from ratiocinator.evals.metrics import paired_test

    metrics = ["score"] + [k for k, _ in _keys([a]) if k != "score"]
    seen: list[str] = []
    out = []
    for metric in metrics:
        if metric in seen:
            continue
        seen.append(metric)
        _, x, y = paired_scores(a, b, metric)
        if x:
            out.append((metric, paired_test(x, y)))
    return out


def paired_markdown(runs: Sequence[Run]) -> str:
    """Each later run against the first, item by item: McNemar's exact test for 0/1 scores, else the sign test,
    and the paired bootstrap interval of the mean difference."""
    lines = ["## paired comparison (same items)", ""]
    for other in runs[1:]:
        rows = paired_rows(runs[0], other)
        lines += [f"{other.label} − {runs[0].label}:", "",
                  "| metric | paired items | first | this | Δ | 95 % CI of Δ (paired bootstrap) | better in first / this "
                  "| test | p |",
                  "|---|---:|---:|---:|---:|---|---|---|---:|"]
        if not rows:
            lines.append("| – | 0 | | | | | | no common items | |")
        for metric, t in rows:
            lines.append(f"| {metric} | {t.n} | {_num(t.mean_a)} | {_num(t.mean_b)} | {_num(t.delta)} | "
                         f"[{_num(t.low)}, {_num(t.high)}] | {t.a_only} / {t.b_only} | {t.test} | {_p(t.p_value)} |")
        lines.append("")
    return "\n".join(lines)
