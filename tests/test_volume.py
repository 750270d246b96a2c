"""Unit tests of the Volume type: geometry properties and exact reorientation."""

from __future__ import annotations

import numpy as np
import pytest

from smoothseg.errors import GeometryError
from smoothseg.io import Volume, check_same_grid


def test_geometry_properties(oblique_volume: Volume) -> None:
    v = oblique_volume
    assert v.shape == (7, 5, 4)
    assert v.spacing_mm == pytest.approx((0.5, 0.75, 2.5))
    assert v.origin_mm == pytest.approx((120.5, -30.25, -400.0))
    assert v.axcodes == ("P", "L", "S")  # i runs along -y, j along -x
    assert v.voxel_volume_ml == pytest.approx(0.5 * 0.75 * 2.5 / 1000)
    np.testing.assert_allclose(np.abs(v.direction).sum(axis=0), 1.0)


def _world(v: Volume, index: tuple[int, int, int]) -> np.ndarray:
    return (v.affine @ np.array([*index, 1.0]))[:3]


def test_canonical_keeps_every_voxel_at_its_world_position(oblique_volume: Volume) -> None:
    v = oblique_volume
    c = v.to_canonical()
    assert c.axcodes == ("R", "A", "S")
    assert c.native is not None and c.native.shape == v.shape
    # Each voxel value sits at the same world coordinate before and after.
    inv = np.linalg.inv(c.affine)
    for index in [(0, 0, 0), (6, 4, 3), (3, 1, 2)]:
        world = _world(v, index)
        ci = np.rint(inv @ np.array([*world, 1.0]))[:3].astype(int)
        assert c.array[tuple(ci)] == v.array[index]


def test_to_native_restores_exactly(oblique_volume: Volume) -> None:
    back = oblique_volume.to_canonical().to_native()
    assert back.native is None
    np.testing.assert_array_equal(back.array, oblique_volume.array)
    np.testing.assert_array_equal(back.affine, oblique_volume.affine)


def test_canonical_of_canonical_is_noop() -> None:
    v = Volume(np.zeros((3, 4, 5), np.int16), np.diag([2.0, 2.0, 3.0, 1.0]))
    c = v.to_canonical()
    assert c.native is None
    assert c.array is v.array


def test_label_kind_requires_integers() -> None:
    with pytest.raises(TypeError, match="integer"):
        Volume(np.zeros((2, 2, 2), np.float32), np.eye(4), kind="label")
    ok = Volume(np.zeros((2, 2, 2), bool), np.eye(4), kind="label")
    assert ok.array.dtype == np.uint8


@pytest.mark.parametrize(
    ("array", "affine", "message"),
    [
        (np.zeros((2, 2)), np.eye(4), "3D"),
        (np.zeros((2, 2, 2)), np.eye(3), "4x4"),
        (np.zeros((2, 2, 2)), np.diag([1.0, 0.0, 1.0, 1.0]), "singular"),
        (np.zeros((2, 2, 2)), np.full((4, 4), np.nan), "NaN"),
    ],
)
def test_invalid_geometry_is_refused(array: np.ndarray, affine: np.ndarray, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        Volume(array, affine)


def test_with_array_checks_shape(oblique_volume: Volume) -> None:
    mask = oblique_volume.with_array(np.ones(oblique_volume.shape, np.uint8), kind="label")
    assert mask.kind == "label" and mask.grid.matches(oblique_volume.grid)
    with pytest.raises(GeometryError):
        oblique_volume.with_array(np.ones((2, 2, 2), np.uint8))


def test_check_same_grid_names_the_difference(oblique_volume: Volume) -> None:
    shifted = Volume(oblique_volume.array, oblique_volume.affine + np.diag([0, 0, 0, 0.0]))
    check_same_grid(oblique_volume, shifted)
    moved = oblique_volume.affine.copy()
    moved[0, 3] += 1.0
    with pytest.raises(GeometryError, match="origin"):
        check_same_grid(oblique_volume, Volume(oblique_volume.array, moved))
