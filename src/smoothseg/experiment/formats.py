"""Write a :class:`~smoothseg.experiment.tables.Table` as Markdown, CSV and LaTeX."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from smoothseg.evaluation.tables import markdown_table
from smoothseg.experiment.tables import METRIC_LABELS, Table
from smoothseg.io.atomic import atomic_output


def markdown(table: Table) -> str:
    """Markdown table (title as a bold line, note below)."""
    headers = [*table.index_names, *(METRIC_LABELS[m] for m in table.metrics)]
    rows = [[*index, *(c.text() for c in cells)] for index, cells in table.rows]
    lines = [f"**{table.title}** (mean (sd) over replications)", ""]
    lines += markdown_table(headers, rows)
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else ""


def csv_text(table: Table) -> str:
    """CSV text, one row per table row.

    Columns: the index columns, then per metric ``<metric>_mean``, ``<metric>_sd`` and the
    replications / cases it rests on.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = [n.lower().replace(" ", "_").replace("-", "_") for n in table.index_names]
    for m in table.metrics:
        header += [f"{m}_mean", f"{m}_sd", f"{m}_n_replications", f"{m}_n_cases"]
    writer.writerow(header)
    for index, cells in table.rows:
        row = list(index)
        for c in cells:
            row += [_num(c.mean), _num(c.sd), str(c.n_replications), str(c.n_cases)]
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
        .replace("α", r"$\alpha$")
        .replace("–", "--")
    )


def latex(table: Table) -> str:
    """A ``table`` environment with a ``tabular`` (booktabs rules)."""
    headers = [*table.index_names, *(METRIC_LABELS[m] for m in table.metrics)]
    spec = "l" * len(table.index_names) + "c" * len(table.metrics)
    lines = [
        r"\begin{table}[ht]",
        r"\centering",
        rf"\caption{{{_tex(table.title)} (mean (sd) over replications)}}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(_tex(h) for h in headers) + r" \\",
        r"\midrule",
    ]
    for index, cells in table.rows:
        lines.append(
            " & ".join([*(_tex(i) for i in index), *(_tex(c.text()) for c in cells)]) + r" \\"
        )
    lines += [r"\bottomrule", r"\end{tabular}"]
    if table.note:
        lines.append(rf"\par\footnotesize {_tex(table.note)}")
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
