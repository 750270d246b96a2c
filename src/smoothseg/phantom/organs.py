"""Abdominal organs other than the liver: vessels, kidneys, spleen, stomach, pancreas, bowel.

Positions are drawn relative to the patient's body and spine so that organs keep their
anatomical neighbourhoods (aorta anterior-left of the spine, IVC to its right, kidneys in the
posterior paravertebral gutters, spleen left posterolateral, stomach left anterior).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smoothseg.phantom.body import BelowDiaphragm, Body, Cavity
from smoothseg.phantom.canvas import Canvas
from smoothseg.phantom.shapes import (
    F32,
    Coords,
    Ellipsoid,
    Halfspace,
    Intersection,
    Shape,
    Tube,
    Warp,
    Warped,
    random_warp,
    rotation,
)
from smoothseg.phantom.tissues import Tissue


@dataclass(frozen=True)
class Kidney:
    """Kidney as nested ellipsoids: parenchyma, medulla, sinus fat."""

    outer: Ellipsoid
    medulla: Ellipsoid
    sinus: Ellipsoid


@dataclass(frozen=True)
class Organs:
    """Shapes of one patient's non-liver organs (mm, RAS)."""

    aorta: Tube
    ivc: Tube
    kidneys: tuple[Kidney, ...]
    spleen: Shape
    stomach: Shape
    stomach_lumen: Shape
    gas_level_y: float
    pancreas: Tube
    splenic_vein: Tube
    gallbladder: Ellipsoid | None
    colon: Tube
    colon_lumen: Tube
    small_bowel: tuple[Tube, ...]
    heart: Ellipsoid
    gas_field: Warp


def _kidney(rng: np.random.Generator, body: Body, side: int, z: float) -> Kidney:
    a, _ = body.vb_radii
    centre = (side * (a + rng.uniform(44, 54)), body.spine_y + rng.uniform(4, 14), z)
    radii = tuple(float(r * rng.uniform(0.9, 1.1)) for r in (29.0, 18.0, 52.0))
    rot = rotation(yaw_deg=-side * rng.uniform(40, 60), pitch_deg=side * rng.uniform(-18, -8))
    outer = Ellipsoid(centre, (radii[0], radii[1], radii[2]), rot)
    medulla = Ellipsoid(centre, (radii[0] * 0.72, radii[1] * 0.72, radii[2] * 0.8), rot)
    # Hilum faces the spine's anterior side.
    to_hilum = np.array([-side * 1.0, 0.9, 0.0])
    to_hilum /= np.linalg.norm(to_hilum)
    sc = np.asarray(centre) + to_hilum * radii[0] * 0.55
    sinus = Ellipsoid(
        (float(sc[0]), float(sc[1]), float(sc[2])),
        (radii[0] * 0.45, radii[1] * 0.5, radii[2] * 0.55),
        rot,
    )
    return Kidney(outer, medulla, sinus)


def sample_organs(rng: np.random.Generator, body: Body) -> Organs:
    """Draw the organs of one patient around the given body."""
    a, b = body.vb_radii
    yv, w = body.spine_y, body.half_width
    front = body.half_depth_ant - body.fat_mm - body.muscle_mm
    ax, ay = -(0.6 * a + rng.uniform(0, 7)), yv + b + rng.uniform(11, 16)
    r_ao = rng.uniform(10.5, 13.5)
    aorta = Tube(
        ((ax - 6, ay - 8, 120.0), (ax - 3, ay - 4, 20.0), (ax, ay, -80.0), (ax + 2, ay, -260.0)),
        (r_ao + 1.0, r_ao, r_ao, r_ao * 0.9),
    )
    iy = yv + b + rng.uniform(12, 18)
    r_ivc = rng.uniform(10, 12.5)
    ivc = Tube(
        (
            (22.0, iy - 2, -260.0),
            (24.0, iy + 2, -100.0),
            (20.0, iy + 10, -15.0),
            (8, iy + 32, 40.0),
        ),
        (r_ivc, r_ivc, r_ivc + 1.5, r_ivc + 4.0),
    )
    z_right = rng.uniform(-150, -120)
    kidneys = (
        _kidney(rng, body, +1, z_right),
        _kidney(rng, body, -1, z_right + rng.uniform(10, 25)),
    )
    cavity = Cavity(body, 2.0)
    below = BelowDiaphragm(body, 4.0)
    spleen_core = Ellipsoid(
        (-(w - body.fat_mm - 45), yv + rng.uniform(0, 15), rng.uniform(-60, -35)),
        (rng.uniform(24, 32), rng.uniform(48, 62), rng.uniform(45, 60)),
        rotation(yaw_deg=rng.uniform(35, 55)),
    )
    spleen = Intersection((Warped(spleen_core, random_warp(rng, 6, (60, 160), 5.0)), cavity, below))
    st_c = (-0.33 * w + rng.uniform(-8, 8), 0.3 * front + rng.uniform(-8, 8), rng.uniform(-65, -45))
    st_r = (rng.uniform(38, 50), rng.uniform(32, 42), rng.uniform(45, 62))
    st_rot = rotation(yaw_deg=rng.uniform(-30, 0), roll_deg=rng.uniform(-15, 15))
    st_warp = random_warp(rng, 6, (60, 160), 6.0)
    stomach = Intersection((Warped(Ellipsoid(st_c, st_r, st_rot), st_warp), cavity, below))
    lumen_r = (st_r[0] - 5, st_r[1] - 5, st_r[2] - 5)
    stomach_lumen = Intersection(
        (Warped(Ellipsoid(st_c, lumen_r, st_rot), st_warp), Cavity(body, 7.0), below)
    )
    gas_level_y = st_c[1] + st_r[1] * rng.uniform(0.0, 0.6)
    pz = rng.uniform(-130, -105)
    pancreas_pts = (
        (26.0, yv + 42, pz - 12),
        (2.0, yv + 52, pz - 2),
        (-38.0, yv + 46, pz + 6),
        (-(w - body.fat_mm - 60), yv + 22, pz + 16),
    )
    pancreas = Tube(pancreas_pts, (15.0, 11.0, 10.0, 8.0))
    splenic_vein = Tube(tuple((p[0], p[1] - 10.0, p[2]) for p in pancreas_pts[1:]), (5.0, 4.5, 4.0))
    gallbladder = None
    if rng.uniform() < 0.85:
        gallbladder = Ellipsoid(
            (rng.uniform(30, 48), 0.45 * front + rng.uniform(-5, 8), rng.uniform(-110, -90)),
            (rng.uniform(14, 19), rng.uniform(16, 22), rng.uniform(30, 42)),
            rotation(pitch_deg=rng.uniform(-10, 10), roll_deg=rng.uniform(20, 40)),
        )
    cx = w - body.fat_mm - body.muscle_mm - 32
    colon_pts = (
        (cx, yv + 58, -270.0),
        (cx + 2, yv + 62, -175.0),
        (cx - 18, 0.45 * front, -145.0),
        (0.0, 0.7 * front, -150.0 + rng.uniform(-15, 15)),
        (-cx + 22, 0.4 * front, -115.0),
        (-cx + 2, yv + 62, -105.0),
        (-cx, yv + 58, -270.0),
    )
    r_colon = rng.uniform(20, 26)
    colon = Tube(colon_pts, (r_colon,) * len(colon_pts))
    colon_lumen = Tube(colon_pts, (r_colon - 3.5,) * len(colon_pts))
    loops = []
    lo_box = np.array([-0.55 * w, yv + 30.0, -235.0])
    hi_box = np.array([0.5 * w, front - 12.0, -135.0])
    for _ in range(int(rng.integers(26, 34))):
        pts = [rng.uniform(lo_box, hi_box)]
        heading = rng.uniform(0, 2 * np.pi)
        for _ in range(4):
            heading += rng.uniform(-1.2, 1.2)
            step = np.array([30 * np.cos(heading), 22 * np.sin(heading), rng.normal(0, 8)])
            pts.append(np.clip(pts[-1] + step, lo_box, hi_box))
        r = rng.uniform(11, 15)
        loops.append(Tube(tuple((float(p[0]), float(p[1]), float(p[2])) for p in pts), (r,) * 5))
    heart = Ellipsoid(
        (-0.15 * w, yv + 75.0 + rng.uniform(-8, 8), rng.uniform(45, 60)),
        (rng.uniform(65, 80), rng.uniform(50, 60), rng.uniform(48, 58)),
        rotation(yaw_deg=rng.uniform(-40, -20), pitch_deg=rng.uniform(10, 25)),
    )
    return Organs(
        aorta=aorta,
        ivc=ivc,
        kidneys=kidneys,
        spleen=spleen,
        stomach=stomach,
        stomach_lumen=stomach_lumen,
        gas_level_y=float(gas_level_y),
        pancreas=pancreas,
        splenic_vein=splenic_vein,
        gallbladder=gallbladder,
        colon=colon,
        colon_lumen=colon_lumen,
        small_bowel=tuple(loops),
        heart=heart,
        gas_field=random_warp(rng, 8, (15, 45), 1.0),
    )


def paint_organs(canvas: Canvas, body: Body, organs: Organs) -> None:
    """Paint everything but the liver and the great vessels (those come after the liver)."""
    below = BelowDiaphragm(body, 4.0)
    cavity = Cavity(body, 1.0)
    blood = canvas.values[Tissue.BLOOD]
    hr = organs.heart.radii
    heart_inner = Ellipsoid(
        organs.heart.center, (hr[0] - 10, hr[1] - 10, hr[2] - 10), organs.heart.rot
    )
    canvas.paint(organs.heart, Tissue.HEART)
    canvas.paint(heart_inner, Tissue.BLOOD, blood)
    gas, fluid = canvas.values[Tissue.GAS], canvas.values[Tissue.BOWEL_CONTENT]
    field = organs.gas_field

    def faeces(p: Coords) -> F32:
        g = field.scalar(p)
        return np.where(g > 0.15, gas, fluid - 120.0 * np.clip(g + 0.5, 0, 1)).astype(np.float32)

    def chyme(p: Coords) -> F32:
        g = field.scalar(p)
        return np.where(g > 1.2, gas, fluid + 8.0 * g).astype(np.float32)

    inside = Intersection((cavity, below))
    for loop in organs.small_bowel:
        canvas.paint(loop, Tissue.BOWEL_WALL, within=cavity)
        inner = Tube(loop.points, tuple(r - 2.5 for r in loop.radii))
        canvas.paint(inner, Tissue.BOWEL_CONTENT, chyme, within=cavity)
        _retag_gas(canvas, inner)
    canvas.paint(organs.colon, Tissue.BOWEL_WALL, within=inside)
    canvas.paint(organs.colon_lumen, Tissue.BOWEL_CONTENT, faeces, within=inside)
    _retag_gas(canvas, organs.colon_lumen)
    for k in organs.kidneys:
        canvas.paint(k.outer, Tissue.KIDNEY_CORTEX, within=below)
        canvas.paint(k.medulla, Tissue.KIDNEY_MEDULLA, within=below)
        canvas.paint(k.sinus, Tissue.RENAL_SINUS, within=below)
    canvas.paint(organs.stomach, Tissue.STOMACH_WALL)
    canvas.paint(organs.stomach_lumen, Tissue.STOMACH_CONTENT)
    air = Halfspace((0.0, -1.0, 0.0), -organs.gas_level_y)
    canvas.paint(Intersection((organs.stomach_lumen, air)), Tissue.GAS)
    canvas.paint(organs.pancreas, Tissue.PANCREAS, within=below)
    canvas.paint(organs.splenic_vein, Tissue.SPLENIC_VEIN, within=below)
    canvas.paint(organs.spleen, Tissue.SPLEEN)
    if organs.gallbladder is not None:
        canvas.paint(organs.gallbladder, Tissue.GALLBLADDER, within=below)


def _retag_gas(canvas: Canvas, lumen: Shape) -> None:
    """Mark gas-valued bowel content voxels as gas in the tissue map."""
    box = canvas.box_of(lumen)
    if box is None:
        return
    sub_t = canvas.tissue[box.index]
    sel = (sub_t == int(Tissue.BOWEL_CONTENT)) & (canvas.hu[box.index] < -900)
    sub_t[sel] = int(Tissue.GAS)


def paint_vessels(canvas: Canvas, organs: Organs) -> None:
    """Aorta and inferior vena cava (painted last: they are never covered by organs)."""
    canvas.paint(organs.ivc, Tissue.IVC)
    canvas.paint(organs.aorta, Tissue.AORTA)
