"""Is this image a CT in Hounsfield units? Checks run before a CT model sees an image.

DICOM input carries a Modality tag (checked by the DICOM reader); NIfTI/NRRD/MHA files carry no
modality, so the intensities decide: every CT in HU holds air or fat (below -200 HU) somewhere
in the field of view, while MR images, normalised images and raw CT stored without rescale
slope/intercept are non-negative or near zero. Such an image would give confident garbage, and
so would NaN or infinite voxels. A label map given instead of the CT gets its own words
(:data:`LABEL_MAP_PROBLEM`), the same on the command line and in the web app.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smoothseg.errors import InputError
from smoothseg.io.api import looks_like_labels
from smoothseg.io.volume import Volume

#: A CT in HU has some voxel below this (air is -1000 HU, fat about -100 HU).
CT_MIN_BELOW_HU = -200.0
#: No CT in HU holds values above this (dense metal is about 3071-30000 HU, stored in int16).
CT_MAX_HU = 40000.0
#: What smoothseg says when it is given a label map instead of a CT (CLI and web alike).
LABEL_MAP_PROBLEM = (
    "this looks like a label map (a few whole-number values), not a CT scan; give the CT "
    "image itself"
)
_NOT_CT_MODALITIES = ("MR", "PT", "NM", "US", "XA", "CR", "DX", "MG", "SEG", "RTSTRUCT")


def check_ct_intensities(volume: Volume, path: str | Path | None = None) -> None:
    """Raise a clear error when ``volume`` is evidently not a CT in Hounsfield units.

    Args:
        volume: The image (any orientation).
        path: Where it came from, for the message (default: ``volume.source.path``).

    Raises:
        InputError: The modality tag says another modality, the image holds NaN or infinite
            values, it is a label map, or its intensities cannot be HU (nothing below -200, or
            far above any CT value).

    """
    where = Path(path) if path is not None else Path(volume.source.path or "<image>")
    modality = (volume.source.modality or "").upper()
    if modality in _NOT_CT_MODALITIES:
        raise InputError(where, f"modality is {modality}, not CT; smoothseg segments CT")
    array = np.asarray(volume.array)
    if np.issubdtype(array.dtype, np.floating):
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        if bad == array.size:
            raise InputError(where, "image holds no finite value (all NaN/inf)")
        if bad:
            raise InputError(
                where,
                f"image holds {bad:,} NaN or infinite voxel(s) ({100 * bad / array.size:.2g}% of "
                "the volume): a corrupt or masked export; smoothseg needs finite intensities",
            )
    lo, hi = float(array.min()), float(array.max())
    if lo > CT_MIN_BELOW_HU:
        if lo >= 0 and looks_like_labels(array):
            raise InputError(where, LABEL_MAP_PROBLEM)
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
