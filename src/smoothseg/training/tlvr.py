"""The predicted tumor-to-liver volume ratio (TLVR, paper eq. 1) of a network output.

:func:`predicted_tlvr` is the soft (differentiable) ratio of one sample. The knowledge-informed
loss (:mod:`smoothseg.training.losses`) compares it with the patient's soft label.
"""

from __future__ import annotations

import torch
from torch import Tensor

from smoothseg.errors import SmoothsegError


class LossInputError(SmoothsegError, ValueError):
    """Tensors given to a loss have inconsistent shapes or values."""


def predicted_tlvr(
    probabilities: Tensor,
    region_mask: Tensor | None = None,
    *,
    liver_channel: int = 1,
    tumor_channel: int = 2,
    eps: float = 1e-6,
) -> Tensor:
    """Soft tumor-to-liver volume ratio of each sample (eq. 1 on probabilities).

    ``R̂_b = Σ_v m_v p_tumor,v / (Σ_v m_v p_liver,v + Σ_v m_v p_tumor,v + eps)``.

    Args:
        probabilities: Softmax output ``[B, C, *spatial]`` (not logits).
        region_mask: Voxels to sum over, ``[B, *spatial]`` or ``[B, 1, *spatial]`` (bool or
            0/1); ``None`` sums over every voxel.
        liver_channel: Channel of the liver class.
        tumor_channel: Channel of the tumor class.
        eps: Keeps the ratio finite when the region holds no liver/tumor probability.

    Returns:
        ``[B]`` ratios in ``[0, 1)``, differentiable w.r.t. ``probabilities``.

    Raises:
        LossInputError: Values outside [0, 1] (logits passed by mistake) or bad shapes.

    """
    if probabilities.ndim < 3 or probabilities.shape[1] <= max(liver_channel, tumor_channel):
        raise LossInputError(
            f"probabilities must be [B, C, *spatial] with liver/tumor channels "
            f"{liver_channel}/{tumor_channel}, got {list(probabilities.shape)}"
        )
    with torch.no_grad():
        low, high = float(probabilities.min()), float(probabilities.max())
    if low < -1e-6 or high > 1 + 1e-6:
        raise LossInputError(
            f"probabilities must lie in [0, 1], got [{low:.3g}, {high:.3g}]: "
            "apply softmax to the logits first"
        )
    tumor = probabilities[:, tumor_channel]
    liver = probabilities[:, liver_channel]
    if region_mask is not None:
        mask = _spatial_mask(region_mask, tumor.shape).to(tumor.dtype)
        tumor = tumor * mask
        liver = liver * mask
    tumor_sum = tumor.flatten(1).sum(1)
    liver_sum = liver.flatten(1).sum(1)
    return tumor_sum / (liver_sum + tumor_sum + eps)


def _spatial_mask(mask: Tensor, shape: torch.Size) -> Tensor:
    if mask.ndim == len(shape) + 1 and mask.shape[1] == 1:
        mask = mask[:, 0]
    if mask.shape != shape:
        raise LossInputError(f"region mask {list(mask.shape)} does not match {list(shape)}")
    return mask
