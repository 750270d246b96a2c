"""Model bundles: everything inference needs, without the training code or data.

This module sits below both training (which saves bundles) and inference (which loads them).

A bundle is a folder::

    bundle/
      model.pt      # the network's state_dict only (torch.load(..., weights_only=True))
      bundle.json   # stage, model config, preprocessing, label map, sliding window,
                    # post-processing, versions, and how it was trained (provenance)

:func:`load_bundle` rebuilds the network from ``bundle.json``, loads the weights and returns a
:class:`Bundle` with the model in eval mode.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import torch

from smoothseg.errors import InputError, OutputExistsError
from smoothseg.io.atomic import apply_umask
from smoothseg.models.config import ModelConfig, StageName
from smoothseg.models.network import SegmentationNetwork
from smoothseg.models.registry import build_model
from smoothseg.models.sliding import SlidingWindowConfig
from smoothseg.preprocess.config import StageConfig, stage_config_from_dict
from smoothseg.preprocess.masks import STAGE_POSTPROCESSING
from smoothseg.version import package_versions

BUNDLE_FORMAT = "smoothseg-bundle"
BUNDLE_VERSION = 1
MODEL_FILE = "model.pt"
BUNDLE_FILE = "bundle.json"
#: Post-processing each stage applies to the argmax labels.
POSTPROCESSING = STAGE_POSTPROCESSING


@dataclass(frozen=True, eq=False)
class Bundle:
    """A trained model ready for inference.

    Attributes:
        path: The bundle folder.
        stage: ``liver``, ``tumor`` or ``multiclass``.
        model: The network, in eval mode, on the device it was loaded to.
        model_config: Its configuration.
        preprocessing: The stage's preprocessing config (:class:`LiverStageConfig` or
            :class:`TumorStageConfig`); feed it to ``global_view`` / ``local_view``.
        label_map: Output class index → name.
        sliding_window: Window size (the training ROI), overlap and blending to use.
        postprocessing: ``largest_component+fill_holes`` (liver), ``restrict_to_liver``
            (tumor) or ``none`` (multiclass).
        versions: smoothseg, torch and MONAI versions that trained it.
        training: Provenance: epoch, validation score, run folder, full training config.

    """

    path: Path
    stage: StageName
    model: SegmentationNetwork
    model_config: ModelConfig
    preprocessing: StageConfig
    label_map: dict[int, str]
    sliding_window: SlidingWindowConfig
    postprocessing: str
    versions: dict[str, str] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)


class BundleSource(Protocol):
    """What a bundle records of the run that trained it (a training config satisfies it)."""

    @property
    def stage(self) -> StageName:
        """``liver``, ``tumor`` or ``multiclass``."""

    @property
    def model(self) -> ModelConfig:
        """The network's configuration."""

    @property
    def preprocess(self) -> StageConfig:
        """The stage's preprocessing."""

    @property
    def label_map(self) -> dict[int, str]:
        """Output class index → name."""

    @property
    def val_overlap(self) -> float:
        """Sliding-window overlap used in validation (and recorded for inference)."""

    def to_dict(self) -> dict[str, Any]:
        """The full training config, JSON-ready."""


def versions() -> dict[str, str]:
    """Versions of the packages a bundle depends on."""
    return package_versions("torch", "monai")


def bundle_document(
    config: BundleSource, training: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``bundle.json`` content for a model trained with ``config``."""
    return {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_VERSION,
        "stage": config.stage,
        "model": config.model.to_dict(),
        "preprocessing": config.preprocess.to_dict(),
        "label_map": {str(k): v for k, v in config.label_map.items()},
        "sliding_window": {
            "roi_size": list(config.preprocess.roi_size),
            "overlap": config.val_overlap,
            "mode": "gaussian",
            "sigma_scale": 0.125,
            "pad_value": 0.0,
        },
        "postprocessing": POSTPROCESSING[config.stage],
        "versions": versions(),
        "training": {**dict(training or {}), "config": config.to_dict()},
    }


def save_bundle(
    out_dir: str | Path,
    model: SegmentationNetwork,
    config: BundleSource,
    *,
    training: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a bundle folder atomically (built beside ``out_dir``, then renamed into place).

    Args:
        out_dir: The bundle folder to create.
        model: Trained network (its state_dict is saved, moved to CPU).
        config: The run's training config (model, preprocessing, label map come from it).
        training: Provenance to record (epoch, score, run folder...); JSON-ready values.
        overwrite: Replace an existing bundle.

    Raises:
        OutputExistsError: ``out_dir`` exists and ``overwrite`` is False.

    """
    target = Path(out_dir)
    if target.exists() and not overwrite:
        raise OutputExistsError(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save(state, work / MODEL_FILE)
        document = bundle_document(config, training)
        (work / BUNDLE_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        apply_umask(work)
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def load_bundle(path: str | Path, *, device: torch.device | str = "cpu") -> Bundle:
    """Load a bundle folder for inference (no training config needed).

    Args:
        path: The bundle folder (or its ``bundle.json``).
        device: Where to put the model.

    Returns:
        The :class:`Bundle`, model in eval mode.

    Raises:
        InputError: Missing files, not a smoothseg bundle, a newer format, or weights that do
            not fit the recorded model config.

    """
    folder = Path(path)
    if folder.name == BUNDLE_FILE:
        folder = folder.parent
    doc_path, weights = folder / BUNDLE_FILE, folder / MODEL_FILE
    if not doc_path.is_file() or not weights.is_file():
        raise InputError(folder, f"not a model bundle (needs {BUNDLE_FILE} and {MODEL_FILE})")
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(doc_path, f"cannot read bundle description: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
        raise InputError(doc_path, "not a smoothseg bundle description")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(
            doc_path, f"bundle format_version {version!r} is not one this smoothseg reads (1)"
        )
    if version > BUNDLE_VERSION:
        raise InputError(
            doc_path,
            f"bundle format {version} is newer than this smoothseg (reads up to "
            f"{BUNDLE_VERSION}); upgrade smoothseg to use it",
        )
    try:
        stage = str(doc["stage"])
        model_config = ModelConfig.from_dict(doc["model"])
        preprocessing = stage_config_from_dict(stage, doc["preprocessing"])
        window = doc["sliding_window"]
        roi = [int(v) for v in window["roi_size"]]
        sliding = SlidingWindowConfig(
            roi_size=(roi[0], roi[1], roi[2]),
            overlap=float(window["overlap"]),
            mode=str(window["mode"]),
            sigma_scale=float(window["sigma_scale"]),
            pad_value=float(window["pad_value"]),
        )
        label_map = {int(k): str(v) for k, v in doc["label_map"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(doc_path, f"incomplete or invalid bundle description: {exc}") from exc
    model = build_model(model_config, seed=0)  # weights are replaced; keeps global RNG alone
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as exc:  # torch raises several types for bad or mismatched weights
        raise InputError(weights, f"cannot load the weights: {exc}") from exc
    model.to(device).eval()
    return Bundle(
        path=folder,
        stage=_stage_name(stage, doc_path),
        model=model,
        model_config=model_config,
        preprocessing=preprocessing,
        label_map=label_map,
        sliding_window=sliding,
        postprocessing=str(doc.get("postprocessing", POSTPROCESSING.get(stage, "none"))),
        versions={str(k): str(v) for k, v in dict(doc.get("versions", {})).items()},
        training=dict(doc.get("training", {})),
    )


def bundle_id(bundle: Bundle) -> str:
    """``<folder>@<first 12 hex digits of sha256(model.pt)>``."""
    digest = hashlib.sha256((bundle.path / MODEL_FILE).read_bytes()).hexdigest()[:12]
    return f"{bundle.path.name}@{digest}"


def default_model_dir() -> Path:
    """The model folder shipped with the package (trained on synthetic phantoms)."""
    return Path(str(resources.files("smoothseg") / "default_model"))


def _stage_name(stage: str, path: Path) -> StageName:
    if stage == "liver":
        return "liver"
    if stage == "tumor":
        return "tumor"
    if stage == "multiclass":
        return "multiclass"
    raise InputError(path, f"unknown stage {stage!r}")
