"""Preprocessing primitives on tiny volumes: windowing, resampling, masks, crops, stage views."""

from __future__ import annotations

import numpy as np
import pytest

from smoothseg.errors import GeometryError
from smoothseg.io import Volume
from smoothseg.io.volume import Grid
from smoothseg.preprocess import (
    AugmentConfig,
    BoundingBox,
    CropRecord,
    LiverStageConfig,
    PreprocessConfigError,
    TumorStageConfig,
    bounding_box,
    clean_liver_mask,
    crop_to_mask,
    fill_holes,
    global_view,
    largest_component,
    local_view,
    paste_back,
    resample_array,
    resample_to_spacing,
    resampled_grid,
    signed_distance_mm,
    stage_config_from_dict,
    undo_resample,
    window_hu,
    windowed_value,
)


def test_window_maps_interval_to_unit_and_clips() -> None:
    out = window_hu(np.array([-1000, -150, 50, 250, 3000], np.int16), (-150, 250))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.0, 0.0, 0.5, 1.0, 1.0])
    assert windowed_value(-200, (-200, 250)) == 0.0
    with pytest.raises(PreprocessConfigError):
        window_hu(np.zeros(3), (10, 10))


def test_configs_have_paper_defaults_and_reject_bad_values() -> None:
    liver, tumor = LiverStageConfig(), TumorStageConfig()
    assert liver.hu_window == (-150.0, 250.0) and liver.roi_size == (512, 512, 16)
    assert tumor.hu_window == (-200.0, 250.0) and tumor.roi_size == (256, 256, 32)
    assert tumor.background == -200.0
    assert liver.augment.flip_axes == ()
    with pytest.raises(PreprocessConfigError, match="hu_window"):
        LiverStageConfig(hu_window=(250.0, -150.0))
    with pytest.raises(PreprocessConfigError, match="liver_offset_mm"):
        TumorStageConfig(liver_offset_mm=(1.0, 2.0))
    with pytest.raises(PreprocessConfigError, match="flip_axes"):
        AugmentConfig(flip_axes=(3,))
    with pytest.raises(PreprocessConfigError, match=r"\['bogus'\]"):
        stage_config_from_dict("tumor", {"bogus": 1})
    with pytest.raises(PreprocessConfigError, match="typo"):
        stage_config_from_dict("liver", {"augment": {"typo": 1}})
    round_trip = stage_config_from_dict("tumor", tumor.to_dict())
    assert round_trip == tumor


def test_resample_grid_keeps_extent_and_labels_stay_nearest() -> None:
    affine = np.diag([2.0, 2.0, 5.0, 1.0])
    affine[:3, 3] = [10.0, -4.0, 3.0]
    grid = resampled_grid(Grid((10, 9, 6), affine), (4.0, 3.0, 10.0))
    assert grid.shape == (5, 6, 3)
    np.testing.assert_allclose(grid.spacing_mm, (4.0, 3.0, 10.0))
    # first voxel's outer face coincides with the parent's: centre moved by half a voxel
    np.testing.assert_allclose(grid.origin_mm, (11.0, -3.5, 5.5))

    rng = np.random.default_rng(0)
    label = rng.integers(0, 3, (10, 9, 6)).astype(np.uint8)
    coarse, record = resample_to_spacing(label, affine, (4.0, 3.0, 10.0), label=True)
    assert coarse.dtype == np.uint8 and set(np.unique(coarse)) <= {0, 1, 2}
    back = undo_resample(coarse, record)
    assert back.shape == label.shape and back.dtype == np.uint8
    # factor-2 downsampling along i and k: upsampling back repeats each coarse voxel
    image = np.arange(10 * 9 * 6, dtype=np.float32).reshape(10, 9, 6)
    fine, rec = resample_to_spacing(image, affine, None, label=False)
    assert fine is image and rec.identity


def test_resample_round_trip_of_a_block_label_is_exact() -> None:
    label = np.zeros((8, 8, 8), np.uint8)
    label[2:6, 4:8, 0:4] = 1
    coarse = resample_array(label, (4, 4, 4), label=True)
    assert coarse.sum() == 2 * 2 * 2
    np.testing.assert_array_equal(resample_array(coarse, (8, 8, 8), label=True), label)
    with pytest.raises(GeometryError):
        resampled_grid(Grid((2, 2, 2), np.eye(4)), (1.0, 0.0, 1.0))


def test_largest_component_and_fill_holes() -> None:
    mask = np.zeros((12, 12, 12), bool)
    mask[1:8, 1:8, 1:8] = True
    mask[3:5, 3:5, 3:5] = False  # an enclosed cavity
    mask[10:12, 10:12, 10:12] = True  # a small separate island
    assert largest_component(mask).sum() == 7**3 - 8
    cleaned = clean_liver_mask(mask)
    assert cleaned.sum() == 7**3 and not cleaned[11, 11, 11]
    assert fill_holes(mask)[4, 4, 4]
    assert not largest_component(np.zeros((3, 3, 3), bool)).any()


def test_signed_distance_dilates_in_millimetres() -> None:
    mask = np.zeros((21, 21, 11), bool)
    mask[10, 10, 5] = True
    sdist = signed_distance_mm(mask, (1.0, 1.0, 4.0))
    assert sdist[10, 10, 5] < 0 and sdist[13, 10, 5] == pytest.approx(3.0)
    dilated = sdist <= 4.0
    assert dilated[14, 10, 5] and not dilated[15, 10, 5]
    assert dilated[10, 10, 6] and not dilated[10, 10, 7]  # 4 mm slices
    np.testing.assert_array_equal(sdist <= 0, mask)


def test_bounding_box_margin_in_mm_is_clipped() -> None:
    mask = np.zeros((20, 20, 10), bool)
    mask[5:9, 10:12, 4:6] = True
    box = bounding_box(mask)
    assert box == BoundingBox((5, 10, 4), (9, 12, 6))
    record = crop_to_mask(mask, (2.0, 2.0, 5.0), 5.0)
    assert record is not None
    assert record.box == BoundingBox((2, 7, 3), (12, 15, 7))  # ceil(5/2)=3, ceil(5/5)=1
    wide = crop_to_mask(mask, (1.0, 1.0, 1.0), 100.0)
    assert wide is not None and wide.box == BoundingBox((0, 0, 0), (20, 20, 10))
    assert (
        bounding_box(np.zeros((3, 3, 3))) is None
        and crop_to_mask(np.zeros((3, 3, 3)), (1, 1, 1), 1) is None
    )
    per_face = crop_to_mask(mask, (1.0, 1.0, 1.0), [1, 2, 0, 0, -1, 0])
    assert per_face is not None and per_face.box == BoundingBox((4, 10, 5), (11, 12, 6))


def test_crop_and_paste_back_are_exact() -> None:
    rng = np.random.default_rng(1)
    parent = rng.integers(0, 3, (13, 11, 7)).astype(np.uint8)
    record = CropRecord(BoundingBox((2, 3, 1), (9, 10, 5)), (13, 11, 7))
    crop = record.crop(parent)
    assert crop.shape == (7, 7, 4)
    pasted = paste_back(crop, record, fill=0)
    np.testing.assert_array_equal(pasted[record.box.slices], parent[record.box.slices])
    outside = np.ones(parent.shape, bool)
    outside[record.box.slices] = False
    assert not pasted[outside].any() and pasted.dtype == np.uint8
    # leading channel axes are carried
    stacked = paste_back(np.stack([crop, crop]), record, fill=7)
    assert stacked.shape == (2, 13, 11, 7) and stacked[0, 0, 0, 0] == 7
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    np.testing.assert_allclose(record.crop_affine(affine)[:3, 3], [4.0, 9.0, 4.0])
    assert CropRecord.from_dict(record.to_dict()) == record
    with pytest.raises(GeometryError):
        paste_back(np.zeros((2, 2, 2)), record)
    with pytest.raises(GeometryError):
        record.crop(np.zeros((5, 5, 5)))
    with pytest.raises(GeometryError):
        CropRecord(BoundingBox((0, 0, 0), (14, 1, 1)), (13, 11, 7))


def test_global_and_local_views_undo_to_the_original_grid() -> None:
    affine = np.diag([2.0, 2.0, 4.0, 1.0])
    hu = np.full((20, 16, 10), -1000.0, np.float32)
    liver = np.zeros(hu.shape, bool)
    liver[4:12, 5:11, 2:7] = True
    hu[liver] = 50.0
    image = Volume(hu, affine)

    view = global_view(image, LiverStageConfig(target_spacing_mm=(4.0, 4.0, 4.0)))
    assert view.image.shape == (10, 8, 10) and view.image.dtype == np.float32
    assert view.to_parent(np.ones(view.image.shape, np.uint8)).shape == hu.shape

    config = TumorStageConfig(margin_mm=4.0)
    local = local_view(image, liver, config)
    assert local is not None
    assert local.crop.box == BoundingBox((2, 3, 1), (14, 13, 8))
    assert local.image[~local.mask].max() == 0.0  # background = window low = 0
    np.testing.assert_allclose(local.image[local.mask], (50 + 200) / 450, rtol=1e-6)
    back = local.to_parent(local.mask.astype(np.uint8))
    np.testing.assert_array_equal(back.astype(bool), liver)
    assert local_view(image, np.zeros(hu.shape, bool), config) is None
    with pytest.raises(GeometryError):
        local_view(image, liver[:-1], config)
