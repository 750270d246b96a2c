"""Implant synthetic lesions into the liver of a CT array (native grid, sizes in mm).

Recipe (written for smoothseg after reading the label-free tumor synthesis literature, e.g. Hu
et al., CVPR 2023): centres away from vessels and the capsule (:mod:`.sites`); shapes,
partial-volume edges, patterns, texture and mass effect in :mod:`.paint`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from smoothseg.synthesis.config import DENSITY_CONTRAST_HU, Lesion, LesionRequest
from smoothseg.synthesis.paint import (
    Pattern,
    coverage,
    lesion_box,
    lesion_half_mm,
    pattern_hu,
    push_outward,
    signed_distance_mm,
    texture,
)
from smoothseg.synthesis.sites import Parenchyma, analyse_liver, pick_center

LOWPASS_MM = 2.0
MASS_EFFECT_REACH = 1.8  # the push fades out at 1.8 radii from the centre


def draw_contrast(request: LesionRequest, rng: np.random.Generator) -> float:
    """Body contrast: from ``contrast_hu`` or from a drawn density class."""
    if request.contrast_hu is not None:
        return float(rng.uniform(*request.contrast_hu))
    weights = np.asarray(request.density_weights, dtype=np.float64)
    name = list(DENSITY_CONTRAST_HU)[int(rng.choice(3, p=weights / weights.sum()))]
    return float(rng.uniform(*DENSITY_CONTRAST_HU[name]))


def draw_pattern(
    request: LesionRequest,
    diameter_mm: float,
    contrast_hu: float,
    noise_sd_hu: float,
    rng: np.random.Generator,
) -> Pattern:
    """Rim, core and capsule by the request's probabilities; texture from the noise sd."""
    hcc = rng.random() < request.hcc_prob
    necrosis = diameter_mm >= 15.0 and rng.random() < request.necrosis_prob
    capsule = diameter_mm >= 10.0 and rng.random() < request.capsule_prob
    texture_sd = float(rng.uniform(*request.texture_scale)) * noise_sd_hu
    return Pattern(
        body_hu=contrast_hu,
        rim_hu=contrast_hu + float(rng.uniform(40.0, 70.0)) if hcc else None,
        rim_mm=float(rng.uniform(2.0, 4.0)) if hcc else 0.0,
        core_hu=min(contrast_hu, 0.0) - float(rng.uniform(20.0, 40.0)) if necrosis else None,
        core_fraction=float(rng.uniform(0.3, 0.5)) if necrosis else 0.0,
        capsule_hu=float(rng.uniform(20.0, 40.0)) if capsule else None,
        capsule_mm=float(rng.uniform(1.5, 3.0)) if capsule else 0.0,
        texture_sd_hu=texture_sd,
        texture_mm=float(rng.uniform(0.8, 2.0)),
    )


def _local_level(
    region: npt.NDArray[np.float32],
    liver: npt.NDArray[np.bool_],
    tissue: Parenchyma,
    margin_hu: float,
) -> float:
    """Median of the non-vessel liver around the lesion (the scan's level when too few)."""
    values = region[liver]
    values = values[np.abs(values - tissue.level_hu) < margin_hu]
    return float(np.median(values)) if values.size >= 50 else tissue.level_hu


def _paint(
    out: npt.NDArray[np.float32],
    liver: npt.NDArray[np.bool_],
    tumor: npt.NDArray[np.bool_],
    center: npt.NDArray[np.int64],
    diameter_mm: float,
    pattern: Pattern,
    request: LesionRequest,
    tissue: Parenchyma,
    spacing: npt.NDArray[np.float64],
    rng: np.random.Generator,
) -> int:
    """Paint one lesion into ``out`` / ``tumor`` in place; returns its voxel count."""
    radius = diameter_mm / 2
    strength = float(rng.uniform(*request.mass_effect))
    if strength > 0:
        near, near_lo = lesion_box(center, radius * MASS_EFFECT_REACH + 2.0, spacing, out.shape)
        out[near] = push_outward(
            out[near], liver[near], center - near_lo, spacing, radius, strength
        )
    half = lesion_half_mm(radius, request.irregularity, spacing, request.edge_blur_mm[1])
    box, _ = lesion_box(center, half, spacing, out.shape)
    region = out[box]
    inside = liver[box]
    distance, extent = signed_distance_mm(box, center, spacing, radius, request.irregularity, rng)
    weight = coverage(distance, extent, float(rng.uniform(*request.edge_blur_mm))) * inside
    level = _local_level(region, inside & (distance > 0), tissue, request.vessel_margin_hu)
    lowpass = ndimage.gaussian_filter(region, sigma=LOWPASS_MM / spacing)
    grain = texture(region.shape, spacing, pattern, rng)
    body = weight >= 0.5
    if body.any():  # the body's mean is the asked contrast: no offset from the texture
        grain -= float(grain[body].mean())
    target = level + pattern_hu(distance, radius, pattern) + grain
    noise = np.clip(region - lowpass, -3 * tissue.noise_sd_hu, 3 * tissue.noise_sd_hu)
    painted = region + weight * (target + noise - region)
    out[box] = painted.astype(np.float32)
    mask = (weight >= 0.5) & inside
    tumor[box] |= mask
    return int(mask.sum())


def implant_lesions(
    ct: npt.NDArray[np.floating],
    liver: npt.NDArray[np.bool_],
    spacing_mm: tuple[float, ...],
    request: LesionRequest,
    rng: np.random.Generator,
    *,
    avoid: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_], list[Lesion]]:
    """Implant ``request.count`` lesions (plus satellites) into ``ct`` inside ``liver``.

    Args:
        ct: CT in HU, any voxel order (``spacing_mm`` matches its axes).
        liver: Liver mask on the same grid.
        spacing_mm: Voxel size per axis.
        request: What to implant.
        rng: Random source (same seed, same bytes).
        avoid: Voxels where no lesion centre may go (same grid), e.g. existing tumor.

    Returns:
        The new CT (float32), the tumor mask (inside ``liver``) and one record per lesion;
        lesions that find no room are skipped (fewer records than asked).

    Raises:
        ValueError: The liver mask is empty or does not fit the CT.

    """
    out = np.array(ct, dtype=np.float32)
    liver = np.asarray(liver, dtype=bool)
    if liver.shape != out.shape:
        raise ValueError(f"liver mask shape {liver.shape} differs from CT shape {out.shape}")
    if not liver.any():
        raise ValueError("the liver mask is empty")
    spacing = np.asarray(spacing_mm, dtype=np.float64)
    voxel_ml = float(np.prod(spacing)) / 1000.0
    tissue = analyse_liver(out, liver, spacing_mm, request, avoid)
    tumor = np.zeros(liver.shape, dtype=bool)
    taken: list[tuple[npt.NDArray[np.int64], float]] = []
    lesions: list[Lesion] = []
    for _ in range(request.count):
        diameter = float(rng.uniform(*request.size_mm))
        center = pick_center(tissue, diameter / 2, spacing_mm, request, taken, rng)
        if center is None:
            continue
        contrast = draw_contrast(request, rng)
        pattern = draw_pattern(request, diameter, contrast, tissue.noise_sd_hu, rng)
        sites: list[tuple[npt.NDArray[np.int64], float, int | None, Pattern]] = [
            (center, diameter, None, pattern)
        ]
        if rng.random() < request.multifocal_prob:
            parent = len(lesions)
            for _ in range(int(rng.integers(1, 4))):
                small = max(3.0, diameter * float(rng.uniform(0.15, 0.35)))
                near = (center, 0.6 * diameter, 1.2 * diameter)
                spot = pick_center(tissue, small / 2, spacing_mm, request, taken, rng, near=near)
                if spot is not None:
                    plain = Pattern(contrast, texture_sd_hu=pattern.texture_sd_hu)
                    sites.append((spot, small, parent, plain))
                    taken.append((spot, small / 2))
        taken.append((center, diameter / 2))
        for spot, size, parent_index, look in sites:
            voxels = _paint(out, liver, tumor, spot, size, look, request, tissue, spacing, rng)
            lesions.append(
                Lesion(
                    center_ijk=(int(spot[0]), int(spot[1]), int(spot[2])),
                    diameter_mm=size,
                    contrast_hu=contrast,
                    pattern="hcc" if look.rim_hu is not None else "plain",
                    necrosis=look.core_hu is not None,
                    capsule=look.capsule_hu is not None,
                    parent=parent_index,
                    voxels=voxels,
                    volume_ml=voxels * voxel_ml,
                )
            )
    return out, tumor, lesions
