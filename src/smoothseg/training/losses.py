"""Training losses: Dice + focal (+ VAE) and SmoothSegNet's knowledge-informed TLVR term.

Paper eqs. 2-6 (tumor stage)::

    L = λf·focal + λd·dice + α·(1/n) Σ_i (R_i − R̂_i)²   (+ w_vae·L_vae for segresnetvae)

* ``R_i`` is patient i's soft label: the tumor-to-liver volume ratio (TLVR, eq. 1) predicted
  by the clinical regression.
* ``R̂_i`` is the TLVR of the network's prediction, from **softmax probabilities** so that it is
  differentiable: ``R̂ = Σ p_tumor / (Σ p_liver + Σ p_tumor + eps)``, the sums running over the
  sample's **liver region** (see :class:`LossConfig.tlvr_region`). R is a whole-liver ratio
  and the sample a patch, so by default (``tlvr_scope="patient"``) the patch's prediction is
  put into the rest of the patient's reference liver and the whole liver's R̂ is compared
  (:func:`~smoothseg.training.tlvr.patient_tlvr`): like with like.
* The mean runs over the n samples of the batch that have a soft label; each sample is compared
  with its own patient's label; samples without one (or with an empty liver region) are skipped,
  and with none the term is exactly 0. ``α = 0`` gives exactly ``λf·focal + λd·dice``.
* ``L_vae`` is SegResNetVAE's VAE loss (Myronenko 2018: weight 0.1), returned by
  ``model.forward_with_aux`` in training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from monai.losses.dice import DiceLoss
from monai.losses.focal_loss import FocalLoss
from torch import Tensor, nn

from smoothseg.training.tlvr import (
    LossInputError,
    class_labels,
    patient_tlvr,
    predicted_tlvr,
)

TlvrRegion = Literal["label", "crop"]
TlvrScope = Literal["patient", "patch"]
#: ``auto``: the knowledge-informed loss wherever α > 0 and the model has a tumor class.
LOSS_NAMES = ("auto", "dice_focal", "knowledge_informed")


@dataclass(frozen=True)
class LossConfig:
    """Loss weights and options; defaults follow the paper and its references.

    Attributes:
        name: Loss from :data:`LOSSES`; ``auto`` (default) picks ``knowledge_informed`` where
            α > 0 and the model has a tumor class, else ``dice_focal`` (:func:`loss_name`).
        lambda_focal: λf of eq. 4 (the paper does not state it; 1 as MONAI's DiceFocalLoss).
        lambda_dice: λd of eq. 4 (idem, 1).
        alpha: α of eq. 2, weight of the TLVR soft-label term (SB2 ``lambda_weak``: 0.5 or 0.6).
        vae_weight: Weight of SegResNetVAE's VAE loss (0.1, Myronenko 2018).
        focal_gamma: γ of eq. 6 (2, Lin et al. 2017).
        class_weights: Per-class weights of the focal term (background, liver[, tumor]);
            empty (default, the paper's) weighs every class 1. A larger tumor weight balances
            the sparse tumor class at small training budgets.
        dice_include_background: Include the background class in Dice. Default false: the
            background of a masked liver crop is large and trivially right, and averaging it in
            dilutes the liver/tumor Dice gradient. Focal always uses every class (its softmax
            needs them all) and so still supervises the background.
        dice_squared: Squared denominators ``Σp² + Σg²`` exactly as eq. 5 (true).
        dice_smooth: Smoothing added to Dice's numerator and denominator.
        tlvr_eps: ε in the denominator of R̂.
        tlvr_region: Voxels R̂ sums over. ``label`` (default): the ground-truth liver ∪ tumor
            voxels of the sample, i.e. "the liver mask including tumor" of eq. 1 that also
            defined the tumor-stage crop and its outside-liver masking; ``crop``: every voxel of
            the input patch.
        tlvr_scope: What R̂ measures. ``patient`` (default): the whole liver's TLVR with the
            patch predicted and the rest of the case taken from its reference, the quantity
            the soft label predicts (needs the sampler's ``whole_tlvr_voxels``; without them
            the patch is taken as the whole liver); ``patch``: the patch's own TLVR (the
            earlier behaviour, which penalises a perfect prediction of a patch whose tumor
            share differs from the patient's).
        liver_label: Class index of liver in targets and logits.
        tumor_label: Class index of tumor.

    """

    name: str = "auto"
    lambda_focal: float = 1.0
    lambda_dice: float = 1.0
    alpha: float = 0.5
    vae_weight: float = 0.1
    focal_gamma: float = 2.0
    class_weights: tuple[float, ...] = ()
    dice_include_background: bool = False
    dice_squared: bool = True
    dice_smooth: float = 1e-5
    tlvr_eps: float = 1e-6
    tlvr_region: TlvrRegion = "label"
    tlvr_scope: TlvrScope = "patient"
    liver_label: int = 1
    tumor_label: int = 2

    def __post_init__(self) -> None:
        weights = {
            "lambda_focal": self.lambda_focal,
            "lambda_dice": self.lambda_dice,
            "alpha": self.alpha,
            "vae_weight": self.vae_weight,
            "focal_gamma": self.focal_gamma,
        }
        bad = [f"{k}={v}" for k, v in weights.items() if not v >= 0.0]
        if bad:
            raise LossInputError(f"loss weights must be >= 0: {', '.join(bad)}")
        object.__setattr__(self, "class_weights", tuple(float(w) for w in self.class_weights))
        if any(not w > 0 for w in self.class_weights):
            raise LossInputError(f"class_weights must be > 0, got {list(self.class_weights)}")
        if self.name not in LOSS_NAMES:
            raise LossInputError(f"unknown loss {self.name!r}; valid: {', '.join(LOSS_NAMES)}")
        if self.name == "dice_focal" and self.alpha > 0:
            raise LossInputError(
                f"loss dice_focal has no TLVR term but alpha = {self.alpha}; set alpha = 0 "
                "or use knowledge_informed"
            )
        if self.tlvr_eps <= 0 or self.dice_smooth < 0:
            raise LossInputError("tlvr_eps must be > 0 and dice_smooth >= 0")
        if self.tlvr_region not in ("label", "crop"):
            raise LossInputError(f"tlvr_region must be 'label' or 'crop', got {self.tlvr_region!r}")
        if self.tlvr_scope not in ("patient", "patch"):
            raise LossInputError(f"tlvr_scope must be 'patient' or 'patch': {self.tlvr_scope!r}")
        if self.liver_label == self.tumor_label or min(self.liver_label, self.tumor_label) < 1:
            raise LossInputError("liver_label and tumor_label must differ and be >= 1")


@dataclass(frozen=True)
class LossTerms:
    """One loss evaluation; ``total`` is differentiable, the parts are detached for logging.

    Attributes:
        total: ``λf·focal + λd·dice + α·tlvr + vae_weight·vae`` (terms absent are not added).
        dice: Dice loss (unweighted).
        focal: Focal loss (unweighted).
        tlvr: Mean squared TLVR error over the samples used (0 when none).
        vae: VAE loss (0 when the model has none).
        predicted_tlvr: R̂ per sample ``[B]`` (``None`` for :class:`SegmentationLoss`).
        tlvr_used: Which samples entered the TLVR mean ``[B]`` (``None`` likewise).

    """

    total: Tensor
    dice: Tensor
    focal: Tensor
    tlvr: Tensor
    vae: Tensor
    predicted_tlvr: Tensor | None = None
    tlvr_used: Tensor | None = None

    def as_floats(self) -> dict[str, float]:
        """The scalar terms as floats, for logs."""
        names = ("total", "dice", "focal", "tlvr", "vae")
        return {k: float(getattr(self, k).detach()) for k in names}


class SegmentationLoss(nn.Module):
    """``λf·focal + λd·dice`` (+ ``vae_weight·vae``): liver stage and multi-class baselines.

    Args:
        config: Weights and options.

    """

    def __init__(self, config: LossConfig | None = None) -> None:
        super().__init__()
        self.config = config or LossConfig()
        c = self.config
        self.dice = DiceLoss(
            include_background=c.dice_include_background,
            to_onehot_y=True,
            softmax=True,
            squared_pred=c.dice_squared,
            smooth_nr=c.dice_smooth,
            smooth_dr=c.dice_smooth,
        )
        self.focal = FocalLoss(
            include_background=True,
            to_onehot_y=True,
            gamma=c.focal_gamma,
            use_softmax=True,
            weight=list(c.class_weights) or None,
        )

    def hard_terms(
        self, logits: Tensor, labels: Tensor, vae_loss: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(hard total, dice, focal, vae)`` with the VAE term in the total.

        Args:
            logits: Raw network output ``[B, C, *spatial]``.
            labels: Class indices ``[B, 1, *spatial]`` (checked by the caller).
            vae_loss: Auxiliary loss or ``None``.

        Returns:
            The hard total (Dice, focal and weighted VAE) and the three unweighted parts.

        """
        c = self.config
        dice: Tensor = self.dice(logits, labels)
        focal: Tensor = self.focal(logits, labels)
        total = c.lambda_focal * focal + c.lambda_dice * dice
        vae = logits.new_zeros(())
        if vae_loss is not None:
            vae = vae_loss
            if c.vae_weight > 0:
                total = total + c.vae_weight * vae_loss
        return total, dice, focal, vae

    def compute(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        vae_loss: Tensor | None = None,
        soft_tlvr: Tensor | None = None,
        has_soft_label: Tensor | None = None,
        whole_voxels: Tensor | None = None,
    ) -> LossTerms:
        """Evaluate the loss.

        Args:
            logits: Raw network output ``[B, C, *spatial]``.
            target: Class indices ``[B, 1, *spatial]`` or ``[B, *spatial]``.
            vae_loss: Auxiliary loss from ``model.forward_with_aux`` (``None`` when absent).
            soft_tlvr: Ignored here (this loss has no TLVR term); every loss of
                :data:`LOSSES` takes the same arguments, so the trainer never asks which
                one it holds.
            has_soft_label: Ignored likewise.
            whole_voxels: Ignored likewise.

        Returns:
            The total and its parts.

        """
        total, dice, focal, vae = self.hard_terms(logits, class_labels(logits, target), vae_loss)
        zero = logits.new_zeros(())
        return LossTerms(total, dice.detach(), focal.detach(), zero, vae.detach())

    def forward(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        vae_loss: Tensor | None = None,
        soft_tlvr: Tensor | None = None,
        has_soft_label: Tensor | None = None,
        whole_voxels: Tensor | None = None,
    ) -> LossTerms:
        """Same as :meth:`compute`."""
        return self.compute(
            logits,
            target,
            vae_loss=vae_loss,
            soft_tlvr=soft_tlvr,
            has_soft_label=has_soft_label,
            whole_voxels=whole_voxels,
        )


class KnowledgeInformedLoss(SegmentationLoss):
    """SmoothSegNet's tumor-stage loss: :class:`SegmentationLoss` plus ``α·MSE(R̂, R)``."""

    def compute(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        vae_loss: Tensor | None = None,
        soft_tlvr: Tensor | None = None,
        has_soft_label: Tensor | None = None,
        whole_voxels: Tensor | None = None,
    ) -> LossTerms:
        """Evaluate the loss.

        Args:
            logits: Raw network output ``[B, C>=3, *spatial]`` (background, liver, tumor).
            target: Class indices ``[B, 1, *spatial]`` or ``[B, *spatial]``.
            vae_loss: Auxiliary loss from ``model.forward_with_aux`` (``None`` when absent).
            soft_tlvr: ``[B]`` soft label R of each sample's own patient, in batch order.
            has_soft_label: ``[B]`` bool, which samples have a soft label; ``None`` means the
                finite entries of ``soft_tlvr``. Values where it is false are never read.
            whole_voxels: ``[B, 2]`` reference tumor and liver-incl.-tumor voxels of each
                sample's whole case (``tlvr_scope="patient"``; ``None``: the patch's own).

        Returns:
            The total and its parts, with R̂ per sample and the samples used.

        """
        c = self.config
        labels = class_labels(logits, target)
        total, dice, focal, vae = self.hard_terms(logits, labels, vae_loss)
        used = self._used(logits.shape[0], soft_tlvr, has_soft_label, logits.device)
        region = None
        if c.tlvr_region == "label":
            region = (labels == c.liver_label) | (labels == c.tumor_label)
            used = used & region.flatten(1).any(1)
        probabilities = torch.softmax(logits, dim=1)
        channels = {"liver_channel": c.liver_label, "tumor_channel": c.tumor_label}
        if c.tlvr_scope == "patient" and whole_voxels is not None:
            r_hat = patient_tlvr(
                probabilities, labels, whole_voxels, region, eps=c.tlvr_eps, **channels
            )
        else:
            r_hat = predicted_tlvr(probabilities, region, eps=c.tlvr_eps, **channels)
        tlvr = logits.new_zeros(())
        if soft_tlvr is not None and bool(used.any()):
            # Select first, then subtract: missing labels (e.g. NaN) never enter the graph.
            labels_used = soft_tlvr.to(device=logits.device, dtype=r_hat.dtype)[used]
            tlvr = ((r_hat[used] - labels_used) ** 2).mean()
            if c.alpha > 0:
                total = total + c.alpha * tlvr
        return LossTerms(
            total, dice.detach(), focal.detach(), tlvr.detach(), vae.detach(), r_hat.detach(), used
        )

    def _used(
        self,
        batch: int,
        soft_tlvr: Tensor | None,
        has_soft_label: Tensor | None,
        device: torch.device,
    ) -> Tensor:
        if soft_tlvr is None:
            if has_soft_label is not None and bool(has_soft_label.any()):
                raise LossInputError("has_soft_label marks samples but soft_tlvr is missing")
            return torch.zeros(batch, dtype=torch.bool, device=device)
        if soft_tlvr.shape != (batch,):
            raise LossInputError(
                f"soft_tlvr must have shape [{batch}], got {list(soft_tlvr.shape)}"
            )
        finite = torch.isfinite(soft_tlvr).to(device)
        if has_soft_label is None:
            return finite
        if has_soft_label.shape != (batch,):
            raise LossInputError(
                f"has_soft_label must have shape [{batch}], got {list(has_soft_label.shape)}"
            )
        has = has_soft_label.to(device=device, dtype=torch.bool)
        if bool((has & ~finite).any()):
            raise LossInputError("soft_tlvr is not finite for a sample marked as having a label")
        return has

    def forward(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        vae_loss: Tensor | None = None,
        soft_tlvr: Tensor | None = None,
        has_soft_label: Tensor | None = None,
        whole_voxels: Tensor | None = None,
    ) -> LossTerms:
        """Same as :meth:`compute`."""
        return self.compute(
            logits,
            target,
            vae_loss=vae_loss,
            soft_tlvr=soft_tlvr,
            has_soft_label=has_soft_label,
            whole_voxels=whole_voxels,
        )
