"""Fix 1: the TLVR term compares like with like (a patch's prediction vs the patient's label).

The soft label is a whole-liver TLVR; a training patch's own tumor share differs. With the
default ``tlvr_scope="patient"`` a perfect prediction gives an α term ≈ 0 on every patch the
tumor-stage sampler draws (augmentation included); the old patch scope does not.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from smoothseg.clinical.tlvr import tlvr
from smoothseg.datasets.cache import load_cached_case
from smoothseg.datasets.splits import Split
from smoothseg.training import KnowledgeInformedLoss, LossConfig, build_train_config, stage_data
from smoothseg.training.config import merge, preset_data
from smoothseg.training.tlvr import patient_tlvr
from training_data import tiny_cache


def test_patient_tlvr_by_hand() -> None:
    # patch: 2 liver voxels, 1 tumor voxel; whole case: 3 tumor of 12 liver-incl.-tumor voxels
    labels = torch.tensor([1, 1, 2, 0]).reshape(1, 1, 4, 1, 1)
    perfect = torch.nn.functional.one_hot(labels[:, 0], 3).permute(0, 4, 1, 2, 3).float()
    whole = torch.tensor([[3.0, 12.0]])
    assert patient_tlvr(perfect, labels, whole, eps=0.0).item() == pytest.approx(3 / 12)
    # predicting the patch's tumor as liver: (3 - 1 + 0) / 12
    wrong = perfect.clone()
    wrong[0, :, 2] = torch.tensor([0.0, 1.0, 0.0]).reshape(3, 1, 1)
    assert patient_tlvr(wrong, labels, whole, eps=0.0).item() == pytest.approx(2 / 12)
    with pytest.raises(ValueError, match="whole_voxels"):
        patient_tlvr(perfect, labels, torch.tensor([3.0, 12.0]))


@pytest.fixture(scope="module")
def sampler(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object, dict[str, float]]:
    cache = tiny_cache(tmp_path_factory.mktemp("tlvr"), 6)
    rows = json.loads((cache / "manifest.json").read_text())["cases"]
    ids = sorted(r["case_id"] for r in rows)
    # the soft label a perfect clinical model would give: the reference's whole-liver TLVR
    soft = {c: float(tlvr(load_cached_case(cache, c).label) or 0.0) for c in ids}
    tables = {
        "train": {"batch_size": 1},
        "tumor": {"target_spacing_mm": "keep", "roi_size": [8, 8, 8], "samples_per_volume": 4},
    }
    config = build_train_config("tumor", merge(preset_data("cpu-small"), tables))
    data = stage_data(config, cache, Split("s", tuple(ids), (), ()), soft)
    return config, data, soft


def _perfect_terms(config: object, data: object, scope: str) -> list[float]:
    """The α term of a perfect prediction of each sampled patch that holds liver."""
    loss = KnowledgeInformedLoss(LossConfig(alpha=0.5, tlvr_scope=scope))  # type: ignore[arg-type]
    terms = []
    for epoch in range(3):
        for batch in data.train_loader(config, epoch):  # type: ignore[attr-defined]
            for b in range(batch["label"].shape[0]):
                label = batch["label"][b : b + 1]
                logits = 40.0 * torch.nn.functional.one_hot(label[:, 0], 3).permute(0, 4, 1, 2, 3)
                out = loss.compute(
                    logits.float(),
                    label,
                    soft_tlvr=torch.as_tensor(batch["soft_tlvr"][b : b + 1]).float(),
                    whole_voxels=torch.as_tensor(batch["whole_tlvr_voxels"][b : b + 1]).float(),
                )
                if out.tlvr_used is not None and bool(out.tlvr_used.all()):
                    terms.append(float(out.tlvr))
    return terms


def test_a_perfect_prediction_has_no_alpha_term_on_any_sampled_patch(sampler: tuple) -> None:
    config, data, soft = sampler
    assert any(0.0 < v < 0.2 for v in soft.values())  # tumors that are part of a liver
    terms = _perfect_terms(config, data, "patient")
    assert len(terms) >= 60  # 6 cases x 4 patches x 3 epochs, minus liver-free patches
    assert max(terms) < 1e-8
    # the old patch-vs-patient comparison penalises the same perfect predictions
    assert max(_perfect_terms(config, data, "patch")) > 1e-2


def test_the_sampler_counts_the_whole_reference(sampler: tuple) -> None:
    config, data, _ = sampler
    batch = next(iter(data.train_loader(config, 0)))  # type: ignore[attr-defined]
    case = load_cached_case(str(data.train.data[0]["cache"]), batch["case_id"][0])  # type: ignore[attr-defined]
    label = np.asarray(case.label.array)
    want = [np.count_nonzero(label == 2), np.count_nonzero(label > 0)]
    assert batch["whole_tlvr_voxels"][0].tolist() == want
