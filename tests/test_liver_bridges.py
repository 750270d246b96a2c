"""Cutting thin necks between the liver and other tissue (``cut_liver_bridges``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smoothseg.bundle import load_bundle
from smoothseg.inference.config import InferenceConfig, PredictConfigError
from smoothseg.inference.stages import liver_stage
from smoothseg.io import read_volume
from smoothseg.phantom import generate_cohort
from smoothseg.predict import PredictConfig, default_model_dir
from smoothseg.preprocess import cut_liver_bridges


def ball(shape: tuple[int, int, int], center: tuple[float, ...], radius: float) -> np.ndarray:
    grid = np.indices(shape).astype(float)
    return sum((g - c) ** 2 for g, c in zip(grid, center, strict=True)) <= radius**2


def test_a_thin_neck_to_a_smaller_body_is_cut() -> None:
    liver = ball((80, 40, 40), (22, 20, 20), 16)  # 1 mm voxels: a 32 mm body
    other = ball((80, 40, 40), (62, 20, 20), 12)  # a 24 mm body 40 mm away
    neck = np.zeros_like(liver)
    neck[30:55, 18:22, 18:22] = True  # 4 mm thick
    out = cut_liver_bridges(liver | other | neck, (1.0, 1.0, 1.0), neck_mm=8.0)
    assert out[liver].all()  # the whole liver is kept
    assert not out[other].any()  # the joined body is dropped
    assert out[neck].sum() < neck.sum()  # the neck is split between the two


def test_a_thin_part_goes_with_the_body_it_is_connected_to_not_the_nearest() -> None:
    liver = ball((80, 40, 40), (22, 20, 20), 16)
    other = ball((80, 40, 40), (62, 20, 20), 12)
    neck = np.zeros_like(liver)
    neck[30:55, 18:22, 18:22] = True
    lobe = np.zeros_like(liver)
    lobe[24:59, 34:38, 18:22] = True  # thin, joined to the liver only, ending next to `other`
    assert not (lobe & np.roll(other, 2, axis=1)).any()  # not touching `other`
    out = cut_liver_bridges(liver | other | neck | lobe, (1.0, 1.0, 1.0), neck_mm=8.0)
    assert out[lobe].all() and out[liver].all() and not out[other].any()


def test_a_plain_body_and_a_mask_without_core_are_unchanged() -> None:
    body = ball((40, 40, 40), (20, 20, 20), 15)
    assert np.array_equal(cut_liver_bridges(body, (1.0, 1.0, 1.0), 8.0), body)
    slab = np.zeros((40, 40, 40), dtype=bool)
    slab[5:35, 5:35, 18:22] = True  # 4 mm thick: no voxel is 8 mm deep
    assert np.array_equal(cut_liver_bridges(slab, (1.0, 1.0, 1.0), 8.0), slab)
    assert np.array_equal(cut_liver_bridges(body | slab, (1.0, 1.0, 1.0), 0.0), body | slab)


def test_depth_is_measured_in_millimetres() -> None:
    liver = ball((80, 40, 40), (22, 20, 20), 16)
    other = ball((80, 40, 40), (62, 20, 20), 12)
    neck = np.zeros_like(liver)
    neck[30:55, 16:24, 16:24] = True  # 8 voxels thick
    joined = liver | other | neck
    # at 1 mm the 8 mm neck is thinner than 2 x 6 mm: cut
    assert not cut_liver_bridges(joined, (1.0, 1.0, 1.0), 6.0)[other].any()
    # at 3 mm the same voxels make a 24 mm neck: one body, kept whole
    assert np.array_equal(cut_liver_bridges(joined, (3.0, 3.0, 3.0), 6.0), joined)


def test_bad_mask_raises() -> None:
    with pytest.raises(ValueError, match="3D"):
        cut_liver_bridges(np.ones((4, 4), dtype=bool), (1.0, 1.0), 8.0)


def test_the_option_is_checked_and_reaches_the_model_options() -> None:
    assert PredictConfig().inference.liver_neck_mm == InferenceConfig().liver_neck_mm == 12.0
    assert PredictConfig(liver_neck_mm=0.0).inference.liver_neck_mm == 0.0
    for make in (InferenceConfig, PredictConfig):
        with pytest.raises(PredictConfigError, match="liver_neck_mm"):
            make(liver_neck_mm=-1.0)


def test_liver_stage_with_the_cut_on_a_resampled_and_a_fast_grid(tmp_path: Path) -> None:
    """The cut runs on the stage's grid and only removes what it drops from the CT-grid mask."""
    generate_cohort(tmp_path / "c", 1, seed=1234)
    ct = read_volume(tmp_path / "c" / "cases" / "PHANTOM_001" / "image.nii.gz", kind="image")
    bundle = load_bundle(default_model_dir() / "liver")
    for factor in (1.0, 2.0):  # the bundle's 3 mm grid, and --fast's 6 mm grid
        plain, _ = liver_stage(ct, bundle, overlap=0.25, spacing_factor=factor)
        cut, _ = liver_stage(ct, bundle, overlap=0.25, spacing_factor=factor, neck_mm=12.0)
        assert cut.shape == plain.shape == ct.shape and plain.sum() > 0
        assert not (cut & ~plain).any()  # never adds
        if factor == 1.0:  # one phantom liver: nothing to cut
            assert np.array_equal(cut, plain)
