"""Rasterize a :class:`~smoothseg.phantom.case.CaseSpec`: paint tissues, blur, add noise.

Order of painting (later wins): body wall and thorax base, spine and ribs, abdominal organs,
liver with its veins and tumors, then aorta and IVC. Label maps are taken from the same signed
distance fields, so the tumor label boundary sits at the middle of its contrast ramp.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from smoothseg.phantom.body import paint_ribs, paint_spine, paint_wall
from smoothseg.phantom.canvas import Canvas
from smoothseg.phantom.case import CaseSpec, liver_box_bounds
from smoothseg.phantom.grid import Box
from smoothseg.phantom.liver import (
    PORTAL_LABEL_REACH_MM,
    Liver,
    box_points,
    organ_field,
    tumor_inside,
)
from smoothseg.phantom.noise import add_noise, partial_volume
from smoothseg.phantom.organs import paint_organs, paint_vessels
from smoothseg.phantom.shapes import F32, Union
from smoothseg.phantom.tissues import Tissue
from smoothseg.phantom.tumors import Tumor, margin_weight, tumor_hu

if TYPE_CHECKING:
    from smoothseg.phantom.config import PhantomConfig

U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Rendered:
    """Arrays of one rendered case."""

    image: npt.NDArray[np.int16]
    structures: U8
    tissues: U8


def render_case(spec: CaseSpec, config: PhantomConfig, rng: np.random.Generator) -> Rendered:
    """Paint, blur and add noise; return the int16 image and the label maps."""
    grid = config.grid
    canvas = Canvas.empty(grid, spec.values)
    third = np.float32(1.0 / 3.0)
    x2 = grid.axis_mm(0)[:, None, None] * third
    y2 = grid.axis_mm(1)[None, :, None] * third
    zero = np.zeros((1, 1, 1), dtype=np.float32)
    lung_texture = spec.organs.gas_field.scalar((x2, y2, zero))
    paint_wall(canvas, spec.body, lung_texture)
    paint_spine(canvas, spec.body)
    paint_ribs(canvas, spec.body)
    paint_organs(canvas, spec.body, spec.organs)
    structures = np.zeros(grid.shape, dtype=np.uint8)
    lo, hi = liver_box_bounds(spec.liver, spec.tumors)
    lbox = grid.box(lo, hi)
    if lbox is not None:
        _paint_liver(canvas, structures, spec, lbox)
    paint_vessels(canvas, spec.organs)
    abox = canvas.box_of(spec.organs.aorta)
    if abox is not None:
        sub = structures[abox.index]
        sub[spec.organs.aorta.sdf(abox.coords) < 0] = 4
    hu = partial_volume(canvas.hu, grid.spacing_mm, config.psf_sigma_mm, config.slice_profile)
    hu = add_noise(hu, rng, spec.noise_sigma_hu, grid.spacing_mm, config.noise_correlation_mm)
    image = np.clip(np.rint(hu), -1024, 3071).astype(np.int16)
    return Rendered(image, structures, canvas.tissue)


def _paint_liver(canvas: Canvas, structures: U8, spec: CaseSpec, lbox: Box) -> None:
    liver = spec.liver
    grid = canvas.grid
    parts: list[tuple[Box, F32, float]] = []
    shown: list[Tumor] = []
    for t in spec.tumors:
        c, r = t.shape.center, t.reach_mm
        tbox = grid.box((c[0] - r, c[1] - r, c[2] - r), (c[0] + r, c[1] + r, c[2] + r))
        if tbox is not None:
            parts.append((tbox, t.shape.sdf(tbox.coords), t.capsule_mm))
            shown.append(t)
    organ = organ_field(liver, lbox, parts)
    inside = organ < 0
    tex = liver.texture.scalar(lbox.coords)
    liver_hu = spec.values[Tissue.LIVER]
    canvas.paint_mask(lbox, inside, Tissue.LIVER, liver_hu + 3.0 * tex)
    hv = np.zeros_like(inside)
    hv[inside] = liver.vessel_sdf(liver.hepatic, box_points(lbox, inside)) < 0
    canvas.paint_mask(lbox, hv, Tissue.HEPATIC_VEIN)
    struct = structures[lbox.index]
    struct[inside] = 1
    # Where a large tumor lifted the diaphragm into the lung, redraw it over the liver.
    lifted = (organ >= 0) & (organ < 4.0) & (canvas.tissue[lbox.index] == int(Tissue.LUNG))
    canvas.paint_mask(lbox, lifted, Tissue.MUSCLE)
    _paint_portal(canvas, structures, liver, lbox, organ)
    for t, (tbox, tsdf, _) in zip(shown, parts, strict=True):
        rel = _relative(tbox, lbox)
        in_liver = organ[rel] < 0
        inset = tumor_inside(tsdf, organ[rel])
        weight = margin_weight(t, inset)
        target = tumor_hu(t, tsdf, tbox.coords, liver_hu)
        sub_hu = canvas.hu[tbox.index]
        blended = sub_hu + weight * (target - sub_hu)
        sub_hu[in_liver] = blended[in_liver]
        core = in_liver & (inset < 0)
        canvas.tissue[tbox.index][core] = int(Tissue.TUMOR)
        structures[tbox.index][core] = 2


def _paint_portal(canvas: Canvas, structures: U8, liver: Liver, lbox: Box, organ: F32) -> None:
    """Paint the portal vein and label it 3 where it is within reach of the liver.

    Branches are painted only in (or within reach of) the liver, the trunk anywhere inside
    the abdominal cavity.
    """
    tubes = (liver.portal, *liver.portal_branches)
    pbox = canvas.box_of(Union(tubes), margin_mm=liver.warp.max_shift)
    if pbox is None:
        return
    branches = liver.vessel_sdf(liver.portal_branches, pbox.coords) < 0
    trunk = liver.vessel_sdf((liver.portal,), pbox.coords) < 0
    trunk &= liver.clips[0].sdf(pbox.coords) < 0
    near = np.zeros(pbox.shape, dtype=bool)
    # Organ distance on the overlap of the portal box and the liver box.
    lo = [max(p.start, b.start) for p, b in zip(pbox.index, lbox.index, strict=True)]
    hi = [min(p.stop, b.stop) for p, b in zip(pbox.index, lbox.index, strict=True)]
    if all(h > low for low, h in zip(lo, hi, strict=True)):
        in_p = tuple(
            slice(low - p.start, h - p.start) for low, h, p in zip(lo, hi, pbox.index, strict=True)
        )
        in_l = tuple(
            slice(low - b.start, h - b.start) for low, h, b in zip(lo, hi, lbox.index, strict=True)
        )
        near[in_p] = organ[in_l] < PORTAL_LABEL_REACH_MM
    pv = (branches & near) | trunk
    canvas.paint_mask(pbox, pv, Tissue.PORTAL_VEIN)
    sub = structures[pbox.index]
    sub[pv & near & (sub != 2)] = 3


def _relative(inner: Box, outer: Box) -> tuple[slice, slice, slice]:
    s = [
        slice(i.start - o.start, i.stop - o.start)
        for i, o in zip(inner.index, outer.index, strict=True)
    ]
    return (s[0], s[1], s[2])
