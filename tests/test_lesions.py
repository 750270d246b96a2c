"""Lesion-wise detection: LiTS-style matching with merges and splits on constructed masks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smoothseg.evaluation import DetectionCounts, match_lesions, size_bin_names

ONE = (1.0, 1.0, 1.0)


def box(mask: np.ndarray, i: tuple[int, int], j: tuple[int, int], k=(2, 6)) -> None:
    mask[i[0] : i[1], j[0] : j[1], k[0] : k[1]] = True


def multi_lesion_case() -> tuple[np.ndarray, np.ndarray]:
    """Reference and prediction with every kind of correspondence (boxes 4 voxels deep in k)."""
    ref = np.zeros((60, 40, 10), dtype=bool)
    pred = np.zeros_like(ref)
    box(ref, (2, 6), (2, 6))  # A: 64 voxels, predicted exactly → detected
    box(pred, (2, 6), (2, 6))
    box(ref, (10, 14), (2, 6))  # B: shifted by 1 → IoU 48/80 = 0.6 → detected
    box(pred, (11, 15), (2, 6))
    box(ref, (18, 22), (2, 6))  # C: 16 of 64 voxels predicted → IoU 0.25 → missed
    box(pred, (18, 19), (2, 6))
    box(ref, (26, 30), (2, 6))  # D: not predicted at all → missed
    box(pred, (2, 4), (30, 32), (2, 4))  # E: false positive far from everything
    box(ref, (2, 6), (12, 16))  # F1 + F2: one prediction bridges both (a merge)
    box(ref, (8, 12), (12, 16))  # → IoU 128/160 = 0.8 → both detected
    box(pred, (2, 12), (12, 16))
    box(ref, (16, 26), (12, 16))  # G: covered by two predictions (a split)
    box(pred, (16, 20), (12, 16))  # → IoU 128/160 = 0.8 → detected, both matched
    box(pred, (22, 26), (12, 16))
    box(ref, (34, 38), (2, 6))  # H: IoU exactly 0.5 (64/128) → missed (LiTS: IoU > 0.5)
    box(pred, (34, 42), (2, 6))
    return pred, ref


def test_multi_lesion_counts_by_hand() -> None:
    pred, ref = multi_lesion_case()
    det = match_lesions(pred, ref, ONE)
    # Reference lesions A B C D F1 F2 G H: detected A B F1 F2 G.
    # Predicted components A' B' C' E F G1 G2 H': matched A' B' F G1 G2.
    assert det.counts == DetectionCounts(n_ref=8, ref_detected=5, n_pred=8, pred_matched=5)
    assert det.counts.recall == pytest.approx(5 / 8)
    assert det.counts.precision == pytest.approx(5 / 8)
    assert det.counts.f1 == pytest.approx(5 / 8)
    merges = [g for g in det.groups if len(g.ref_ids) > 1]
    splits = [g for g in det.groups if len(g.pred_ids) > 1]
    assert len(merges) == 1 and merges[0].detected
    assert (merges[0].intersection_voxels, merges[0].union_voxels) == (128, 160)
    assert len(splits) == 1 and splits[0].detected and splits[0].iou == pytest.approx(0.8)
    ious = sorted(round(g.iou, 4) for g in det.groups)
    assert ious == [0.0, 0.25, 0.5, 0.6, 0.8, 0.8, 1.0]


def test_threshold_is_strict_and_configurable() -> None:
    pred, ref = multi_lesion_case()
    assert match_lesions(pred, ref, ONE, iou_threshold=0.49).counts.ref_detected == 6  # + H
    assert match_lesions(pred, ref, ONE, iou_threshold=0.0).counts.ref_detected == 7  # + C
    assert match_lesions(pred, ref, ONE, iou_threshold=0.7).counts.ref_detected == 4  # A F1 F2 G
    with pytest.raises(ValueError, match="iou_threshold"):
        match_lesions(pred, ref, ONE, iou_threshold=1.0)


@pytest.mark.parametrize("axes", [(0,), (1,), (2,), (0, 1, 2)])
def test_matching_does_not_depend_on_component_order(axes: tuple[int, ...]) -> None:
    pred, ref = multi_lesion_case()
    flipped = match_lesions(np.flip(pred, axes), np.flip(ref, axes), ONE)
    assert flipped.counts == match_lesions(pred, ref, ONE).counts


def test_prediction_spanning_two_lesions_goes_to_the_one_it_overlaps_most() -> None:
    # P overlaps R1 fully and R2 slightly; R2 is mostly covered by its own prediction P2.
    ref = np.zeros((30, 10, 8), dtype=bool)
    pred = np.zeros_like(ref)
    box(ref, (2, 6), (2, 6))  # R1
    box(ref, (10, 16), (2, 6))  # R2: 96 voxels
    box(pred, (2, 6), (2, 6))  # P over R1 ...
    pred[6:11, 4, 4] = True  # ... with a thin arm whose tip (i = 10) lies inside R2
    box(pred, (12, 16), (2, 6))  # P2 over 64 voxels of R2, one voxel away from the tip
    det = match_lesions(pred, ref, ONE)
    assert det.counts.n_ref == 2 and det.counts.ref_detected == 2
    assert all(len(g.ref_ids) == 1 and len(g.pred_ids) == 1 for g in det.groups)
    assert sorted(round(g.iou, 4) for g in det.groups) == [round(64 / 96, 4), round(64 / 69, 4)]


def test_empty_rules() -> None:
    empty = np.zeros((6, 6, 6), dtype=bool)
    some = empty.copy()
    some[2:4, 2:4, 2:4] = True
    both_empty = match_lesions(empty, empty, ONE).counts
    assert math.isnan(both_empty.recall) and math.isnan(both_empty.precision)
    assert math.isnan(both_empty.f1)
    missed = match_lesions(empty, some, ONE).counts
    assert missed.recall == 0.0 and math.isnan(missed.precision) and missed.f1 == 0.0
    hallucinated = match_lesions(some, empty, ONE).counts
    assert math.isnan(hallucinated.recall) and hallucinated.precision == 0.0
    assert hallucinated.f1 == 0.0


def test_diameters_use_anisotropic_spacing_and_bins() -> None:
    ref = np.zeros((10, 10, 12), dtype=bool)
    ref[1, 1, 0:4] = True  # 3 gaps of 2.5 mm → 7.5 mm
    ref[5, 5, 0:5] = True  # 10 mm → bin 10-20 (a diameter at an edge goes up)
    ref[8, 8, 0:12] = True  # 27.5 mm
    pred = ref.copy()
    pred[1, 1, 0:4] = False
    det = match_lesions(pred, ref, (0.7, 0.7, 2.5))
    assert sorted(det.ref_diameters_mm) == pytest.approx([7.5, 10.0, 27.5])
    assert det.largest_ref_diameter_mm == pytest.approx(27.5)
    by_size = det.counts_by_size((10.0, 20.0, 50.0))
    assert list(by_size) == ["<10 mm", "10-20 mm", "20-50 mm", "≥50 mm"]
    assert by_size["<10 mm"] == DetectionCounts(1, 0, 0, 0)
    assert by_size["10-20 mm"] == DetectionCounts(1, 1, 1, 1)
    assert by_size["20-50 mm"] == DetectionCounts(1, 1, 1, 1)
    assert by_size["≥50 mm"] == DetectionCounts()


def test_counts_add_up_for_pooling() -> None:
    a = DetectionCounts(2, 1, 3, 1)
    b = DetectionCounts(1, 1, 0, 0)
    assert a + b == DetectionCounts(3, 2, 3, 1)
    assert (a + b).recall == pytest.approx(2 / 3)


def test_bin_names_and_validation() -> None:
    assert size_bin_names((10, 20)) == ("<10 mm", "10-20 mm", "≥20 mm")
    assert size_bin_names(()) == ("all sizes",)
    with pytest.raises(ValueError, match="increase"):
        size_bin_names((20, 10))
