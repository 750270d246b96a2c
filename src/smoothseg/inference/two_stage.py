"""The model stages on one CT: liver (or multi-class) first, then tumor in the liver's box.

:func:`run_stages` returns the raw :class:`Prediction` (no tumor refinement, no lesion filter:
those are post-processing, which :class:`smoothseg.predict.Predictor` adds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from smoothseg.bundle import Bundle
from smoothseg.inference.config import InferenceConfig
from smoothseg.inference.stages import liver_stage, tumor_probability
from smoothseg.io.volume import Volume

Mask = npt.NDArray[np.bool_]
F32 = npt.NDArray[np.float32]
Status = Literal["ok", "no-liver"]


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
        tumor_probability: The model's tumor-class probability on ``image``'s grid (``None``
            without a tumor stage); lesion confidences are read from it.

    """

    image: Volume
    liver: Mask
    tumor: Mask
    status: Status
    timings_s: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    tumor_probability: F32 | None = None

    @property
    def labels(self) -> Volume:
        """0/1/2 label map on the canonical grid; written onto the input's native grid."""
        out = np.zeros(self.image.shape, dtype=np.uint8)
        out[self.liver] = 1
        out[self.tumor & self.liver] = 2
        return self.image.with_array(out, kind="label")


def run_stages(
    volume: Volume,
    liver_bundle: Bundle,
    tumor_bundle: Bundle | None,
    config: InferenceConfig,
    *,
    sw_batch_size: Callable[[Bundle], int] | None = None,
) -> Prediction:
    """Run the liver (or multi-class) stage, check the liver, then the tumor stage.

    Args:
        volume: A CT in HU, any orientation (canonicalised here).
        liver_bundle: The liver or multi-class bundle.
        tumor_bundle: The tumor bundle (``None``: liver only, or multi-class).
        config: Inference options.
        sw_batch_size: Windows per pass for a bundle (default: the config's).

    """
    cfg = config
    windows = sw_batch_size or (lambda _bundle: cfg.sw_batch_size)
    timings: dict[str, float] = {}
    # The reader's doubts (e.g. an identity affine: spacing assumed) travel with the result.
    warnings: list[str] = list(volume.source.warnings)
    image = volume.to_canonical()
    start = time.perf_counter()
    factor = cfg.fast_factor if cfg.fast else 1.0
    if factor != 1.0:
        warnings.append(
            f"fast mode: the liver stage ran at {factor:g}x the voxel size its model was trained "
            "at, so it saw the anatomy smaller than in training; check the liver contour"
        )
    liver, multi_tumor = liver_stage(
        image,
        liver_bundle,
        overlap=cfg.overlap,
        tta=cfg.tta,
        spacing_factor=factor,
        neck_mm=cfg.liver_neck_mm,
        sw_batch_size=windows(liver_bundle),
        device=cfg.device,
        amp=cfg.amp,
    )
    timings["liver_s"] = time.perf_counter() - start
    details: dict[str, Any] = {
        "liver_spacing_factor": factor,
        "two_stage": tumor_bundle is not None,
    }
    liver_ml = float(np.count_nonzero(liver)) * image.voxel_volume_ml
    problem = implausible_liver(image, liver, liver_ml, cfg)
    if problem:
        warnings.append(f"no liver found ({problem}); the tumor stage was not run")
        empty = np.zeros(image.shape, dtype=bool)
        return Prediction(image, empty, empty.copy(), "no-liver", timings, tuple(warnings), details)
    start = time.perf_counter()
    probability: F32 | None = None
    if multi_tumor is not None:
        probability = multi_tumor
        tumor = (multi_tumor >= 0.5) & liver
    elif tumor_bundle is not None:
        probability = tumor_probability(
            image,
            liver,
            tumor_bundle,
            overlap=cfg.overlap,
            tta=cfg.tta,
            margin_mm=cfg.liver_margin_mm,
            sw_batch_size=windows(tumor_bundle),
            device=cfg.device,
            amp=cfg.amp,
        )
        tumor = (probability >= 0.5) & liver
    else:
        tumor = np.zeros(image.shape, dtype=bool)
        warnings.append("liver-only model: no tumor stage")
    timings["tumor_s"] = time.perf_counter() - start
    return Prediction(
        image, liver, tumor, "ok", timings, tuple(warnings), details, tumor_probability=probability
    )


def implausible_liver(image: Volume, liver: Mask, liver_ml: float, cfg: InferenceConfig) -> str:
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
