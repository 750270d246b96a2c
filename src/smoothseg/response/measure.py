"""Per-lesion measures: longest axial diameter, volume, and the viable (enhancing) part.

Diameters come from :func:`smoothseg.postprocess.lesions.lesion_stats` (the project's one
lesion-diameter implementation). A voxel of a lesion is *viable* when, on the arterial phase,
it is at least :data:`ENHANCEMENT_HU` above the median of the liver parenchyma (liver voxels
farther than :data:`MARGIN_MM` from any segmented tumor) and below :data:`LIPIODOL_HU`
(lipiodol deposits after TACE are dense, not tumor).
"""

from __future__ import annotations

from dataclasses import dataclass

import cc3d
import numpy as np
import numpy.typing as npt
from scipy import ndimage

from smoothseg.io import Volume
from smoothseg.postprocess.lesions import lesion_stats

#: Arterial enhancement above the surrounding parenchyma that counts as viable tumor (HU).
ENHANCEMENT_HU = 20.0
#: Attenuation at and above which a voxel is a lipiodol deposit, not viable tumor (HU).
LIPIODOL_HU = 300.0
#: Liver voxels closer than this to a segmented tumor are left out of the reference (mm).
#: The whole-liver median is used rather than a thin shell around each lesion: when a
#: segmentation covers only part of a lesion, a shell lies on the unsegmented (enhancing)
#: tumor and raises the reference above the tumor itself.
MARGIN_MM = 5.0

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Lesion:
    """One lesion at one time point (on that time point's own grid).

    Attributes:
        index: 1-based component number on its own grid.
        diameter_mm: Longest axial diameter.
        volume_ml: Volume.
        centroid_ras_mm: Centre (RAS mm).
        viable_diameter_mm: Longest axial diameter of the enhancing part (None: no arterial).
        viable_volume_ml: Volume of the enhancing part (None: no arterial phase).
        lipiodol_ml: Volume of voxels at or above :data:`LIPIODOL_HU` (portal phase).

    """

    index: int
    diameter_mm: float
    volume_ml: float
    centroid_ras_mm: tuple[float, float, float]
    viable_diameter_mm: float | None
    viable_volume_ml: float | None
    lipiodol_ml: float


def components(tumor: Mask) -> tuple[npt.NDArray[np.int32], int]:
    """26-connected components of ``tumor`` (labels 1..n)."""
    labels, n = cc3d.connected_components(
        np.ascontiguousarray(tumor, dtype=np.uint8), connectivity=26, return_N=True
    )
    return np.asarray(labels, dtype=np.int32), int(n)


def parenchyma_hu(
    tumor: Mask, liver: Mask, arterial: npt.NDArray[np.floating], spacing_mm: tuple[float, ...]
) -> float | None:
    """Median arterial HU of the liver away from tumors (None without liver)."""
    dist = ndimage.distance_transform_edt(~tumor, sampling=spacing_mm)
    far = liver & (dist > MARGIN_MM)
    values = arterial[far] if far.any() else arterial[liver]
    return float(np.median(values)) if values.size else None


def viable_mask(lesion: Mask, arterial: npt.NDArray[np.floating], reference_hu: float) -> Mask:
    """Enhancing, non-lipiodol voxels of ``lesion`` on the arterial phase (same grid)."""
    level = reference_hu + ENHANCEMENT_HU
    out: Mask = lesion & (arterial >= level) & (arterial < LIPIODOL_HU)
    return out


def measure_lesions(
    image: Volume, labels: Volume, arterial: Volume | None
) -> tuple[list[Lesion], npt.NDArray[np.int32]]:
    """Measure every tumor component of ``labels``; also return the component map."""
    lab = np.asarray(labels.array)
    comp, n = components(lab == 2)
    liver = lab == 1
    hu = np.asarray(image.array, dtype=np.float32)
    art = None if arterial is None else np.asarray(arterial.array, dtype=np.float32)
    voxel_ml = image.voxel_volume_ml
    reference = None if art is None else parenchyma_hu(lab == 2, liver, art, image.spacing_mm)
    out = []
    for k in range(1, n + 1):
        lesion = comp == k
        stats = lesion_stats(lesion, image)[0]
        viable_d: float | None = None
        viable_ml: float | None = None
        if art is not None:
            viable = (
                viable_mask(lesion, art, reference) if reference is not None else lesion & False
            )
            parts = lesion_stats(viable, image) if viable.any() else []
            viable_d = max((p.longest_axial_diameter_mm for p in parts), default=0.0)
            viable_ml = float(viable.sum()) * voxel_ml
        out.append(
            Lesion(
                index=k,
                diameter_mm=stats.longest_axial_diameter_mm,
                volume_ml=stats.volume_ml,
                centroid_ras_mm=stats.centroid_ras_mm,
                viable_diameter_mm=viable_d,
                viable_volume_ml=viable_ml,
                lipiodol_ml=float((lesion & (hu >= LIPIODOL_HU)).sum()) * voxel_ml,
            )
        )
    return out, comp
