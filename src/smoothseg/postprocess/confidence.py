"""Per-lesion confidence: mean tumor probability, contrast to the surrounding liver, CNR.

Each 26-connected lesion of a tumor mask (numbered as in
:func:`smoothseg.postprocess.lesions.lesion_stats`: largest first, ties in labelling order) gets

* ``mean_probability`` — the mean predicted tumor probability over its voxels (``None`` when no
  probability map is given);
* ``shell_hu`` — the median HU of a *shell* of liver around it: liver voxels (not tumor) within
  :attr:`QualityConfig.shell_mm` of the lesion (distances in mm with the real voxel spacing);
* ``contrast_hu`` — lesion mean HU minus ``shell_hu`` (negative: hypodense);
* ``noise_hu`` — the shell's robust standard deviation (1.4826 x median absolute deviation,
  at least 1 HU), and ``cnr = contrast_hu / noise_hu``.

A lesion is **uncertain** when its mean probability is below
:attr:`QualityConfig.min_mean_probability`, when it is liver-isodense
(``|contrast_hu| < isodense_hu``) or when ``|cnr| < min_cnr``; ``reasons`` says which. Uncertain
lesions are reported, never dropped. With fewer than ``min_shell_voxels`` liver voxels around a
lesion (it fills the liver, or no liver mask) the contrast fields are ``None`` and only the
probability decides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import cc3d
import numpy as np
import numpy.typing as npt
from scipy import ndimage

from smoothseg.postprocess.quality_config import QualityConfig

Mask = npt.NDArray[np.bool_]
#: Robust SD from the median absolute deviation (normal data).
MAD_TO_SD = 1.4826
#: Floor of ``noise_hu`` so that noise-free volumes give a finite CNR.
MIN_NOISE_HU = 1.0


@dataclass(frozen=True)
class LesionConfidence:
    """How much to trust one predicted lesion (see the module docs).

    Attributes:
        index: 1-based, largest first (the same numbering as ``LesionStats.index``).
        voxels: Lesion size in voxels.
        volume_ml: Lesion volume.
        mean_probability: Mean tumor probability over the lesion, or ``None``.
        mean_hu: Mean HU of the lesion.
        shell_hu: Median HU of the surrounding liver shell, or ``None``.
        contrast_hu: ``mean_hu - shell_hu``, or ``None``.
        noise_hu: Robust SD of the shell's HU, or ``None``.
        cnr: ``contrast_hu / noise_hu``, or ``None``.
        uncertain: Below a confidence threshold (``reasons`` says which).
        reasons: Why it is uncertain (empty when it is not).

    """

    index: int
    voxels: int
    volume_ml: float
    mean_probability: float | None
    mean_hu: float
    shell_hu: float | None
    contrast_hu: float | None
    noise_hu: float | None
    cnr: float | None
    uncertain: bool
    reasons: tuple[str, ...] = ()

    @property
    def confidence(self) -> str:
        """``uncertain`` or ``confident``."""
        return "uncertain" if self.uncertain else "confident"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (floats rounded; ``confidence`` added)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float):
                out[key] = round(value, 4 if key in ("volume_ml", "mean_probability") else 2)
            elif isinstance(value, tuple):
                out[key] = list(value)
            else:
                out[key] = value
        out["confidence"] = self.confidence
        return out


def _as_mask(values: npt.ArrayLike) -> Mask:
    return np.asarray(values).astype(bool, copy=False)


def check_same_shape(**arrays: npt.NDArray[Any] | None) -> tuple[int, ...]:
    """The common shape of the given (non-``None``) arrays; ``ValueError`` when they differ."""
    shapes = {name: a.shape for name, a in arrays.items() if a is not None}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"arrays must share one grid, got {listed}")
    return next(iter(shapes.values()))


def check_spacing(spacing_mm: Sequence[float]) -> tuple[float, float, float]:
    """Three positive finite voxel sizes in mm (``ValueError`` otherwise)."""
    values = tuple(float(s) for s in spacing_mm)
    if len(values) != 3 or not all(math.isfinite(s) and s > 0 for s in values):
        raise ValueError(f"spacing_mm must be three positive numbers, got {spacing_mm}")
    return values[0], values[1], values[2]


def robust_sd(values: npt.NDArray[np.float64]) -> float:
    """1.4826 x median absolute deviation, at least :data:`MIN_NOISE_HU`."""
    mad = float(np.median(np.abs(values - np.median(values))))
    return max(MAD_TO_SD * mad, MIN_NOISE_HU)


def _labelled(tumor: Mask) -> tuple[npt.NDArray[Any], list[int]]:
    """Component labels and label ids ordered largest first (stable: labelling order)."""
    labels, n = cc3d.connected_components(
        np.ascontiguousarray(tumor, dtype=np.uint8), connectivity=26, return_N=True
    )
    counts = np.bincount(labels.ravel(), minlength=int(n) + 1)
    order = sorted(range(1, int(n) + 1), key=lambda i: -int(counts[i]))
    return labels, order


def _grown_box(
    box: tuple[slice, ...],
    shape: tuple[int, ...],
    spacing: tuple[float, float, float],
    shell_mm: float,
) -> tuple[slice, ...]:
    """``box`` grown by ``shell_mm`` (plus one voxel) on every side, clipped to ``shape``."""
    pads = (math.ceil(shell_mm / s) + 1 for s in spacing)
    return tuple(
        slice(max(b.start - pad, 0), min(b.stop + pad, n))
        for b, pad, n in zip(box, pads, shape, strict=True)
    )


def _shell(inside: Mask, spacing: tuple[float, float, float], shell_mm: float) -> Mask:
    """Voxels within ``shell_mm`` of ``inside`` (mm distances), not in it."""
    distance = ndimage.distance_transform_edt(~inside, sampling=spacing)
    shell: Mask = (distance > 0) & (distance <= shell_mm)
    return shell


def _reasons(
    probability: float | None, contrast: float | None, cnr: float | None, config: QualityConfig
) -> tuple[str, ...]:
    out = []
    if probability is not None and probability < config.min_mean_probability:
        out.append(f"mean tumor probability {probability:.2f} < {config.min_mean_probability:.2f}")
    if contrast is not None and abs(contrast) < config.isodense_hu:
        out.append(
            f"liver-isodense: {contrast:+.0f} HU against the surrounding liver "
            f"(|contrast| < {config.isodense_hu:g} HU)"
        )
    elif cnr is not None and abs(cnr) < config.min_cnr:
        out.append(f"contrast-to-noise {cnr:+.2f} (|CNR| < {config.min_cnr:g})")
    return tuple(out)


def lesion_confidence(
    tumor: npt.ArrayLike,
    liver: npt.ArrayLike | None,
    image_hu: npt.ArrayLike,
    spacing_mm: Sequence[float],
    tumor_probability: npt.ArrayLike | None = None,
    config: QualityConfig | None = None,
) -> list[LesionConfidence]:
    """Confidence of each 26-connected lesion of ``tumor``, largest first.

    Args:
        tumor: Tumor mask.
        liver: Liver mask (tumor included or not); ``None`` gives no contrast fields.
        image_hu: The CT in HU, on the same grid.
        spacing_mm: Voxel size along the three array axes.
        tumor_probability: Tumor-class probability (0-1) on the same grid, or ``None``.
        config: Thresholds (default :class:`QualityConfig`).

    Raises:
        ValueError: Arrays on different grids, bad spacing, probabilities outside 0-1.

    """
    config = config or QualityConfig()
    mask = _as_mask(tumor)
    liver_mask = None if liver is None else _as_mask(liver)
    hu = np.asarray(image_hu)
    prob = None if tumor_probability is None else np.asarray(tumor_probability)
    check_same_shape(tumor=mask, liver=liver_mask, image_hu=hu, tumor_probability=prob)
    spacing = check_spacing(spacing_mm)
    if prob is not None and prob.size and not (prob.min() >= 0.0 and prob.max() <= 1.0):
        raise ValueError("tumor_probability must lie in 0..1")
    labels, order = _labelled(mask)
    boxes = cc3d.statistics(labels)["bounding_boxes"] if order else []
    background = None if liver_mask is None else liver_mask & ~mask
    voxel_ml = spacing[0] * spacing[1] * spacing[2] / 1000.0
    found = []
    for index, label in enumerate(order, start=1):
        grown = _grown_box(boxes[label], mask.shape, spacing, config.shell_mm)
        inside = labels[grown] == label
        shell = _shell(inside, spacing, config.shell_mm)
        values = hu[grown][inside].astype(np.float64)
        mean_hu = float(values.mean())
        probability = None if prob is None else float(prob[grown][inside].mean())
        shell_hu = contrast = noise = cnr = None
        if background is not None:
            ring = hu[grown][shell & background[grown]].astype(np.float64)
            if ring.size >= config.min_shell_voxels:
                shell_hu = float(np.median(ring))
                contrast = mean_hu - shell_hu
                noise = robust_sd(ring)
                cnr = contrast / noise
        reasons = _reasons(probability, contrast, cnr, config)
        found.append(
            LesionConfidence(
                index=index,
                voxels=int(values.size),
                volume_ml=values.size * voxel_ml,
                mean_probability=probability,
                mean_hu=mean_hu,
                shell_hu=shell_hu,
                contrast_hu=contrast,
                noise_hu=noise,
                cnr=cnr,
                uncertain=bool(reasons),
                reasons=reasons,
            )
        )
    return found
