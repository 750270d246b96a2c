"""Training building blocks: losses (the trainer builds on these)."""

from smoothseg.training.losses import (
    KnowledgeInformedLoss,
    LossConfig,
    LossInputError,
    LossTerms,
    SegmentationLoss,
    TlvrRegion,
    predicted_tlvr,
)

__all__ = [
    "KnowledgeInformedLoss",
    "LossConfig",
    "LossInputError",
    "LossTerms",
    "SegmentationLoss",
    "TlvrRegion",
    "predicted_tlvr",
]
