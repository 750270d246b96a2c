"""The predicted tumor-to-liver volume ratio (TLVR, paper eq. 1) of a network output.

The soft label R of eq. 2 is a **whole-liver** TLVR: the clinical regression predicts the
patient's tumor share of the entire liver. The network sees a training **patch**, whose own
tumor share differs (a 48×48×16 patch centred on a tumor holds twice the patient's TLVR). To
compare like with like, :func:`patient_tlvr` puts the patch's soft prediction into the
patient's liver and reads off the whole liver's ratio::

    R̂ = (T_out + Σ_patch p_tumor) / (N_out + Σ_patch (p_liver + p_tumor) + ε)

where ``T_out`` / ``N_out`` are the reference tumor / liver-incl.-tumor voxels of the case
**outside the patch** (the whole case's counts, from the sampler, minus the patch's). A perfect
prediction gives exactly the reference's whole-liver TLVR, whatever patch was drawn; the
gradient reaches only the patch's voxels, the only ones the step can change. With no
whole-case counts the patch is taken as the whole liver (:func:`predicted_tlvr`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from smoothseg.errors import SmoothsegError


class LossInputError(SmoothsegError, ValueError):
    """Tensors given to a loss have inconsistent shapes or values."""


def class_labels(logits: Tensor, target: Tensor) -> Tensor:
    """Target as ``[B, 1, *spatial]`` class indices, checked against ``logits``."""
    if logits.ndim < 3 or logits.shape[1] < 2:
        raise LossInputError(f"logits must be [B, C>=2, *spatial], got {list(logits.shape)}")
    if target.ndim == logits.ndim - 1:
        target = target.unsqueeze(1)
    if target.ndim != logits.ndim or target.shape[1] != 1 or target.shape[2:] != logits.shape[2:]:
        raise LossInputError(
            f"target must be [B, 1, *spatial] class indices matching logits "
            f"{list(logits.shape)}, got {list(target.shape)}"
        )
    if target.shape[0] != logits.shape[0]:
        raise LossInputError(
            f"batch sizes differ: logits {logits.shape[0]}, target {target.shape[0]}"
        )
    if target.numel() and (int(target.min()) < 0 or int(target.max()) >= logits.shape[1]):
        raise LossInputError(f"target labels must be in [0, {logits.shape[1] - 1}]")
    return target


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
    tumor_sum, liver_sum = region_sums(
        probabilities, region_mask, liver_channel=liver_channel, tumor_channel=tumor_channel
    )
    return tumor_sum / (liver_sum + tumor_sum + eps)


def region_sums(
    probabilities: Tensor,
    region_mask: Tensor | None,
    *,
    liver_channel: int,
    tumor_channel: int,
) -> tuple[Tensor, Tensor]:
    """``(Σ m·p_tumor, Σ m·p_liver)`` per sample, checked (see :func:`predicted_tlvr`)."""
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
    return tumor.flatten(1).sum(1), liver.flatten(1).sum(1)


def _spatial_mask(mask: Tensor, shape: torch.Size) -> Tensor:
    if mask.ndim == len(shape) + 1 and mask.shape[1] == 1:
        mask = mask[:, 0]
    if mask.shape != shape:
        raise LossInputError(f"region mask {list(mask.shape)} does not match {list(shape)}")
    return mask


def patient_tlvr(
    probabilities: Tensor,
    labels: Tensor,
    whole_voxels: Tensor,
    region_mask: Tensor | None = None,
    *,
    liver_channel: int = 1,
    tumor_channel: int = 2,
    eps: float = 1e-6,
) -> Tensor:
    """The whole liver's soft TLVR with the patch predicted and the rest from the reference.

    Args:
        probabilities: Softmax output of the patch ``[B, C, *spatial]``.
        labels: Reference class indices of the patch ``[B, 1, *spatial]``.
        whole_voxels: ``[B, 2]``: the whole case's reference tumor and liver-incl.-tumor
            voxels at the patch's grid (``whole_tlvr_voxels`` of the sampler).
        region_mask: Patch voxels the prediction is read from (``None``: all of them).
        liver_channel: Channel (and label) of liver.
        tumor_channel: Channel (and label) of tumor.
        eps: Keeps the ratio finite for an empty liver.

    Returns:
        ``[B]`` ratios in [0, 1], differentiable w.r.t. ``probabilities``. Augmentation
        (scaling, rotation with nearest-neighbour labels) changes a patch's counts, so an
        outside count can come out negative; it is kept (a perfect prediction still gives
        the exact whole-liver ratio) and the ratio is clipped to [0, 1]. A patch holding at
        least the whole liver is compared by its own ratio.

    Raises:
        LossInputError: Bad shapes.

    """
    batch = probabilities.shape[0]
    if whole_voxels.shape != (batch, 2):
        raise LossInputError(f"whole_voxels must be [{batch}, 2], got {list(whole_voxels.shape)}")
    tumor_in, liver_in = region_sums(
        probabilities, region_mask, liver_channel=liver_channel, tumor_channel=tumor_channel
    )
    flat = labels.reshape(batch, -1)
    ref_tumor = (flat == tumor_channel).sum(1).to(tumor_in.dtype)
    ref_region = ref_tumor + (flat == liver_channel).sum(1).to(tumor_in.dtype)
    whole = whole_voxels.to(device=tumor_in.device, dtype=tumor_in.dtype)
    region_out, tumor_out = whole[:, 1] - ref_region, whole[:, 0] - ref_tumor
    holds_all = region_out <= 0  # the patch holds the whole liver: its own ratio is the patient's
    region_out = torch.where(holds_all, 0.0, region_out)
    tumor_out = torch.where(holds_all, 0.0, tumor_out)
    ratio = (tumor_out + tumor_in) / (region_out + liver_in + tumor_in + eps)
    return ratio.clamp(0.0, 1.0)
