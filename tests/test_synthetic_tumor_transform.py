"""RandSyntheticTumord: on-the-fly synthetic tumors for the tumor stage, real tumors kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from smoothseg.preprocess import (
    AugmentConfig,
    PreprocessConfigError,
    TumorStageConfig,
    train_transforms,
)
from smoothseg.preprocess.synthetic_tumor import RandSyntheticTumord
from smoothseg.synthesis import LesionRequest
from training_data import tiny_cache


def _item() -> dict[str, object]:
    rng = np.random.default_rng(0)
    shape = (48, 48, 24)
    i, j, k = np.indices(shape)
    liver = ((i - 24) / 20) ** 2 + ((j - 24) / 18) ** 2 + ((k - 12) / 10) ** 2 < 1
    label = liver.astype(np.uint8)
    real = ((i - 30) ** 2 + (j - 24) ** 2 + (k - 12) ** 2 < 16) & liver
    label[real] = 2
    image = np.where(liver, 60.0, -100.0) + 10 * rng.standard_normal(shape)
    image[real] = 5.0
    return {
        "image": image.astype(np.float32)[None],
        "label": label[None],
        "spacing_mm": (2.0, 2.0, 3.0),
    }


def test_implants_into_parenchyma_and_keeps_real_tumors() -> None:
    item = _item()
    transform = RandSyntheticTumord(1.0, LesionRequest(size_mm=(8.0, 14.0)), max_count=2)
    transform.set_random_state(3)
    out = transform(item)
    before_lab, after_lab = item["label"][0], out["label"][0]  # type: ignore[index]
    before_img, after_img = item["image"][0], out["image"][0]  # type: ignore[index]
    new = (after_lab == 2) & (before_lab != 2)
    assert out["synthetic_lesions"] >= 1 and new.any()
    assert (before_lab[new] == 1).all()  # only into liver parenchyma
    assert (after_lab[before_lab == 2] == 2).all()  # real tumors kept...
    assert (after_img[before_lab == 2] == before_img[before_lab == 2]).all()  # ...untouched
    assert (after_img[before_lab == 0] == before_img[before_lab == 0]).all()
    assert float(after_img[new].mean()) < 55.0
    again = RandSyntheticTumord(1.0, LesionRequest(size_mm=(8.0, 14.0)), max_count=2)
    again.set_random_state(3)
    assert np.array_equal(again(item)["image"], out["image"])  # type: ignore[arg-type]


def test_probability_zero_and_tensors() -> None:
    item = _item()
    skip = RandSyntheticTumord(0.0)
    out = skip(item)
    assert out["synthetic_lesions"] == 0 and out["image"] is item["image"]
    tensors = {
        **item,
        "image": torch.as_tensor(item["image"]),
        "label": torch.as_tensor(item["label"]),
    }
    done = RandSyntheticTumord(1.0, LesionRequest(size_mm=(8.0, 8.0)))
    done.set_random_state(0)
    result = done(tensors)
    assert isinstance(result["image"], np.ndarray) and result["image"].shape == (1, 48, 48, 24)


def test_tumor_stage_config_wires_it(tmp_path: Path) -> None:
    config = TumorStageConfig(roi_size=(16, 16, 16), augment=AugmentConfig(enabled=False))
    names = [type(t).__name__ for t in train_transforms("tumor", config).transforms]
    assert "RandSyntheticTumord" not in names  # default 0.0: the pipeline as before
    synthetic = TumorStageConfig(
        roi_size=(16, 16, 16),
        augment=AugmentConfig(enabled=False),
        synthetic_prob=1.0,
        synthetic_size_mm=(8.0, 16.0),
        samples_per_volume=2,
    )
    pipeline = train_transforms("tumor", synthetic)
    names = [type(t).__name__ for t in pipeline.transforms]
    assert (
        names.index("LiverRegiond")
        < names.index("RandSyntheticTumord")
        < names.index("RandLiverMaskd")
    )
    cache = tiny_cache(tmp_path, n_cases=4)
    item = {"case_id": "TINY_004", "cache": str(cache), "soft_tlvr": 0.0}  # tumor-free case
    pipeline.set_random_state(0)
    first = pipeline(dict(item))
    assert any((s["label"] == 2).any() for s in first)
    pipeline.set_random_state(0)
    second = pipeline(dict(item))
    assert all(torch.equal(a["image"], b["image"]) for a, b in zip(first, second, strict=True))
    with pytest.raises(PreprocessConfigError, match="synthetic_prob"):
        TumorStageConfig(synthetic_prob=1.5)
    assert TumorStageConfig.from_dict(synthetic.to_dict()) == synthetic
