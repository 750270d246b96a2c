"""Write a :class:`~smoothseg.experiment.tables.Table` as Markdown, CSV and LaTeX."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from smoothseg.evaluation.tables import markdown_table
from smoothseg.experiment.tables import METRIC_LABELS, READING_TITLES, Table
from smoothseg.io.atomic import atomic_output


def p_text(value: float) -> str:
    """A p-value for a table: ``0.031``, ``<0.001``, ``–`` (proposed row or no pair)."""
    if not math.isfinite(value):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _headers(table: Table) -> list[str]:
    return [
        *table.index_names,
        *(METRIC_LABELS[m] for m in table.metrics),
        *(f"p {METRIC_LABELS[m]}" for m in table.p_metrics),
    ]


def _p_cells(table: Table, i: int) -> list[str]:
    values = table.p_values[i] if i < len(table.p_values) else (math.nan,) * len(table.p_metrics)
    return [p_text(v) for v in values]


def p_note(table: Table) -> str:
    """What the p columns are."""
    if not table.p_metrics:
        return ""
    return (
        "p: two-sided paired Wilcoxon signed-rank test against SmoothSegNet (V) on the "
        "per-case values, test cases of all replications pooled."
    )


def markdown(table: Table) -> str:
    """Markdown table (title as a bold line, notes below)."""
    rows = [
        [*index, *(c.text() for c in cells), *_p_cells(table, i)]
        for i, (index, cells) in enumerate(table.rows)
    ]
    lines = [f"**{table.title}** (mean (sd) over replications)", ""]
    lines += markdown_table(_headers(table), rows)
    notes = [n for n in (table.note, READING_TITLES.get(table.reading, ""), p_note(table)) if n]
    if notes:
        lines += ["", " ".join(n.rstrip(".") + "." for n in notes)]
    return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else ""


def csv_text(table: Table) -> str:
    """CSV text, one row per table row.

    Columns: the index columns, then per metric ``<metric>_mean``, ``<metric>_sd`` and the
    replications / cases it rests on, then ``p_<metric>`` (Wilcoxon vs the proposed model).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = [n.lower().replace(" ", "_").replace("-", "_") for n in table.index_names]
    for m in table.metrics:
        header += [f"{m}_mean", f"{m}_sd", f"{m}_n_replications", f"{m}_n_cases"]
    header += [f"p_{m}" for m in table.p_metrics]
    writer.writerow(header)
    for i, (index, cells) in enumerate(table.rows):
        row = list(index)
        for c in cells:
            row += [_num(c.mean), _num(c.sd), str(c.n_replications), str(c.n_cases)]
        if table.p_metrics:
            row += [_num(v) for v in table.p_values[i]]
        writer.writerow(row)
    return buffer.getvalue()


def _tex(text: str) -> str:
    return (
        text.replace("\\", r"\textbackslash{}")
        .replace("&", r"\&")
        .replace("%", r"\%")
        .replace("_", r"\_")
        .replace("#", r"\#")
        .replace("≥", r"$\geq$")
        .replace("<", r"$<$")
        .replace("α", r"$\alpha$")
        .replace("–", "--")
    )


def latex(table: Table) -> str:
    """A ``table`` environment with a ``tabular`` (booktabs rules)."""
    headers = _headers(table)
    spec = "l" * len(table.index_names) + "c" * (len(table.metrics) + len(table.p_metrics))
    lines = [
        r"\begin{table}[ht]",
        r"\centering",
        rf"\caption{{{_tex(table.title)} (mean (sd) over replications)}}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(_tex(h) for h in headers) + r" \\",
        r"\midrule",
    ]
    for i, (index, cells) in enumerate(table.rows):
        texts = [*index, *(c.text() for c in cells), *_p_cells(table, i)]
        lines.append(" & ".join(_tex(t) for t in texts) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    notes = " ".join(n for n in (table.note, p_note(table)) if n)
    if notes:
        lines.append(rf"\par\footnotesize {_tex(notes)}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def write_table(table: Table, folder: Path) -> dict[str, Path]:
    """Write ``<key>.md``, ``<key>.csv`` and ``<key>.tex`` into ``folder`` (atomically)."""
    out = {}
    for suffix, text in (("md", markdown(table)), ("csv", csv_text(table)), ("tex", latex(table))):
        path = folder / f"{table.key}.{suffix}"
        with atomic_output(path, overwrite=True) as tmp:
            tmp.write_text(text, encoding="utf-8")
        out[suffix] = path
    return out
