"""The paper's Tables 2-5 from the per-case results of every replication, in two readings.

Each cell is mean (sd) over replications of one number per replication (the paper's "across
three test set replications"). That number is, by :data:`READINGS`:

* ``pooled`` (the paper's code): sensitivity, specificity and accuracy from the confusion
  counts **summed over the replication's test cases** (MONAI ``ConfusionMatrixMetric``,
  ``mean_batch``); Dice and IoU the mean over cases (MONAI ``DiceMetric``);
* ``per_case``: every metric the mean over test cases of the per-case value.

Every row but the proposed model's carries a two-sided paired Wilcoxon signed-rank p-value
against SmoothSegNet (ablation V) per :attr:`Table.p_metrics`, on the per-case values of the
test cases of all replications pooled (pairs by replication and case). Tumor metrics use the
test cases that have a reference tumor (a tumor-free case has no tumor Dice to speak of); size
groups follow the evaluation's size rule. Cells with no case are left empty, never filled in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from smoothseg.evaluation.overlap import ConfusionCounts
from smoothseg.evaluation.significance import pooled_rates, wilcoxon_p
from smoothseg.evaluation.strata import size_group_names
from smoothseg.evaluation.tables import METRIC_TITLES
from smoothseg.experiment.predict import ABLATION, SMOOTHSEGNET, Variant

METRICS = ("accuracy", "dice", "iou", "sensitivity", "specificity")
#: Metrics the ``pooled`` reading computes from summed confusion counts.
POOLED = ("accuracy", "sensitivity", "specificity")
READINGS = ("pooled", "per_case")
#: Metrics of Tables 2-4 with a Wilcoxon p-value against the proposed model.
P_METRICS = ("dice", "sensitivity")
READING_TITLES = {
    "pooled": "Sensitivity, specificity and accuracy from confusion counts pooled over the "
    "test cases (as the paper's code); Dice and IoU per-case means",
    "per_case": "Every metric the mean of its per-case values",
}
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
    reading: str = "pooled"
    p_metrics: tuple[str, ...] = ()
    p_values: tuple[tuple[float, ...], ...] = ()


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


def pooled_stat(frame: pd.DataFrame, cls: str, metric: str) -> Stat:
    """Mean (sd) over replications of the rate of each replication's summed confusion counts."""
    counts = [f"{cls}_{k}" for k in ("tp", "fp", "fn", "tn")]
    values = frame[counts].apply(pd.to_numeric, errors="coerce").dropna()
    per_rep = []
    for _, part in values.groupby(frame.loc[values.index, "replication"]):
        summed = [ConfusionCounts(*(int(v) for v in row)) for row in part.to_numpy()]
        per_rep.append(pooled_rates(summed)[metric])
    reps = pd.Series(per_rep, dtype=float).dropna()
    n = len(reps)
    mean = float(reps.mean()) if n else math.nan
    sd = float(reps.std(ddof=1)) if n >= 2 else math.nan
    return Stat(mean, sd, n, len(values))


def paired_p(frame: pd.DataFrame, variant: str, column: str) -> float:
    """Wilcoxon p of ``variant`` vs SmoothSegNet on ``column``, cases of all replications."""
    keys = ["replication", "case_id"]
    mine = frame[frame["variant"] == variant].set_index(keys)[column]
    ours = frame[frame["variant"] == SMOOTHSEGNET].set_index(keys)[column]
    both = pd.concat([pd.to_numeric(mine, errors="coerce"), pd.to_numeric(ours, errors="coerce")],
                     axis=1, join="inner")  # fmt: skip
    if variant == SMOOTHSEGNET or both.empty:
        return math.nan
    return wilcoxon_p(both.iloc[:, 0].tolist(), both.iloc[:, 1].tolist())


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


def _cells(
    frame: pd.DataFrame, cls: str, metrics: Sequence[str], reading: str = "per_case"
) -> tuple[Stat, ...]:
    return tuple(
        pooled_stat(frame, cls, m)
        if reading == "pooled" and m in POOLED
        else stat(frame, f"{cls}_{m}")
        for m in metrics
    )


def _p_row(
    frame: pd.DataFrame, variant: str, cls: str, metrics: Sequence[str]
) -> tuple[float, ...]:
    return tuple(paired_p(frame, variant, f"{cls}_{m}") for m in metrics)


def _key(base: str, reading: str) -> str:
    return base if reading == "pooled" else f"{base}_per_case"


def _title(title: str, reading: str) -> str:
    return f"{title} ({'pooled' if reading == 'pooled' else 'per-case means'})"


def _model_table(
    frame: pd.DataFrame, variants: Sequence[Variant], cls: str, reading: str
) -> tuple[list[tuple[tuple[str, ...], tuple[Stat, ...]]], list[tuple[float, ...]]]:
    rows: list[tuple[tuple[str, ...], tuple[Stat, ...]]] = []
    ps: list[tuple[float, ...]] = []
    for name, label in _model_rows(variants):
        rows.append(((label,), _cells(frame[frame["variant"] == name], cls, METRICS, reading)))
        ps.append(_p_row(frame, name, cls, P_METRICS))
    return rows, ps


def liver_table(
    results: pd.DataFrame, variants: Sequence[Variant], reading: str = "pooled"
) -> Table:
    """Table 2: liver segmentation."""
    rows, ps = _model_table(results, variants, "liver", reading)
    return Table(
        _key("table2_liver", reading),
        _title("Table 2. Liver segmentation", reading),
        ("Model",),
        METRICS,
        tuple(rows),
        reading=reading,
        p_metrics=P_METRICS,
        p_values=tuple(ps),
    )


def tumor_table(
    results: pd.DataFrame, variants: Sequence[Variant], reading: str = "pooled"
) -> Table:
    """Table 3: tumor segmentation (cases with a reference tumor)."""
    rows, ps = _model_table(results[has_tumor(results)], variants, "tumor", reading)
    return Table(
        _key("table3_tumor", reading),
        _title("Table 3. Tumor segmentation", reading),
        ("Model",),
        METRICS,
        tuple(rows),
        "Test cases with a reference tumor.",
        reading,
        P_METRICS,
        tuple(ps),
    )


def size_table(
    results: pd.DataFrame,
    variants: Sequence[Variant],
    threshold_cm: float,
    rule: str,
    reading: str = "pooled",
) -> Table:
    """Table 4: tumor segmentation by tumor size group."""
    tumor = results[has_tumor(results)]
    rows, ps = [], []
    for group in size_group_names(threshold_cm):
        part = tumor[tumor["size_group"] == group]
        group_rows, group_ps = _model_table(part, variants, "tumor", reading)
        rows += [((group, *index), cells) for index, cells in group_rows]
        ps += group_ps
    note = f"Size group by rule '{rule}' (largest lesion's maximal 3D diameter for 'mask')."
    return Table(
        _key("table4_tumor_size", reading),
        _title(
            f"Table 4. Tumor segmentation for tumors ≥{threshold_cm:g} cm and <{threshold_cm:g} cm",
            reading,
        ),
        ("Tumor size", "Model"),
        METRICS,
        tuple(rows),
        note,
        reading,
        P_METRICS,
        tuple(ps),
    )


def _mark(flag: bool) -> str:
    return "yes" if flag else "no"


def ablation_table(
    results: pd.DataFrame, variants: Sequence[Variant], reading: str = "pooled"
) -> Table:
    """Table 5: ablation I-V (liver: I and V; tumor: I-V), Dice and sensitivity."""
    by_name = {v.name: v for v in variants}
    tumor = results[has_tumor(results)]
    metrics = ("dice", "sensitivity")
    rows, ps = [], []
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
            cells = _cells(frame[frame["variant"] == v.name], cls, metrics, reading)
            rows.append((index, cells))
            ps.append(_p_row(frame, v.name, cls, metrics))
    return Table(
        _key("table5_ablation", reading),
        _title("Table 5. Ablation study (liver and tumor segmentation)", reading),
        ("Task", "Model version", "Two-step", "Contour adjust", "Smoothing"),
        metrics,
        tuple(rows),
        "Contour adjust: Chan-Vese refinement at prediction; smoothing: α > 0 in training.",
        reading,
        metrics,
        tuple(ps),
    )


def all_tables(
    results: pd.DataFrame,
    variants: Sequence[Variant],
    threshold_cm: float,
    rule: str,
    readings: Sequence[str] = READINGS,
) -> list[Table]:
    """Tables 2-5 in each reading (pooled first: ``table2_liver``, then ``..._per_case``)."""
    return [
        table
        for reading in readings
        for table in (
            liver_table(results, variants, reading),
            tumor_table(results, variants, reading),
            size_table(results, variants, threshold_cm, rule, reading),
            ablation_table(results, variants, reading),
        )
    ]
