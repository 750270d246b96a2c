"""Volume-level synthesis: CT + liver mask in, CT + label map (0/1/2) out on the same grid."""

from __future__ import annotations

import numpy as np

from smoothseg.errors import InputError
from smoothseg.io import Volume, check_same_grid
from smoothseg.synthesis.config import Lesion, LesionRequest
from smoothseg.synthesis.lesions import implant_lesions


def synthesize_volume(
    ct: Volume, liver: Volume, request: LesionRequest, rng: np.random.Generator
) -> tuple[Volume, Volume, list[Lesion]]:
    """Implant lesions into ``ct`` inside ``liver`` (any label > 0) on the CT's own grid.

    Returns the new CT, the label map (0 background, 1 liver, 2 tumor) and the lesions;
    both volumes keep the CT's affine and native grid, so they are written back onto it.

    Raises:
        GeometryError: The grids differ.
        InputError: The liver mask is empty.

    """
    check_same_grid(ct, liver, ("CT", "liver mask"))
    mask = np.asarray(liver.array) > 0
    if not mask.any():
        raise InputError(liver.source.path or "liver mask", "the liver mask is empty")
    new_ct, tumor, lesions = implant_lesions(ct.array, mask, ct.spacing_mm, request, rng)
    labels = mask.astype(np.uint8)
    labels[tumor] = 2
    return ct.with_array(new_ct), ct.with_array(labels, kind="label"), lesions
