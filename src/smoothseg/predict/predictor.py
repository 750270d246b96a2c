"""Two-stage prediction with loaded model bundles: :class:`Predictor` → :class:`Prediction`.

A model folder is either a combined folder holding ``liver/`` and ``tumor/`` bundles (the
shipped default model, :func:`~smoothseg.bundle.default_model_dir`), or one bundle
(``bundle.json``): a multi-class bundle runs alone, a liver bundle gives liver masks only.

:meth:`Predictor.predict` runs the model stages (:func:`smoothseg.inference.run_stages`) and
then the post-processing (:func:`smoothseg.postprocess.finish_tumor`: Chan-Vese refinement and
the minimum-lesion filter) as the config says; :meth:`Predictor.run_stages` and
:meth:`Predictor.finish` are the two halves.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from smoothseg.bundle import BUNDLE_FILE, Bundle, bundle_id, default_model_dir, load_bundle
from smoothseg.errors import InputError
from smoothseg.inference.config import check_device_available
from smoothseg.inference.two_stage import Prediction, run_stages
from smoothseg.io.modality import check_ct_intensities
from smoothseg.io.volume import Volume
from smoothseg.postprocess.finish import finish_tumor
from smoothseg.postprocess.quality import QualityReport, assess_quality, quality_config_for
from smoothseg.postprocess.quality_config import QualityConfig
from smoothseg.predict.config import PredictConfig
from smoothseg.preprocess.config import TumorStageConfig

PROVENANCE_FILE = "provenance.json"


class Predictor:
    """Loaded models plus options; reuse one for many scans (models load once)."""

    def __init__(
        self,
        liver: Bundle,
        tumor: Bundle | None,
        config: PredictConfig | None = None,
        *,
        model_dir: Path | None = None,
        quality: QualityConfig | None = None,
    ) -> None:
        """Wrap loaded bundles (see :meth:`from_bundle` / :meth:`from_model_dir`).

        ``quality`` sets the QC thresholds (default :class:`QualityConfig`).

        Raises:
            InputError: The bundles' stages do not fit (liver or multi-class first, tumor second).

        """
        if liver.stage not in ("liver", "multiclass"):
            raise InputError(
                liver.path, f"expected a liver or multiclass bundle, got {liver.stage}"
            )
        if tumor is not None and tumor.stage != "tumor":
            raise InputError(tumor.path, f"expected a tumor bundle, got {tumor.stage}")
        if liver.stage == "multiclass" and tumor is not None:
            raise InputError(tumor.path, "a multiclass bundle runs alone, without a tumor bundle")
        self.liver = liver
        self.tumor = tumor
        self.config = config or PredictConfig()
        self.model_dir = model_dir
        self.quality = quality or QualityConfig()
        self.provenance = _provenance(model_dir)
        self._sw_batch: dict[str, int] = {}
        if self.config.device.startswith("cuda"):
            import torch

            torch.backends.cudnn.benchmark = True  # fixed window shapes: autotune once

    @classmethod
    def from_bundle(
        cls,
        liver_dir: str | Path,
        tumor_dir: str | Path | None = None,
        config: PredictConfig | None = None,
    ) -> Predictor:
        """Load a liver (or multi-class) bundle and optionally a tumor bundle."""
        cfg = config or PredictConfig()
        check_device_available(cfg.device)
        liver = load_bundle(liver_dir, device=cfg.device)
        tumor = None if tumor_dir is None else load_bundle(tumor_dir, device=cfg.device)
        return cls(liver, tumor, cfg)

    @classmethod
    def from_model_dir(
        cls, model_dir: str | Path | None = None, config: PredictConfig | None = None
    ) -> Predictor:
        """Load a combined ``liver/`` + ``tumor/`` folder or a single bundle (default: shipped).

        Raises:
            InputError: The folder holds neither.

        """
        folder = Path(model_dir) if model_dir is not None else default_model_dir()
        cfg = config or PredictConfig()
        check_device_available(cfg.device)
        if (folder / "liver" / BUNDLE_FILE).is_file():
            tumor_dir = folder / "tumor"
            tumor = load_bundle(tumor_dir, device=cfg.device) if tumor_dir.is_dir() else None
            liver = load_bundle(folder / "liver", device=cfg.device)
            return cls(liver, tumor, cfg, model_dir=folder)
        if (folder / BUNDLE_FILE).is_file():
            return cls(load_bundle(folder, device=cfg.device), None, cfg, model_dir=folder)
        if model_dir is None:
            raise InputError(
                folder, "the default model is not installed; train one (docs/predict.md)"
            )
        raise InputError(
            folder, "not a model folder (needs liver/ + tumor/ bundles or bundle.json)"
        )

    @property
    def model_info(self) -> dict[str, Any]:
        """Bundle ids, stages, provenance and disclaimer for the report."""
        stages = (
            {"liver": self.liver}
            if self.tumor is None
            else {"liver": self.liver, "tumor": self.tumor}
        )
        if self.liver.stage == "multiclass":
            stages = {"multiclass": self.liver}
        info: dict[str, Any] = {
            "id": "+".join(bundle_id(b) for b in stages.values()),
            "folder": str(self.model_dir) if self.model_dir is not None else None,
            "stages": {
                name: {
                    "id": bundle_id(b),
                    "path": str(b.path),
                    "model": b.model_config.name,
                    "target_spacing_mm": b.preprocessing.target_spacing_mm,
                    "epoch": b.training.get("epoch"),
                    "val_dice": b.training.get("val_dice"),
                    "versions": b.versions,
                }
                for name, b in stages.items()
            },
        }
        info.update(self.provenance)
        return info

    def sw_batch_size(self, bundle: Bundle) -> int:
        """Windows per pass for ``bundle``: the config's, or tuned to GPU memory (once)."""
        cfg = self.config
        if not (cfg.auto_sw_batch and cfg.device.startswith("cuda")):
            return cfg.sw_batch_size
        key = str(bundle.path)
        if key not in self._sw_batch:
            import torch

            from smoothseg.models.sliding import auto_sw_batch_size

            self._sw_batch[key] = auto_sw_batch_size(
                bundle.model,
                bundle.sliding_window.roi_size,
                cfg.device,
                in_channels=bundle.model_config.in_channels,
                dtype=torch.float16 if cfg.amp else None,
                fallback=cfg.sw_batch_size,
            )
        return self._sw_batch[key]

    def run_stages(self, volume: Volume) -> Prediction:
        """The model stages only (no refinement, no lesion filter) on one CT in HU.

        Raises:
            InputError: The image is evidently not a CT in HU (see :mod:`smoothseg.io.modality`).

        """
        check_ct_intensities(volume)
        return run_stages(
            volume,
            self.liver,
            self.tumor,
            self.config.inference,
            sw_batch_size=self.sw_batch_size,
        )

    def finish(self, prediction: Prediction) -> Prediction:
        """Post-process a :meth:`run_stages` result as the config says (refine, lesion filter)."""
        if prediction.status != "ok":
            return prediction
        done = finish_tumor(
            np.asarray(prediction.image.array),
            prediction.tumor,
            prediction.liver,
            prediction.image.spacing_mm,
            self.config.postprocess,
            hu_window=self.tumor_window,
        )
        finished = replace(prediction, tumor=done.tumor)
        start = time.perf_counter()
        quality = self.assess(finished)
        return replace(
            finished,
            warnings=(*prediction.warnings, *quality.warnings),
            timings_s={
                **prediction.timings_s,
                **done.timings_s,
                "quality_s": time.perf_counter() - start,
            },
            details={**prediction.details, **done.details, "quality": quality.to_dict()},
        )

    def assess(self, prediction: Prediction) -> QualityReport:
        """Lesion confidences and the case's QC verdict (see :mod:`smoothseg.postprocess.quality`).

        The liver HU range the model was trained on comes from its bundle when recorded.
        """
        bundle = self.tumor if self.tumor is not None else self.liver
        return assess_quality(
            prediction.image,
            prediction.liver,
            prediction.tumor,
            prediction.tumor_probability,
            quality_config_for(bundle.training, self.quality),
        )

    def predict(self, volume: Volume) -> Prediction:
        """Segment one CT (HU, any orientation): model stages, then post-processing.

        Raises:
            InputError: The image is evidently not a CT in HU (see :mod:`smoothseg.io.modality`).

        """
        return self.finish(self.run_stages(volume))

    @property
    def tumor_window(self) -> tuple[float, float]:
        """The HU window of the tumor stage (Chan-Vese refines on it)."""
        config = self.tumor.preprocessing if self.tumor is not None else None
        return config.hu_window if isinstance(config, TumorStageConfig) else (-200.0, 250.0)


def _provenance(model_dir: Path | None) -> dict[str, Any]:
    if model_dir is None or not (model_dir / PROVENANCE_FILE).is_file():
        return {}
    try:
        data = json.loads((model_dir / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(model_dir / PROVENANCE_FILE, f"cannot read: {exc}") from exc
    return dict(data) if isinstance(data, dict) else {}
