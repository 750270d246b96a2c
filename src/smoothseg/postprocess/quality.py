"""The per-case quality-control (QC) verdict of one prediction: a list of warnings.

Rules (thresholds and their sources: :class:`~smoothseg.postprocess.quality_config.QualityConfig`):

1. **Liver volume** outside ``liver_ml_range`` (skipped when no liver was found).
2. **Liver touching the scan's edge**: at least ``edge_min_area_mm2`` of liver on a face of the
   volume; the scan may cut the liver, so its volume may be too small.
3. **Large uncertain lesion**: a lesion of at least ``large_lesion_ml`` that is uncertain (low
   mean probability, liver-isodense or low contrast-to-noise; see
   :mod:`~smoothseg.postprocess.confidence`).
4. **No real voxel spacing**: the file stores none (identity affine; the reader assumed 1 mm).
5. **Intensity the model was not trained for**: the liver's median HU (tumor excluded, one voxel
   eroded) outside ``trained_liver_hu`` ± ``liver_hu_margin`` (an unusual phase, contrast or
   calibration), or its robust noise above ``max_liver_noise_hu``.

Every function is pure: masks and HU arrays on one grid plus the voxel spacing in mm.
:func:`assess_quality` runs both the lesion confidence and the case verdict on a
:class:`~smoothseg.io.volume.Volume`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from smoothseg.io.volume import Volume
from smoothseg.postprocess.confidence import (
    LesionConfidence,
    check_same_shape,
    check_spacing,
    lesion_confidence,
    robust_sd,
)
from smoothseg.postprocess.lesions import LesionStats
from smoothseg.postprocess.quality_config import QualityConfig

_SIDES = {"R": "right", "L": "left", "A": "anterior", "P": "posterior", "S": "superior"}
_SIDES |= {"I": "inferior"}
_OPPOSITE = {"R": "L", "L": "R", "A": "P", "P": "A", "S": "I", "I": "S"}
#: Words of the reader's warning for a file without voxel spacing (``smoothseg.io.nifti``).
_ASSUMED_SPACING_WORDS = ("no real voxel spacing", "spacing assumed", "mm assumed")


@dataclass(frozen=True)
class CaseQuality:
    """The QC verdict of one case.

    Attributes:
        warnings: One sentence per rule that fired (empty: nothing noticed).
        liver_ml: Liver volume (mask as given).
        liver_median_hu: Median HU of the liver parenchyma, or ``None`` without liver.
        liver_noise_hu: Robust SD of the liver parenchyma's HU, or ``None``.
        edge_sides: Sides of the scan the liver touches (e.g. ``("superior",)``).

    """

    warnings: tuple[str, ...]
    liver_ml: float
    liver_median_hu: float | None
    liver_noise_hu: float | None
    edge_sides: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "warnings": list(self.warnings),
            "liver_ml": round(self.liver_ml, 3),
            "liver_median_hu": _round(self.liver_median_hu),
            "liver_noise_hu": _round(self.liver_noise_hu),
            "edge_sides": list(self.edge_sides),
        }


@dataclass(frozen=True)
class QualityReport:
    """Lesion confidences (largest first) plus the case verdict."""

    lesions: tuple[LesionConfidence, ...]
    case: CaseQuality
    config: QualityConfig = field(default_factory=QualityConfig)

    @property
    def warnings(self) -> tuple[str, ...]:
        """The case's QC warnings."""
        return self.case.warnings

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the case verdict, the lesions' confidences and the thresholds."""
        return {
            **self.case.to_dict(),
            "lesions": [lesion.to_dict() for lesion in self.lesions],
            "thresholds": self.config.to_dict(),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def edge_sides(
    liver: npt.ArrayLike,
    spacing_mm: Sequence[float],
    min_area_mm2: float,
    axcodes: Sequence[str] = ("R", "A", "S"),
) -> tuple[str, ...]:
    """Sides of the volume where the liver covers at least ``min_area_mm2``.

    Args:
        liver: Liver mask.
        spacing_mm: Voxel size along the three array axes.
        min_area_mm2: Least liver area on a face that counts as touching it.
        axcodes: Direction each array axis points to (canonical RAS by default), to name sides.

    """
    mask = np.asarray(liver).astype(bool, copy=False)
    spacing = check_spacing(spacing_mm)
    sides = []
    for axis, code in enumerate(axcodes):
        face_mm2 = float(np.prod([s for a, s in enumerate(spacing) if a != axis]))
        for position, letter in ((0, _OPPOSITE[code]), (-1, code)):
            area = float(np.count_nonzero(np.take(mask, position, axis=axis))) * face_mm2
            if mask.shape[axis] and area >= min_area_mm2:
                sides.append(_SIDES[letter])
    return tuple(sides)


def _parenchyma_hu(
    hu: npt.NDArray[Any], liver: npt.NDArray[np.bool_], tumor: npt.NDArray[np.bool_] | None
) -> npt.NDArray[np.float64]:
    """HU of the liver without tumor, eroded by one voxel (unless that leaves nothing)."""
    box = tuple(
        slice(int(idx.min()), int(idx.max()) + 1) for idx in np.nonzero(liver)
    )  # the liver's bounding box: erode there only
    tissue = liver[box] if tumor is None else liver[box] & ~tumor[box]
    eroded = ndimage.binary_erosion(tissue)
    values: npt.NDArray[np.float64] = hu[box][eroded if eroded.any() else tissue].astype(np.float64)
    return values


def case_quality(
    liver: npt.ArrayLike,
    image_hu: npt.ArrayLike,
    spacing_mm: Sequence[float],
    *,
    tumor: npt.ArrayLike | None = None,
    lesions: Sequence[LesionConfidence] = (),
    spacing_assumed: bool = False,
    axcodes: Sequence[str] = ("R", "A", "S"),
    config: QualityConfig | None = None,
) -> CaseQuality:
    """The QC verdict of one case (rules in the module docs).

    Args:
        liver: Predicted liver mask (tumor included).
        image_hu: The CT in HU on the same grid.
        spacing_mm: Voxel size along the three array axes.
        tumor: Predicted tumor mask (excluded from the liver's HU), or ``None``.
        lesions: The lesions' confidences (:func:`lesion_confidence`).
        spacing_assumed: The file stores no real voxel spacing (:func:`spacing_is_assumed`).
        axcodes: Direction each array axis points to, to name the sides touched.
        config: Thresholds (default :class:`QualityConfig`).

    Raises:
        ValueError: Arrays on different grids or bad spacing.

    """
    config = config or QualityConfig()
    liver_mask = np.asarray(liver).astype(bool, copy=False)
    tumor_mask = None if tumor is None else np.asarray(tumor).astype(bool, copy=False)
    hu = np.asarray(image_hu)
    check_same_shape(liver=liver_mask, image_hu=hu, tumor=tumor_mask)
    spacing = check_spacing(spacing_mm)
    warnings: list[str] = []
    if spacing_assumed:
        warnings.append(
            "no real voxel spacing: the file stores none (1 mm assumed), so every volume and "
            "diameter is in assumed units"
        )
    liver_ml = float(np.count_nonzero(liver_mask)) * float(np.prod(spacing)) / 1000.0
    median = noise = None
    sides: tuple[str, ...] = ()
    if liver_mask.any():
        low, high = config.liver_ml_range
        if not low <= liver_ml <= high:
            warnings.append(
                f"liver volume {liver_ml:.0f} mL is outside the plausible {low:.0f}-{high:.0f} mL:"
                " check the liver contour"
            )
        sides = edge_sides(liver_mask, spacing, config.edge_min_area_mm2, axcodes)
        if sides:
            warnings.append(
                f"liver touches the scan's edge ({', '.join(sides)}): the scan may cut the "
                "liver, so its volume may be underestimated"
            )
        values = _parenchyma_hu(hu, liver_mask, tumor_mask)
        if values.size:
            median, noise = float(np.median(values)), robust_sd(values)
            warnings += _intensity_warnings(median, noise, config)
    for lesion in lesions:
        if lesion.uncertain and lesion.volume_ml >= config.large_lesion_ml:
            warnings.append(
                f"lesion {lesion.index} ({lesion.volume_ml:.1f} mL) is uncertain "
                f"({'; '.join(lesion.reasons)}): check it before trusting the tumor volume"
            )
    return CaseQuality(tuple(warnings), liver_ml, median, noise, sides)


def _intensity_warnings(median: float, noise: float, config: QualityConfig) -> list[str]:
    low, high = config.trained_liver_hu
    margin = config.liver_hu_margin
    out = []
    if not low - margin <= median <= high + margin:
        out.append(
            f"liver median {median:.0f} HU is outside the {low:.0f}-{high:.0f} HU "
            f"(± {margin:g}) the model was trained on: an unusual phase, contrast or intensity "
            "calibration; results may be unreliable"
        )
    if noise > config.max_liver_noise_hu:
        out.append(
            f"liver noise {noise:.0f} HU (robust SD) is above the {config.max_liver_noise_hu:g} "
            "HU the model was trained on: results may be unreliable"
        )
    return out


def spacing_is_assumed(image: Volume) -> bool:
    """Whether ``image``'s file stores no real voxel spacing (identity affine on read)."""
    if reader_reported_spacing(image):
        return True
    return bool(np.allclose(image.native_grid.affine, np.eye(4)))


def reader_reported_spacing(image: Volume) -> bool:
    """Whether the reader already warned that ``image`` has no real voxel spacing."""
    return any(word in w for w in image.source.warnings for word in _ASSUMED_SPACING_WORDS)


def lesion_records(
    stats: Sequence[LesionStats], confidences: Sequence[LesionConfidence]
) -> list[dict[str, Any]]:
    """``statistics.json`` lesion dicts with each lesion's confidence fields added.

    Both lists come from the same tumor mask (same numbering, largest first). The confidence
    fields that repeat a measurement (``volume_ml``, ``voxels``, ``mean_hu``) are not added twice.

    Raises:
        ValueError: The lists do not describe the same lesions.

    """
    if [(s.index, s.voxels) for s in stats] != [(c.index, c.voxels) for c in confidences]:
        raise ValueError("lesion statistics and confidences describe different lesions")
    out = []
    for stat, confidence in zip(stats, confidences, strict=True):
        record = stat.to_dict()
        extra = confidence.to_dict()
        for key in ("index", "volume_ml", "voxels", "mean_hu"):
            extra.pop(key)
        out.append({**record, **extra})
    return out


def quality_config_for(
    training: Mapping[str, Any] | None, base: QualityConfig | None = None
) -> QualityConfig:
    """``base`` with the liver HU range a bundle's ``training`` provenance records, if any.

    Looks for ``training["synthetic"]["liver_hu_range"]`` (written by ``smoothseg train
    --synthetic``) or ``training["liver_hu_range"]``; otherwise ``base`` is returned unchanged.
    """
    base = base or QualityConfig()
    if not training:
        return base
    synthetic = training.get("synthetic")
    found = synthetic.get("liver_hu_range") if isinstance(synthetic, Mapping) else None
    found = found if found is not None else training.get("liver_hu_range")
    if not isinstance(found, Sequence) or len(found) != 2:
        return base
    return replace(base, trained_liver_hu=(float(found[0]), float(found[1])))


def assess_quality(
    image: Volume,
    liver: npt.ArrayLike,
    tumor: npt.ArrayLike,
    tumor_probability: npt.ArrayLike | None = None,
    config: QualityConfig | None = None,
) -> QualityReport:
    """Lesion confidences and the case verdict of one prediction on ``image``'s grid.

    Args:
        image: The CT (HU) with its affine, in the orientation of the masks.
        liver: Liver mask (tumor included).
        tumor: Tumor mask.
        tumor_probability: Tumor-class probability (0-1) on the same grid, or ``None``.
        config: Thresholds (default :class:`QualityConfig`).

    """
    config = config or QualityConfig()
    spacing = image.spacing_mm
    lesions = lesion_confidence(tumor, liver, image.array, spacing, tumor_probability, config)
    case = case_quality(
        liver,
        image.array,
        spacing,
        tumor=tumor,
        lesions=lesions,
        # the reader's own warning already says it: one sentence per cause
        spacing_assumed=spacing_is_assumed(image) and not reader_reported_spacing(image),
        axcodes=image.axcodes,
        config=config,
    )
    return QualityReport(tuple(lesions), case, config)
