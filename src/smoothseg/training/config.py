"""The frozen training configuration and how it is loaded from presets and user files.

A run's :class:`TrainConfig` comes from, in order (later wins):

1. the shipped preset ``smoothseg/configs/<preset>.toml`` (``paper`` or ``cpu-small``);
2. an optional user file (TOML, JSON, or YAML when PyYAML is installed) with the same tables;
3. explicit overrides (the CLI's ``--max-epochs``, ``--device``, ``--seed``, ``--model``).

File layout (every table optional, unknown keys are an error that names them)::

    scale = "cpu-small"          # model width preset: paper | cpu-small
    [train]                      # TrainConfig fields (lr, max_epochs, batch_size, ...)
    [model]                      # ModelConfig fields (name, init_filters, dropout, ...)
    [loss]                       # LossConfig fields (alpha, lambda_dice, ...)
    [liver] / [tumor] / [multiclass]   # the stage's preprocessing config
    [liver.augment]              # its augmentation

``target_spacing_mm = "keep"`` (or ``[]``) means no resampling; ``early_stopping_patience = 0``
means no early stopping (TOML has no null).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from smoothseg.config_file import read_config_file
from smoothseg.errors import SmoothsegError
from smoothseg.models.config import SCALES, ModelConfig, Scale, StageName
from smoothseg.models.registry import preset_config
from smoothseg.preprocess.config import (
    LiverStageConfig,
    StageConfig,
    TumorStageConfig,
    check_keys,
    stage_config_from_dict,
)
from smoothseg.training.losses import LossConfig
from smoothseg.typecheck import check_types

PRESETS: tuple[str, ...] = ("paper", "cpu-small")
STAGE_NAMES: tuple[StageName, ...] = ("liver", "tumor", "multiclass")
TOP_KEYS = {"scale", "train", "model", "loss", *STAGE_NAMES}
AmpMode = Literal["auto", "on", "off"]


class TrainConfigError(SmoothsegError, ValueError):
    """A training configuration is invalid (unknown key, bad value, unknown preset...)."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs besides its data (paper defaults, table SB3).

    Attributes:
        stage: ``liver`` (global view), ``tumor`` (local view) or ``multiclass`` (baselines).
        model: The network (its ``roi_size`` equals the preprocessing ROI).
        preprocess: The stage's preprocessing (:class:`LiverStageConfig` for liver and
            multiclass, :class:`TumorStageConfig` for tumor).
        loss: Loss weights (the TLVR term is used by the tumor stage only).
        scale: Width preset the model came from.
        preset: Name of the shipped preset the config started from.
        lr: Adam learning rate (1e-4).
        weight_decay: Adam weight decay (1e-5).
        scheduler: ``cosine`` (CosineAnnealingLR over ``max_epochs``) or ``none``.
        min_lr: Cosine schedule's final learning rate.
        max_epochs: Epochs to train (150).
        batch_size: Patches per step (1).
        val_every: Validate every this many epochs (and after the last one).
        val_overlap: Sliding-window overlap at validation.
        sw_batch_size: Sliding windows per forward pass at validation.
        early_stopping_patience: Stop after this many validations without a better score;
            ``None`` never stops early.
        seed: Seeds python, numpy, torch and the transforms.
        deterministic: Also make CUDA deterministic (MONAI ``set_determinism``: cuDNN
            deterministic, no benchmarking; slower on GPU). CPU runs are reproducible anyway.
        num_workers: DataLoader worker processes (0 = in the main process).
        cache_in_memory: Keep each case's deterministic preprocessing in memory.
        amp: Mixed precision (autocast): ``auto`` on CUDA only, ``on`` (CUDA, and on CPU when
            asked explicitly: bfloat16 there is very slow), ``off``.
        amp_dtype: ``float16`` (with gradient scaling) or ``bfloat16``; CPU autocast is
            always bfloat16.
        compile: ``torch.compile`` the training step's module (off unless asked).
        cudnn_benchmark: cuDNN autotuning: ``auto`` on CUDA unless ``deterministic``, ``on``,
            ``off`` (no effect on CPU).
        persistent_cache: Write each case's deterministic preprocessing (decoded, resampled,
            windowed, cropped arrays) to disk once and memory-map it afterwards, so later
            epochs and runs decode nothing (:mod:`smoothseg.training.preprocessed`).
        cache_dir: Where that cache lives (default: ``<data>/preprocessed``).
        device: ``auto`` (CUDA if available, else CPU), ``cpu``, ``cuda``, ``cuda:1``...
        synthetic_cases: New domain-randomized phantoms mixed into every training epoch
            (:mod:`smoothseg.training.synthetic`); 0 = none.
        synthetic_only: Train on those phantoms alone (the split's training cases are not
            used; its validation cases still are).

    """

    stage: StageName
    model: ModelConfig
    preprocess: StageConfig
    loss: LossConfig = field(default_factory=LossConfig)
    scale: Scale = "paper"
    preset: str = "paper"
    lr: float = 1e-4
    weight_decay: float = 1e-5
    scheduler: Literal["cosine", "none"] = "cosine"
    min_lr: float = 0.0
    max_epochs: int = 150
    batch_size: int = 1
    val_every: int = 1
    val_overlap: float = 0.25
    sw_batch_size: int = 1
    early_stopping_patience: int | None = None
    seed: int = 0
    deterministic: bool = False
    num_workers: int = 0
    cache_in_memory: bool = True
    amp: AmpMode = "auto"
    amp_dtype: Literal["float16", "bfloat16"] = "float16"
    compile: bool = False
    cudnn_benchmark: AmpMode = "auto"
    persistent_cache: bool = False
    cache_dir: str | None = None
    device: str = "auto"
    synthetic_cases: int = 0
    synthetic_only: bool = False

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.stage not in STAGE_NAMES:
            problems.append(f"stage must be one of {', '.join(STAGE_NAMES)}, got {self.stage!r}")
        want = TumorStageConfig if self.stage == "tumor" else LiverStageConfig
        if not isinstance(self.preprocess, want):
            problems.append(f"the {self.stage} stage needs a {want.__name__}")
        elif tuple(self.model.roi_size) != tuple(self.preprocess.roi_size):
            problems.append(
                f"model roi_size {self.model.roi_size} differs from the preprocessing roi_size "
                f"{self.preprocess.roi_size}"
            )
        classes = 2 if self.stage == "liver" else 3
        if self.model.out_channels != classes:
            problems.append(f"the {self.stage} stage needs out_channels={classes}")
        if self.lr <= 0 or self.weight_decay < 0 or self.min_lr < 0:
            problems.append("lr must be > 0, weight_decay and min_lr >= 0")
        if self.scheduler not in ("cosine", "none"):
            problems.append(f"scheduler must be 'cosine' or 'none', got {self.scheduler!r}")
        for name in ("max_epochs", "batch_size", "val_every", "sw_batch_size"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1")
        if self.num_workers < 0:
            problems.append("num_workers must be >= 0")
        if self.synthetic_cases < 0 or (self.synthetic_only and self.synthetic_cases < 1):
            problems.append("synthetic_cases must be >= 0, and >= 1 with synthetic_only")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            problems.append("early_stopping_patience must be >= 1 (or None)")
        if not 0.0 <= self.val_overlap < 1.0:
            problems.append("val_overlap must be in [0, 1)")
        if self.amp not in ("auto", "on", "off"):
            problems.append(f"amp must be auto, on or off, got {self.amp!r}")
        if self.amp_dtype not in ("float16", "bfloat16"):
            problems.append(f"amp_dtype must be float16 or bfloat16, got {self.amp_dtype!r}")
        if self.cudnn_benchmark not in ("auto", "on", "off"):
            problems.append(f"cudnn_benchmark must be auto, on or off: {self.cudnn_benchmark!r}")
        if problems:
            raise TrainConfigError("invalid training config: " + "; ".join(problems))

    @property
    def label_map(self) -> dict[int, str]:
        """Class index → name of the model's output."""
        if self.stage == "liver":
            return {0: "background", 1: "liver"}
        return {0: "background", 1: "liver", 2: "tumor"}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; :meth:`from_dict` reads it back exactly."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("model", "preprocess"):
                out[f.name] = value.to_dict()
            elif f.name == "loss":
                out[f.name] = asdict(value)
            else:
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error that names them."""
        _check_keys(data, {f.name for f in fields(cls)}, "training")
        values = dict(data)
        stage = str(values["stage"])
        values["model"] = ModelConfig.from_dict(values["model"])
        values["preprocess"] = stage_config_from_dict(stage, _spacing(values["preprocess"]))
        values["loss"] = _loss(values.get("loss", {}))
        return cls(**values)


def _check_keys(data: Mapping[str, Any], valid: set[str], what: str) -> None:
    check_keys(data, valid, what, error=TrainConfigError)


def _loss(data: Mapping[str, Any], base: LossConfig | None = None) -> LossConfig:
    _check_keys(data, {f.name for f in fields(LossConfig)}, "loss")
    return replace(base or LossConfig(), **dict(data))


def _spacing(data: Mapping[str, Any]) -> dict[str, Any]:
    """``target_spacing_mm = "keep"`` / ``[]`` / ``None`` → ``None``."""
    out = dict(data)
    value = out.get("target_spacing_mm", "unset")
    if (
        value is None
        or value == []
        or (isinstance(value, str) and value.lower() in ("keep", "none"))
    ):
        out["target_spacing_mm"] = None
    return out


def preset_data(preset: str) -> dict[str, Any]:
    """The shipped preset ``preset`` as a dict.

    Raises:
        TrainConfigError: Unknown preset (the message lists the valid ones).

    """
    if preset not in PRESETS:
        raise TrainConfigError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    text = resources.files("smoothseg.configs").joinpath(f"{preset}.toml").read_text("utf-8")
    return tomllib.loads(text)


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive merge: tables merge, anything else in ``over`` replaces ``base``'s value."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def build_train_config(
    stage: str, data: Mapping[str, Any], *, preset: str = "custom"
) -> TrainConfig:
    """A :class:`TrainConfig` for ``stage`` from a config dict (see the module docs).

    Raises:
        TrainConfigError: Unknown stage, keys or scale, or invalid values.

    """
    if stage not in STAGE_NAMES:
        raise TrainConfigError(f"unknown stage {stage!r}; valid: {', '.join(STAGE_NAMES)}")
    _check_keys(data, TOP_KEYS, "top-level")
    scale = str(data.get("scale", "paper"))
    if scale not in SCALES:
        raise TrainConfigError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")
    preprocess = stage_config_from_dict(stage, _spacing(data.get(stage, {})))
    model_data = dict(data.get("model", {}))
    _check_keys(model_data, {f.name for f in fields(ModelConfig)}, "model")
    if "roi_size" in model_data:
        raise TrainConfigError(f"set roi_size in the [{stage}] table, not in [model]")
    name = str(model_data.pop("name", "segresnetvae"))
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in model_data.items()}
    model = preset_config(
        name,
        "cpu-small" if scale == "cpu-small" else "paper",
        stage=_stage(stage),
        roi_size=preprocess.roi_size,
        **overrides,
    )
    train = dict(data.get("train", {}))
    valid = {f.name for f in fields(TrainConfig)} - {
        "stage",
        "model",
        "preprocess",
        "loss",
        "scale",
    }
    _check_keys(train, valid, "train")
    if train.get("early_stopping_patience") == 0:
        train["early_stopping_patience"] = None
    train.setdefault("preset", preset)
    return TrainConfig(
        stage=_stage(stage),
        model=model,
        preprocess=preprocess,
        loss=_loss(data.get("loss", {})),
        scale="cpu-small" if scale == "cpu-small" else "paper",
        **train,
    )


def _stage(stage: str) -> StageName:
    if stage == "liver":
        return "liver"
    if stage == "tumor":
        return "tumor"
    return "multiclass"


def load_train_config(
    stage: str,
    *,
    preset: str = "paper",
    config_file: str | Path | None = None,
    model: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    alpha: float | None = None,
) -> TrainConfig:
    """Resolve the training config of ``stage``: preset, then user file, then overrides.

    The presets' ``[loss] alpha`` is the tumor stage's; the liver and multi-class stages start
    from α = 0 (a user file or ``alpha`` may set a multi-class α > 0, which then needs soft
    labels like the tumor stage).

    Args:
        stage: ``liver``, ``tumor`` or ``multiclass``.
        preset: Shipped preset, ``paper`` or ``cpu-small``.
        config_file: Optional user file laid over the preset.
        model: Registered model name (replaces ``[model] name``).
        overrides: :class:`TrainConfig` fields to set last (e.g. ``max_epochs``, ``seed``).
        alpha: The TLVR weight α, set last (``None``: from the preset and file).

    Raises:
        TrainConfigError: Unknown preset, stage or keys, or invalid values.
        InputError: Unreadable config file.

    """
    data = preset_data(preset)
    if stage != "tumor":
        data = merge(data, {"loss": {"alpha": 0.0}})
    if config_file is not None:
        data = merge(data, read_config_file(config_file))
    if model is not None:
        data = merge(data, {"model": {"name": model}})
    if overrides:
        data = merge(data, {"train": dict(overrides)})
    if alpha is not None:
        data = merge(data, {"loss": {"alpha": float(alpha)}})
    check_types(dict(data.get("train", {})), TrainConfig, "train", TrainConfigError)
    check_types(dict(data.get("loss", {})), LossConfig, "loss", TrainConfigError)
    check_types(dict(data.get("model", {})), ModelConfig, "model", TrainConfigError)
    table = _spacing(dict(data.get(stage, {})))
    check_types(
        table, TumorStageConfig if stage == "tumor" else LiverStageConfig, stage, TrainConfigError
    )
    try:
        return build_train_config(stage, data, preset=preset)
    except TypeError as exc:  # a wrong type in another table, caught by a comparison
        raise TrainConfigError(f"a config value has the wrong type: {exc}") from exc
