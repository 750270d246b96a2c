"""Validation during training: whole volumes, sliding window, the stage's post-processing, Dice.

* liver: argmax → largest connected component + hole filling → Dice of the liver;
* tumor: on the ground-truth liver box; argmax → everything outside the liver mask set to
  background → Dice of the tumor;
* multiclass: argmax (no post-processing) → Dice of liver (liver ∪ tumor) and of tumor; the
  score is their mean.

Dice is computed per case on the stage's (resampled) grid and averaged over cases. A case
whose target and prediction are both empty (e.g. a tumor-free liver with no false positive)
scores 1; an empty target with a non-empty prediction scores 0. ``nonempty`` means the mean
over cases with a non-empty target only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from smoothseg.models.sliding import SlidingWindowConfig, sliding_window_labels
from smoothseg.preprocess.masks import postprocess_stage_labels
from smoothseg.training.config import TrainConfig


def dice_score(prediction: npt.ArrayLike, target: npt.ArrayLike) -> float:
    """Dice of two binary masks; 1.0 when both are empty."""
    pred = np.asarray(prediction).astype(bool)
    true = np.asarray(target).astype(bool)
    if pred.shape != true.shape:
        raise ValueError(f"mask shapes differ: {pred.shape} vs {true.shape}")
    total = int(pred.sum()) + int(true.sum())
    if total == 0:
        return 1.0
    return 2.0 * int(np.logical_and(pred, true).sum()) / total


def case_scores(
    stage: str, prediction: npt.NDArray[Any], label: npt.NDArray[Any]
) -> dict[str, float]:
    """Dice per target class of one post-processed case."""
    if stage == "liver":
        return {"liver": dice_score(prediction == 1, label > 0)}
    if stage == "tumor":
        return {"tumor": dice_score(prediction == 2, label == 2)}
    return {
        "liver": dice_score(prediction > 0, label > 0),
        "tumor": dice_score(prediction == 2, label == 2),
    }


@dataclass
class ValidationResult:
    """Dice per case and class, and the score that selects the best checkpoint.

    Attributes:
        per_case: Case id → class → Dice.
        empty_target: Case id → class → whether the target was empty.

    """

    per_case: dict[str, dict[str, float]] = field(default_factory=dict)
    empty_target: dict[str, dict[str, bool]] = field(default_factory=dict)

    def mean(self, cls: str) -> float:
        """Mean Dice of ``cls`` over all cases (NaN without cases)."""
        values = [s[cls] for s in self.per_case.values() if cls in s]
        return float(np.mean(values)) if values else math.nan

    def mean_nonempty(self, cls: str) -> float:
        """Mean Dice of ``cls`` over cases whose target is not empty (NaN without any)."""
        values = [
            s[cls] for c, s in self.per_case.items() if cls in s and not self.empty_target[c][cls]
        ]
        return float(np.mean(values)) if values else math.nan

    def score(self, stage: str) -> float:
        """Liver Dice (liver stage), tumor Dice (tumor), mean of both (multiclass)."""
        if stage == "liver":
            return self.mean("liver")
        if stage == "tumor":
            return self.mean("tumor")
        return float(np.mean([self.mean("liver"), self.mean("tumor")]))

    def summary(self, stage: str) -> dict[str, float]:
        """The numbers that go into ``metrics.csv``."""
        out = {"val_dice": self.score(stage)}
        for cls in ("liver", "tumor"):
            if any(cls in s for s in self.per_case.values()):
                out[f"val_dice_{cls}"] = self.mean(cls)
                out[f"val_dice_{cls}_nonempty"] = self.mean_nonempty(cls)
        return out


def validate(
    model: nn.Module,
    batches: Iterable[dict[str, Any]],
    config: TrainConfig,
    device: torch.device,
    *,
    amp: bool = False,
) -> ValidationResult:
    """Run validation over ``batches`` (batch size 1, from the validation transforms).

    The model is put in eval mode and back in training mode afterwards; no random number is
    drawn, so validation does not change the training run's random stream.
    """
    window = SlidingWindowConfig(
        roi_size=config.preprocess.roi_size,
        overlap=config.val_overlap,
        sw_batch_size=config.sw_batch_size,
    )
    result = ValidationResult()
    was_training = model.training
    model.eval()
    try:
        for batch in batches:
            image = batch["image"].to(device)
            labels = sliding_window_labels(model, image, window, device=device, amp=amp)
            masks = batch.get("mask")
            for b in range(labels.shape[0]):
                case = str(batch["case_id"][b])
                mask = None if masks is None else masks[b, 0].numpy()
                prediction = postprocess_stage_labels(config.stage, labels[b].cpu().numpy(), mask)
                target = batch["label"][b, 0].numpy()
                result.per_case[case] = case_scores(config.stage, prediction, target)
                result.empty_target[case] = {
                    "liver": not bool((target > 0).any()),
                    "tumor": not bool((target == 2).any()),
                }
    finally:
        model.train(was_training)
    return result
