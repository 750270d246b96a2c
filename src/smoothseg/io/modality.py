"""Is this image a CT in Hounsfield units? Checks run before a CT model sees an image.

DICOM input carries a Modality tag (checked by the DICOM reader); NIfTI/NRRD/MHA files carry no
modality, so the intensities decide: every CT in HU holds air or fat (below -200 HU) somewhere
in the field of view, while MR images, normalised images and raw CT stored without rescale
slope/intercept are non-negative or near zero. Such an image would give confident garbage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smoothseg.errors import InputError
from smoothseg.io.volume import Volume

#: A CT in HU has some voxel below this (air is -1000 HU, fat about -100 HU).
CT_MIN_BELOW_HU = -200.0
#: No CT in HU holds values above this (dense metal is about 3071-30000 HU, stored in int16).
CT_MAX_HU = 40000.0
_NOT_CT_MODALITIES = ("MR", "PT", "NM", "US", "XA", "CR", "DX", "MG", "SEG", "RTSTRUCT")


def check_ct_intensities(volume: Volume, path: str | Path | None = None) -> None:
    """Raise a clear error when ``volume`` is evidently not a CT in Hounsfield units.

    Args:
        volume: The image (any orientation).
        path: Where it came from, for the message (default: ``volume.source.path``).

    Raises:
        InputError: The modality tag says another modality, the image holds no finite value,
            or its intensities cannot be HU (nothing below -200, or far above any CT value).

    """
    where = Path(path) if path is not None else Path(volume.source.path or "<image>")
    modality = (volume.source.modality or "").upper()
    if modality in _NOT_CT_MODALITIES:
        raise InputError(where, f"modality is {modality}, not CT; smoothseg segments CT")
    array = np.asarray(volume.array)
    finite = array[np.isfinite(array)] if np.issubdtype(array.dtype, np.floating) else array
    if finite.size == 0:
        raise InputError(where, "image holds no finite value (all NaN/inf)")
    lo, hi = float(finite.min()), float(finite.max())
    if lo > CT_MIN_BELOW_HU:
        raise InputError(
            where,
            f"intensities {lo:.4g}..{hi:.4g} have no voxel below {CT_MIN_BELOW_HU:.0f}: not a CT "
            "in Hounsfield units (an MR or normalised image, or CT without rescale "
            "slope/intercept applied?)",
        )
    if hi > CT_MAX_HU or lo < -CT_MAX_HU:
        raise InputError(
            where, f"intensities {lo:.4g}..{hi:.4g} are far outside the Hounsfield scale"
        )
