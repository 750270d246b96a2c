"""Training: losses, configs, data, the trainer, checkpoints and model bundles.

Quick use::

    from smoothseg.training import load_train_config, select_split, train

    config = load_train_config("liver", preset="cpu-small")
    result = train(config, data="CACHE", split=select_split("CACHE/splits.json"), out="RUN")
    bundle = load_bundle(result.bundle_dir)  # model in eval mode + preprocessing + label map
"""

from smoothseg.training.bundle import Bundle, load_bundle, save_bundle
from smoothseg.training.config import (
    PRESETS,
    TrainConfig,
    TrainConfigError,
    build_train_config,
    load_train_config,
    read_config_file,
)
from smoothseg.training.data import read_soft_labels, select_split, stage_data
from smoothseg.training.losses import (
    LOSSES,
    KnowledgeInformedLoss,
    LossConfig,
    LossTerms,
    SegmentationLoss,
    TlvrRegion,
    build_loss,
    loss_name,
)
from smoothseg.training.run import RESUMABLE, resume_changes, resume_config, train
from smoothseg.training.tlvr import LossInputError, predicted_tlvr
from smoothseg.training.trainer import Trainer, TrainResult
from smoothseg.training.validation import ValidationResult, dice_score, validate

__all__ = [
    "LOSSES",
    "PRESETS",
    "RESUMABLE",
    "Bundle",
    "KnowledgeInformedLoss",
    "LossConfig",
    "LossInputError",
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
    "load_bundle",
    "load_train_config",
    "loss_name",
    "predicted_tlvr",
    "read_config_file",
    "read_soft_labels",
    "resume_changes",
    "resume_config",
    "save_bundle",
    "select_split",
    "stage_data",
    "train",
    "validate",
]
