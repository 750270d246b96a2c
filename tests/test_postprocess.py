"""Post-processing: lesion measurements against known answers, filters, refinement, preview."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smoothseg.io import Volume
from smoothseg.postprocess import lesion_stats, refine_tumor, remove_small_lesions
from smoothseg.predict import PredictConfig, Prediction
from smoothseg.predict.preview import render_preview
from smoothseg.predict.statistics import statistics_document

SPACING = (0.7, 0.7, 2.5)


def _ball(shape: tuple[int, int, int], centre_mm: np.ndarray, radius_mm: float) -> np.ndarray:
    points = np.indices(shape).reshape(3, -1).T * np.asarray(SPACING)
    return np.asarray(np.linalg.norm(points - centre_mm, axis=1) <= radius_mm).reshape(shape)


def _image(shape: tuple[int, int, int], value: int = 40, flip: bool = False) -> Volume:
    affine = np.diag([*SPACING, 1.0])
    if flip:  # LPS-like storage: the measurements must not depend on it
        affine[0, 0] = affine[1, 1] = -0.7
    return Volume(np.full(shape, value, dtype=np.int16), affine)


@pytest.mark.parametrize("flip", [False, True])
def test_30mm_sphere_measures_30mm_and_its_volume(flip: bool) -> None:
    shape = (64, 64, 20)
    centre = (np.asarray(shape) - 1) / 2 * np.asarray(SPACING) + np.array([0.13, 0.29, 0.7])
    mask = _ball(shape, centre, 15.0)
    image = _image(shape, flip=flip)
    (lesion,) = lesion_stats(mask, image)
    assert lesion.longest_axial_diameter_mm == pytest.approx(30.0, abs=0.7)
    assert lesion.max_3d_diameter_mm == pytest.approx(30.0, abs=0.7)
    true_ml = 4 / 3 * np.pi * 15.0**3 / 1000
    assert lesion.volume_ml == pytest.approx(true_ml, rel=0.02)
    assert lesion.volume_ml == pytest.approx(mask.sum() * 0.7 * 0.7 * 2.5 / 1000)
    centre_ras = image.affine @ np.append(np.argwhere(mask).mean(axis=0), 1.0)
    assert lesion.centroid_ras_mm == pytest.approx(tuple(centre_ras[:3]), abs=1e-6)
    x, y, z = lesion.centroid_ras_mm
    assert lesion.centroid_lps_mm == pytest.approx((-x, -y, z))
    assert (lesion.mean_hu, lesion.std_hu) == (40.0, 0.0)


def test_lesions_are_listed_largest_first_with_hu() -> None:
    shape = (80, 40, 12)
    big = _ball(shape, np.array([15.0, 14.0, 15.0]), 8.0)
    small = _ball(shape, np.array([45.0, 14.0, 15.0]), 4.0)
    image = _image(shape)
    array = np.asarray(image.array).copy()
    array[small] = 100
    found = lesion_stats(big | small, image.with_array(array))
    assert [lesion.index for lesion in found] == [1, 2]
    assert found[0].volume_ml > found[1].volume_ml
    assert found[1].mean_hu == 100.0
    assert lesion_stats(np.zeros(shape, bool), image) == []


def test_min_volume_filter_keeps_multifocal_lesions() -> None:
    shape = (80, 40, 12)
    a = _ball(shape, np.array([15.0, 14.0, 15.0]), 5.0)
    b = _ball(shape, np.array([45.0, 14.0, 15.0]), 5.0)
    speck = np.zeros(shape, bool)
    speck[70, 30, 3] = True  # 1.2 mm³
    kept = remove_small_lesions(a | b | speck, SPACING, 25.0)
    assert np.array_equal(kept, a | b)
    assert np.array_equal(remove_small_lesions(a | speck, SPACING, 0.0), a | speck)


def test_chan_vese_refinement_moves_to_the_boundary_and_stays_in_the_liver() -> None:
    shape = (60, 60, 16)
    truth = _ball(shape, np.array([21.0, 21.0, 20.0]), 8.0)
    liver = np.zeros(shape, bool)
    liver[5:55, 5:55, 2:14] = True
    hu = np.where(truth, -20.0, 60.0).astype(np.float32)
    hu += np.random.default_rng(0).normal(0, 5, shape).astype(np.float32)
    initial = _ball(shape, np.array([21.0, 21.0, 20.0]), 6.0)  # under-segmented
    refined = refine_tumor(hu, initial, liver, SPACING, iterations=2)

    def dice(x: np.ndarray) -> float:
        return float(2 * (x & truth).sum() / (x.sum() + truth.sum()))

    assert dice(refined) > dice(initial)
    assert not (refined & ~liver).any()
    empty = np.zeros(shape, bool)
    assert not refine_tumor(hu, empty, liver, SPACING).any()


def test_chan_vese_ignores_tissue_outside_the_liver() -> None:
    """A hypodense lesion at the liver's edge, fat beyond it, and a liver-isodense false
    positive: with the non-liver voxels taking the liver's median, the lesion's contour grows
    to its boundary and the false positive (no contrast to the liver) does not grow."""
    shape = (60, 60, 16)
    grid = np.indices(shape).transpose(1, 2, 3, 0)

    def ball(centre: tuple[float, float, float], radius: float) -> np.ndarray:
        return np.asarray(np.linalg.norm(grid - np.asarray(centre), axis=-1) <= radius)

    liver = np.zeros(shape, bool)
    liver[5:30, 5:55, 2:14] = True  # the liver ends at i = 30; fat (-100 HU) beyond
    truth = ball((26.0, 30.0, 8.0), 7.0) & liver
    hu = np.where(liver, 60.0, -100.0)
    hu[truth] = 20.0
    hu = (hu + np.random.default_rng(0).normal(0, 5, shape)).astype(np.float32)
    initial = ball((24.0, 30.0, 8.0), 4.0) & liver
    false_positive = ball((10.0, 15.0, 8.0), 3.0) & liver
    refined = refine_tumor(hu, initial | false_positive, liver, (1.0, 1.0, 2.5), iterations=2)

    def dice(x: np.ndarray) -> float:
        return float(2 * (x & truth).sum() / (x.sum() + truth.sum()))

    assert dice(refined) > dice(initial) + 0.15  # 0.36 -> 0.59 (0.50 with the fat counted)
    near_false_positive = ball((10.0, 15.0, 8.0), 8.0)
    assert (refined & near_false_positive).sum() < false_positive.sum()  # 0 (305 with fat)


def test_preview_and_statistics_document(tmp_path: Path) -> None:
    shape = (64, 64, 20)
    image = _image(shape).to_canonical()
    liver = np.zeros(shape, bool)
    liver[10:50, 10:50, 4:16] = True
    tumor = _ball(shape, np.array([20.0, 20.0, 25.0]), 5.0) & liver
    prediction = Prediction(image, liver, tumor, "ok", {"liver_s": 1.0})
    path = render_preview(image, liver, tumor, tmp_path / "preview.png", title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lesions = lesion_stats(tumor, image)
    doc = statistics_document(
        prediction, lesions, model={"id": "x", "disclaimer": "synthetic"}, options=PredictConfig()
    )
    voxel_ml = 0.7 * 0.7 * 2.5 / 1000
    assert doc["liver_ml"] == pytest.approx(liver.sum() * voxel_ml, abs=1e-3)
    assert doc["tumor_ml"] == pytest.approx(tumor.sum() * voxel_ml, abs=1e-3)
    assert doc["tlvr"] == pytest.approx(tumor.sum() / liver.sum(), rel=1e-4)
    assert doc["lesion_count"] == 1 and doc["status"] == "ok"
    assert doc["postprocess"]["chan_vese_iterations"] == 2
    assert doc["inference"]["overlap"] == 0.5 and doc["requested"]["preview"] is True
    assert doc["disclaimer"] == "synthetic"


def test_predictor_reports_lesion_confidence_and_qc(tmp_path: Path) -> None:
    """An isodense, low-probability 'lesion' is reported as uncertain (never silently kept)."""
    from smoothseg.postprocess.quality_config import QualityConfig
    from smoothseg.predict import Predictor

    shape = (64, 64, 20)
    rng = np.random.default_rng(0)
    hu = (60 + rng.normal(0, 8, shape)).astype(np.int16)  # liver-like parenchyma
    image = Volume(hu, np.diag([*SPACING, 1.0])).to_canonical()
    liver = np.zeros(shape, bool)
    liver[6:58, 6:58, 2:18] = True
    tumor = _ball(shape, np.array([22.0, 22.0, 25.0]), 7.0) & liver  # same HU as the liver
    probability = np.where(tumor, 0.55, 0.0).astype(np.float32)
    raw = Prediction(image, liver, tumor, "ok", {}, ("reader: spacing fine",), {}, probability)
    loaded = Predictor.from_model_dir(None, PredictConfig(refine=False, min_lesion_mm3=0))
    quality = QualityConfig(large_lesion_ml=1.0)  # the test liver is small
    predictor = Predictor(loaded.liver, loaded.tumor, loaded.config, quality=quality)
    done = predictor.finish(raw)
    assert done.warnings[0] == "reader: spacing fine"  # the reader's warnings come first
    assert any("uncertain" in w for w in done.warnings)
    assert any("liver volume" in w for w in done.warnings)  # 53 mL: outside the plausible range
    lesions = lesion_stats(done.tumor, done.image)
    doc = statistics_document(done, lesions, model={"id": "x"}, options=predictor.config)
    assert doc["lesion_count"] == 1 and doc["uncertain_lesion_count"] == 1
    record = doc["lesions"][0]
    assert record["confidence"] == "uncertain" and record["reasons"]
    assert record["mean_probability"] == pytest.approx(0.55, abs=1e-3)
    assert abs(record["contrast_hu"]) < 10
    assert doc["quality"]["liver_ml"] > 0 and "lesions" not in doc["quality"]
    assert "quality" not in doc["details"]
    # a bright, confident lesion in the same liver is not flagged
    bright = hu.copy()
    bright[_ball(shape, np.array([22.0, 22.0, 25.0]), 7.0)] = 160
    image2 = Volume(bright, np.diag([*SPACING, 1.0])).to_canonical()
    sure = np.where(tumor, 0.95, 0.0).astype(np.float32)
    done2 = predictor.finish(Prediction(image2, liver, tumor, "ok", tumor_probability=sure))
    doc2 = statistics_document(
        done2, lesion_stats(done2.tumor, done2.image), model={"id": "x"}, options=predictor.config
    )
    assert doc2["uncertain_lesion_count"] == 0 and doc2["lesions"][0]["confidence"] == "confident"
