"""Where lesions may go: the liver's parenchyma level, its noise, vessels and the capsule.

Everything is computed once per scan on the liver's bounding box, sampled on a coarse grid of
about 2 mm (so a 512 x 512 x 100 scan costs a fraction of a second): the depth below the liver
surface and the distance to the nearest vessel (voxels much brighter than the parenchyma).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from smoothseg.synthesis.config import LesionRequest

COARSE_MM = 2.0
MAD_TO_SD = 1.4826
AVOID_CLEARANCE_MM = 2.0


@dataclass(frozen=True, eq=False)
class Parenchyma:
    """Statistics of the liver of one scan.

    Attributes:
        level_hu: Median intensity of the liver (vessels excluded).
        noise_sd_hu: Robust sd (1.4826 x MAD) of the liver's intensities, vessels excluded.
        lo: First voxel of the coarse grid (full-resolution index).
        stride: Coarse-grid step per axis (full-resolution voxels).
        depth_mm: Coarse map: depth below the liver surface (0 outside the liver).
        vessel_mm: Coarse map: distance to the nearest vessel voxel (large where none).
        vessels: Coarse map of vessel voxels.
        avoid_mm: Coarse map: distance to the nearest voxel to avoid (large where none).

    """

    level_hu: float
    noise_sd_hu: float
    lo: npt.NDArray[np.int64]
    stride: npt.NDArray[np.int64]
    depth_mm: npt.NDArray[np.float64]
    vessel_mm: npt.NDArray[np.float64]
    vessels: npt.NDArray[np.bool_]
    avoid_mm: npt.NDArray[np.float64]

    def to_full(self, coarse_ijk: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Full-resolution voxel of coarse-grid voxel(s)."""
        out: npt.NDArray[np.int64] = self.lo + np.asarray(coarse_ijk) * self.stride
        return out


def liver_box(liver: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """First and one-past-last voxel of the mask's bounding box."""
    lo, hi = [], []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hits = np.flatnonzero(np.any(liver, axis=other))
        lo.append(int(hits[0]))
        hi.append(int(hits[-1]) + 1)
    return np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)


def analyse_liver(
    ct: npt.NDArray[np.float32],
    liver: npt.NDArray[np.bool_],
    spacing_mm: tuple[float, ...],
    request: LesionRequest,
    avoid: npt.NDArray[np.bool_] | None = None,
) -> Parenchyma:
    """Parenchyma level and noise, and the coarse depth and vessel-distance maps.

    ``avoid`` (e.g. tumor a model already reports) is kept clear of the lesions (see
    :func:`pick_center`).
    """
    spacing = np.asarray(spacing_mm, dtype=np.float64)
    lo, hi = liver_box(liver)
    stride = np.maximum(1, np.round(COARSE_MM / spacing)).astype(np.int64)
    box = tuple(slice(int(a), int(b), int(s)) for a, b, s in zip(lo, hi, stride, strict=True))
    sub = np.asarray(ct[box], dtype=np.float32)
    inside = np.asarray(liver[box], dtype=bool)
    values = sub[inside]
    level = float(np.median(values))
    sd = MAD_TO_SD * float(np.median(np.abs(values - level))) + 1e-3
    coarse_spacing = spacing * stride
    smooth = ndimage.gaussian_filter(sub, sigma=np.maximum(1.0 / coarse_spacing, 0.3))
    vessels = inside & (smooth > level + request.vessel_margin_hu)
    parenchyma = sub[inside & ~vessels]
    if parenchyma.size > 100:  # re-estimate without the vessels
        level = float(np.median(parenchyma))
        sd = MAD_TO_SD * float(np.median(np.abs(parenchyma - level))) + 1e-3
    padded = np.pad(inside, 1)
    depth = ndimage.distance_transform_edt(padded, sampling=coarse_spacing)[1:-1, 1:-1, 1:-1]
    avoid_mm = np.full(sub.shape, 1e6)
    if avoid is not None and np.asarray(avoid[box]).any():
        avoid_mm = ndimage.distance_transform_edt(
            ~np.asarray(avoid[box], dtype=bool), sampling=coarse_spacing
        )
    if vessels.any():
        vessel_mm = ndimage.distance_transform_edt(~vessels, sampling=coarse_spacing)
    else:
        vessel_mm = np.full(sub.shape, 1e6)
    return Parenchyma(
        level,
        sd,
        lo,
        stride,
        np.asarray(depth),
        np.asarray(vessel_mm, dtype=np.float64),
        vessels,
        np.asarray(avoid_mm, dtype=np.float64),
    )


def pick_center(
    tissue: Parenchyma,
    radius_mm: float,
    spacing_mm: tuple[float, ...],
    request: LesionRequest,
    taken: list[tuple[npt.NDArray[np.int64], float]],
    rng: np.random.Generator,
    near: tuple[npt.NDArray[np.int64], float, float] | None = None,
) -> npt.NDArray[np.int64] | None:
    """A lesion centre away from vessels, the capsule and earlier lesions (``None``: no room).

    The wish is a centre deeper than ``capsule_margin_mm + radius / 2`` and farther than
    ``vessel_clearance_mm + radius / 2`` from any vessel (and the lesion clear of the voxels to
    avoid by ``AVOID_CLEARANCE_MM``); where the liver has no such room the
    radius terms are relaxed step by step (the margins themselves are kept).

    Args:
        tissue: The scan's parenchyma maps.
        radius_mm: Radius of the lesion to place.
        spacing_mm: Full-resolution voxel size.
        request: Margins.
        taken: Earlier lesions (full-resolution centre, radius mm) not to overlap.
        rng: Random source.
        near: For a satellite: (primary centre, min distance mm, max distance mm).

    """
    spacing = np.asarray(spacing_mm, dtype=np.float64)
    for relax in (1.0, 0.5, 0.25, 0.0):
        ok = (
            (tissue.depth_mm > request.capsule_margin_mm + relax * radius_mm / 2)
            & (tissue.vessel_mm > request.vessel_clearance_mm + relax * radius_mm / 2)
            & (tissue.avoid_mm > AVOID_CLEARANCE_MM + relax * radius_mm)
        )
        candidates = np.argwhere(ok)
        if len(candidates) == 0:
            continue
        full = tissue.to_full(candidates)
        keep = np.ones(len(full), dtype=bool)
        for center, radius in taken:
            dist = np.linalg.norm((full - center) * spacing, axis=1)
            keep &= dist > (radius + radius_mm) * 1.05
        if near is not None:
            dist = np.linalg.norm((full - near[0]) * spacing, axis=1)
            keep &= (dist >= near[1]) & (dist <= near[2])
        full = full[keep]
        if len(full):
            out: npt.NDArray[np.int64] = full[rng.integers(len(full))]
            return out
    return None
