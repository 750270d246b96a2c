"""Per-lesion confidence and the per-case QC verdict on tiny constructed volumes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from smoothseg.io import Volume
from smoothseg.io.volume import SourceInfo
from smoothseg.postprocess import lesion_stats
from smoothseg.postprocess.confidence import lesion_confidence
from smoothseg.postprocess.quality import (
    assess_quality,
    case_quality,
    edge_sides,
    lesion_records,
    quality_config_for,
    spacing_is_assumed,
)
from smoothseg.postprocess.quality_config import QualityConfig

SPACING = (5.0, 5.0, 5.0)  # 0.125 mL voxels
SHAPE = (28, 28, 24)


def _liver() -> np.ndarray:
    """A 20 x 20 x 16 voxel liver (800 mL) that touches no side of the scan."""
    liver = np.zeros(SHAPE, dtype=bool)
    liver[4:24, 4:24, 4:20] = True
    return liver


def _ct(liver: np.ndarray, liver_hu: float = 100.0, noise_hu: float = 10.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    hu = np.full(SHAPE, -100.0) + rng.normal(0.0, 5.0, SHAPE)
    hu[liver] = liver_hu + rng.normal(0.0, noise_hu, int(liver.sum()))
    return hu


def _lesion(centre: tuple[int, int, int], half: int = 2) -> np.ndarray:
    mask = np.zeros(SHAPE, dtype=bool)
    i, j, k = centre
    mask[i - half : i + half, j - half : j + half, k - half : k + half] = True
    return mask


def _one(tumor, liver, hu, prob=None, config=None, spacing=SPACING):
    (lesion,) = lesion_confidence(tumor, liver, hu, spacing, prob, config)
    return lesion


def test_hypodense_confident_lesion_measures_its_contrast() -> None:
    liver, tumor = _liver(), _lesion((14, 14, 12))
    hu = _ct(liver)
    hu[tumor] = 50.0
    lesion = _one(tumor, liver, hu, np.where(tumor, 0.9, 0.05))
    assert lesion.mean_probability == pytest.approx(0.9)
    assert lesion.shell_hu == pytest.approx(100.0, abs=3.0)
    assert lesion.contrast_hu == pytest.approx(-50.0, abs=3.0)
    assert lesion.noise_hu == pytest.approx(10.0, abs=2.0)
    assert lesion.cnr == pytest.approx(-5.0, abs=1.2)
    assert not lesion.uncertain and lesion.reasons == ()
    assert lesion.volume_ml == pytest.approx(64 * 0.125)
    assert lesion.to_dict()["confidence"] == "confident"


def test_liver_isodense_lesion_is_uncertain_not_dropped() -> None:
    liver, tumor = _liver(), _lesion((14, 14, 12))
    hu = _ct(liver)
    hu[tumor] = 104.0
    lesion = _one(tumor, liver, hu, np.where(tumor, 0.95, 0.0))
    assert lesion.uncertain and "isodense" in lesion.reasons[0]
    assert lesion.to_dict()["confidence"] == "uncertain"


def test_low_mean_probability_is_uncertain() -> None:
    liver, tumor = _liver(), _lesion((14, 14, 12))
    hu = _ct(liver)
    hu[tumor] = 40.0
    lesion = _one(tumor, liver, hu, np.where(tumor, 0.45, 0.0))
    assert lesion.uncertain
    assert lesion.reasons == ("mean tumor probability 0.45 < 0.60",)


def test_low_contrast_to_noise_is_uncertain() -> None:
    liver, tumor = _liver(), _lesion((14, 14, 12))
    hu = _ct(liver, noise_hu=40.0)
    hu[tumor] = 80.0  # 20 HU below the liver, noise 40 HU: CNR about -0.5
    lesion = _one(tumor, liver, hu, np.where(tumor, 0.9, 0.0))
    assert lesion.cnr is not None and abs(lesion.cnr) < 1.0
    assert lesion.uncertain and "contrast-to-noise" in lesion.reasons[0]


def test_lesions_are_numbered_like_lesion_stats() -> None:
    liver = _liver()
    small, big = _lesion((8, 8, 8), half=1), _lesion((17, 17, 14), half=3)
    hu = _ct(liver)
    hu[big] = 40.0
    hu[small] = 180.0
    found = lesion_confidence(small | big, liver, hu, SPACING)
    stats = lesion_stats(small | big, Volume(hu, np.diag([*SPACING, 1.0])))
    assert [c.index for c in found] == [s.index for s in stats] == [1, 2]
    assert [c.volume_ml for c in found] == pytest.approx([s.volume_ml for s in stats])
    assert found[0].contrast_hu == pytest.approx(-60.0, abs=4.0)
    assert found[1].contrast_hu == pytest.approx(80.0, abs=4.0)
    assert found[0].mean_probability is None  # no probability map given


def test_shell_width_is_in_millimetres() -> None:
    liver, tumor = _liver(), _lesion((14, 14, 12))
    hu = _ct(liver)
    hu[tumor] = 40.0
    thin = QualityConfig(shell_mm=4.0)  # thinner than one 5 mm voxel: no shell at all
    assert _one(tumor, liver, hu, config=thin).shell_hu is None
    fine = _one(tumor, liver, hu, config=thin, spacing=(2.0, 2.0, 2.0))
    assert fine.shell_hu is not None


def test_without_liver_or_shell_only_probability_decides() -> None:
    liver, tumor = _liver(), _lesion((14, 14, 12))
    hu = _ct(liver)
    lesion = _one(tumor, None, hu, np.where(tumor, 0.9, 0.0))
    assert (lesion.shell_hu, lesion.contrast_hu, lesion.cnr) == (None, None, None)
    assert not lesion.uncertain
    assert lesion_confidence(np.zeros(SHAPE, bool), liver, hu, SPACING) == []


def test_bad_inputs_raise() -> None:
    liver, tumor = _liver(), _lesion((14, 14, 12))
    hu = _ct(liver)
    with pytest.raises(ValueError, match="one grid"):
        lesion_confidence(tumor[:-1], liver, hu, SPACING)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        lesion_confidence(tumor, liver, hu, SPACING, np.where(tumor, 2.0, 0.0))
    with pytest.raises(ValueError, match="spacing"):
        lesion_confidence(tumor, liver, hu, (1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="shell_mm"):
        QualityConfig(shell_mm=0.0)
    with pytest.raises(ValueError, match="liver_ml_range"):
        QualityConfig(liver_ml_range=(2000.0, 1000.0))
    with pytest.raises(ValueError, match="min_mean_probability"):
        QualityConfig(min_mean_probability=1.5)


def test_plausible_case_gets_no_warning() -> None:
    liver = _liver()
    verdict = case_quality(liver, _ct(liver), SPACING)
    assert verdict.warnings == ()
    assert verdict.liver_ml == pytest.approx(800.0)
    assert verdict.liver_median_hu == pytest.approx(100.0, abs=2.0)
    assert verdict.edge_sides == ()


@pytest.mark.parametrize("spacing", [(2.0, 2.0, 2.0), (9.0, 9.0, 9.0)])
def test_liver_volume_outside_plausible_range(spacing: tuple[float, float, float]) -> None:
    liver = _liver()  # 6400 voxels: 51 mL at 2 mm, 4666 mL at 9 mm
    (warning,) = case_quality(liver, _ct(liver), spacing).warnings
    assert warning.startswith("liver volume") and "600-3500 mL" in warning


def test_liver_touching_the_edge_names_the_side() -> None:
    liver = _liver()
    liver[8:20, 8:20, 20:] = True  # reaches the top slice (superior in RAS order)
    verdict = case_quality(liver, _ct(liver), SPACING)
    assert verdict.edge_sides == ("superior",)
    assert any("touches the scan's edge (superior)" in w for w in verdict.warnings)
    assert edge_sides(liver, SPACING, 100.0, axcodes=("L", "P", "I")) == ("inferior",)
    few = _liver()
    few[14, 14, 20:] = True  # 25 mm² on the face: below the 100 mm² threshold
    assert case_quality(few, _ct(few), SPACING).edge_sides == ()


def test_assumed_spacing_is_a_warning() -> None:
    liver = _liver()
    verdict = case_quality(liver, _ct(liver), SPACING, spacing_assumed=True)
    assert any(w.startswith("no real voxel spacing") for w in verdict.warnings)


@pytest.mark.parametrize(("liver_hu", "warned"), [(100.0, False), (10.0, True), (200.0, True)])
def test_liver_intensity_outside_training_range(liver_hu: float, warned: bool) -> None:
    liver = _liver()
    verdict = case_quality(liver, _ct(liver, liver_hu=liver_hu), SPACING)
    assert any("the model was trained on" in w for w in verdict.warnings) is warned


def test_trained_range_comes_from_the_bundle_when_recorded() -> None:
    config = quality_config_for({"synthetic": {"liver_hu_range": [100, 120]}})
    assert config.trained_liver_hu == (100.0, 120.0)
    assert quality_config_for({"epoch": 3}) == QualityConfig()
    assert quality_config_for(None).trained_liver_hu == (40.0, 150.0)
    liver = _liver()
    verdict = case_quality(liver, _ct(liver, liver_hu=60.0), SPACING, config=config)
    assert any("100-120 HU" in w for w in verdict.warnings)


def test_noisy_liver_is_a_warning() -> None:
    liver = _liver()
    verdict = case_quality(liver, _ct(liver, noise_hu=80.0), SPACING)
    assert verdict.liver_noise_hu == pytest.approx(80.0, rel=0.15)
    assert any(w.startswith("liver noise") for w in verdict.warnings)


def test_large_uncertain_lesion_is_a_warning_small_one_is_not() -> None:
    liver = _liver()
    big, small = _lesion((10, 10, 10), half=3), _lesion((19, 19, 15), half=1)
    hu = _ct(liver)
    hu[big | small] = 102.0  # both isodense
    tumor = big | small
    lesions = lesion_confidence(tumor, liver, hu, SPACING)
    assert [lesion.uncertain for lesion in lesions] == [True, True]
    verdict = case_quality(liver, hu, SPACING, tumor=tumor, lesions=lesions)
    (warning,) = verdict.warnings
    assert warning.startswith("lesion 1 (27.0 mL) is uncertain (liver-isodense")


def test_empty_liver_skips_the_liver_rules() -> None:
    empty = np.zeros(SHAPE, dtype=bool)
    verdict = case_quality(empty, _ct(empty), SPACING)
    assert verdict.warnings == () and verdict.liver_median_hu is None


def test_spacing_is_assumed_from_identity_affine_or_reader_warning() -> None:
    hu = np.zeros((4, 4, 4), dtype=np.int16)
    assert spacing_is_assumed(Volume(hu, np.eye(4)))
    assert not spacing_is_assumed(Volume(hu, np.diag([0.8, 0.8, 2.5, 1.0])))
    told = SourceInfo(warnings=("identity affine: the file stores no real voxel spacing (x)",))
    assert spacing_is_assumed(Volume(hu, np.diag([2.0, 2.0, 2.0, 1.0]), source=told))


def test_spacing_warning_is_not_repeated_after_the_readers() -> None:
    liver = _liver()
    hu = _ct(liver).astype(np.float32)
    silent = assess_quality(Volume(hu, np.eye(4)), liver, np.zeros_like(liver))
    assert any(w.startswith("no real voxel spacing") for w in silent.warnings)
    told = SourceInfo(warnings=("identity affine: the file stores no real voxel spacing (x)",))
    said = assess_quality(Volume(hu, np.eye(4), source=told), liver, np.zeros_like(liver))
    assert not any(w.startswith("no real voxel spacing") for w in said.warnings)


def test_assess_quality_on_a_volume() -> None:
    liver, tumor = _liver(), _lesion((14, 14, 12), half=3)
    hu = _ct(liver)
    hu[tumor] = 101.0
    image = Volume(hu.astype(np.float32), np.diag([*SPACING, 1.0]))
    report = assess_quality(image, liver, tumor, np.where(tumor, 0.4, 0.0))
    (lesion,) = report.lesions
    assert lesion.uncertain and len(lesion.reasons) == 2
    assert len(report.warnings) == 1 and "lesion 1" in report.warnings[0]
    assert report.case.to_dict()["liver_ml"] == pytest.approx(800.0)
    document = json.loads(json.dumps(report.to_dict()))
    assert document["lesions"][0]["confidence"] == "uncertain"
    assert document["warnings"] == list(report.warnings)
    assert document["thresholds"]["liver_ml_range"] == [600.0, 3500.0]


def test_lesion_records_merge_statistics_and_confidence() -> None:
    liver = _liver()
    small, big = _lesion((8, 8, 8), half=1), _lesion((17, 17, 14), half=3)
    hu = _ct(liver)
    hu[big] = 40.0
    image = Volume(hu, np.diag([*SPACING, 1.0]))
    stats = lesion_stats(small | big, image)
    confidences = lesion_confidence(small | big, liver, hu, SPACING)
    records = lesion_records(stats, confidences)
    assert [r["index"] for r in records] == [1, 2]
    assert records[0]["confidence"] == "confident" and records[1]["confidence"] == "uncertain"
    assert records[0]["volume_ml"] == stats[0].to_dict()["volume_ml"]
    assert records[0]["contrast_hu"] == pytest.approx(-60.0, abs=4.0)
    with pytest.raises(ValueError, match="different lesions"):
        lesion_records(stats[:1], confidences)
