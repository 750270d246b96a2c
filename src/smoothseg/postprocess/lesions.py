"""Lesion filtering and measurements on a predicted tumor mask.

Diameters are Feret (caliper) diameters in millimetres with the real voxel spacing: the
largest distance between two boundary-voxel centres: the one rule of :mod:`smoothseg.measure`.
A digitised sphere of diameter D measures between D minus one voxel and D.

* ``longest_axial_diameter_mm`` — RECIST-style: the largest in-plane diameter over all axial
  slices (the volume's third voxel axis, S-I in canonical RAS order).
* ``max_3d_diameter_mm`` — the largest diameter in 3D.
* ``centroid_ras_mm`` / ``centroid_lps_mm`` — the lesion's centre of mass in patient
  coordinates: RAS (NIfTI, 3D Slicer) and LPS (DICOM, ITK) conventions.

Empty-mask rules: no lesion gives an empty list; a one-voxel lesion measures one voxel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import cc3d
import numpy as np
import numpy.typing as npt

from smoothseg.io.volume import Volume
from smoothseg.measure import lesion_diameters_mm, longest_axial_diameter_mm

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LesionStats:
    """Measurements of one lesion (see the module docs for definitions)."""

    index: int
    volume_ml: float
    voxels: int
    longest_axial_diameter_mm: float
    max_3d_diameter_mm: float
    centroid_ras_mm: tuple[float, float, float]
    centroid_lps_mm: tuple[float, float, float]
    mean_hu: float
    std_hu: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists, floats rounded to 0.01)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, tuple):
                out[key] = [round(float(v), 2) for v in value]
            elif isinstance(value, float):
                out[key] = round(value, 4 if key == "volume_ml" else 2)
            else:
                out[key] = value
        return out


def _components(mask: Mask) -> tuple[npt.NDArray[np.unsignedinteger[Any]], int]:
    labels, n = cc3d.connected_components(
        np.ascontiguousarray(mask, dtype=np.uint8), connectivity=26, return_N=True
    )
    return labels, int(n)


def remove_small_lesions(
    tumor: npt.ArrayLike, spacing_mm: Sequence[float], min_volume_mm3: float
) -> Mask:
    """Drop 26-connected components smaller than ``min_volume_mm3``; keep all others."""
    mask = np.asarray(tumor).astype(bool, copy=False)
    if min_volume_mm3 <= 0 or not mask.any():
        return mask.copy()
    voxel_mm3 = float(np.prod([float(s) for s in spacing_mm]))
    labels, _ = _components(mask)
    counts = np.bincount(labels.ravel())
    keep = counts * voxel_mm3 >= min_volume_mm3
    keep[0] = False
    out: Mask = keep[labels]
    return out


def lesion_stats(tumor: npt.ArrayLike, image: Volume) -> list[LesionStats]:
    """Measure each 26-connected lesion of ``tumor`` (on ``image``'s grid), largest first.

    Args:
        tumor: Tumor mask on the image's grid.
        image: The CT (HU) with its affine.

    """
    mask = np.asarray(tumor).astype(bool, copy=False)
    if mask.shape != image.shape:
        raise ValueError(f"tumor mask {mask.shape} is not on the image grid {image.shape}")
    labels, n = _components(mask)
    if n == 0:
        return []
    boxes = cc3d.statistics(labels)["bounding_boxes"]
    diameters_3d = lesion_diameters_mm(mask, image.affine)  # same labelling order as ``labels``
    linear = np.asarray(image.affine[:3, :3], dtype=np.float64)
    voxel_ml = image.voxel_volume_ml
    hu = np.asarray(image.array)
    found = []
    for index in range(1, n + 1):
        box = boxes[index]
        component = labels[box] == index
        offset = np.array([b.start for b in box], dtype=np.float64)
        voxels = np.argwhere(component).astype(np.float64) + offset
        centre = image.affine @ np.append(voxels.mean(axis=0), 1.0)
        values = hu[box][component].astype(np.float64)
        found.append(
            (
                len(voxels),
                longest_axial_diameter_mm(component, linear),
                diameters_3d[index - 1],
                (float(centre[0]), float(centre[1]), float(centre[2])),
                float(values.mean()),
                float(values.std()),
            )
        )
    found.sort(key=lambda item: -item[0])
    return [
        LesionStats(
            index=i,
            volume_ml=count * voxel_ml,
            voxels=count,
            longest_axial_diameter_mm=axial,
            max_3d_diameter_mm=d3,
            centroid_ras_mm=ras,
            centroid_lps_mm=(-ras[0], -ras[1], ras[2]),
            mean_hu=mean,
            std_hu=std,
        )
        for i, (count, axial, d3, ras, mean, std) in enumerate(found, start=1)
    ]


def largest_lesion(tumor: npt.ArrayLike) -> Mask:
    """The largest 26-connected component of ``tumor`` (empty stays empty)."""
    mask = np.asarray(tumor).astype(bool, copy=False)
    if not mask.any():
        return np.zeros(mask.shape, dtype=bool)
    labels, _ = _components(mask)
    counts = np.bincount(labels.ravel())
    counts[0] = 0
    out: Mask = labels == int(np.argmax(counts))
    return out
