"""Harmonized label maps: value remapping, grid checks and per-case measurements.

Harmonized labels are uint8: 0 background, 1 liver (portal vein included), 2 tumor.

Measurements (all from the label map and its affine):

* ``liver_ml``: the whole liver, **tumor included** (voxels with label 1 or 2);
  ``tumor_ml``: voxels with label 2.
* TLVR (paper eq. 1) = tumor voxels / (liver + tumor voxels); ``None`` when the label has no
  liver or tumor voxel at all.
* Lesions: 3D connected components of the tumor (26-connectivity, ``cc3d``).
* Largest lesion diameter: the largest distance in mm between the centres of two voxels of one
  lesion (so a one-voxel lesion measures 0 mm), found on convex-hull vertices of the lesion's
  boundary voxels; 0 when there is no tumor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from smoothseg.errors import GeometryError, InputError
from smoothseg.io.volume import Volume, check_same_grid
from smoothseg.measure import lesion_diameters_mm

BACKGROUND, LIVER, TUMOR = 0, 1, 2
HARMONIZED_VALUES: dict[int, int] = {0: BACKGROUND, 1: LIVER, 2: TUMOR}


def remap_labels(
    array: npt.NDArray[np.generic], mapping: Mapping[int, int], where: str | Path
) -> npt.NDArray[np.uint8]:
    """Map raw label values to harmonized classes; unexpected values are an error.

    Raises:
        InputError: the array holds a value ``mapping`` does not cover (the message lists the
            values and the ``--label-values`` option that maps them).

    """
    values = np.unique(np.asarray(array))
    unknown = [int(v) for v in values if int(v) not in mapping]
    if unknown:
        raise InputError(
            where,
            f"unexpected label value(s) {unknown} (expected {sorted(mapping)}); map them "
            f"with --label-values VALUE=CLASS, e.g. --label-values {unknown[0]}=1 "
            "(classes: 0 background, 1 liver, 2 tumor)",
        )
    lut = np.zeros(int(values.max()) + 1 if values.size else 1, dtype=np.uint8)
    for raw, cls in mapping.items():
        if 0 <= raw < lut.size:
            lut[raw] = cls
    return lut[np.asarray(array, dtype=np.int64)]


def label_mapping(extra: tuple[tuple[int, int], ...]) -> dict[int, int]:
    """The identity 0/1/2 mapping updated with ``extra`` ``(raw, class)`` pairs."""
    mapping = dict(HARMONIZED_VALUES)
    for raw, cls in extra:
        if cls not in HARMONIZED_VALUES:
            raise InputError("--label-values", f"class {cls} is not 0, 1 or 2")
        mapping[int(raw)] = int(cls)
    return mapping


def require_same_grid(image: Volume, label: Volume, label_path: str | Path) -> None:
    """Raise :class:`InputError` naming ``label_path`` unless both volumes share one grid."""
    try:
        check_same_grid(image, label)
    except GeometryError as exc:
        raise InputError(label_path, f"label is not on its image's grid: {exc}") from exc


@dataclass(frozen=True)
class LabelStats:
    """Volumes and lesion measurements of one harmonized label map (see module docs)."""

    liver_ml: float
    tumor_ml: float
    tlvr: float | None
    lesion_count: int
    largest_lesion_diameter_mm: float


def label_stats(label: Volume) -> LabelStats:
    """Measure a harmonized label map."""
    array = np.asarray(label.array)
    tumor = array == TUMOR
    n_tumor = int(np.count_nonzero(tumor))
    n_liver = int(np.count_nonzero(array == LIVER)) + n_tumor
    diameters = lesion_diameters_mm(tumor, label.affine)
    return LabelStats(
        liver_ml=n_liver * label.voxel_volume_ml,
        tumor_ml=n_tumor * label.voxel_volume_ml,
        tlvr=n_tumor / n_liver if n_liver else None,
        lesion_count=len(diameters),
        largest_lesion_diameter_mm=max(diameters, default=0.0),
    )
