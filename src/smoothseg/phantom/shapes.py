"""Signed-distance shapes in patient millimetres (RAS: +x Right, +y Anterior, +z Superior).

Every shape maps broadcastable coordinate arrays ``(X, Y, Z)`` to an approximate signed
distance in mm (negative inside). Shapes are small frozen dataclasses so that a phantom's
anatomy is plain data; :class:`Warped` adds smooth random deformation (a sum of random
sinusoids), :class:`Lobulated` a low-frequency radial perturbation for tumors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
Vec = tuple[float, float, float]
Coords = tuple[F32, F32, F32]
_EYE: tuple[Vec, Vec, Vec] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


class Shape(Protocol):
    """A solid with an approximate signed distance function (mm)."""

    def bounds(self) -> tuple[Vec, Vec]:
        """Axis-aligned box (low corner, high corner) in mm that contains the solid."""
        ...

    def sdf(self, p: Coords) -> F32:
        """Signed distance at the broadcast points ``p`` (negative inside)."""
        ...


def rotation(
    yaw_deg: float = 0.0, pitch_deg: float = 0.0, roll_deg: float = 0.0
) -> tuple[Vec, Vec, Vec]:
    """Rotation matrix (rows) about z (yaw), then y (pitch), then x (roll), in degrees."""
    a, b, c = np.deg2rad([yaw_deg, pitch_deg, roll_deg])
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[1, 0, 0], [0, np.cos(c), -np.sin(c)], [0, np.sin(c), np.cos(c)]])
    m = rz @ ry @ rx
    return (_vec(m[0]), _vec(m[1]), _vec(m[2]))


def separable(p: Coords) -> bool:
    """Whether ``p`` are the axis vectors of a box, shaped (n,1,1), (1,n,1), (1,1,n)."""
    return all(p[i].ndim == 3 and p[i].size == p[i].shape[i] for i in range(3))


def _span(axis: F32, lo: float, hi: float) -> slice:
    """Index range of the sorted ``axis`` values within ``[lo, hi]``."""
    a = axis.ravel()
    return slice(int(np.searchsorted(a, lo, "left")), int(np.searchsorted(a, hi, "right")))


def _vec(v: npt.ArrayLike) -> Vec:
    a = np.asarray(v, dtype=np.float64)
    return (float(a[0]), float(a[1]), float(a[2]))


def _f32(v: float) -> np.float32:
    return np.float32(v)


@dataclass(frozen=True)
class Ellipsoid:
    """Ellipsoid with semi-axes ``radii`` (mm), rotated by ``rot`` (rows map local → world)."""

    center: Vec
    radii: Vec
    rot: tuple[Vec, Vec, Vec] = _EYE

    def bounds(self) -> tuple[Vec, Vec]:
        """Box of the rotated ellipsoid."""
        m = np.abs(np.asarray(self.rot)) @ np.asarray(self.radii)
        c = np.asarray(self.center)
        return _vec(c - m), _vec(c + m)

    def local(self, p: Coords) -> Coords:
        """Points in the ellipsoid's own (unrotated, centred) frame."""
        d = [p[i] - _f32(self.center[i]) for i in range(3)]
        if self.rot == _EYE:
            return (d[0], d[1], d[2])
        r = self.rot
        out = [_f32(r[0][i]) * d[0] + _f32(r[1][i]) * d[1] + _f32(r[2][i]) * d[2] for i in range(3)]
        return (out[0], out[1], out[2])

    def sdf(self, p: Coords) -> F32:
        """Inigo Quilez's ellipsoid distance bound outside; radial bound inside."""
        q = self.local(p)
        r = self.radii
        k0 = np.sqrt(sum((q[i] / _f32(r[i])) ** 2 for i in range(3)))
        k1 = np.sqrt(sum((q[i] / _f32(r[i] * r[i])) ** 2 for i in range(3)))
        outside = k0 * (k0 - 1.0) / np.maximum(k1, _f32(1e-6))
        inside = (k0 - 1.0) * _f32(min(r))
        out: F32 = np.where(k0 < 1.0, inside, outside).astype(np.float32)
        return out

    def scaled(self, anchor: Vec, s: float) -> Ellipsoid:
        """This ellipsoid scaled by ``s`` about ``anchor``."""
        c = tuple(a + s * (ci - a) for ci, a in zip(self.center, anchor, strict=True))
        return Ellipsoid(_vec(c), _vec(np.asarray(self.radii) * s), self.rot)


@dataclass(frozen=True)
class Tube:
    """A chain of round cones through ``points`` with radius ``radii`` (mm) at each point."""

    points: tuple[Vec, ...]
    radii: tuple[float, ...]

    def bounds(self) -> tuple[Vec, Vec]:
        """Box of the points grown by the largest radius."""
        pts = np.asarray(self.points)
        r = max(self.radii)
        return _vec(pts.min(axis=0) - r), _vec(pts.max(axis=0) + r)

    def sdf(self, p: Coords, far_mm: float = 10.0) -> F32:
        """Minimum over segments of the distance to a linearly tapered capsule.

        On a box (separable coordinates) each segment is evaluated only within ``far_mm`` of
        its own box: farther points get ``far_mm`` (a lower bound of their true distance).
        """
        shape = np.broadcast_shapes(*(c.shape for c in p))
        best: F32 = np.full(shape, np.float32(far_mm), dtype=np.float32)
        box = separable(p)
        for (a, ra), (b, rb) in zip(
            zip(self.points[:-1], self.radii[:-1], strict=True),
            zip(self.points[1:], self.radii[1:], strict=True),
            strict=True,
        ):
            if box:
                m = max(ra, rb) + far_mm
                idx = tuple(_span(p[i], min(a[i], b[i]) - m, max(a[i], b[i]) + m) for i in range(3))
                q = (p[0][idx[0], :, :], p[1][:, idx[1], :], p[2][:, :, idx[2]])
                sub = best[idx]
                if sub.size:
                    np.minimum(sub, _segment(q, a, b, ra, rb), out=sub)
            else:
                np.minimum(best, _segment(p, a, b, ra, rb), out=best)
        return best

    def scaled(self, anchor: Vec, s: float) -> Tube:
        """This tube scaled by ``s`` about ``anchor``."""
        pts = tuple(_vec(np.asarray(anchor) + s * (np.asarray(q) - anchor)) for q in self.points)
        return Tube(pts, tuple(r * s for r in self.radii))


def _segment(p: Coords, a: Vec, b: Vec, ra: float, rb: float) -> F32:
    ab = np.subtract(b, a)
    denom = float(ab @ ab) or 1e-6
    d = [p[i] - _f32(a[i]) for i in range(3)]
    t = (d[0] * _f32(ab[0]) + d[1] * _f32(ab[1]) + d[2] * _f32(ab[2])) / _f32(denom)
    t = np.clip(t, 0.0, 1.0)
    dist2 = sum((d[i] - t * _f32(ab[i])) ** 2 for i in range(3))
    out: F32 = (np.sqrt(dist2) - (_f32(ra) + t * _f32(rb - ra))).astype(np.float32)
    return out


@dataclass(frozen=True)
class Halfspace:
    """Points with ``normal · p <= offset`` (``normal`` is normalized), unbounded."""

    normal: Vec
    offset: float
    box: tuple[Vec, Vec] = ((-1e4, -1e4, -1e4), (1e4, 1e4, 1e4))

    def bounds(self) -> tuple[Vec, Vec]:
        """A large box (half-spaces are only used inside intersections)."""
        return self.box

    def sdf(self, p: Coords) -> F32:
        """Signed distance to the plane."""
        n = np.asarray(self.normal, dtype=np.float64)
        n = n / np.linalg.norm(n)
        out: F32 = (
            _f32(n[0]) * p[0] + _f32(n[1]) * p[1] + _f32(n[2]) * p[2] - _f32(self.offset)
        ).astype(np.float32)
        return out


@dataclass(frozen=True)
class Warp:
    """Smooth displacement field: ``sum_n amp_n * sin(k_n . p + phase_n)`` (mm).

    Attributes:
        waves: Wave vectors in rad/mm, one row per term.
        amps: Displacement amplitude vector (mm) of each term.
        phases: Phase of each term (rad).

    """

    waves: tuple[Vec, ...] = ()
    amps: tuple[Vec, ...] = ()
    phases: tuple[float, ...] = ()

    @property
    def max_shift(self) -> float:
        """Upper bound of the displacement length (mm)."""
        return float(sum(np.linalg.norm(a) for a in self.amps))

    @property
    def min_wavelength(self) -> float:
        """Shortest wavelength of the terms (mm)."""
        return float(min((2 * np.pi / np.linalg.norm(k) for k in self.waves), default=np.inf))

    def displace(self, p: Coords) -> Coords:
        """``p`` moved by the displacement field."""
        d = self._smooth(p, 3)
        return (p[0] + d[0], p[1] + d[1], p[2] + d[2])

    def scalar(self, p: Coords) -> F32:
        """The first displacement component, used as a smooth scalar texture field."""
        return self._smooth(p, 1)[0]

    def _smooth(self, p: Coords, n_comp: int) -> list[F32]:
        """Displacement components; on a fine box, from a lattice of 1/12 wavelength.

        Linear interpolation from a lattice of a twelfth of the shortest wavelength errs by
        under 1 % of the amplitude; it is used when that lattice is coarser than the box.
        """
        if self.waves and separable(p):
            step = self.min_wavelength / 12.0
            if any(_spacing(p[i]) * 1.5 < step and p[i].size > 8 for i in range(3)):
                lattice = tuple(_lattice(p[i], step, i) for i in range(3))
                coarse = self._direct((lattice[0], lattice[1], lattice[2]), n_comp)
                return [_interp3(c, lattice, p) for c in coarse]
        return self._direct(p, n_comp)

    def _direct(self, p: Coords, n_comp: int) -> list[F32]:
        shape = np.broadcast_shapes(*(c.shape for c in p))
        out = [np.zeros(shape, dtype=np.float32) for _ in range(n_comp)]
        for k, a, ph in zip(self.waves, self.amps, self.phases, strict=True):
            s = np.sin(_f32(k[0]) * p[0] + _f32(k[1]) * p[1] + _f32(k[2]) * p[2] + _f32(ph))
            for i in range(n_comp):
                out[i] += _f32(a[i]) * s
        return out


def _spacing(axis: F32) -> float:
    a = axis.ravel()
    return float(a[1] - a[0]) if a.size > 1 else np.inf


def _lattice(axis: F32, step: float, dim: int) -> F32:
    """Coarse axis covering ``axis`` with about ``step`` spacing, shaped for dimension ``dim``."""
    a = axis.ravel()
    n = max(2, int(np.ceil((a[-1] - a[0]) / step)) + 1)
    lat = np.linspace(a[0], a[-1], n, dtype=np.float32)
    shape = [1, 1, 1]
    shape[dim] = n
    return lat.reshape(shape)


def _interp3(coarse: F32, lattice: tuple[F32, ...], p: Coords) -> F32:
    """Separable linear interpolation of a field on ``lattice`` to the box axes ``p``."""
    out = np.broadcast_to(coarse, np.broadcast_shapes(*(c.shape for c in lattice)))
    for dim in range(3):
        lat = lattice[dim].ravel()
        fine = p[dim].ravel()
        pos = np.interp(fine, lat, np.arange(lat.size, dtype=np.float64))
        i0 = np.clip(np.floor(pos).astype(np.intp), 0, lat.size - 2)
        t = (pos - i0).astype(np.float32)
        shape = [1, 1, 1]
        shape[dim] = fine.size
        t = t.reshape(shape)
        out = np.take(out, i0, axis=dim) * (1 - t) + np.take(out, i0 + 1, axis=dim) * t
    result: F32 = np.ascontiguousarray(out, dtype=np.float32)
    return result


def random_warp(
    rng: np.random.Generator,
    n_terms: int,
    wavelength_mm: tuple[float, float],
    amplitude_mm: float,
) -> Warp:
    """A random :class:`Warp` whose displacement has rms about ``amplitude_mm``."""
    dirs = rng.normal(size=(n_terms, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    lam = np.exp(rng.uniform(np.log(wavelength_mm[0]), np.log(wavelength_mm[1]), n_terms))
    waves = dirs * (2 * np.pi / lam)[:, None]
    amps = rng.normal(size=(n_terms, 3)) * amplitude_mm * np.sqrt(2.0 / (3.0 * n_terms))
    phases = rng.uniform(0, 2 * np.pi, n_terms)
    return Warp(
        tuple(_vec(w) for w in waves), tuple(_vec(a) for a in amps), tuple(float(x) for x in phases)
    )


@dataclass(frozen=True)
class Warped:
    """``shape`` seen through a displacement field (sdf evaluated at ``p + warp(p)``)."""

    shape: Shape
    warp: Warp

    def bounds(self) -> tuple[Vec, Vec]:
        """The shape's box grown by the largest displacement."""
        lo, hi = self.shape.bounds()
        m = self.warp.max_shift
        return _vec(np.asarray(lo) - m), _vec(np.asarray(hi) + m)

    def sdf(self, p: Coords) -> F32:
        """Distance of the displaced points (approximate)."""
        return self.shape.sdf(self.warp.displace(p))


@dataclass(frozen=True)
class Lobulated:
    """A sphere whose radius varies smoothly with direction: lobulated tumor outlines.

    ``r(u) = radius * (1 + sum_n amp_n * sin(freq_n * (dir_n . u) + phase_n))`` for unit
    direction ``u`` from the centre.
    """

    center: Vec
    radius: float
    dirs: tuple[Vec, ...] = ()
    freqs: tuple[float, ...] = ()
    amps: tuple[float, ...] = ()
    phases: tuple[float, ...] = ()

    @property
    def max_radius(self) -> float:
        """Largest radius in any direction."""
        return self.radius * (1.0 + float(sum(abs(a) for a in self.amps)))

    def bounds(self) -> tuple[Vec, Vec]:
        """Box of the largest radius."""
        c = np.asarray(self.center)
        return _vec(c - self.max_radius), _vec(c + self.max_radius)

    def sdf(self, p: Coords) -> F32:
        """Distance from the centre minus the direction-dependent radius."""
        d = [p[i] - _f32(self.center[i]) for i in range(3)]
        r = np.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
        inv = 1.0 / np.maximum(r, _f32(1e-3))
        scale: F32 = np.ones_like(r)
        for u, f, a, ph in zip(self.dirs, self.freqs, self.amps, self.phases, strict=True):
            cosang = (d[0] * _f32(u[0]) + d[1] * _f32(u[1]) + d[2] * _f32(u[2])) * inv
            scale = scale + _f32(a) * np.sin(_f32(f) * cosang + _f32(ph))
        out: F32 = (r - _f32(self.radius) * scale).astype(np.float32)
        return out


@dataclass(frozen=True)
class Union:
    """Smooth union of shapes (polynomial smooth minimum with blend width ``k`` mm)."""

    shapes: tuple[Shape, ...]
    k: float = 0.0

    def bounds(self) -> tuple[Vec, Vec]:
        """Box around all parts."""
        b = [s.bounds() for s in self.shapes]
        lo = np.min([x[0] for x in b], axis=0)
        hi = np.max([x[1] for x in b], axis=0)
        return _vec(lo), _vec(hi)

    def sdf(self, p: Coords) -> F32:
        """Smooth minimum of the parts' distances."""
        out = self.shapes[0].sdf(p)
        for s in self.shapes[1:]:
            out = smin(out, s.sdf(p), self.k)
        return out


@dataclass(frozen=True)
class Intersection:
    """Intersection of ``shapes`` (maximum of distances); bounded by the first shape."""

    shapes: tuple[Shape, ...] = field(default_factory=tuple)

    def bounds(self) -> tuple[Vec, Vec]:
        """The first shape's box."""
        return self.shapes[0].bounds()

    def sdf(self, p: Coords) -> F32:
        """Maximum of the parts' distances."""
        out = self.shapes[0].sdf(p)
        for s in self.shapes[1:]:
            out = np.maximum(out, s.sdf(p))
        return out


def smin(a: F32, b: F32, k: float) -> F32:
    """Polynomial smooth minimum (equals ``min`` where ``|a - b| >= k``; never above it)."""
    if k <= 0:
        return np.minimum(a, b)
    kk = _f32(k)
    h = np.clip(0.5 + 0.5 * (b - a) / kk, 0.0, 1.0)
    out: F32 = (b + (a - b) * h - kk * h * (1.0 - h)).astype(np.float32)
    return out
