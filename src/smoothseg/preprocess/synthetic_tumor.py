"""On-the-fly synthetic tumors for tumor-stage training (:class:`RandSyntheticTumord`).

The same recipe as ``smoothseg synthesize`` (:mod:`smoothseg.synthesis`), applied to each
training sample with a probability: CT (HU) + liver label in, CT + tumor label out. Lesions go
only into liver parenchyma (label 1), so real tumors (label 2) are kept as they are.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from monai.transforms.transform import Randomizable, Transform

from smoothseg.preprocess.config import TumorStageConfig
from smoothseg.synthesis import LesionRequest, implant_lesions

MIN_LIVER_VOXELS = 64


def _numpy(value: Any) -> npt.NDArray[Any]:
    if isinstance(value, torch.Tensor):
        out: npt.NDArray[Any] = value.detach().cpu().numpy()
        return out
    return np.asarray(value)


def _spacing(item: Mapping[Hashable, Any]) -> tuple[float, float, float]:
    if "spacing_mm" in item:
        s = tuple(float(v) for v in item["spacing_mm"])
    else:
        s = tuple(float(v) for v in np.linalg.norm(np.asarray(item["affine"])[:3, :3], axis=0))
    return (s[0], s[1], s[2])


class RandSyntheticTumord(Randomizable, Transform):
    """With probability ``prob``, implant 1..``max_count`` synthetic lesions into the liver.

    Args:
        prob: Chance per sample.
        request: Lesion recipe (its ``count`` is replaced by the drawn count).
        max_count: Most lesions per sample.
        image_key: CT in HU, ``[1, i, j, k]`` or ``[i, j, k]`` (numpy or tensor).
        label_key: Labels 0 background, 1 liver, 2 tumor (same shape).
        liver_label: Label of the parenchyma the lesions may go into.
        tumor_label: Label written for the synthetic tumor.

    The item's ``spacing_mm`` (else its ``affine``) gives the voxel size. Adds
    ``synthetic_lesions`` (how many were implanted, 0 when skipped).

    """

    def __init__(
        self,
        prob: float = 0.5,
        request: LesionRequest | None = None,
        *,
        max_count: int = 3,
        image_key: str = "image",
        label_key: str = "label",
        liver_label: int = 1,
        tumor_label: int = 2,
    ) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"prob must be in [0, 1], got {prob}")
        if max_count < 1:
            raise ValueError(f"max_count must be >= 1, got {max_count}")
        self.prob = prob
        self.request = request or LesionRequest()
        self.max_count = max_count
        self.image_key, self.label_key = image_key, label_key
        self.liver_label, self.tumor_label = liver_label, tumor_label
        self._apply = False
        self._count = 1
        self._seed = 0

    @classmethod
    def from_config(cls, config: TumorStageConfig) -> RandSyntheticTumord:
        """The transform the tumor stage's config asks for."""
        request = LesionRequest(size_mm=config.synthetic_size_mm)
        return cls(config.synthetic_prob, request, max_count=config.synthetic_max_count)

    def randomize(self, data: Any = None) -> None:
        """Draw whether to implant, how many lesions, and the synthesis seed."""
        self._apply = bool(self.R.random_sample() < self.prob)
        self._count = int(self.R.randint(1, self.max_count + 1))
        self._seed = int(self.R.randint(0, 2**31 - 1))

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        """Implant (or not) and return a new item."""
        self.randomize()
        item = dict(data)
        item["synthetic_lesions"] = 0
        if not self._apply:
            return item
        image, label = _numpy(item[self.image_key]), _numpy(item[self.label_key])
        channel = image.ndim == 4
        ct, lab = (image[0], label[0]) if channel else (image, label)
        liver = lab == self.liver_label
        if np.count_nonzero(liver) < MIN_LIVER_VOXELS:
            return item
        request = replace(self.request, count=self._count)
        rng = np.random.default_rng(self._seed)
        new_ct, tumor, lesions = implant_lesions(ct, liver, _spacing(item), request, rng)
        new_lab = np.where(tumor, self.tumor_label, lab).astype(lab.dtype)
        new_ct = new_ct.astype(ct.dtype, copy=False)
        item[self.image_key] = new_ct[None] if channel else new_ct
        item[self.label_key] = new_lab[None] if channel else new_lab
        item["synthetic_lesions"] = len(lesions)
        if "whole_tlvr_voxels" in item:  # the implanted tumor is part of the whole reference
            added = int(np.count_nonzero(tumor & (lab != self.tumor_label)))
            counts = np.array(item["whole_tlvr_voxels"], dtype=np.float64)
            item["whole_tlvr_voxels"] = counts + np.array([added, 0.0])
        return item
