"""SD.2 overlap metrics, relative volume error and pooled Dice against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smoothseg.evaluation import (
    ConfusionCounts,
    accuracy,
    class_metrics,
    confusion_counts,
    dice,
    iou,
    pooled_dice,
    relative_volume_error,
    sensitivity,
    specificity,
)


def line(n: int, start: int, stop: int) -> np.ndarray:
    mask = np.zeros((1, 1, n), dtype=bool)
    mask[0, 0, start:stop] = True
    return mask


def test_two_overlapping_segments_by_hand() -> None:
    # ref = voxels 0..5, pred = 3..7 on a line of 10: TP 3 (3,4,5), FP 2 (6,7), FN 3, TN 2.
    c = confusion_counts(line(10, 3, 8), line(10, 0, 6))
    assert c == ConfusionCounts(tp=3, fp=2, fn=3, tn=2)
    assert accuracy(c) == pytest.approx(5 / 10)
    assert dice(c) == pytest.approx(6 / 11)
    assert iou(c) == pytest.approx(3 / 8)
    assert sensitivity(c) == pytest.approx(3 / 6)
    assert specificity(c) == pytest.approx(2 / 4)
    assert relative_volume_error(c) == pytest.approx((5 - 6) / 6)


def test_dice_and_iou_are_related() -> None:
    c = ConfusionCounts(tp=7, fp=3, fn=5, tn=100)
    assert iou(c) == pytest.approx(dice(c) / (2 - dice(c)))


def test_both_empty() -> None:
    c = confusion_counts(line(10, 0, 0), line(10, 0, 0))
    assert dice(c) == 1.0
    assert iou(c) == 1.0
    assert math.isnan(sensitivity(c))
    assert math.isnan(relative_volume_error(c))
    assert specificity(c) == 1.0
    assert accuracy(c) == 1.0


def test_empty_reference_nonempty_prediction() -> None:
    c = confusion_counts(line(10, 2, 4), line(10, 0, 0))
    assert dice(c) == 0.0
    assert iou(c) == 0.0
    assert math.isnan(sensitivity(c))
    assert math.isnan(relative_volume_error(c))
    assert specificity(c) == pytest.approx(8 / 10)


def test_empty_prediction_nonempty_reference() -> None:
    c = confusion_counts(line(10, 0, 0), line(10, 2, 4))
    assert dice(c) == 0.0
    assert iou(c) == 0.0
    assert sensitivity(c) == 0.0
    assert relative_volume_error(c) == -1.0
    assert specificity(c) == 1.0


def test_no_negative_voxel_leaves_specificity_undefined() -> None:
    c = confusion_counts(line(4, 0, 4), line(4, 0, 4))
    assert math.isnan(specificity(c))
    assert dice(c) == 1.0


def test_pooled_dice_sums_counts_over_cases() -> None:
    a = ConfusionCounts(tp=3, fp=2, fn=3, tn=2)
    b = ConfusionCounts(tp=10, fp=0, fn=0, tn=5)
    assert pooled_dice([a, b]) == pytest.approx(2 * 13 / (2 * 13 + 2 + 3))
    assert pooled_dice([a, b]) != pytest.approx((dice(a) + dice(b)) / 2)
    assert math.isnan(pooled_dice([]))
    assert pooled_dice([ConfusionCounts(0, 0, 0, 9)]) == 1.0


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="shape"):
        confusion_counts(np.zeros((2, 2, 2)), np.zeros((2, 2, 3)))


def test_class_metrics_volumes_use_spacing() -> None:
    ref = np.zeros((4, 4, 4), dtype=bool)
    ref[:2, :2, :2] = True  # 8 voxels
    pred = ref.copy()
    pred[3, 3, 3] = True  # 9 voxels
    m = class_metrics(pred, ref, (0.5, 1.0, 2.0))  # 1 mm3 = 0.001 ml per voxel
    assert m.ref_ml == pytest.approx(0.008)
    assert m.pred_ml == pytest.approx(0.009)
    assert m.rve == pytest.approx(1 / 8)
    assert m.dice == pytest.approx(16 / 17)
