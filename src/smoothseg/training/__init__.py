"""Training: losses, configs, data, the trainer and checkpoints (bundles: :mod:`smoothseg.bundle`).

Quick use::

    from smoothseg.training import load_train_config, select_split, train

    config = load_train_config("liver", preset="cpu-small")
    result = train(config, data="CACHE", split=select_split("CACHE/splits.json"), out="RUN")
    bundle = smoothseg.bundle.load_bundle(result.bundle_dir)  # model in eval mode, preprocessing
"""

from smoothseg.training.config import (
    PRESETS,
    TrainConfig,
    TrainConfigError,
    build_train_config,
    load_train_config,
)
from smoothseg.training.data import read_soft_labels, select_split, stage_data
from smoothseg.training.loss_registry import LOSSES, LossSpec, build_loss, loss_name
from smoothseg.training.losses import (
    KnowledgeInformedLoss,
    LossConfig,
    LossTerms,
    SegmentationLoss,
    TlvrRegion,
)
from smoothseg.training.run import RESUMABLE, resume_changes, resume_config, train
from smoothseg.training.tlvr import LossInputError, predicted_tlvr
from smoothseg.training.trainer import Trainer, TrainResult
from smoothseg.training.validation import ValidationResult, dice_score, validate

__all__ = [
    "LOSSES",
    "PRESETS",
    "RESUMABLE",
    "KnowledgeInformedLoss",
    "LossConfig",
    "LossInputError",
    "LossSpec",
    "LossTerms",
    "SegmentationLoss",
    "TlvrRegion",
    "TrainConfig",
    "TrainConfigError",
    "TrainResult",
    "Trainer",
    "ValidationResult",
    "build_loss",
    "build_train_config",
    "dice_score",
    "load_train_config",
    "loss_name",
    "predicted_tlvr",
    "read_soft_labels",
    "resume_changes",
    "resume_config",
    "select_split",
    "stage_data",
    "train",
    "validate",
]
