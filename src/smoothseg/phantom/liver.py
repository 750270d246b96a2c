"""The liver: smoothly deformed lobes, portal and hepatic veins, and its neighbours' imprints.

The organ is a smooth union of three ellipsoidal lobes (right, left, caudate) seen through a
random low-frequency displacement field, then clipped by the muscle wall, the diaphragm and
the neighbouring organs (so it conforms to the ribs and carries kidney, gallbladder and
stomach impressions). Tumors are joined to it with a smooth union that keeps a thin capsule
of liver over bulging masses, so a tumor always lies inside the liver.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from smoothseg.phantom.body import BelowDiaphragm, Body, Cavity
from smoothseg.phantom.grid import Box, PhantomGrid
from smoothseg.phantom.organs import Organs
from smoothseg.phantom.shapes import (
    F32,
    Coords,
    Ellipsoid,
    Shape,
    Tube,
    Union,
    Vec,
    Warp,
    random_warp,
    rotation,
    smin,
)

#: The room grid reaches this far beyond the liver (mm).
ROOM_MARGIN_MM = 30.0
#: Blend width (mm) of the smooth union of the lobes.
LOBE_BLEND_MM = 25.0
#: Blend width (mm) of the smooth union between liver and tumors.
TUMOR_BLEND_MM = 8.0
#: How far a tumor-filled part of the liver may push the diaphragm up (mm).
DIAPHRAGM_LIFT_MM = 30.0
#: Liver kept between a tumor and the liver surface where the liver is cut by its limits (mm).
TUMOR_RIM_MM = 3.0
#: Portal vein voxels count as portal vein (label 3) up to this far outside the liver (mm).
PORTAL_LABEL_REACH_MM = 4.0


@dataclass(frozen=True)
class Liver:
    """One patient's liver: lobes, deformation, vessels and what it must avoid.

    Attributes:
        lobe_parts: Ellipsoids of the lobes (smoothly united), in undeformed coordinates.
        anchor: Point (porta hepatis) the liver is scaled about.
        warp: Displacement applied before evaluating lobes and vessels.
        portal: Portal vein tree (warped with the liver).
        hepatic: Hepatic veins (warped with the liver; labelled liver).
        clips: Solids the liver must stay inside (muscle wall, below the diaphragm).
        avoid: ``(shape, gap_mm)`` pairs the liver keeps ``gap_mm`` away from.
        texture: Smooth parenchymal texture field (a few HU).

    """

    lobe_parts: tuple[Ellipsoid, ...]
    anchor: Vec
    warp: Warp
    portal: Tube
    portal_branches: tuple[Tube, ...]
    hepatic: tuple[Tube, ...]
    clips: tuple[Shape, ...]
    avoid: tuple[tuple[Shape, float], ...]
    texture: Warp

    @property
    def lobes(self) -> Union:
        """Smooth union of the lobes."""
        return Union(self.lobe_parts, k=LOBE_BLEND_MM)

    def scaled(self, s: float) -> Liver:
        """The liver (lobes and vessels) scaled by ``s`` about its anchor."""
        a = self.anchor
        return replace(
            self,
            lobe_parts=tuple(e.scaled(a, s) for e in self.lobe_parts),
            portal=self.portal.scaled(a, s),
            portal_branches=tuple(t.scaled(a, s) for t in self.portal_branches),
            hepatic=tuple(t.scaled(a, s) for t in self.hepatic),
        )

    def bounds(self) -> tuple[Vec, Vec]:
        """Box holding the deformed lobes."""
        lo, hi = self.lobes.bounds()
        m = self.warp.max_shift + 2.0
        return (lo[0] - m, lo[1] - m, lo[2] - m), (hi[0] + m, hi[1] + m, hi[2] + m)

    def lobe_sdf(self, p: Coords) -> F32:
        """Signed distance of the deformed lobes, before clipping."""
        return self.lobes.sdf(self.warp.displace(p))

    def limit_sdf(self, p: Coords, lift_mm: F32 | float = 0.0) -> F32:
        """Positive where the liver may not go (outside the wall, near other organs).

        ``lift_mm`` raises the diaphragm locally (a large tumor pushes it up).
        """
        out: F32 | None = None
        for c in self.clips:
            d = c.sdf(p)
            if isinstance(c, BelowDiaphragm):
                d = (d - lift_mm).astype(np.float32)
            out = d if out is None else np.maximum(out, d)
        for shape, gap in self.avoid:
            d = (np.float32(gap) - shape.sdf(p)).astype(np.float32)
            out = d if out is None else np.maximum(out, d)
        assert out is not None
        return out

    def vessel_sdf(self, tubes: tuple[Tube, ...], p: Coords) -> F32:
        """Distance to a set of (deformed) vessels."""
        q = self.warp.displace(p)
        out = tubes[0].sdf(q)
        for t in tubes[1:]:
            out = np.minimum(out, t.sdf(q))
        return out


def _tube(points: list[Vec], radii: list[float], anchor: Vec, s: float) -> Tube:
    return Tube(tuple(points), tuple(radii)).scaled(anchor, s)


def _perirenal(kidney: Ellipsoid) -> Ellipsoid:
    """Perirenal fat space: the kidney grown 1.3-1.6x, shifted posteriorly and medially.

    Keeps the liver in front of and beside the right kidney instead of wrapping behind it.
    """
    c = kidney.center
    r = kidney.radii
    return Ellipsoid(
        (c[0] - 8.0, c[1] - 14.0, c[2]), (r[0] * 1.5, r[1] * 1.6, r[2] * 1.3), kidney.rot
    )


def sample_liver(rng: np.random.Generator, body: Body, organs: Organs) -> Liver:
    """Draw one patient's liver shape, size, deformation and vessels."""
    _, b = body.vb_radii
    yv = body.spine_y
    cx = body.half_width - body.fat_mm - body.muscle_mm
    front = body.half_depth_ant - body.fat_mm - body.muscle_mm
    back = -(body.half_depth_post - body.fat_mm - body.muscle_mm)
    porta: Vec = (30.0, yv + b + 40.0, -88.0)
    scale = 1.0
    left = rng.uniform(0.7, 1.3)
    right = Ellipsoid(
        (0.5 * cx, 0.5 * (front + back) + 5.0, -82.0),
        (0.52 * cx, 0.52 * (front - back), rng.uniform(78, 90)),
        rotation(yaw_deg=rng.uniform(-8, 8), roll_deg=rng.uniform(-6, 6)),
    )
    left_lobe = Ellipsoid(
        (-0.2 * cx * left, 0.45 * front, -50.0),
        (0.5 * cx * left, 0.3 * front + 8.0, rng.uniform(30, 42)),
        rotation(yaw_deg=rng.uniform(5, 25), pitch_deg=rng.uniform(-10, 10)),
    )
    caudate = Ellipsoid((6.0, yv + b + 30.0, -62.0), (18.0, 16.0, 30.0))
    warp = random_warp(rng, 8, (80, 260), rng.uniform(6, 11))
    pb = yv + b
    portal = _tube([(8.0, yv + 38.0, -118.0), porta], [7.0, 7.0], porta, scale)
    r1: Vec = (62.0, pb + 38.0, -80.0)
    l1: Vec = (0.0, pb + 62.0, -80.0)

    def _left(q: tuple[float, float, float]) -> Vec:
        """Left-lobe vessel point, following the left lobe's random size."""
        return (porta[0] + (q[0] - porta[0]) * left, q[1], q[2])

    branches = (
        _tube(
            [porta, r1, (88.0, pb + 75, -85.0), (105.0, pb + 95, -95.0)],
            [6, 5, 4, 2.5],
            porta,
            scale,
        ),
        _tube([r1, (95.0, pb + 10, -75.0), (112.0, pb - 5, -92.0)], [5, 4, 2.5], porta, scale),
        _tube([r1, (80.0, pb + 40, -40.0), (95.0, pb + 45, -20.0)], [4, 3.5, 2], porta, scale),
        _tube(
            [porta, *(_left(q) for q in (l1, (-18, pb + 85, -72), (-50, pb + 80, -58)))],
            [5.5, 5, 4.5, 3],
            porta,
            scale,
        ),
    )
    iy = organs.ivc.points[2][1]
    h0: Vec = (18.0, iy + 4.0, -18.0)
    hepatic = (
        _tube([h0, (70.0, iy + 5, -45.0), (110.0, iy + 10, -90.0)], [5, 4, 2.5], porta, scale),
        _tube([h0, (40.0, iy + 45, -60.0), (55.0, iy + 85, -110.0)], [5, 4, 2.5], porta, scale),
        _tube(
            [h0, _left((-10, iy + 40, -35)), _left((-45, iy + 65, -45))],
            [4.5, 3.5, 2],
            porta,
            scale,
        ),
    )
    a, bb = body.vb_radii
    spine = Ellipsoid((0.0, yv - 12.0, -100.0), (a + 8.0, bb + 30.0, 1e5))
    para = tuple(
        Ellipsoid((side * (a + 13.0), body.canal_y - 12.0, -100.0), (25.0, 27.0, 1e5))
        for side in (-1, 1)
    )
    avoid: list[tuple[Shape, float]] = [
        (organs.ivc, 0.5),
        (organs.aorta, 3.0),
        (spine, 2.0),
        *((p, 2.0) for p in para),
        (organs.kidneys[0].outer, 3.0),
        (_perirenal(organs.kidneys[0].outer), 0.0),
        (organs.stomach, 3.0),
    ]
    if organs.gallbladder is not None:
        avoid.append((organs.gallbladder, 1.0))
    return Liver(
        lobe_parts=(right, left_lobe, caudate),
        anchor=right.center,
        warp=warp,
        portal=portal,
        portal_branches=branches,
        hepatic=hepatic,
        clips=(Cavity(body, 1.0), BelowDiaphragm(body, 4.0)),
        avoid=tuple(avoid),
        texture=random_warp(rng, 10, (12, 60), 1.0),
    )


@dataclass(frozen=True)
class ReferenceLiver:
    """The tumor-free liver rasterized on the isotropic reference grid.

    Attributes:
        grid: The reference grid.
        mask: Liver voxels.
        depth_mm: Distance of each liver voxel to the liver surface.

    """

    grid: PhantomGrid
    mask: npt.NDArray[np.bool_]
    depth_mm: npt.NDArray[np.float32]

    @property
    def volume_ml(self) -> float:
        """Liver volume on the reference grid."""
        return float(self.mask.sum()) * self.grid.voxel_ml


@dataclass(frozen=True)
class Room:
    """Free space around the liver: distance (mm) to the nearest place it may not grow into.

    Measured on a coarse grid reaching :data:`ROOM_MARGIN_MM` beyond the liver; it tells how
    large a tumor fits at a point without being cut by the wall, the diaphragm or an organ.
    """

    grid: PhantomGrid
    room_mm: npt.NDArray[np.float32]

    def at(self, points_mm: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
        """Room at each row of ``points_mm`` (nearest coarse voxel)."""
        origin = np.asarray(self.grid.origin_mm)
        spacing = np.asarray(self.grid.spacing_mm)
        idx = np.rint((points_mm - origin) / spacing).astype(np.intp)
        idx = np.clip(idx, 0, np.asarray(self.grid.shape) - 1)
        out: npt.NDArray[np.float32] = self.room_mm[idx[:, 0], idx[:, 1], idx[:, 2]]
        return out


def measure_room(liver: Liver, spacing_mm: float) -> Room:
    """Distance to the nearest forbidden voxel, on a grid around the liver."""
    lo, hi = liver.bounds()
    m = ROOM_MARGIN_MM
    grid = reference_grid(
        (lo[0] - m, lo[1] - m, lo[2] - m), (hi[0] + m, hi[1] + m, hi[2] + m), spacing_mm
    )
    allowed = liver.limit_sdf(grid.full().coords) < 0
    room = ndimage.distance_transform_edt(allowed, sampling=spacing_mm).astype(np.float32)
    return Room(grid, room)


def reference_grid(lo: Vec, hi: Vec, spacing_mm: float) -> PhantomGrid:
    """An isotropic grid covering the mm box ``[lo, hi]``."""
    n = [int(np.ceil((h - low) / spacing_mm)) + 1 for low, h in zip(lo, hi, strict=True)]
    centre = (0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]))
    return PhantomGrid((n[0], n[1], n[2]), (spacing_mm,) * 3, z_top_mm=hi[2], center_xy_mm=centre)


def fit_volume(liver: Liver, target_ml: float, spacing_mm: float) -> tuple[Liver, ReferenceLiver]:
    """Scale ``liver`` so its clipped volume is about ``target_ml``.

    Up to three multiplicative steps measured on a grid twice as coarse as ``spacing_mm`` (clipping
    makes volume grow slower than the cube of the scale, so the exponent is 1/2.5), then the
    reference rasterization at ``spacing_mm``.
    """
    for _ in range(3):
        volume = _volume_ml(liver, 2.0 * spacing_mm)
        if volume <= 0 or abs(volume / target_ml - 1.0) < 0.03:
            break
        liver = liver.scaled(float(np.clip((target_ml / volume) ** 0.4, 0.6, 1.6)))
    return liver, rasterize_reference(liver, spacing_mm)


def _volume_ml(liver: Liver, spacing_mm: float) -> float:
    lo, hi = liver.bounds()
    grid = reference_grid(lo, hi, spacing_mm)
    return float((organ_field(liver, grid.full(), []) < 0).sum()) * grid.voxel_ml


def rasterize_reference(liver: Liver, spacing_mm: float) -> ReferenceLiver:
    """Rasterize the tumor-free liver at ``spacing_mm`` and measure the depth of each voxel."""
    lo, hi = liver.bounds()
    grid = reference_grid(lo, hi, spacing_mm)
    mask = organ_field(liver, grid.full(), []) < 0
    depth = ndimage.distance_transform_edt(mask, sampling=spacing_mm).astype(np.float32)
    return ReferenceLiver(grid, mask, depth)


def box_points(box: Box, mask: npt.NDArray[np.bool_]) -> Coords:
    """Coordinates (1D arrays) of the voxels of ``box`` selected by ``mask``."""
    i, j, k = np.nonzero(mask)
    return (box.coords[0].ravel()[i], box.coords[1].ravel()[j], box.coords[2].ravel()[k])


def organ_field(liver: Liver, box: Box, tumors: list[tuple[Box, F32, float]]) -> F32:
    """Signed distance of the liver including tumors (tumor boxes lie inside ``box``).

    The limits (wall, diaphragm, neighbours) are evaluated only where the unclipped organ is
    within :data:`PORTAL_LABEL_REACH_MM` of its surface; farther out the unclipped distance
    (a lower bound) is returned. Where a tumor makes up the organ, the diaphragm gives way by
    up to :data:`DIAPHRAGM_LIFT_MM` (elevated hemidiaphragm over a large mass).

    Args:
        liver: The liver.
        box: Where to evaluate.
        tumors: ``(tumor box, tumor sdf on it, capsule mm)`` for each tumor.

    """
    organ = liver.lobe_sdf(box.coords)
    share = np.zeros(organ.shape, dtype=np.float32) if tumors else None
    k = np.float32(TUMOR_BLEND_MM)
    for tbox, tsdf, capsule in tumors:
        rel = tuple(
            slice(t.start - b.start, t.stop - b.start)
            for t, b in zip(tbox.index, box.index, strict=True)
        )
        bulge = tsdf - np.float32(capsule)
        assert share is not None
        share[rel] = np.maximum(share[rel], np.clip(0.5 + 0.5 * (organ[rel] - bulge) / k, 0, 1))
        organ[rel] = smin(organ[rel], bulge, TUMOR_BLEND_MM)
    near = organ < PORTAL_LABEL_REACH_MM
    if near.any():
        lift = 0.0 if share is None else share[near] * np.float32(DIAPHRAGM_LIFT_MM)
        organ[near] = np.maximum(organ[near], liver.limit_sdf(box_points(box, near), lift))
    return organ


def tumor_inside(tsdf: F32, organ: F32) -> F32:
    """A tumor's signed distance, kept :data:`TUMOR_RIM_MM` inside the liver surface.

    The smooth union gives bulging tumors a liver capsule, but where the liver is cut by the
    wall, the diaphragm or a neighbour the cut would expose the tumor; this inset keeps a rim
    of liver there too, so tumors always lie inside the liver. (``organ`` need only be exact
    down to ``-TUMOR_RIM_MM``: vessel distances are clamped at 10 mm, see :class:`Tube`.)
    """
    out: F32 = np.maximum(tsdf, organ + np.float32(TUMOR_RIM_MM))
    return out
