"""Tumor-to-liver volume ratio (TLVR, paper eq. 1) of a harmonized label map.

``R = tumor voxels / (liver + tumor voxels)``: the denominator is the whole liver **with** its
tumors, so R lies in [0, 1]. Voxel counts are used (not millilitres), as in the paper; on one
grid the two agree.

Empty-liver rule: a label map with no liver and no tumor voxel has no defined TLVR and gives
``None`` (the same rule as the prepared-cache manifest). A liver without tumor gives ``0.0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from smoothseg.errors import InputError
from smoothseg.io import Volume

#: Harmonized label values (0 background, 1 liver incl. portal vein, 2 tumor).
LIVER, TUMOR = 1, 2


def tlvr_from_counts(liver_voxels: int, tumor_voxels: int) -> float | None:
    """TLVR from voxel counts of the tumor-free liver (label 1) and the tumor (label 2).

    Args:
        liver_voxels: Voxels labelled liver (tumor excluded).
        tumor_voxels: Voxels labelled tumor.

    Returns:
        ``tumor / (liver + tumor)``, or ``None`` when both counts are zero.

    Raises:
        ValueError: a negative count.

    """
    if liver_voxels < 0 or tumor_voxels < 0:
        raise ValueError(f"voxel counts must be non-negative, got {liver_voxels}, {tumor_voxels}")
    whole = liver_voxels + tumor_voxels
    return tumor_voxels / whole if whole else None


def tlvr(
    labels: Volume | npt.NDArray[Any],
    *,
    liver_label: int = LIVER,
    tumor_label: int = TUMOR,
) -> float | None:
    """TLVR of a harmonized label map (0 background, 1 liver, 2 tumor by default).

    Args:
        labels: Label :class:`~smoothseg.io.Volume` or integer array of any shape.
        liver_label: Value of tumor-free liver voxels.
        tumor_label: Value of tumor voxels.

    Returns:
        ``tumor / (liver + tumor)`` voxels, or ``None`` when there is neither (empty liver).

    Raises:
        InputError: the map is not integer-valued (e.g. probabilities) or the Volume is an image.

    """
    where = "labels"
    if isinstance(labels, Volume):
        where = labels.source.path or "labels"
        if labels.kind != "label":
            raise InputError(where, "TLVR needs a label map, got an image volume")
        array = np.asarray(labels.array)
    else:
        array = np.asarray(labels)
    if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        raise InputError(
            where, f"TLVR needs an integer label map, got dtype {array.dtype} (threshold first)"
        )
    liver = int(np.count_nonzero(array == liver_label))
    tumor = int(np.count_nonzero(array == tumor_label))
    return tlvr_from_counts(liver, tumor)
