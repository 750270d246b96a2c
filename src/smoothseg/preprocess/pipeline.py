"""Stage inputs from a whole CT: the deterministic preprocessing shared by validation and predict.

* :func:`global_view` — liver stage / multi-class: resample, HU window, normalise.
* :func:`local_view` — tumor stage: resample image and liver mask, crop to the liver box plus
  a margin, HU window, set everything outside the liver to the background value.

Both return the model input together with the records (:class:`ResampleRecord`,
:class:`CropRecord`) that bring a prediction back onto the original grid (``to_parent``).
The training transforms call the same functions, so training, validation and inference see
identically preprocessed intensities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from smoothseg.errors import GeometryError
from smoothseg.io.volume import Volume
from smoothseg.preprocess.config import LiverStageConfig, TumorStageConfig
from smoothseg.preprocess.crop import CropRecord, crop_to_mask, paste_back
from smoothseg.preprocess.resample import ResampleRecord, resample_to_spacing, undo_resample
from smoothseg.preprocess.windowing import window_hu, windowed_value, zscore

F32 = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]


def global_intensities(image_hu: npt.NDArray[Any], config: LiverStageConfig) -> F32:
    """HU window → [0, 1], then the configured normalisation."""
    out = window_hu(image_hu, config.hu_window)
    return zscore(out) if config.normalize == "zscore" else out


def masked_crop(
    image_hu: npt.NDArray[Any],
    mask: npt.NDArray[Any],
    spacing_mm: Sequence[float],
    config: TumorStageConfig,
    margin_mm: float | Sequence[float] | None = None,
) -> tuple[F32, Mask, CropRecord] | None:
    """Crop to ``mask``'s box plus a margin, window, and blank everything outside ``mask``.

    Args:
        image_hu: Image in HU on the same grid as ``mask``.
        mask: Liver mask (ground truth in training, predicted at inference).
        spacing_mm: Voxel size of that grid.
        config: Window, margin and background value.
        margin_mm: Override of ``config.margin_mm`` (one value or 6 per-face values).

    Returns:
        ``(windowed image crop, mask crop, crop record)``, or ``None`` for an empty mask.

    """
    binary = np.asarray(mask).astype(bool, copy=False)
    margin = config.margin_mm if margin_mm is None else margin_mm
    record = crop_to_mask(binary, spacing_mm, margin)
    if record is None:
        return None
    inside = np.ascontiguousarray(record.crop(binary))
    image = window_hu(record.crop(np.asarray(image_hu)), config.hu_window)
    image[~inside] = windowed_value(config.background, config.hu_window)
    return image, inside, record


@dataclass(frozen=True, eq=False)
class GlobalInput:
    """The liver-stage (or multi-class) model input of one CT.

    Attributes:
        image: Preprocessed intensities ``[i, j, k]`` float32 on the resampled grid.
        resample: Resampled grid and the original one.

    """

    image: F32
    resample: ResampleRecord

    def to_parent(self, labels: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Labels predicted on :attr:`image`'s grid, back on the original grid (nearest)."""
        return undo_resample(labels, self.resample, label=True)


def global_view(image: Volume, config: LiverStageConfig) -> GlobalInput:
    """Preprocess a CT (canonical RAS, HU) for the liver stage."""
    array, record = resample_to_spacing(
        np.asarray(image.array), image.affine, config.target_spacing_mm, label=False
    )
    return GlobalInput(global_intensities(array, config), record)


@dataclass(frozen=True, eq=False)
class LocalInput:
    """The tumor-stage model input of one CT.

    Attributes:
        image: Windowed liver box ``[i, j, k]``, background outside the liver.
        mask: The liver mask on the box (predictions are restricted to it).
        crop: The box within the resampled grid.
        resample: Resampled grid and the original one.

    """

    image: F32
    mask: Mask
    crop: CropRecord
    resample: ResampleRecord

    def to_parent(self, labels: npt.NDArray[Any], fill: int = 0) -> npt.NDArray[Any]:
        """Labels predicted on the box, pasted back and brought onto the original grid."""
        return undo_resample(paste_back(labels, self.crop, fill), self.resample, label=True)


def local_view(
    image: Volume, liver_mask: npt.NDArray[Any], config: TumorStageConfig
) -> LocalInput | None:
    """Preprocess a CT and its liver mask (same grid) for the tumor stage.

    Returns:
        The input, or ``None`` when the liver mask is empty.

    Raises:
        GeometryError: The mask is not on the image's grid.

    """
    if tuple(np.shape(liver_mask)) != image.shape:
        raise GeometryError(
            f"liver mask of shape {np.shape(liver_mask)} is not on the image grid {image.shape}"
        )
    array, record = resample_to_spacing(
        np.asarray(image.array), image.affine, config.target_spacing_mm, label=False
    )
    mask, _ = resample_to_spacing(
        np.asarray(liver_mask).astype(np.uint8), image.affine, config.target_spacing_mm, label=True
    )
    cropped = masked_crop(array, mask, record.grid.spacing_mm, config)
    if cropped is None:
        return None
    box_image, box_mask, crop = cropped
    return LocalInput(box_image, box_mask, crop, record)
