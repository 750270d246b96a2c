"""Tumor boundary refinement with morphological Chan-Vese (Supplementary C.2 of the paper).

The paper runs an active contour "without edges" (Chan & Vese 2001, morphological version of
Márquez-Neila et al. 2014) for two iterations, starting from the predicted tumor. Here:

* the contour evolves on the CT intensities (HU clipped to the tumor stage's window and scaled
  to [0, 1], so that air and bone outside the liver do not dominate the region means);
* each lesion (26-connected component) gets its own box: the lesion's bounding box plus
  ``margin_mm`` on every side. Chan-Vese compares the mean inside with the mean outside, so a
  local box keeps "outside" the liver tissue around that lesion rather than the whole abdomen;
  the initial level set in the box is the whole predicted tumor mask there;
* voxels outside the liver take the median of the box's tumor-free liver before the contour
  evolves: tumors are assumed to lie inside the liver (Supplementary C.1), so fat, air or
  bowel next to a lesion at the liver's edge must not enter the "inside" or "outside" mean
  (they would pull a hypodense lesion's contour out of the liver and a liver-isodense false
  positive anywhere);
* the refined boxes are combined (union) and the result is re-masked to the liver.
"""

from __future__ import annotations

from collections.abc import Sequence

import cc3d
import numpy as np
import numpy.typing as npt
from skimage.segmentation import morphological_chan_vese

Mask = npt.NDArray[np.bool_]


def _box(
    lo: Sequence[int], hi: Sequence[int], pad: Sequence[int], shape: Sequence[int]
) -> tuple[slice, slice, slice]:
    s = [slice(max(0, a - p), min(n, b + p)) for a, b, p, n in zip(lo, hi, pad, shape, strict=True)]
    return (s[0], s[1], s[2])


def refine_tumor(
    image_hu: npt.NDArray[np.generic],
    tumor: npt.ArrayLike,
    liver: npt.ArrayLike,
    spacing_mm: Sequence[float],
    *,
    iterations: int = 2,
    smoothing: int = 1,
    margin_mm: float = 10.0,
    hu_window: tuple[float, float] = (-200.0, 250.0),
) -> Mask:
    """Refine a tumor mask with morphological Chan-Vese, lesion by lesion.

    Args:
        image_hu: CT in HU on the masks' grid.
        tumor: Predicted tumor mask (the initial level set).
        liver: Liver mask; the result is restricted to it.
        spacing_mm: Voxel size, for the box margin.
        iterations: Chan-Vese iterations (the paper uses 2).
        smoothing: Smoothing steps per iteration (scikit-image's ``smoothing``).
        margin_mm: Margin around each lesion's bounding box.
        hu_window: HU range the intensities are clipped to before refining.

    Returns:
        The refined tumor mask (empty in, empty out).

    """
    init = np.asarray(tumor).astype(bool, copy=False)
    inside_liver = np.asarray(liver).astype(bool, copy=False)
    if iterations < 1 or not init.any():
        empty: Mask = init & inside_liver
        return empty
    labels, n = cc3d.connected_components(init.view(np.uint8), connectivity=26, return_N=True)
    boxes = cc3d.statistics(labels)["bounding_boxes"]
    pad = [max(1, int(np.ceil(margin_mm / s))) for s in spacing_mm]
    low, high = hu_window
    out = np.zeros(init.shape, dtype=bool)
    for index in range(1, n + 1):
        box = boxes[index]
        region = _box([b.start for b in box], [b.stop for b in box], pad, init.shape)
        values = np.clip(np.asarray(image_hu[region], dtype=np.float32), low, high)
        values = (values - low) / (high - low)
        liver_box = inside_liver[region]
        background = values[liver_box & ~init[region]]
        if background.size:
            values[~liver_box] = float(np.median(background))
        level = morphological_chan_vese(
            values, iterations, init_level_set=init[region], smoothing=smoothing
        )
        out[region] |= level.astype(bool)
    refined: Mask = out & inside_liver
    return refined
