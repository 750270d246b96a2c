"""Signed-distance shapes and grids used by the phantom (tiny arrays, fast)."""

from __future__ import annotations

import numpy as np
import pytest

from smoothseg.phantom.grid import PhantomGrid
from smoothseg.phantom.noise import correlated_noise
from smoothseg.phantom.shapes import (
    Ellipsoid,
    Lobulated,
    Tube,
    Warp,
    random_warp,
    rotation,
    smin,
)


def _pts(*xyz: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.asarray(xyz, dtype=np.float32)
    return (a[:, 0], a[:, 1], a[:, 2])


def test_ellipsoid_distance_is_exact_on_axes_and_signed() -> None:
    e = Ellipsoid((10.0, 0.0, 0.0), (20.0, 10.0, 5.0))
    d = e.sdf(_pts((10, 0, 0), (35, 0, 0), (10, 13, 0), (10, 0, -7)))
    assert d[0] < 0
    np.testing.assert_allclose(d[1:], [5.0, 3.0, 2.0], atol=1e-4)
    lo, hi = e.bounds()
    assert lo == (-10.0, -10.0, -5.0) and hi == (30.0, 10.0, 5.0)


def test_rotated_ellipsoid_bounds_contain_it() -> None:
    e = Ellipsoid((0.0, 0.0, 0.0), (30.0, 5.0, 5.0), rotation(yaw_deg=90))
    _, hi = e.bounds()
    assert hi[1] == pytest.approx(30.0) and hi[0] == pytest.approx(5.0)
    assert e.sdf(_pts((0, 25, 0)))[0] < 0 and e.sdf(_pts((25, 0, 0)))[0] > 0


def test_tube_tapers_and_box_evaluation_matches_pointwise() -> None:
    t = Tube(((0.0, 0.0, 0.0), (100.0, 0.0, 0.0)), (10.0, 2.0))
    d = t.sdf(_pts((0, 15, 0), (100, 5, 0), (50, 0, 0)), far_mm=1e6)
    np.testing.assert_allclose(d[:2], [5.0, 3.0], atol=0.05)
    assert d[2] < 0
    grid = PhantomGrid((40, 20, 10), (4.0, 2.0, 3.0), z_top_mm=12.0, center_xy_mm=(50.0, 0.0))
    box = grid.full()
    boxed = t.sdf(box.coords, far_mm=5.0)
    flat = np.broadcast_arrays(*box.coords)
    direct = t.sdf(tuple(a.ravel() for a in flat), far_mm=5.0).reshape(boxed.shape)  # type: ignore[arg-type]
    near = direct < 5.0
    np.testing.assert_allclose(boxed[near], direct[near], atol=1e-4)
    assert np.all(boxed[~near] >= 5.0 - 1e-4)


def test_lattice_interpolated_warp_matches_direct_evaluation() -> None:
    rng = np.random.default_rng(1)
    warp = random_warp(rng, 8, (80.0, 200.0), 10.0)
    grid = PhantomGrid((60, 50, 30), (1.0, 1.0, 2.0))
    box = grid.full()
    fast = warp.displace(box.coords)
    slow = warp._direct(box.coords, 3)  # the exact sum of sinusoids
    for i in range(3):
        err = np.abs(fast[i] - box.coords[i] - slow[i]).max()
        assert err < 0.01 * warp.max_shift + 1e-3


def test_smooth_min_never_exceeds_min_and_equals_it_far_apart() -> None:
    a = np.array([0.0, 1.0, 5.0, -3.0], dtype=np.float32)
    b = np.array([0.0, 2.0, -10.0, 10.0], dtype=np.float32)
    s = smin(a, b, 4.0)
    assert np.all(s <= np.minimum(a, b) + 1e-6)
    assert s[2] == -10.0 and s[3] == -3.0


def test_lobulated_radius_varies_within_bounds() -> None:
    lob = Lobulated((0.0, 0.0, 0.0), 20.0, ((1.0, 0.0, 0.0),), (3.0,), (0.2,), (0.0,))
    assert lob.max_radius == pytest.approx(24.0)
    d = lob.sdf(_pts((0, 0, 19.5), (0, 0, 20.5)))
    assert d[0] < 0 < d[1]


def test_grid_is_ras_centred_and_anisotropic() -> None:
    grid = PhantomGrid((128, 128, 48), (3.0, 3.0, 5.0), z_top_mm=35.0)
    a = grid.affine
    assert np.allclose(np.diag(a)[:3], [3.0, 3.0, 5.0])
    assert grid.axis_mm(0)[0] == pytest.approx(-190.5) and grid.axis_mm(2)[-1] == 35.0
    box = grid.box((-10.0, -10.0, -1000.0), (10.0, 10.0, 1000.0))
    assert box is not None and box.shape == (6, 6, 48)
    assert grid.box((500.0, 0.0, 0.0), (600.0, 1.0, 1.0)) is None


def test_correlated_noise_has_unit_variance_and_in_plane_correlation() -> None:
    rng = np.random.default_rng(0)
    n = correlated_noise((96, 96, 24), rng, (0.75, 0.75, 2.5), 1.2)
    assert abs(float(n.std()) - 1.0) < 0.05
    lag1 = np.corrcoef(n[:-1].ravel(), n[1:].ravel())[0, 1]
    assert lag1 > 0.5  # correlated in-plane, unlike white noise


def test_empty_warp_is_identity() -> None:
    p = _pts((1.0, 2.0, 3.0))
    moved = Warp().displace(p)
    assert all(np.array_equal(m, q) for m, q in zip(moved, p, strict=True))
