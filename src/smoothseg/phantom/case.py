"""One phantom case: its random parameters (:class:`CaseSpec`) and its rasterization.

:func:`sample_case` draws everything random about a case and measures its latent tumor
burden on a coarse isotropic reference grid (fast: no image is rendered). The clinical table
is generated from these specs, so it does not depend on the output grid.
:func:`smoothseg.phantom.generate.generate_case` renders the CT image and label maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smoothseg.phantom.body import Body, sample_body
from smoothseg.phantom.config import (
    STREAM_ANATOMY,
    STREAM_TUMORS,
    PhantomConfig,
    substream,
)
from smoothseg.phantom.liver import (
    Liver,
    fit_volume,
    measure_room,
    organ_field,
    reference_grid,
    sample_liver,
    tumor_inside,
)
from smoothseg.phantom.organs import Organs, sample_organs
from smoothseg.phantom.tissues import Tissue, draw_hu
from smoothseg.phantom.tumors import Tumor, place_tumors, plan_tumors

RngOrSeed = np.random.Generator | np.random.SeedSequence | int
#: Median tumor-free liver volume (log-normal, log-sd 0.2, truncated to 800-2400 ml).
LIVER_MEDIAN_ML = 1300.0

#: Raw structure codes (HCC-TACE-Seg segmentation segments).
STRUCTURES: dict[int, str] = {
    0: "background",
    1: "liver",
    2: "tumor mass",
    3: "portal vein",
    4: "abdominal aorta",
}
#: Harmonized classes.
CLASSES: dict[int, str] = {0: "background", 1: "liver (incl. portal vein)", 2: "tumor"}


@dataclass(frozen=True)
class CaseSpec:
    """Everything random about one case, before rendering.

    Attributes:
        case_id: Case identifier.
        seed: Root seed sequence of the case (image noise is drawn from it).
        burden_quantile: Quantile the tumor burden was drawn at.
        body: Habitus and skeleton.
        organs: Non-liver organs.
        liver: Liver shape and vessels.
        tumors: Tumors, largest first.
        values: Tissue HU of this patient.
        noise_sigma_hu: Standard deviation of the image noise.
        liver_ml: Liver volume incl. tumors on the reference grid.
        tumor_ml: Tumor volume on the reference grid.

    """

    case_id: str
    seed: np.random.SeedSequence
    burden_quantile: float
    body: Body
    organs: Organs
    liver: Liver
    tumors: tuple[Tumor, ...]
    values: dict[Tissue, float]
    noise_sigma_hu: float
    liver_ml: float
    tumor_ml: float

    @property
    def tlvr(self) -> float:
        """Latent tumor-to-liver volume ratio (tumor / (liver + tumor)) on the reference grid."""
        return self.tumor_ml / self.liver_ml if self.liver_ml > 0 else 0.0

    @property
    def n_tumors(self) -> int:
        """Number of tumors."""
        return len(self.tumors)

    @property
    def largest_diameter_mm(self) -> float:
        """Diameter of the largest tumor (0 when tumor-free)."""
        return max((t.diameter_mm for t in self.tumors), default=0.0)


def as_seed_sequence(rng_or_seed: RngOrSeed) -> np.random.SeedSequence:
    """A seed sequence from a seed, a seed sequence, or (drawing from it) a generator."""
    if isinstance(rng_or_seed, np.random.SeedSequence):
        return rng_or_seed
    if isinstance(rng_or_seed, np.random.Generator):
        return np.random.SeedSequence(rng_or_seed.integers(0, 2**32, size=4).tolist())
    if isinstance(rng_or_seed, int | np.integer) and int(rng_or_seed) >= 0:
        return np.random.SeedSequence(int(rng_or_seed))
    raise ValueError(
        f"expected a non-negative seed, SeedSequence or Generator, got {rng_or_seed!r}"
    )


def sample_case(
    case_id: str,
    rng_or_seed: RngOrSeed,
    config: PhantomConfig | None = None,
    burden_quantile: float | None = None,
) -> CaseSpec:
    """Draw a case's anatomy and tumors and measure its burden on the reference grid.

    Args:
        case_id: Identifier stored in the spec.
        rng_or_seed: Randomness of the case.
        config: Generation settings (default: ``small`` preset).
        burden_quantile: Stratified quantile of the tumor burden in [0, 1); drawn uniformly
            when ``None``.

    """
    cfg = config or PhantomConfig()
    root = as_seed_sequence(rng_or_seed)
    rng = substream(root, STREAM_ANATOMY)
    body = sample_body(rng)
    organs = sample_organs(rng, body)
    liver = sample_liver(rng, body, organs)
    target_ml = float(np.clip(np.exp(rng.normal(np.log(LIVER_MEDIAN_ML), 0.2)), 800, 2400))
    values = draw_hu(rng)
    noise = float(rng.uniform(*cfg.noise_sigma_hu))
    trng = substream(root, STREAM_TUMORS)
    q = float(trng.uniform()) if burden_quantile is None else float(burden_quantile)
    drafts = plan_tumors(trng, q, cfg)
    liver, reference = fit_volume(liver, target_ml, cfg.reference_spacing_mm)
    tumors: tuple[Tumor, ...] = ()
    if drafts:
        room = measure_room(liver, 2.0 * cfg.reference_spacing_mm)
        tumors = tuple(place_tumors(trng, drafts, reference, cfg, room))
    liver_ml, tumor_ml = _reference_volumes(liver, tumors, cfg.reference_spacing_mm)
    return CaseSpec(
        case_id=case_id,
        seed=root,
        burden_quantile=q,
        body=body,
        organs=organs,
        liver=liver,
        tumors=tumors,
        values=values,
        noise_sigma_hu=noise,
        liver_ml=liver_ml,
        tumor_ml=tumor_ml,
    )


def liver_box_bounds(
    liver: Liver, tumors: tuple[Tumor, ...]
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Mm box holding the liver and everything its tumors touch."""
    lo, hi = (np.asarray(v) for v in liver.bounds())
    for t in tumors:
        c = np.asarray(t.shape.center)
        lo = np.minimum(lo, c - t.reach_mm)
        hi = np.maximum(hi, c + t.reach_mm)
    return (float(lo[0]), float(lo[1]), float(lo[2])), (float(hi[0]), float(hi[1]), float(hi[2]))


def _reference_volumes(
    liver: Liver, tumors: tuple[Tumor, ...], spacing_mm: float
) -> tuple[float, float]:
    lo, hi = liver_box_bounds(liver, tumors)
    grid = reference_grid(lo, hi, spacing_mm)
    box = grid.full()
    parts = []
    for t in tumors:
        c = t.shape.center
        r = t.reach_mm
        tbox = grid.box((c[0] - r, c[1] - r, c[2] - r), (c[0] + r, c[1] + r, c[2] + r))
        if tbox is not None:
            parts.append((tbox, t.shape.sdf(tbox.coords), t.capsule_mm))
    organ = organ_field(liver, box, parts)
    inside = organ < 0
    tumor = np.zeros_like(inside)
    for tbox, tsdf, _ in parts:
        tumor[tbox.index] |= tumor_inside(tsdf, organ[tbox.index]) < 0
    return float(inside.sum()) * grid.voxel_ml, float(tumor.sum()) * grid.voxel_ml
