"""Liver tumors: how many, how large, what they look like, where they sit.

* The largest diameter is log-normal (median ``diameter_median_mm``, log-sd ``diameter_sigma``)
  truncated to ``diameter_range_mm``, drawn at a stratified quantile (see
  :func:`smoothseg.phantom.config.burden_quantile`); the lowest band is a tumor-free liver.
* Multifocal livers get 2-6 tumors; satellites are smaller (log-normal around 40 % of the
  largest).
* Kinds: ``hypodense`` (25-60 HU below liver), ``isodense`` (low contrast, 5-20 HU below),
  ``heterogeneous`` (viable part 25-50 HU below liver, necrotic core of 5-30 HU, enhancing
  rim 5-25 HU above liver); large tumors are mostly heterogeneous.
* Shapes are lobulated spheres; margins are Gaussian contrast ramps 0.8-2.5 mm wide (sigma).
* Centres are drawn inside the tumor-free liver, deep enough for the tumor's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
from scipy import special

from smoothseg.phantom.config import PhantomConfig
from smoothseg.phantom.liver import ReferenceLiver, Room
from smoothseg.phantom.shapes import F32, Coords, Lobulated, Warp, random_warp

TumorKind = Literal["hypodense", "isodense", "heterogeneous"]
KINDS: tuple[TumorKind, ...] = ("hypodense", "isodense", "heterogeneous")
_N = NormalDist()


@dataclass(frozen=True)
class Tumor:
    """One tumor.

    Attributes:
        shape: Lobulated outline (centre, radius, lobes) in mm.
        kind: Appearance class.
        contrast_hu: Viable tumor minus liver (HU).
        rim_hu: Enhancing rim minus liver (heterogeneous tumors).
        rim_mm: Rim thickness.
        necrosis_hu: HU of the necrotic core.
        necrosis_depth: Core starts this fraction of the radius below the surface (1 = none).
        margin_mm: Sigma of the Gaussian contrast ramp at the margin.
        capsule_mm: Thickness of liver kept over a tumor that bulges out of the liver.
        texture: Smooth internal texture field.
        texture_hu: Amplitude of the internal texture.

    """

    shape: Lobulated
    kind: TumorKind
    contrast_hu: float
    rim_hu: float
    rim_mm: float
    necrosis_hu: float
    necrosis_depth: float
    margin_mm: float
    capsule_mm: float
    texture: Warp
    texture_hu: float

    @property
    def diameter_mm(self) -> float:
        """Nominal diameter (twice the mean radius)."""
        return 2.0 * self.shape.radius

    @property
    def reach_mm(self) -> float:
        """Distance from the centre beyond which the tumor changes nothing."""
        return self.shape.max_radius + 3.0 * self.margin_mm + self.capsule_mm + 10.0

    def to_dict(self) -> dict[str, Any]:
        """Summary for the case's ``tumors.json``."""
        return {
            "center_mm": [round(c, 2) for c in self.shape.center],
            "diameter_mm": round(self.diameter_mm, 2),
            "kind": self.kind,
            "contrast_hu": round(self.contrast_hu, 1),
            "margin_sigma_mm": round(self.margin_mm, 2),
        }


@dataclass(frozen=True)
class TumorDraft:
    """A tumor before placement: everything but the centre."""

    diameter_mm: float
    kind: TumorKind


def largest_diameter_mm(quantile: float, config: PhantomConfig) -> float | None:
    """Diameter of the largest tumor at a burden quantile, or ``None`` for a tumor-free liver.

    The lowest ``1/strata`` of quantiles is tumor-free; the rest map linearly onto the
    truncated log-normal's quantiles.
    """
    free = 1.0 / config.strata
    if quantile < free:
        return None
    u = (quantile - free) / (1.0 - free)
    lo, hi = config.diameter_range_mm
    mu, sd = np.log(config.diameter_median_mm), config.diameter_sigma
    f_lo, f_hi = _N.cdf((np.log(lo) - mu) / sd), _N.cdf((np.log(hi) - mu) / sd)
    p = min(max(f_lo + u * (f_hi - f_lo), 1e-12), 1 - 1e-12)
    return float(np.clip(np.exp(mu + sd * _N.inv_cdf(p)), lo, hi))


def _kind(rng: np.random.Generator, diameter_mm: float) -> TumorKind:
    p_het = 1.0 / (1.0 + np.exp(-(diameter_mm - 50.0) / 12.0))
    r = rng.uniform()
    if r < p_het:
        return "heterogeneous"
    return "isodense" if rng.uniform() < 0.45 else "hypodense"


def plan_tumors(
    rng: np.random.Generator, quantile: float, config: PhantomConfig
) -> list[TumorDraft]:
    """Sizes and kinds of a case's tumors, largest first."""
    largest = largest_diameter_mm(quantile, config)
    if largest is None:
        return []
    n = 1
    if rng.uniform() < config.multifocal_probability:
        n = min(config.max_tumors, 2 + int(rng.poisson(1.0)))
    lo = config.diameter_range_mm[0]
    sizes = [largest]
    for _ in range(n - 1):
        d = largest * np.exp(rng.normal(np.log(0.4), 0.5))
        sizes.append(float(np.clip(d, lo, max(lo, 0.85 * largest))))
    sizes.sort(reverse=True)
    return [TumorDraft(d, _kind(rng, d)) for d in sizes]


def _appearance(
    rng: np.random.Generator, draft: TumorDraft, config: PhantomConfig
) -> dict[str, Any]:
    kind = draft.kind
    out: dict[str, Any] = {
        "rim_hu": 0.0,
        "rim_mm": 0.0,
        "necrosis_hu": 0.0,
        "necrosis_depth": 1.0,
        "margin_mm": float(rng.uniform(*config.margin_sigma_mm)),
        "capsule_mm": float(rng.uniform(2.0, 5.0)),
        "texture_hu": float(rng.uniform(3.0, 8.0)),
    }
    if kind == "hypodense":
        out["contrast_hu"] = -float(rng.uniform(25, 60))
    elif kind == "isodense":
        out["contrast_hu"] = -float(rng.uniform(5, 20))
        out["texture_hu"] = float(rng.uniform(2.0, 5.0))
    else:
        out["contrast_hu"] = -float(rng.uniform(25, 50))
        out["rim_hu"] = float(rng.uniform(5, 25))
        out["rim_mm"] = float(rng.uniform(2, 6))
        out["necrosis_hu"] = float(rng.uniform(5, 30))
        out["necrosis_depth"] = float(rng.uniform(0.15, 0.45))
        out["texture_hu"] = float(rng.uniform(8.0, 15.0))
    return out


def _outline(rng: np.random.Generator, center: np.ndarray, radius: float) -> Lobulated:
    n = 5
    dirs = rng.normal(size=(n, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    total = rng.uniform(0.05, 0.18)
    amps = rng.dirichlet(np.ones(n)) * total
    return Lobulated(
        center=(float(center[0]), float(center[1]), float(center[2])),
        radius=radius,
        dirs=tuple((float(d[0]), float(d[1]), float(d[2])) for d in dirs),
        freqs=tuple(float(f) for f in rng.uniform(2.0, 5.0, n)),
        amps=tuple(float(a) for a in amps),
        phases=tuple(float(p) for p in rng.uniform(0, 2 * np.pi, n)),
    )


def place_tumors(
    rng: np.random.Generator,
    drafts: list[TumorDraft],
    reference: ReferenceLiver,
    config: PhantomConfig,
    room_of: Room | None = None,
) -> list[Tumor]:
    """Give each draft a centre inside the liver, deep enough for its size.

    Larger tumors go first. A centre lies at least ``0.7 r + 2 mm`` inside the liver (85 % of
    its largest depth for huge tumors), where the free space around it (up to the wall, the
    diaphragm or another organ, per ``room_of``) is at least ``1.1 r`` (97 % of the most
    available), and keeps
    ``0.9 * (r_i + r_j)`` from earlier centres when the liver leaves room, else that constraint
    is dropped (confluent tumors).
    """
    depth = reference.depth_mm
    max_depth = float(depth.max())
    idx = np.argwhere(reference.mask)
    if idx.size == 0 or max_depth <= 0:
        raise RuntimeError("the reference liver is empty; cannot place tumors")
    grid = reference.grid
    origin = np.asarray(grid.origin_mm)
    spacing = np.asarray(grid.spacing_mm)
    pts = origin + idx * spacing
    vals = depth[tuple(idx.T)]
    room = room_of.at(pts) if room_of is not None else np.full(len(pts), np.inf, np.float32)
    placed: list[Tumor] = []
    for draft in drafts:
        r = draft.diameter_mm / 2.0
        need = min(0.7 * r + 2.0, 0.5 * max_depth)
        ok = vals >= need
        # Prefer places where the tumor fits without being cut by the wall or other organs.
        ok &= room >= min(1.1 * r, 0.97 * float(room[ok].max()))
        for t in placed:
            far = np.linalg.norm(pts - np.asarray(t.shape.center), axis=1) >= 0.9 * (
                r + t.shape.radius
            )
            if (ok & far).any():
                ok &= far
        choice = rng.choice(np.flatnonzero(ok))
        centre = pts[choice] + rng.uniform(-0.5, 0.5, 3) * spacing
        look = _appearance(rng, draft, config)
        placed.append(
            Tumor(
                shape=_outline(rng, centre, r),
                kind=draft.kind,
                texture=random_warp(rng, 6, (max(6.0, r / 2), max(12.0, 2 * r)), 1.0),
                **look,
            )
        )
    return placed


def tumor_hu(tumor: Tumor, sdf: F32, coords: Coords, liver_hu: float) -> F32:
    """HU the tumor shows at each point (without the margin blend)."""
    tex = tumor.texture.scalar(coords)
    tex = tex / np.float32(max(float(np.abs(tex).max()), 1e-3))
    viable = liver_hu + tumor.contrast_hu + tumor.texture_hu * tex
    if tumor.kind != "heterogeneous":
        out: F32 = viable.astype(np.float32)
        return out
    inner = -sdf
    rim = special.expit((tumor.rim_mm - inner) / 1.0)
    hu = viable + rim * (liver_hu + tumor.rim_hu - viable)
    core_at = tumor.necrosis_depth * tumor.shape.radius * (1.0 + 0.35 * tex)
    core = special.expit((inner - core_at) / 2.0)
    out = (hu + core * (tumor.necrosis_hu - hu)).astype(np.float32)
    return out


def margin_weight(tumor: Tumor, sdf: F32) -> F32:
    """Tumor share of the intensity: a Gaussian ramp (CDF) across the margin."""
    out: F32 = (0.5 * special.erfc(sdf / (np.sqrt(2.0) * tumor.margin_mm))).astype(np.float32)
    return out
