"""Stage pipelines (MONAI dict transforms) on a tiny hand-made cache; soft labels in batches."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data.dataloader import DataLoader
from monai.data.dataset import Dataset

from smoothseg.datasets import load_cached_case
from smoothseg.preprocess import (
    AugmentConfig,
    LiverStageConfig,
    PreprocessConfigError,
    TumorStageConfig,
    local_view,
    train_transforms,
    val_transforms,
)
from smoothseg.training.data import case_items
from training_data import tiny_cache

NO_AUG = AugmentConfig(enabled=False)
HEAVY_AUG = AugmentConfig(flip_prob=0.5, affine_prob=1.0, rotate_deg=20.0, scale_fraction=0.2)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_cache(tmp_path_factory.mktemp("tiny"), n_cases=6)


def _item(cache: Path, case: str = "TINY_001", soft: float = 0.25) -> dict[str, object]:
    return {"case_id": case, "cache": str(cache), "soft_tlvr": soft}


def test_liver_training_patch_is_roi_sized_with_binary_labels(cache: Path) -> None:
    config = LiverStageConfig(roi_size=(16, 16, 16), samples_per_volume=3, augment=HEAVY_AUG)
    pipeline = train_transforms("liver", config)
    pipeline.set_random_state(0)
    samples = pipeline(_item(cache))
    assert isinstance(samples, list) and len(samples) == 3
    for s in samples:
        assert s["image"].shape == (1, 16, 16, 16) and s["image"].dtype == torch.float32
        assert s["label"].dtype == torch.int64
        assert set(torch.unique(s["label"]).tolist()) <= {0, 1}
        assert s["case_id"] == "TINY_001" and s["soft_tlvr"] == 0.25
        assert set(s) == {"image", "label", "case_id", "soft_tlvr"}


def test_global_view_pads_small_volumes_and_keeps_three_classes(cache: Path) -> None:
    config = LiverStageConfig(roi_size=(32, 32, 16), augment=NO_AUG)
    out = train_transforms("multiclass", config)(_item(cache))[0]
    assert out["image"].shape == (1, 32, 32, 16)
    assert set(torch.unique(out["label"]).tolist()) == {0, 1, 2}
    # padding is 0 (the windowed background), the body is mid-grey
    assert float(out["image"][0, 0, 0, 0]) == 0.0


def test_augmented_labels_stay_nearest(cache: Path) -> None:
    config = LiverStageConfig(roi_size=(16, 16, 8), augment=HEAVY_AUG)
    pipeline = train_transforms("multiclass", config)
    for seed in range(5):
        pipeline.set_random_state(seed)
        label = pipeline(_item(cache))[0]["label"]
        assert set(torch.unique(label).tolist()) <= {0, 1, 2}


def test_resampling_in_the_pipeline_uses_target_spacing(cache: Path) -> None:
    config = LiverStageConfig(target_spacing_mm=(16.0, 16.0, 10.0), roi_size=(16, 16, 16))
    out = val_transforms("liver", config)(_item(cache))
    assert out["image"].shape == (1, 12, 10, 12)
    assert out["spacing_mm"] == pytest.approx((16.0, 16.0, 10.0))
    assert set(torch.unique(out["label"]).tolist()) == {0, 1}


def test_tumor_validation_crop_matches_the_inference_view(cache: Path) -> None:
    config = TumorStageConfig(roi_size=(16, 16, 16), margin_mm=8.0)
    out = val_transforms("tumor", config)(_item(cache))
    case = load_cached_case(cache, "TINY_001")
    view = local_view(case.image, np.asarray(case.label.array) > 0, config)
    assert view is not None
    np.testing.assert_array_equal(out["image"][0].numpy(), view.image)
    np.testing.assert_array_equal(out["mask"][0].numpy(), view.mask)
    label = out["label"][0].numpy()
    assert not label[~view.mask].any() and (label == 2).any()


def test_tumor_training_masks_outside_the_jittered_liver(cache: Path) -> None:
    config = TumorStageConfig(
        roi_size=(16, 16, 16),
        margin_mm=8.0,
        liver_offset_mm=(-8.0, 16.0),
        box_jitter_mm=8.0,
        samples_per_volume=4,
        augment=NO_AUG,
    )
    pipeline = train_transforms("tumor", config)
    background = 0.0
    for seed in range(4):
        pipeline.set_random_state(seed)
        for s in pipeline(_item(cache)):
            image, label = s["image"][0], s["label"][0]
            assert image.shape == (16, 16, 16)
            # the tumor case: patches are centred on tumor or liver, never on pure background
            assert (label > 0).any()
            # labels 1/2 only where the image was kept; 60 HU liver → (60 + 200) / 450
            assert float(image[label == 1].mean()) == pytest.approx(260 / 450, abs=0.05)
            assert (image == background).any()


def test_tumor_free_case_still_samples_liver_without_warnings(cache: Path) -> None:
    config = TumorStageConfig(roi_size=(16, 16, 16), samples_per_volume=2, augment=NO_AUG)
    pipeline = train_transforms("tumor", config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # MONAI warns when it cannot balance pos/neg
        for s in pipeline(_item(cache, "TINY_004")):
            assert (s["label"] == 1).any() and not (s["label"] == 2).any()


def test_wrong_config_kind_is_rejected() -> None:
    with pytest.raises(PreprocessConfigError, match="TumorStageConfig"):
        train_transforms("tumor", LiverStageConfig())
    with pytest.raises(PreprocessConfigError, match="unknown stage"):
        val_transforms("lung", LiverStageConfig())


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_soft_labels_stay_with_their_own_case_in_shuffled_batches(
    cache: Path, batch_size: int
) -> None:
    soft = {"TINY_001": 0.1, "TINY_002": 0.2, "TINY_003": 0.3, "TINY_005": 0.5, "TINY_006": 0.6}
    ids = [f"TINY_{n:03d}" for n in range(1, 7)]
    items = case_items(cache, ids, soft)
    config = replace(TumorStageConfig(roi_size=(16, 16, 16), augment=NO_AUG), samples_per_volume=2)
    loader = DataLoader(
        Dataset(items, train_transforms("tumor", config)),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(3),
    )
    seen = []
    for batch in loader:
        assert batch["soft_tlvr"].shape == (len(batch["case_id"]),)
        assert batch["image"].shape[0] == len(batch["case_id"])
        for case, value in zip(batch["case_id"], batch["soft_tlvr"].tolist(), strict=True):
            seen.append(case)
            if case in soft:
                assert value == pytest.approx(soft[case])
            else:
                assert math.isnan(value)
    assert sorted(seen) == sorted(ids * 2)
