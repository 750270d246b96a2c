"""The tumor post-processing chain: Chan-Vese refinement, then the minimum-lesion filter."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from smoothseg.postprocess.config import PostprocessConfig
from smoothseg.postprocess.lesions import remove_small_lesions
from smoothseg.postprocess.refine import refine_tumor

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class FinishedTumor:
    """The post-processed tumor mask and what was done to it."""

    tumor: Mask
    details: dict[str, str] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


def finish_tumor(
    image_hu: npt.NDArray[np.generic],
    tumor: npt.ArrayLike,
    liver: npt.ArrayLike,
    spacing_mm: Sequence[float],
    config: PostprocessConfig,
    *,
    hu_window: tuple[float, float] = (-200.0, 250.0),
) -> FinishedTumor:
    """Refine the tumor inside the liver (Chan-Vese) and drop lesions below the minimum volume.

    Args:
        image_hu: CT in HU on the masks' grid.
        tumor: The model's tumor mask.
        liver: Liver mask; the tumor is restricted to it.
        spacing_mm: Voxel size.
        config: Which steps run, with which settings.
        hu_window: The tumor stage's HU window (Chan-Vese works on it).

    """
    inside = np.asarray(liver).astype(bool, copy=False)
    mask = np.asarray(tumor).astype(bool, copy=False) & inside
    details: dict[str, str] = {}
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if config.refine and config.chan_vese_iterations > 0 and mask.any():
        mask = refine_tumor(
            image_hu,
            mask,
            inside,
            spacing_mm,
            iterations=config.chan_vese_iterations,
            smoothing=config.chan_vese_smoothing,
            margin_mm=config.refine_margin_mm,
            hu_window=hu_window,
        )
        details["refine"] = f"morphological Chan-Vese, {config.chan_vese_iterations} iterations"
    else:
        details["refine"] = "off" if not config.refine else "nothing to refine"
    timings["refine_s"] = time.perf_counter() - start
    start = time.perf_counter()
    mask = remove_small_lesions(mask, spacing_mm, config.min_lesion_mm3)
    timings["lesion_filter_s"] = time.perf_counter() - start
    return FinishedTumor(mask, details, timings)
