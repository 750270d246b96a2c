"""Evaluation outputs a person reads, and writing all five output files.

:func:`write_evaluation` writes into the output folder ``per_case.csv``, ``per_case.json``,
``summary.csv``, ``summary.json`` (see :mod:`smoothseg.evaluation.records`) and ``summary.md``:
the segmentation table (mean (SD) over cases per group and class, plus pooled Dice) and the
pooled lesion-detection table, which ``smoothseg evaluate`` also prints.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from smoothseg.errors import OutputExistsError
from smoothseg.evaluation.case import CLASSES
from smoothseg.evaluation.evaluate import EvaluationResult
from smoothseg.evaluation.records import per_case_csv, per_case_json, summary_csv, summary_json
from smoothseg.evaluation.summary import EvaluationSummary
from smoothseg.io.atomic import atomic_output

OUTPUT_FILES = ("per_case.csv", "per_case.json", "summary.md", "summary.csv", "summary.json")
METRIC_TITLES = {
    "accuracy": "Accuracy",
    "dice": "Dice",
    "iou": "IoU",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "hd95_mm": "HD95 mm",
    "assd_mm": "ASSD mm",
    "rve": "RVE",
}


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def segmentation_rows(summary: EvaluationSummary) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the segmentation table: mean (SD) per group and class."""
    headers = ["Group", "Class", "n", *METRIC_TITLES.values(), "Pooled Dice"]
    rows = []
    for g in summary.groups:
        for cls in CLASSES:
            cells = [g.group, cls, str(len(g.case_ids))]
            for metric in METRIC_TITLES:
                st = g.stat(cls, metric)
                digits = 2 if metric.endswith("_mm") else 3
                text = f"{_num(st.mean, digits)} ({_num(st.sd, digits)})"
                cells.append(text + (f" [n={st.n}]" if st.n_undefined else ""))
            cells.append(_num(g.pooled_dice[cls]))
            rows.append(cells)
    return headers, rows


def detection_rows(summary: EvaluationSummary) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the pooled lesion-detection table (empty size bins left out)."""
    headers = ["Group", "Lesion size", "Ref lesions", "Detected", "Recall"]
    headers += ["Pred lesions", "Matched", "Precision", "F1"]
    rows = []
    for g in summary.groups:
        for size, c in {"all": g.detection, **g.detection_by_size}.items():
            if size != "all" and c.n_ref == 0 and c.n_pred == 0:
                continue
            ref = [str(c.n_ref), str(c.ref_detected), _num(c.recall)]
            pred = [str(c.n_pred), str(c.pred_matched), _num(c.precision), _num(c.f1)]
            rows.append([g.group, size, *ref, *pred])
    return headers, rows


def markdown_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Lines of a Markdown table (header row, rule, one line per row)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def run_notes(summary: EvaluationSummary) -> list[str]:
    """Plain-text lines about the run: counts, missing cases, rules."""
    notes = [
        f"Cases: {summary.n_scored} scored of {summary.n_reference} reference case(s).",
        f"Size groups: {summary.size_rule}.",
        f"Lesions: 26-connected components, detected when IoU > {summary.lesion_iou_threshold:g}"
        " (LiTS rule, with merges and splits).",
        f"HD{summary.percentile:g}: max of the two directed percentiles of surface distances.",
    ]
    if summary.missing:
        how = "scored as empty predictions" if summary.missing_as_empty else "not scored"
        notes.append(
            f"MISSING predictions ({len(summary.missing)}, {how}): {', '.join(summary.missing)}"
        )
    if summary.unmatched_predictions:
        notes.append(
            f"Predictions without reference ({len(summary.unmatched_predictions)}, ignored): "
            + ", ".join(summary.unmatched_predictions)
        )
    notes.append(
        "Values: mean (SD) over cases; [n=k]: the metric is undefined (e.g. empty reference) in "
        "the other cases of the row, which are left out."
    )
    return notes


def summary_markdown(summary: EvaluationSummary) -> str:
    """``summary.md`` text."""
    lines = ["# Evaluation summary", ""]
    lines += [f"- {n}" for n in run_notes(summary)]
    lines += ["", "## Segmentation", ""]
    lines += markdown_table(*segmentation_rows(summary))
    lines += ["", "## Lesion detection (pooled over cases)", ""]
    lines += markdown_table(*detection_rows(summary))
    return "\n".join(lines) + "\n"


def write_evaluation(
    result: EvaluationResult, out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, Path]:
    """Write the five output files into ``out_dir``; returns name → path.

    Raises:
        OutputExistsError: an output file exists and ``overwrite`` is False (checked before
            anything is written).

    """
    base = Path(out_dir).expanduser()
    check_outputs(base, overwrite=overwrite)
    texts = {
        "per_case.csv": per_case_csv(result),
        "per_case.json": json.dumps(per_case_json(result), indent=2) + "\n",
        "summary.md": summary_markdown(result.summary),
        "summary.csv": summary_csv(result.summary),
        "summary.json": json.dumps(summary_json(result), indent=2) + "\n",
    }
    written = {}
    for name, text in texts.items():
        with atomic_output(base / name, overwrite=overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written[name] = base / name
    return written


def check_outputs(out_dir: str | Path, *, overwrite: bool = False) -> None:
    """Raise :class:`OutputExistsError` if an output file exists and ``overwrite`` is False."""
    base = Path(out_dir).expanduser()
    for name in OUTPUT_FILES:
        if (base / name).exists() and not overwrite:
            raise OutputExistsError(base / name)
