"""Two-stage prediction with loaded model bundles: :class:`Predictor` → :class:`Prediction`.

A model folder is either a combined folder holding ``liver/`` and ``tumor/`` bundles (the
shipped default model, :func:`default_model_dir`), or one bundle (``bundle.json``): a
multi-class bundle runs alone, a liver bundle gives liver masks only.

:meth:`Predictor.predict` runs the model stages (liver, clean-up, tumor); the tumor refinement
and lesion filter are post-processing (:func:`smoothseg.postprocess.run.finish_prediction`,
which :func:`smoothseg.postprocess.run.predict_volume` chains after it).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from smoothseg.errors import InputError
from smoothseg.inference.config import PredictConfig, check_device_available
from smoothseg.inference.stages import liver_stage, tumor_stage
from smoothseg.io.modality import check_ct_intensities
from smoothseg.io.volume import Volume
from smoothseg.training.bundle import BUNDLE_FILE, MODEL_FILE, Bundle, load_bundle

Mask = npt.NDArray[np.bool_]
Status = Literal["ok", "no-liver"]
PROVENANCE_FILE = "provenance.json"


def default_model_dir() -> Path:
    """The model folder shipped with the package (trained on synthetic phantoms)."""
    return Path(str(resources.files("smoothseg") / "default_model"))


def bundle_id(bundle: Bundle) -> str:
    """``<folder>@<first 12 hex digits of sha256(model.pt)>``."""
    digest = hashlib.sha256((bundle.path / MODEL_FILE).read_bytes()).hexdigest()[:12]
    return f"{bundle.path.name}@{digest}"


@dataclass(frozen=True, eq=False)
class Prediction:
    """The result of one scan.

    Attributes:
        image: The CT in canonical RAS order (its ``native`` grid remembered).
        liver: Liver mask (tumor included) on ``image``'s grid.
        tumor: Tumor mask on ``image``'s grid (inside ``liver``).
        status: ``ok``, or ``no-liver`` when the liver stage found no liver (then both masks
            are empty and the tumor stage did not run).
        timings_s: Seconds per stage.
        warnings: Problems worth telling the user.
        details: What ran (stage spacings, TTA flips, refinement...), for the report.

    """

    image: Volume
    liver: Mask
    tumor: Mask
    status: Status
    timings_s: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> Volume:
        """0/1/2 label map on the canonical grid; written onto the input's native grid."""
        out = np.zeros(self.image.shape, dtype=np.uint8)
        out[self.liver] = 1
        out[self.tumor & self.liver] = 2
        return self.image.with_array(out, kind="label")


class Predictor:
    """Loaded models plus options; reuse one for many scans (models load once)."""

    def __init__(
        self,
        liver: Bundle,
        tumor: Bundle | None,
        config: PredictConfig | None = None,
        *,
        model_dir: Path | None = None,
    ) -> None:
        """Wrap loaded bundles (see :meth:`from_bundle` / :meth:`from_model_dir`).

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

            from smoothseg.training.fastpath import auto_sw_batch_size

            self._sw_batch[key] = auto_sw_batch_size(
                bundle.model,
                bundle.sliding_window.roi_size,
                cfg.device,
                in_channels=bundle.model_config.in_channels,
                dtype=torch.float16 if cfg.amp else None,
                fallback=cfg.sw_batch_size,
            )
        return self._sw_batch[key]

    def predict(self, volume: Volume) -> Prediction:
        """Run the model stages on one CT (HU, any orientation; canonicalised here).

        Raises:
            InputError: The image is evidently not a CT in HU (see :mod:`smoothseg.io.modality`).

        """
        check_ct_intensities(volume)
        cfg = self.config
        timings: dict[str, float] = {}
        # The reader's doubts (e.g. an identity affine: spacing assumed) travel with the result.
        warnings: list[str] = list(volume.source.warnings)
        image = volume.to_canonical()
        start = time.perf_counter()
        factor = cfg.fast_factor if cfg.fast else 1.0
        liver, multi_tumor = liver_stage(
            image,
            self.liver,
            overlap=cfg.overlap,
            tta=cfg.tta,
            spacing_factor=factor,
            sw_batch_size=self.sw_batch_size(self.liver),
            device=cfg.device,
            amp=cfg.amp,
        )
        timings["liver_s"] = time.perf_counter() - start
        details: dict[str, Any] = {
            "liver_spacing_factor": factor,
            "two_stage": self.tumor is not None,
        }
        liver_ml = float(np.count_nonzero(liver)) * image.voxel_volume_ml
        problem = _implausible(image, liver, liver_ml, cfg)
        if problem:
            warnings.append(f"no liver found ({problem}); the tumor stage was not run")
            empty = np.zeros(image.shape, dtype=bool)
            return Prediction(
                image, empty, empty.copy(), "no-liver", timings, tuple(warnings), details
            )
        start = time.perf_counter()
        if multi_tumor is not None:
            tumor = (multi_tumor >= 0.5) & liver
        elif self.tumor is not None:
            tumor = tumor_stage(
                image,
                liver,
                self.tumor,
                overlap=cfg.overlap,
                tta=cfg.tta,
                margin_mm=cfg.liver_margin_mm,
                sw_batch_size=self.sw_batch_size(self.tumor),
                device=cfg.device,
                amp=cfg.amp,
            )
        else:
            tumor = np.zeros(image.shape, dtype=bool)
            warnings.append("liver-only model: no tumor stage")
        timings["tumor_s"] = time.perf_counter() - start
        return Prediction(image, liver, tumor, "ok", timings, tuple(warnings), details)


def _implausible(image: Volume, liver: Mask, liver_ml: float, cfg: PredictConfig) -> str:
    """Why the liver found is not a liver ("" when it is plausible)."""
    if liver_ml < cfg.min_liver_ml:
        return f"liver component {liver_ml:.1f} mL < {cfg.min_liver_ml} mL"
    median = float(np.median(np.asarray(image.array)[liver]))
    low, high = cfg.liver_hu_range
    if not low <= median <= high:
        return (
            f"median intensity of the found region {median:.0f} HU is outside {low:.0f}..{high:.0f}"
        )
    return ""


def _provenance(model_dir: Path | None) -> dict[str, Any]:
    if model_dir is None or not (model_dir / PROVENANCE_FILE).is_file():
        return {}
    try:
        data = json.loads((model_dir / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(model_dir / PROVENANCE_FILE, f"cannot read: {exc}") from exc
    return dict(data) if isinstance(data, dict) else {}
