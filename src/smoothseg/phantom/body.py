"""Body wall, thorax base and skeleton: outline, fat, muscle, diaphragm, lungs, spine, ribs.

The body is a superellipse in the axial plane (flatter posteriorly, where the patient lies on
the table) with a slow size change along z. Depth below the skin, measured along rays from
the body centre, defines skin, subcutaneous fat, the muscle wall and the abdominal cavity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smoothseg.phantom.canvas import Canvas
from smoothseg.phantom.shapes import F32, Coords, Vec
from smoothseg.phantom.tissues import Tissue

SKIN_MM = 2.5


@dataclass(frozen=True)
class Rib:
    """One pair of ribs: posterior height, how far they descend, and where they end."""

    z_origin: float
    drop: float
    end_angle: float


@dataclass(frozen=True)
class Body:
    """Patient habitus and skeleton parameters (mm)."""

    half_width: float
    half_depth_ant: float
    half_depth_post: float
    power: float
    fat_mm: float
    muscle_mm: float
    z_amp: float
    z_wavelength: float
    z_phase: float
    spine_y: float
    vb_radii: tuple[float, float]
    level_height: float
    level_phase: float
    disc_mm: float
    ribs: tuple[Rib, ...]
    dome_right: Vec
    dome_left: Vec
    dome_curve: float

    # --- axial geometry --------------------------------------------------------------------
    def radius(self, x: F32, y: F32) -> F32:
        """Distance from the centre to the skin along the ray through (x, y), at z scale 1."""
        ang = np.arctan2(y, x)
        b = np.where(y > 0, self.half_depth_ant, self.half_depth_post).astype(np.float32)
        p = self.power
        c = np.abs(np.cos(ang)) / self.half_width
        s = np.abs(np.sin(ang)) / b
        out: F32 = ((c**p + s**p) ** (-1.0 / p)).astype(np.float32)
        return out

    def z_scale(self, z: F32) -> F32:
        """Relative body size at height z (slow variation)."""
        w = 2 * np.pi / self.z_wavelength
        out: F32 = (1.0 + self.z_amp * np.sin(w * z + self.z_phase)).astype(np.float32)
        return out

    def depth(self, p: Coords) -> F32:
        """Depth below the skin (mm, negative outside the body)."""
        r = np.sqrt(p[0] ** 2 + p[1] ** 2)
        out: F32 = (self.radius(p[0], p[1]) * self.z_scale(p[2]) - r).astype(np.float32)
        return out

    def fat(self, x: F32, y: F32) -> F32:
        """Subcutaneous fat thickness: thicker anteriorly and on the flanks."""
        ang = np.arctan2(y, x)
        out: F32 = (
            self.fat_mm * (0.7 + 0.3 * np.abs(np.cos(ang)) + 0.25 * np.clip(np.sin(ang), 0, 1))
        ).astype(np.float32)
        return out

    def wall(self, x: F32, y: F32) -> F32:
        """Depth of the cavity boundary: skin + fat + muscle (thin at the linea alba)."""
        ang = np.arctan2(y, x)
        front = np.clip(np.sin(ang), 0, 1) ** 4
        alba = 1.0 - 0.6 * front * np.exp(-((x / 18.0) ** 2))
        muscle = self.muscle_mm * (1.0 + 0.35 * front) * alba
        out: F32 = (SKIN_MM + self.fat(x, y) + muscle).astype(np.float32)
        return out

    def dome(self, x: F32, y: F32) -> F32:
        """Height of the diaphragm (mm): two domes, deeper posteriorly and laterally."""
        heights = []
        for cx, cy, h in (self.dome_right, self.dome_left):
            sy = np.where(y > cy, 1.25 * self.half_depth_ant, 0.7 * self.half_depth_post)
            q = ((x - cx) / (0.55 * self.half_width)) ** 2 + ((y - cy) / sy) ** 2
            heights.append(h - self.dome_curve * q)
        a, b = heights
        k = 25.0
        hmix = np.clip(0.5 + 0.5 * (a - b) / k, 0.0, 1.0)
        out: F32 = (b + (a - b) * hmix + k * hmix * (1 - hmix)).astype(np.float32)
        return out

    @property
    def canal_y(self) -> float:
        """Y of the spinal canal centre."""
        return self.spine_y - self.vb_radii[1] - 9.0


@dataclass(frozen=True)
class Cavity:
    """Shape: inside the muscle wall, shrunk by ``inset_mm``."""

    body: Body
    inset_mm: float = 0.0

    def bounds(self) -> tuple[Vec, Vec]:
        """The body's box."""
        a = self.body.half_width * 1.1
        return (-a, -a, -1e4), (a, a, 1e4)

    def sdf(self, p: Coords) -> F32:
        """Cavity-boundary depth minus depth below the skin."""
        out: F32 = (self.body.wall(p[0], p[1]) + self.inset_mm - self.body.depth(p)).astype(
            np.float32
        )
        return out


@dataclass(frozen=True)
class BelowDiaphragm:
    """Shape: below the diaphragm's undersurface by ``offset_mm``."""

    body: Body
    offset_mm: float = 0.0

    def bounds(self) -> tuple[Vec, Vec]:
        """Everything (only used in intersections)."""
        return (-1e4, -1e4, -1e4), (1e4, 1e4, 1e4)

    def sdf(self, p: Coords) -> F32:
        """Z minus the diaphragm height (negative below)."""
        out: F32 = (p[2] - (self.body.dome(p[0], p[1]) - self.offset_mm)).astype(np.float32)
        return out


def sample_body(rng: np.random.Generator) -> Body:
    """Draw one patient's habitus, spine, ribs and diaphragm."""
    a = rng.uniform(138, 168)
    b_ant = rng.uniform(98, 122)
    b_post = b_ant * rng.uniform(0.85, 0.98)
    vb = (rng.uniform(19, 23), rng.uniform(15, 18))
    top = rng.uniform(48, 62)
    spacing = rng.uniform(26, 30)
    ribs = []
    for k in range(7):
        end = 0.86 * np.pi if k < 5 else (0.62 * np.pi if k == 5 else 0.45 * np.pi)
        ribs.append(Rib(top - k * spacing, rng.uniform(105, 130) * (1 if k < 5 else 0.6), end))
    return Body(
        half_width=a,
        half_depth_ant=b_ant,
        half_depth_post=b_post,
        power=rng.uniform(2.0, 2.4),
        fat_mm=rng.uniform(8, 32),
        muscle_mm=rng.uniform(9, 13),
        z_amp=rng.uniform(0.0, 0.04),
        z_wavelength=rng.uniform(400, 700),
        z_phase=rng.uniform(0, 2 * np.pi),
        spine_y=-b_post + rng.uniform(72, 84),
        vb_radii=vb,
        level_height=rng.uniform(28, 33),
        level_phase=rng.uniform(0, 33),
        disc_mm=rng.uniform(6, 9),
        ribs=tuple(ribs),
        dome_right=(0.38 * a, -0.1 * b_ant, 0.0),
        dome_left=(-0.38 * a, -0.1 * b_ant, -rng.uniform(10, 25)),
        dome_curve=rng.uniform(60, 80),
    )


def paint_wall(canvas: Canvas, body: Body, texture: F32) -> None:
    """Skin, subcutaneous fat, muscle wall, visceral fat, table, lungs, diaphragm.

    ``texture`` is a smooth zero-mean field over the whole grid (lung parenchyma variation).
    """
    box = canvas.grid.full()
    x, y, z = box.coords
    depth = body.depth(box.coords)
    fat = body.fat(x, y) + SKIN_MM
    wall = body.wall(x, y)
    canvas.paint_mask(box, depth >= 0, Tissue.SKIN)
    canvas.paint_mask(box, depth >= SKIN_MM, Tissue.FAT)
    canvas.paint_mask(box, depth >= fat, Tissue.MUSCLE)
    cavity = depth >= wall
    canvas.paint_mask(box, cavity, Tissue.FAT)
    table_y = -body.half_depth_post - 8.0 + 0.0006 * x**2
    slab = (y < table_y) & (y > table_y - 7.0) & (np.abs(x) < body.half_width + 25)
    canvas.paint_mask(box, slab, Tissue.TABLE)
    dome = body.dome(x, y)
    lung = cavity & (z > dome + 4.0)
    canvas.paint_mask(box, lung, Tissue.LUNG, canvas.values[Tissue.LUNG] + 12.0 * texture)
    diaphragm = cavity & (z > dome - 1.0) & (z <= dome + 4.0)
    canvas.paint_mask(box, diaphragm, Tissue.MUSCLE)
    mediastinum = (((x + 8.0) / 32.0) ** 2 + ((y - body.spine_y - 28.0) / 42.0) ** 2 < 1) & lung
    canvas.paint_mask(box, mediastinum, Tissue.FAT)


def paint_spine(canvas: Canvas, body: Body) -> None:
    """Paraspinal and psoas muscles, vertebral bodies with discs, arches, canal, processes."""
    a, b = body.vb_radii
    yv, yc = body.spine_y, body.canal_y
    grid = canvas.grid
    box = grid.box((-90.0, yc - 70.0, -1e4), (90.0, yv + b + 5.0, 1e4))
    if box is None:
        return
    x, y, z = box.coords
    para = (((np.abs(x) - (a + 13.0)) / 23.0) ** 2 + ((y - yc + 12.0) / 25.0) ** 2) < 1
    canvas.paint_mask(box, para, Tissue.MUSCLE)
    psoas_r = np.clip(0.2 * (-105.0 - z), 0.0, 22.0)
    psoas = (np.abs(x) - (a + 14.0)) ** 2 + (y - yv - 4.0) ** 2 < psoas_r**2
    canvas.paint_mask(box, psoas & (psoas_r > 3), Tissue.MUSCLE)
    level = np.mod(z - body.level_phase, body.level_height)
    mid = np.abs(level - 0.55 * body.level_height) < 0.22 * body.level_height
    rho = np.sqrt((x / a) ** 2 + ((y - yv) / b) ** 2)
    cortex, marrow = canvas.values[Tissue.BONE_CORTEX], canvas.values[Tissue.BONE_MARROW]
    canvas.paint_mask(box, rho < 1.0, Tissue.BONE_CORTEX)
    canvas.paint_mask(box, rho < 1.0 - 2.5 / b, Tissue.BONE_MARROW)
    canvas.paint_mask(box, (rho < 1.0) & (level < body.disc_mm), Tissue.DISC)
    ring = ((x / 17.0) ** 2 + ((y - yc) / 15.0) ** 2) < 1
    canal = ((x / 10.0) ** 2 + ((y - yc) / 8.0) ** 2) < 1
    spinous = (np.abs(x) < 3.5) & (y < yc - 10.0) & (y > yc - 38.0) & mid
    tp_y = yc + 3.0 - 0.3 * (np.abs(x) - 10.0)
    transverse = (np.abs(x) > 10.0) & (np.abs(x) < 34.0) & (np.abs(y - tp_y) < 3.5) & mid
    arch_hu = 0.5 * (cortex + marrow)
    canvas.paint_mask(box, (ring & ~canal) | spinous | transverse, Tissue.BONE_MARROW, arch_hu)
    canvas.paint_mask(box, canal, Tissue.CSF)


def paint_ribs(canvas: Canvas, body: Body) -> None:
    """Paired ribs in the muscle wall, descending anteriorly, costal cartilage at the ends."""
    grid = canvas.grid
    x2 = grid.axis_mm(0)[:, None]
    y2 = grid.axis_mm(1)[None, :]
    depth0 = body.radius(x2, y2) - np.sqrt(x2**2 + y2**2)
    centre = body.fat(x2, y2) + SKIN_MM + 0.5 * body.muscle_mm
    band = np.abs(depth0 - centre) < 14.0
    ii, jj = np.nonzero(band)
    if ii.size == 0:
        return
    xs, ys = x2[ii, 0], y2[0, jj]
    z = grid.axis_mm(2)[None, :]
    phi = np.abs(np.arctan2(xs, -ys))[:, None]
    depth = body.radius(xs, ys)[:, None] * body.z_scale(z) - np.sqrt(xs**2 + ys**2)[:, None]
    centre_d = centre[ii, jj][:, None] + 14.0 * np.clip((0.55 - phi) / 0.3, 0.0, 1.0)
    cortex, marrow = canvas.values[Tissue.BONE_CORTEX], canvas.values[Tissue.BONE_MARROW]
    phi0 = 0.3
    inside = np.zeros((xs.size, z.size), dtype=bool)
    hu = np.zeros((xs.size, z.size), dtype=np.float32)
    for rib in body.ribs:
        t = np.clip((phi - phi0) / (np.pi - phi0), 0.0, 1.0)
        zc = rib.z_origin - rib.drop * t**1.1
        q = ((depth - centre_d) / 4.0) ** 2 + ((z - zc) / 5.5) ** 2
        m = (q < 1.0) & (phi > phi0 - 0.05) & (phi < rib.end_angle)
        cartilage = np.clip((phi - 0.68 * np.pi) / (0.1 * np.pi), 0.0, 1.0)
        bone = np.where(q < 0.45, marrow, cortex)
        value = bone * (1 - cartilage) + 120.0 * cartilage
        hu = np.where(m, value, hu)
        inside |= m
    if not inside.any():
        return
    sub_t = canvas.tissue[ii, jj, :]
    sub_h = canvas.hu[ii, jj, :]
    sub_t[inside] = int(Tissue.BONE_MARROW)
    sub_h[inside] = hu[inside]
    canvas.tissue[ii, jj, :] = sub_t
    canvas.hu[ii, jj, :] = sub_h
