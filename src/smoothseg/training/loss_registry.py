"""The loss registry: losses built by name from a :class:`LossConfig`, given to the trainer.

``LossConfig.name = "auto"`` (the default) resolves to ``knowledge_informed`` (Dice + focal +
α·TLVR MSE) wherever α > 0 and the model has a tumor class, else ``dice_focal``.
"""

from __future__ import annotations

from dataclasses import dataclass

from smoothseg.registry import Registry
from smoothseg.training.losses import KnowledgeInformedLoss, LossConfig, SegmentationLoss
from smoothseg.training.tlvr import LossInputError


@dataclass(frozen=True)
class LossSpec:
    """A registered loss: its name, what it is, and the class built from a :class:`LossConfig`."""

    name: str
    description: str
    build: type[SegmentationLoss]


#: Every loss the trainer can be given, by name (each takes a :class:`LossConfig`).
LOSSES: Registry[LossSpec] = Registry(
    "loss",
    unknown=lambda name, valid: LossInputError(f"unknown loss {name!r}; valid: {valid}"),
)
LOSSES.register(LossSpec("dice_focal", "Dice + focal (the baselines)", SegmentationLoss))
LOSSES.register(
    LossSpec(
        "knowledge_informed",
        "Dice + focal + alpha * MSE(predicted TLVR, soft label) (SmoothSegNet)",
        KnowledgeInformedLoss,
    )
)


def loss_name(config: LossConfig, *, classes: int) -> str:
    """The registered loss ``config`` asks for (``auto``: knowledge-informed where α > 0).

    Args:
        config: Loss settings.
        classes: Output channels of the model; the TLVR term needs a tumor class.

    """
    if config.name != "auto":
        return config.name
    has_tumor = classes > max(config.liver_label, config.tumor_label)
    return "knowledge_informed" if config.alpha > 0 and has_tumor else "dice_focal"


def build_loss(config: LossConfig, *, classes: int) -> SegmentationLoss:
    """The loss ``config`` names, built from :data:`LOSSES`.

    Raises:
        LossInputError: The knowledge-informed loss for a model without a tumor class.

    """
    name = loss_name(config, classes=classes)
    if name == "knowledge_informed" and classes <= max(config.liver_label, config.tumor_label):
        raise LossInputError(f"the knowledge-informed loss needs a tumor class; got {classes}")
    return LOSSES.get(name).build(config)
