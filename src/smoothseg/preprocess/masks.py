"""Binary mask operations: liver clean-up, stage post-processing, distances in millimetres.

The liver clean-up is the paper's (Supplementary C.2); :func:`postprocess_stage_labels` is the
one rule each stage's labels get, in validation and in the bundles' description.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import cc3d
import numpy as np
import numpy.typing as npt
from scipy import ndimage

Mask = npt.NDArray[np.bool_]
F32 = npt.NDArray[np.float32]


def _binary(mask: npt.ArrayLike) -> Mask:
    out = np.asarray(mask)
    if out.ndim != 3:
        raise ValueError(f"expected a 3D mask, got shape {out.shape}")
    return out.astype(bool, copy=False)


def _conn(connectivity: int) -> Literal[6, 18, 26]:
    if connectivity == 6:
        return 6
    if connectivity == 18:
        return 18
    if connectivity == 26:
        return 26
    raise ValueError(f"connectivity must be 6, 18 or 26, got {connectivity}")


def largest_component(mask: npt.ArrayLike, connectivity: int = 26) -> Mask:
    """The largest connected component of ``mask`` (empty stays empty).

    Args:
        mask: 3D binary mask.
        connectivity: 6, 18 or 26 (default: face, edge and corner neighbours).

    """
    binary = _binary(mask)
    if not binary.any():
        return np.zeros(binary.shape, dtype=bool)
    labels = cc3d.connected_components(binary.view(np.uint8), connectivity=_conn(connectivity))
    counts = np.bincount(labels.ravel())
    counts[0] = 0
    out: Mask = labels == int(np.argmax(counts))
    return out


def fill_holes(mask: npt.ArrayLike) -> Mask:
    """Fill cavities fully enclosed by ``mask`` in 3D (6-connected background)."""
    binary = _binary(mask)
    out: Mask = ndimage.binary_fill_holes(binary)
    return out


def clean_liver_mask(mask: npt.ArrayLike, connectivity: int = 26) -> Mask:
    """The liver post-processing of the paper: keep the largest component, then fill holes."""
    return fill_holes(largest_component(mask, connectivity))


def cut_liver_bridges(mask: npt.ArrayLike, spacing_mm: Sequence[float], neck_mm: float) -> Mask:
    """The body of ``mask`` that holds most of it, cut off from the rest at thin necks.

    A liver stage that has never seen the chest or neck can join the liver to muscle or the
    heart through thin necks of false "liver" (4.4 L on a chest-to-abdomen PET/CT). The cores
    of ``mask`` (voxels deeper than ``neck_mm`` inside it) fall apart at every neck thinner than
    ``2 * neck_mm``; the mask is flooded from the cores inwards-out along its own depth (a
    watershed, so a voxel joins the core it is connected to through the mask, not the nearest
    one in space), and the body that owns the most voxels is kept. A mask without a core
    (nothing that thick) is returned unchanged.

    Args:
        mask: 3D binary mask (the liver stage's foreground).
        spacing_mm: Voxel size, mm.
        neck_mm: Half the width of the thickest neck that is cut (0: return ``mask``).

    """
    from skimage.segmentation import watershed

    binary = _binary(mask)
    if neck_mm <= 0 or not binary.any():
        return binary.copy()
    depth = ndimage.distance_transform_edt(binary, sampling=[float(s) for s in spacing_mm])
    cores = cc3d.connected_components((depth > neck_mm).view(np.uint8), connectivity=26)
    if int(cores.max()) < 2:  # no core, or one: nothing to cut
        return binary.copy()
    bodies = watershed(-depth, markers=cores, mask=binary)
    sizes = np.bincount(bodies.ravel())
    sizes[0] = 0
    out: Mask = bodies == int(np.argmax(sizes))
    return out


#: The post-processing each stage applies to its argmax labels (recorded in every bundle).
STAGE_POSTPROCESSING: dict[str, str] = {
    "liver": "largest_component+fill_holes",
    "tumor": "restrict_to_liver",
    "multiclass": "none",
}


def postprocess_stage_labels(
    stage: str, labels: npt.NDArray[Any], liver: npt.ArrayLike | None = None
) -> npt.NDArray[Any]:
    """A stage's post-processing (:data:`STAGE_POSTPROCESSING`) of an argmax label map.

    Args:
        stage: ``liver`` (class 1 → largest component, holes filled), ``tumor`` (labels outside
            ``liver`` set to background) or ``multiclass`` (unchanged).
        labels: Argmax labels ``[i, j, k]``.
        liver: The liver mask the tumor stage is restricted to.

    """
    if stage == "liver":
        return clean_liver_mask(labels == 1).astype(np.uint8)
    if stage == "tumor" and liver is not None:
        return np.where(np.asarray(liver, dtype=bool), labels, 0)
    return labels


def signed_distance_mm(mask: npt.ArrayLike, spacing_mm: Sequence[float]) -> F32:
    """Signed Euclidean distance to the mask's surface, mm: < 0 inside, > 0 outside.

    A voxel outside gets its distance to the nearest mask voxel; a voxel inside minus its
    distance to the nearest outside voxel. So ``signed_distance_mm(m, s) <= r`` is ``m``
    dilated by a ball of radius ``r`` mm for ``r >= 0`` and ``<= 0`` is ``m`` itself. An empty
    mask gives +inf everywhere.
    """
    binary = _binary(mask)
    sampling = [float(s) for s in spacing_mm]
    if not binary.any():
        return np.full(binary.shape, np.inf, dtype=np.float32)
    outside = ndimage.distance_transform_edt(~binary, sampling=sampling)
    if binary.all():
        inside: npt.NDArray[Any] = np.full(binary.shape, np.inf)
    else:
        inside = ndimage.distance_transform_edt(binary, sampling=sampling)
    return np.asarray(outside - inside, dtype=np.float32)
