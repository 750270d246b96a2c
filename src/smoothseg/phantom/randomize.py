"""Domain-randomized phantoms (SynthSeg-style): new anatomy, phase and scanner per draw.

:func:`randomized_case` takes a phantom's anatomy (tissue map and labels from
:func:`~smoothseg.phantom.case.generate_case`, itself random per seed), repaints every tissue
with values of a random contrast phase (:mod:`~smoothseg.phantom.phases`), gives each tumor its
own appearance (hypo- or hyper-dense, rim enhancement, necrotic core), renders a random
acquisition (:mod:`~smoothseg.phantom.scanner`) and crops a random field of view. The case depends
only on the seed sequence passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from smoothseg.io import Volume
from smoothseg.phantom.config import PhantomConfig
from smoothseg.phantom.generate import generate_case
from smoothseg.phantom.phases import PHASES, phase_hu, tumor_offset_hu
from smoothseg.phantom.scanner import Scanner, apply_scanner, sample_scanner
from smoothseg.phantom.tissues import Tissue


@dataclass(frozen=True, eq=False)
class RandomizedCase:
    """A randomized phantom: image (HU), harmonized labels, and what was drawn."""

    image: Volume
    labels: Volume
    phase: str
    scanner: Scanner


def _paint_tumors(
    hu: np.ndarray,
    tumor: np.ndarray,
    liver_hu: float,
    phase: str,
    spacing_mm: tuple[float, ...],
    rng: np.random.Generator,
) -> None:
    comps, n = ndimage.label(tumor)
    for k in range(1, n + 1):
        mask = comps == k
        hu[mask] = liver_hu + tumor_offset_hu(phase, rng)
        depth = ndimage.distance_transform_edt(mask, sampling=spacing_mm)
        if phase in ("arterial", "portal-venous") and rng.random() < 0.35:
            hu[mask & (depth < rng.uniform(1.5, 4.0))] += rng.uniform(20.0, 60.0)
        if rng.random() < 0.25 and depth.max() > 4.0:
            hu[depth > depth.max() * rng.uniform(0.4, 0.7)] = rng.uniform(0.0, 25.0)


def _crop(array: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> tuple[slice, ...]:
    box = []
    for axis, size in enumerate(array.shape):
        keep = round(size * rng.uniform(0.75, 1.0))
        liver = np.flatnonzero(np.any(labels > 0, axis=tuple(a for a in range(3) if a != axis)))
        lo_max = size - keep
        lo = int(rng.integers(0, lo_max + 1))
        if liver.size and rng.random() < 0.8:  # mostly keep the whole liver in view
            lo = int(np.clip(lo, max(0, liver[-1] + 1 - keep), min(lo_max, liver[0])))
        box.append(slice(lo, lo + keep))
    return tuple(box)


def randomized_case(
    seed: np.random.SeedSequence, config: PhantomConfig | None = None
) -> RandomizedCase:
    """Draw one domain-randomized case from ``seed`` (anatomy, phase, tumors, scanner, FOV)."""
    anatomy_seed, paint_seed = seed.spawn(2)
    rng = np.random.default_rng(paint_seed)
    case = generate_case("randomized", anatomy_seed, config)
    tissues = np.asarray(case.tissues.array)
    labels = np.asarray(case.labels.array)
    phase = PHASES[int(rng.integers(len(PHASES)))]
    values = phase_hu(phase, rng)
    lut = np.full(max(int(t) for t in Tissue) + 1, -1000.0, dtype=np.float32)
    for tissue, value in values.items():
        lut[int(tissue)] = value
    hu = lut[tissues]
    spacing = case.image.spacing_mm
    _paint_tumors(hu, tissues == Tissue.TUMOR, values[Tissue.LIVER], phase, spacing, rng)
    scanner = sample_scanner(rng)
    image = apply_scanner(hu, spacing, scanner, rng)
    box = _crop(image, labels, rng)
    affine = case.image.affine.copy()
    affine[:3, 3] += affine[:3, :3] @ np.array([s.start for s in box], dtype=np.float64)
    return RandomizedCase(
        image=Volume(np.round(image[box]).astype(np.int16), affine, kind="image"),
        labels=Volume(labels[box].astype(np.uint8), affine, kind="label"),
        phase=phase,
        scanner=scanner,
    )
