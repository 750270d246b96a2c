"""Place, shape and paint synthetic lesions inside a liver mask (native grid, mm)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage


@dataclass(frozen=True)
class LesionRequest:
    """What to implant: count, diameter range (mm) and contrast range (HU vs parenchyma)."""

    count: int = 1
    size_mm: tuple[float, float] = (10.0, 30.0)
    contrast_hu: tuple[float, float] = (-60.0, -15.0)
    vessel_margin_hu: float = 40.0
    capsule_margin_mm: float = 5.0


@dataclass(frozen=True)
class Lesion:
    """One implanted lesion: centre voxel, diameter (mm), contrast (HU) and voxel count."""

    center_ijk: tuple[int, int, int]
    diameter_mm: float
    contrast_hu: float
    voxels: int


def _allowed(
    ct: npt.NDArray[np.float32],
    liver: npt.NDArray[np.bool_],
    spacing_mm: tuple[float, ...],
    request: LesionRequest,
) -> tuple[npt.NDArray[np.bool_], float, float]:
    """Liver voxels far from the capsule and not vessel-bright; parenchyma median and sd."""
    values = ct[liver]
    median = float(np.median(values))
    sd = float(np.std(values[np.abs(values - median) < 3 * values.std() + 1e-6]))
    vessels = liver & (ct > median + request.vessel_margin_hu)
    vessels = ndimage.binary_dilation(vessels, iterations=1)
    depth = ndimage.distance_transform_edt(liver, sampling=spacing_mm)
    return liver & ~vessels & (depth > request.capsule_margin_mm), median, sd


def implant_lesions(
    ct: npt.NDArray[np.floating],
    liver: npt.NDArray[np.bool_],
    spacing_mm: tuple[float, ...],
    request: LesionRequest,
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_], list[Lesion]]:
    """Implant ``request.count`` distorted-ellipsoid lesions with partial-volume edges.

    Returns the new CT, the tumor mask (inside ``liver``) and one record per lesion.
    """
    out = np.asarray(ct, dtype=np.float32).copy()
    liver = np.asarray(liver, dtype=bool)
    if not liver.any():
        raise ValueError("the liver mask is empty")
    allowed, median, sd = _allowed(out, liver, spacing_mm, request)
    tumor = np.zeros(liver.shape, dtype=bool)
    spacing = np.asarray(spacing_mm, dtype=np.float64)
    lesions: list[Lesion] = []
    for _ in range(request.count):
        candidates = np.argwhere(allowed & ~tumor)
        if len(candidates) == 0:
            break
        center = candidates[rng.integers(len(candidates))]
        diameter = float(rng.uniform(*request.size_mm))
        contrast = float(rng.uniform(*request.contrast_hu))
        radii = diameter / 2 * rng.uniform(0.8, 1.2, size=3)
        half = np.ceil(radii.max() * 1.5 / spacing).astype(int) + 2
        lo = np.maximum(center - half, 0)
        hi = np.minimum(center + half + 1, liver.shape)
        box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        grids = np.meshgrid(
            *[
                (np.arange(a, b) - c) * s
                for a, b, c, s in zip(lo, hi, center, spacing, strict=True)
            ],
            indexing="ij",
        )
        radial = np.sqrt(sum((g / r) ** 2 for g, r in zip(grids, radii, strict=True)))
        warp = ndimage.gaussian_filter(rng.standard_normal(radial.shape), 2.0)
        radial = radial + 0.15 * warp / (warp.std() + 1e-6)
        edge_vox = max(float(spacing.min()), 0.5)
        weight = np.clip((1.0 - radial) * diameter / 2 / edge_vox + 0.5, 0.0, 1.0)
        weight *= liver[box]
        texture = ndimage.gaussian_filter(rng.standard_normal(radial.shape), 1.0)
        texture *= sd / (texture.std() + 1e-6)
        local = out[box]
        target = median + contrast + texture
        out[box] = (local * (1 - weight) + target * weight).astype(np.float32)
        mask = weight >= 0.5
        tumor[box] |= mask
        lesions.append(Lesion(tuple(int(c) for c in center), diameter, contrast, int(mask.sum())))  # type: ignore[arg-type]
    return out, tumor, lesions
