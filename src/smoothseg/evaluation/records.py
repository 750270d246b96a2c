"""Machine-readable evaluation records: per-case CSV/JSON and summary CSV/JSON documents.

* ``per_case.csv`` — one row per reference case (missing predictions included, with their
  status); NaN (undefined) is an empty cell; per class ``<class>_<metric>`` columns and the voxel
  counts ``<class>_tp/fp/fn/tn``, then lesion counts and geometry;
* ``per_case.json`` — the same, nested, with every lesion and correspondence; NaN is ``null``;
* ``summary.csv`` — long format: group, class, metric, lesion_size, kind (``per-case``: mean,
  SD, median of per-case values; ``pooled``: one value from counts summed over cases, in
  ``mean``), n, n_undefined, mean, sd, median;
* ``summary.json`` — the summary with the options and the size rule.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from smoothseg.evaluation.case import CLASSES, CaseResult
from smoothseg.evaluation.evaluate import EvaluationResult
from smoothseg.evaluation.lesions import DetectionCounts, LesionDetection
from smoothseg.evaluation.summary import EvaluationSummary
from smoothseg.io.cells import csv_cell

FORMAT_VERSION = 1
CLASS_COLUMNS = (
    "accuracy",
    "dice",
    "iou",
    "sensitivity",
    "specificity",
    "rve",
    "hd95_mm",
    "hd_mm",
    "assd_mm",
    "ref_ml",
    "pred_ml",
)
COUNT_COLUMNS = ("tp", "fp", "fn", "tn")
LESION_COLUMNS = (
    "ref_lesions",
    "ref_lesions_detected",
    "pred_lesions",
    "pred_lesions_matched",
    "lesion_recall",
    "lesion_precision",
    "lesion_f1",
    "largest_ref_lesion_mm",
)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _detection_json(counts: DetectionCounts) -> dict[str, Any]:
    return {
        **asdict(counts),
        "recall": counts.recall,
        "precision": counts.precision,
        "f1": counts.f1,
    }


def case_row(case: CaseResult) -> dict[str, str]:
    """Flat CSV cells of one case."""
    row: dict[str, Any] = {
        "case_id": case.case_id,
        "patient_id": case.patient_id,
        "status": case.status,
        "size_group": case.stratum.group,
        "size_cm": case.stratum.size_cm,
        "size_source": case.stratum.source,
    }
    for cls in CLASSES:
        m = case.classes[cls]
        row.update({f"{cls}_{name}": m.metric(name) for name in CLASS_COLUMNS})
        row.update({f"{cls}_{name}": getattr(m.counts, name) for name in COUNT_COLUMNS})
    les = case.lesions
    counts = les.counts
    row.update(
        ref_lesions=counts.n_ref,
        ref_lesions_detected=counts.ref_detected,
        pred_lesions=counts.n_pred,
        pred_lesions_matched=counts.pred_matched,
        lesion_recall=counts.recall,
        lesion_precision=counts.precision,
        lesion_f1=counts.f1,
        largest_ref_lesion_mm=les.largest_ref_diameter_mm,
        shape="x".join(str(s) for s in case.shape),
        spacing_mm="x".join(f"{s:.6g}" for s in case.spacing_mm),
        pred=case.pred_path,
        ref=case.ref_path,
    )
    return {k: csv_cell(v) for k, v in row.items()}


def per_case_columns() -> list[str]:
    """Column order of ``per_case.csv``."""
    cols = ["case_id", "patient_id", "status", "size_group", "size_cm", "size_source"]
    for cls in CLASSES:
        cols += [f"{cls}_{n}" for n in (*CLASS_COLUMNS, *COUNT_COLUMNS)]
    return [*cols, *LESION_COLUMNS, "shape", "spacing_mm", "pred", "ref"]


def per_case_csv(result: EvaluationResult) -> str:
    """``per_case.csv`` text: scored cases, then missing ones (status only)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=per_case_columns(), lineterminator="\n")
    writer.writeheader()
    writer.writerows(case_row(c) for c in result.cases)
    scored = {c.case_id for c in result.cases}
    for case_id in result.summary.missing:
        if case_id not in scored:
            writer.writerow({"case_id": case_id, "status": "missing prediction"})
    return buffer.getvalue()


def lesions_json(les: LesionDetection, bins_mm: Sequence[float]) -> dict[str, Any]:
    """JSON-ready lesion detection of one case."""
    return {
        "iou_threshold": les.iou_threshold,
        **_detection_json(les.counts),
        "by_size": {k: _detection_json(v) for k, v in les.counts_by_size(bins_mm).items()},
        "reference": [
            {"id": i + 1, "diameter_mm": d, "detected": f}
            for i, (d, f) in enumerate(zip(les.ref_diameters_mm, les.ref_detected, strict=True))
        ],
        "prediction": [
            {"id": i + 1, "diameter_mm": d, "matched": f}
            for i, (d, f) in enumerate(zip(les.pred_diameters_mm, les.pred_matched, strict=True))
        ],
        "groups": [asdict(g) for g in les.groups],
    }


def case_json(case: CaseResult, bins_mm: Sequence[float]) -> dict[str, Any]:
    """JSON-ready nested record of one case."""
    classes: dict[str, dict[str, Any]] = {}
    for cls, m in case.classes.items():
        classes[cls] = {name: m.metric(name) for name in CLASS_COLUMNS}
        classes[cls]["counts"] = asdict(m.counts)
    return {
        "case_id": case.case_id,
        "patient_id": case.patient_id,
        "status": case.status,
        "pred": case.pred_path,
        "ref": case.ref_path,
        "shape": list(case.shape),
        "spacing_mm": list(case.spacing_mm),
        "size": asdict(case.stratum),
        "classes": classes,
        "lesions": lesions_json(case.lesions, bins_mm),
    }


def _options_json(result: EvaluationResult) -> dict[str, Any]:
    s = result.summary
    return {
        "pred": result.pred_dir,
        "ref": result.ref,
        "classes": {k: list(v) for k, v in CLASSES.items()},
        "size_rule": s.size_rule,
        "config": asdict(result.config),
    }


def per_case_json(result: EvaluationResult) -> dict[str, Any]:
    """``per_case.json`` document."""
    bins = result.config.lesion_bins_mm
    doc = {
        "version": FORMAT_VERSION,
        **_options_json(result),
        "cases": [case_json(c, bins) for c in result.cases],
        "missing": list(result.summary.missing),
    }
    out: dict[str, Any] = _json_safe(doc)
    return out


def summary_json(result: EvaluationResult) -> dict[str, Any]:
    """``summary.json`` document."""
    s = result.summary
    groups = []
    for g in s.groups:
        groups.append(
            {
                "group": g.group,
                "n_cases": len(g.case_ids),
                "case_ids": list(g.case_ids),
                "stats": [asdict(x) for x in g.stats],
                "pooled_dice": dict(g.pooled_dice),
                "detection": _detection_json(g.detection),
                "detection_by_size": {
                    k: _detection_json(v) for k, v in g.detection_by_size.items()
                },
            }
        )
    doc = {
        "version": FORMAT_VERSION,
        **_options_json(result),
        "n_reference": s.n_reference,
        "n_scored": s.n_scored,
        "missing": list(s.missing),
        "missing_as_empty": s.missing_as_empty,
        "unmatched_predictions": list(s.unmatched_predictions),
        "groups": groups,
    }
    out: dict[str, Any] = _json_safe(doc)
    return out


def summary_csv(summary: EvaluationSummary) -> str:
    """``summary.csv`` text (long format, see module docs)."""
    cols = ["group", "class", "metric", "lesion_size", "kind", "n", "n_undefined"]
    cols += ["mean", "sd", "median"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    for g in summary.groups:
        for st in g.stats:
            writer.writerow(
                {
                    "group": g.group,
                    "class": st.label_class,
                    "metric": st.metric,
                    "kind": "per-case",
                    **{k: csv_cell(getattr(st, k)) for k in ("n", "n_undefined", "mean", "sd")},
                    "median": csv_cell(st.median),
                }
            )
        for cls, value in g.pooled_dice.items():
            writer.writerow(
                {"group": g.group, "class": cls, "metric": "dice_pooled", "kind": "pooled"}
                | {"n": len(g.case_ids), "mean": csv_cell(value)}
            )
        bins = {"all": g.detection, **g.detection_by_size}
        for size, c in bins.items():
            for metric, value, n in (
                ("lesion_recall", c.recall, c.n_ref),
                ("lesion_precision", c.precision, c.n_pred),
                ("lesion_f1", c.f1, c.n_ref + c.n_pred),
            ):
                writer.writerow(
                    {"group": g.group, "class": "tumor", "metric": metric, "lesion_size": size}
                    | {"kind": "pooled", "n": n, "mean": csv_cell(value)}
                )
    return buffer.getvalue()
