"""Fix 5/6: pooled vs per-case readings of Tables 2-5, and their Wilcoxon p-values."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import wilcoxon

from smoothseg.experiment.formats import csv_text, markdown
from smoothseg.experiment.predict import variants
from smoothseg.experiment.tables import MODEL_LABELS, all_tables, liver_table


def _row(rep: str, case: str, variant: str, tp: int, fn: int, dice: float) -> dict[str, object]:
    fp, tn = 5, 1000
    return {
        "replication": rep,
        "case_id": case,
        "variant": variant,
        "size_group": "<10 cm",
        "liver_tp": tp,
        "liver_fp": fp,
        "liver_fn": fn,
        "liver_tn": tn,
        "liver_sensitivity": tp / (tp + fn),
        "liver_specificity": tn / (tn + fp),
        "liver_accuracy": (tp + tn) / (tp + fp + fn + tn),
        "liver_dice": dice,
        "liver_iou": dice / (2 - dice),
        **{f"tumor_{k}": v for k, v in (("tp", 1), ("fp", 0), ("fn", 1), ("tn", 10))},
        **{f"tumor_{m}": 0.5 for m in ("sensitivity", "specificity", "accuracy", "dice", "iou")},
    }


@pytest.fixture()
def results() -> pd.DataFrame:
    rows = []
    for rep in ("replication_1", "replication_2"):
        # a small case found badly and a big case found well: pooled ≠ per-case sensitivity
        for case, (tp, fn), dice in (
            ("A", (1, 9), 0.2),
            ("B", (900, 100), 0.9),
            ("C", (5, 5), 0.5),
        ):
            rows.append(_row(rep, f"{rep}_{case}", "smoothsegnet", tp, fn, dice))
            rows.append(
                _row(rep, f"{rep}_{case}", "baseline_unet", tp // 2, fn + tp - tp // 2, dice / 2)
            )
    return pd.DataFrame(rows)


def test_pooled_sums_counts_per_replication_and_per_case_averages(results: pd.DataFrame) -> None:
    vs = variants(("unet",), "unet", MODEL_LABELS)
    pooled = dict(liver_table(results, vs, "pooled").rows)
    per_case = dict(liver_table(results, vs, "per_case").rows)
    ours_pooled = pooled[("SmoothSegNet (proposed)",)][3]  # sensitivity column
    ours_case = per_case[("SmoothSegNet (proposed)",)][3]
    assert ours_pooled.mean == pytest.approx(906 / 1020)
    assert ours_case.mean == pytest.approx((0.1 + 0.9 + 0.5) / 3)
    # Dice is a per-case mean in both readings (MONAI DiceMetric)
    assert pooled[("SmoothSegNet (proposed)",)][1].mean == pytest.approx(1.6 / 3)


def test_p_values_pair_cases_of_all_replications(results: pd.DataFrame) -> None:
    vs = variants(("unet",), "unet", MODEL_LABELS)
    table = liver_table(results, vs, "pooled")
    labels = [index[0] for index, _ in table.rows]
    p = dict(zip(labels, table.p_values, strict=True))
    ours = results[results["variant"] == "smoothsegnet"]["liver_dice"].to_numpy()
    unet = results[results["variant"] == "baseline_unet"]["liver_dice"].to_numpy()
    want = wilcoxon(unet - ours).pvalue  # 6 pairs: 3 cases x 2 replications
    assert p["U-Net"][0] == pytest.approx(want)
    assert all(math.isnan(v) for v in p["SmoothSegNet (proposed)"])
    text = markdown(table)
    assert "| p Dice | p Sensitivity |" in text and "(pooled)" in table.title
    assert "p_dice,p_sensitivity" in csv_text(table).splitlines()[0]


def test_all_tables_come_in_both_readings(results: pd.DataFrame) -> None:
    vs = variants(("unet",), "unet", MODEL_LABELS)
    keys = [t.key for t in all_tables(results, vs, 10.0, "mask")]
    assert keys[:4] == ["table2_liver", "table3_tumor", "table4_tumor_size", "table5_ablation"]
    assert keys[4:] == [f"{k}_per_case" for k in keys[:4]]
