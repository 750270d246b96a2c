"""Shape, intensity pattern and mass effect of one lesion, painted into a box of the CT.

* Shape: a randomly rotated ellipsoid (axes 0.8-1.2x, volume of the asked diameter) whose
  surface is distorted by smooth low-frequency noise (an elastic deformation of the radius).
* Partial volume: the voxel's coverage falls linearly over the voxel's own extent along the
  surface normal (so 2.5 mm slices blur more in z than 0.7 mm pixels in-plane), widened by a
  small extra blur; the label is coverage >= 0.5.
* Intensity: ``out = ct + coverage * (level + pattern + texture - lowpass(ct))``: the lesion
  replaces the parenchyma's low frequencies and keeps the scanner's own noise; texture is
  Gaussian noise filtered at 0.8-2 mm, scaled to a fraction of the parenchyma's noise sd.
* Pattern (HU against the local parenchyma level): body; optional enhancing capsule (outer
  1-2 mm), HCC-like enhancing rim (2-4 mm inside) and necrotic core (inner 30-50 %).
* Mass effect: before painting, the liver's tissue around the lesion is pushed outward by up to
  ``mass_effect`` x radius, decaying with distance and vanishing at the box's edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial.transform import Rotation

Box = tuple[slice, slice, slice]
WARP_CLIP = 2.5  # the distortion field is clipped at 2.5 sd
MIN_WARP_FACTOR = 0.5


@dataclass(frozen=True)
class Pattern:
    """Drawn intensity pattern of one lesion (HU against the local parenchyma)."""

    body_hu: float
    rim_hu: float | None = None
    rim_mm: float = 0.0
    core_hu: float | None = None
    core_fraction: float = 0.0
    capsule_hu: float | None = None
    capsule_mm: float = 0.0
    texture_sd_hu: float = 0.0
    texture_mm: float = 1.0


def lesion_box(
    center: npt.NDArray[np.int64],
    half_mm: float,
    spacing: npt.NDArray[np.float64],
    shape: tuple[int, ...],
) -> tuple[Box, npt.NDArray[np.int64]]:
    """The box reaching ``half_mm`` around ``center`` (clipped) and its first voxel."""
    half = np.ceil(half_mm / spacing).astype(np.int64) + 1
    lo = np.maximum(center - half, 0)
    hi = np.minimum(center + half + 1, np.asarray(shape))
    box = (
        slice(int(lo[0]), int(hi[0])),
        slice(int(lo[1]), int(hi[1])),
        slice(int(lo[2]), int(hi[2])),
    )
    return box, lo


def lesion_half_mm(
    radius_mm: float, irregularity: float, spacing: npt.NDArray[np.float64], blur_mm: float
) -> float:
    """Half-size of a box surely holding the lesion and its partial-volume edge.

    The longest axis is at most 1.2 / cbrt(1.2 x 0.8 x 0.8) = 1.31 x the radius, the distortion
    stretches it by at most 1 / max(1 - 2.5 x irregularity, 0.5), and the edge ramp reaches half
    its width (voxel extent and blur) beyond the surface.
    """
    stretch = 1.0 / max(1.0 - WARP_CLIP * irregularity, MIN_WARP_FACTOR)
    ramp = 0.5 * float(np.hypot(spacing.sum(), blur_mm))
    return radius_mm * 1.32 * stretch + ramp + float(spacing.max())


def _offsets(
    box: Box, center: npt.NDArray[np.int64], spacing: npt.NDArray[np.float64]
) -> list[npt.NDArray[np.float64]]:
    """Per-axis mm offsets from ``center`` (broadcastable, ``ij`` order)."""
    out = []
    for axis, sl in enumerate(box):
        shape = [1, 1, 1]
        shape[axis] = sl.stop - sl.start
        out.append(((np.arange(sl.start, sl.stop) - center[axis]) * spacing[axis]).reshape(shape))
    return out


def signed_distance_mm(
    box: Box,
    center: npt.NDArray[np.int64],
    spacing: npt.NDArray[np.float64],
    radius_mm: float,
    irregularity: float,
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Approximate signed distance (mm, negative inside) to a distorted ellipsoid's surface.

    Returns the distance and the voxels' extent along the surface normal (mm), which sets the
    partial-volume ramp.
    """
    axes = rng.uniform(0.8, 1.2, size=3)
    axes = axes / np.cbrt(np.prod(axes))  # volume of the asked diameter
    rotation = Rotation.random(random_state=rng).as_matrix()
    d = _offsets(box, center, spacing)
    # coordinates in the ellipsoid's frame, scaled so its surface is the unit sphere
    u = [sum(rotation[k, a] * d[k] for k in range(3)) / (axes[a] * radius_mm) for a in range(3)]
    radial = np.sqrt(u[0] ** 2 + u[1] ** 2 + u[2] ** 2)
    shape = tuple(sl.stop - sl.start for sl in box)
    if irregularity > 0:
        coarse = rng.standard_normal((6, 6, 6))
        zoom = [n / 6 for n in shape]
        warp = ndimage.zoom(coarse, zoom, order=1, mode="nearest")[
            : shape[0], : shape[1], : shape[2]
        ]
        warp = np.clip(warp / (coarse.std() + 1e-6), -WARP_CLIP, WARP_CLIP)
        radial = radial * np.maximum(1.0 + irregularity * warp, MIN_WARP_FACTOR)
    distance = (radial - 1.0) * radius_mm
    norm = np.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2) + 1e-6
    extent = sum(np.abs(d[k]) / norm * spacing[k] for k in range(3))
    return np.asarray(distance, dtype=np.float64), np.broadcast_to(extent, distance.shape)


def coverage(
    distance_mm: npt.NDArray[np.float64], extent_mm: npt.NDArray[np.float64], blur_mm: float
) -> npt.NDArray[np.float64]:
    """Partial-volume fraction of each voxel inside the surface (0.5 on the surface)."""
    width = np.sqrt(extent_mm**2 + blur_mm**2)
    out: npt.NDArray[np.float64] = np.clip(0.5 - distance_mm / width, 0.0, 1.0)
    return out


def pattern_hu(
    distance_mm: npt.NDArray[np.float64], radius_mm: float, p: Pattern
) -> npt.NDArray[np.float64]:
    """Intensity against the parenchyma at each signed distance (inside values matter)."""
    depth = -distance_mm  # mm below the lesion surface
    out = np.full(distance_mm.shape, p.body_hu)
    if p.core_hu is not None:
        core = np.clip((depth - radius_mm * (1 - p.core_fraction)) / 1.5, 0.0, 1.0)
        out = out + core * (p.core_hu - p.body_hu)
    if p.rim_hu is not None:
        start = p.capsule_mm
        rim = np.clip(1.0 - np.abs(depth - start - p.rim_mm / 2) / (p.rim_mm / 2 + 0.5), 0.0, 1.0)
        out = out + rim * (p.rim_hu - out)
    if p.capsule_hu is not None:
        cap = np.clip(1.0 - np.abs(depth - p.capsule_mm / 2) / (p.capsule_mm / 2 + 0.5), 0.0, 1.0)
        out = out + cap * (p.capsule_hu - out)
    return out


def texture(
    shape: tuple[int, ...], spacing: npt.NDArray[np.float64], p: Pattern, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Gaussian noise filtered at ``p.texture_mm``, with sd ``p.texture_sd_hu``."""
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), sigma=p.texture_mm / spacing)
    out: npt.NDArray[np.float64] = noise * (p.texture_sd_hu / (noise.std() + 1e-9))
    return out


def push_outward(
    region: npt.NDArray[np.float32],
    liver: npt.NDArray[np.bool_],
    center_local: npt.NDArray[np.int64],
    spacing: npt.NDArray[np.float64],
    radius_mm: float,
    strength: float,
) -> npt.NDArray[np.float32]:
    """Mass effect: liver tissue in ``region`` moved outward from the lesion (gentle, local).

    The displacement is ``strength * rho`` inside the lesion and ``strength * r^3 / rho^2``
    outside, tapered to 0 at the box's edge; voxels outside the liver keep their values. Only
    the 1 mm low-pass moves; the finer detail (scanner noise) stays where it was.
    """
    if strength <= 0:
        return region
    idx = np.indices(region.shape, dtype=np.float32)
    d = [(idx[k] - center_local[k]) * np.float32(spacing[k]) for k in range(3)]
    rho = np.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2) + 1e-6
    room = np.minimum(np.asarray(region.shape) - 1 - center_local, center_local) * spacing
    edge_mm = max(float(room.min()), radius_mm * 1.01)
    shift = np.where(rho < radius_mm, strength * rho, strength * radius_mm**3 / rho**2)
    shift *= np.clip((edge_mm - rho) / max(edge_mm - radius_mm, 1e-6), 0.0, 1.0)
    scale = (1.0 - shift / rho).astype(np.float32)  # sample the tissue nearer the centre
    for k in range(3):  # in place: idx becomes the source coordinates
        idx[k] = center_local[k] + (idx[k] - center_local[k]) * scale
    source = idx
    # move the structures (low-pass) only: interpolating the noise would smooth it
    low = ndimage.gaussian_filter(region, sigma=1.0 / spacing)
    moved = ndimage.map_coordinates(low, source, order=1, mode="nearest") + (region - low)
    return np.where(liver, moved, region).astype(np.float32)
