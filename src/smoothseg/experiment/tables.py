"""The paper's Tables 2-5 from the per-case results of every replication.

Each cell is mean (sd) over replications of the replication's mean over its test cases (the
paper's "across three test set replications"). Tumor metrics use the test cases that have a
reference tumor (a tumor-free case has no tumor Dice to speak of); size groups follow the
evaluation's size rule. Cells with no case are left empty, never filled in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from smoothseg.evaluation.strata import size_group_names
from smoothseg.evaluation.tables import METRIC_TITLES
from smoothseg.experiment.predict import ABLATION, SMOOTHSEGNET, Variant

METRICS = ("accuracy", "dice", "iou", "sensitivity", "specificity")
METRIC_LABELS = {m: METRIC_TITLES[m] for m in METRICS}
#: Paper's row order of the baselines (Tables 2-4) and their display names.
MODEL_LABELS = {
    "unet": "U-Net",
    "unet_large": "U-Net Large",
    "unetpp": "U-Net++",
    "manet": "MA-Net",
    "segresnet": "SegResNet",
    "segresnetvae": "SegResNetVAE",
}


@dataclass(frozen=True)
class Stat:
    """mean (sd) over replications, with how many replications and cases it rests on."""

    mean: float
    sd: float
    n_replications: int
    n_cases: int

    def text(self, digits: int = 3) -> str:
        """``0.937 (0.019)``; ``–`` without data; sd ``–`` with one replication."""
        if not math.isfinite(self.mean):
            return "–"
        sd = f"{self.sd:.{digits}f}" if math.isfinite(self.sd) else "–"
        return f"{self.mean:.{digits}f} ({sd})"


@dataclass(frozen=True)
class Table:
    """A results table: index columns (model, group...) and metric cells."""

    key: str
    title: str
    index_names: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: tuple[tuple[tuple[str, ...], tuple[Stat, ...]], ...]
    note: str = ""


def has_tumor(frame: pd.DataFrame) -> pd.Series:
    """Cases with a reference tumor."""
    return (frame["tumor_tp"].fillna(0) + frame["tumor_fn"].fillna(0)) > 0


def stat(frame: pd.DataFrame, column: str) -> Stat:
    """Mean (sd) over replications of per-replication means of ``column``."""
    values = pd.to_numeric(frame[column], errors="coerce")
    per_rep = values.groupby(frame["replication"]).mean().dropna()
    n = len(per_rep)
    mean = float(per_rep.mean()) if n else math.nan
    sd = float(per_rep.std(ddof=1)) if n >= 2 else math.nan
    return Stat(mean, sd, n, int(values.notna().sum()))


def _model_rows(variants: Sequence[Variant]) -> list[tuple[str, str]]:
    """(variant name, label): baselines in the paper's order, then SmoothSegNet."""
    order = list(MODEL_LABELS)
    base = sorted(
        (v for v in variants if v.name.startswith("baseline_")),
        key=lambda v: (
            order.index(v.name.removeprefix("baseline_"))
            if v.name.removeprefix("baseline_") in order
            else len(order)
        ),
    )
    main = [v for v in variants if v.name == SMOOTHSEGNET]
    return [(v.name, v.label) for v in (*base, *main)]


def _cells(frame: pd.DataFrame, cls: str, metrics: Sequence[str]) -> tuple[Stat, ...]:
    return tuple(stat(frame, f"{cls}_{m}") for m in metrics)


def liver_table(results: pd.DataFrame, variants: Sequence[Variant]) -> Table:
    """Table 2: liver segmentation."""
    rows = tuple(
        ((label,), _cells(results[results["variant"] == name], "liver", METRICS))
        for name, label in _model_rows(variants)
    )
    return Table("table2_liver", "Table 2. Liver segmentation", ("Model",), METRICS, rows)


def tumor_table(results: pd.DataFrame, variants: Sequence[Variant]) -> Table:
    """Table 3: tumor segmentation (cases with a reference tumor)."""
    tumor = results[has_tumor(results)]
    rows = tuple(
        ((label,), _cells(tumor[tumor["variant"] == name], "tumor", METRICS))
        for name, label in _model_rows(variants)
    )
    note = "Test cases with a reference tumor."
    return Table("table3_tumor", "Table 3. Tumor segmentation", ("Model",), METRICS, rows, note)


def size_table(
    results: pd.DataFrame, variants: Sequence[Variant], threshold_cm: float, rule: str
) -> Table:
    """Table 4: tumor segmentation by tumor size group."""
    tumor = results[has_tumor(results)]
    rows = []
    for group in size_group_names(threshold_cm):
        part = tumor[tumor["size_group"] == group]
        for name, label in _model_rows(variants):
            rows.append(((group, label), _cells(part[part["variant"] == name], "tumor", METRICS)))
    note = f"Size group by rule '{rule}' (largest lesion's maximal 3D diameter for 'mask')."
    return Table(
        "table4_tumor_size",
        f"Table 4. Tumor segmentation for tumors ≥{threshold_cm:g} cm and <{threshold_cm:g} cm",
        ("Tumor size", "Model"),
        METRICS,
        tuple(rows),
        note,
    )


def _mark(flag: bool) -> str:
    return "yes" if flag else "no"


def ablation_table(results: pd.DataFrame, variants: Sequence[Variant]) -> Table:
    """Table 5: ablation I-V (liver: I and V; tumor: I-V), Dice and sensitivity."""
    by_name = {v.name: v for v in variants}
    tumor = results[has_tumor(results)]
    metrics = ("dice", "sensitivity")
    rows = []
    for cls, frame, versions in (
        ("liver", results, ("I", "V")),
        ("tumor", tumor, ("I", "II", "III", "IV", "V")),
    ):
        for version in versions:
            v = by_name[ABLATION[version]]
            contour = "n/a" if cls == "liver" else _mark(v.refine)
            smoothing = "n/a" if cls == "liver" else _mark(v.smoothing)
            name = version + (" (proposed)" if version == "V" else "")
            index = (cls, name, _mark(v.two_step), contour, smoothing)
            rows.append((index, _cells(frame[frame["variant"] == v.name], cls, metrics)))
    return Table(
        "table5_ablation",
        "Table 5. Ablation study (liver and tumor segmentation)",
        ("Task", "Model version", "Two-step", "Contour adjust", "Smoothing"),
        metrics,
        tuple(rows),
        "Contour adjust: Chan-Vese refinement at prediction; smoothing: α > 0 in training.",
    )


def all_tables(
    results: pd.DataFrame, variants: Sequence[Variant], threshold_cm: float, rule: str
) -> list[Table]:
    """Tables 2-5."""
    return [
        liver_table(results, variants),
        tumor_table(results, variants),
        size_table(results, variants, threshold_cm, rule),
        ablation_table(results, variants),
    ]
