"""HD95, HD and ASSD in mm: hand-computed cases, anisotropic spacing, empty masks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from smoothseg.evaluation import assd_mm, hd95_mm, surface_metrics
from smoothseg.evaluation.surface import directed_surface_distances_mm, surface_voxels

SPACING = (0.7, 0.7, 2.5)


def test_parallel_planes_along_the_slice_axis() -> None:
    ref = np.zeros((6, 5, 8), dtype=bool)
    pred = np.zeros_like(ref)
    ref[:, :, 1] = True
    pred[:, :, 4] = True  # 3 slices of 2.5 mm apart
    m = surface_metrics(pred, ref, SPACING)
    assert m.hd95_mm == pytest.approx(7.5)
    assert m.hd_mm == pytest.approx(7.5)
    assert m.assd_mm == pytest.approx(7.5)


def test_parallel_planes_along_the_first_axis_use_its_spacing() -> None:
    ref = np.zeros((8, 5, 6), dtype=bool)
    pred = np.zeros_like(ref)
    ref[1] = True
    pred[4] = True  # 3 voxels of 0.7 mm apart
    assert hd95_mm(pred, ref, SPACING) == pytest.approx(2.1)
    assert assd_mm(pred, ref, SPACING) == pytest.approx(2.1)


def test_hd95_is_the_larger_directed_percentile_not_the_pooled_one() -> None:
    # ref: a line of 20 voxels along i; pred: the same line plus 2 voxels 4 slices (10 mm) above.
    ref = np.zeros((20, 1, 5), dtype=bool)
    ref[:, 0, 0] = True
    pred = ref.copy()
    pred[0, 0, 4] = pred[1, 0, 4] = True
    d_pred, d_ref = directed_surface_distances_mm(pred, ref, SPACING)
    assert sorted(d_pred) == pytest.approx([0.0] * 20 + [10.0, 10.0])
    assert sorted(d_ref) == pytest.approx([0.0] * 20)
    m = surface_metrics(pred, ref, SPACING)
    # d(pred→ref): 22 values; linear P95 at rank 0.95 * 21 = 19.95 → 0 + 0.95 * 10.
    assert m.hd95_mm == pytest.approx(9.5)
    assert np.percentile(np.concatenate([d_pred, d_ref]), 95) == pytest.approx(0.0)
    assert m.hd_mm == pytest.approx(10.0)
    assert m.assd_mm == pytest.approx(20.0 / 42.0)


def test_surface_is_the_six_connected_border() -> None:
    cube = np.zeros((5, 5, 5), dtype=bool)
    cube[1:4, 1:4, 1:4] = True
    surface = surface_voxels(cube)
    assert surface.sum() == 27 - 1  # only the centre voxel is interior
    full = np.ones((3, 3, 3), dtype=bool)
    assert surface_voxels(full).sum() == 26  # the array's edge counts as background


def ball(shape: tuple[int, ...], spacing: tuple[float, ...], centre_mm, radius_mm: float):
    grids = np.meshgrid(
        *[np.arange(n) * s for n, s in zip(shape, spacing, strict=True)], indexing="ij"
    )
    return sum((g - c) ** 2 for g, c in zip(grids, centre_mm, strict=True)) <= radius_mm**2


@pytest.mark.parametrize(
    ("spacing", "radius", "shift", "axis"),
    [((1.0, 1.0, 2.0), 12.0, 6.0, 2), ((0.7, 0.7, 2.5), 15.0, 4.2, 0)],
)
def test_sphere_against_shifted_sphere_matches_geometry_within_a_voxel(
    spacing: tuple[float, float, float], radius: float, shift: float, axis: int
) -> None:
    shape = tuple(int(60 / s) for s in spacing)
    centre = np.array([30.0, 30.0, 30.0])
    moved = centre.copy()
    moved[axis] += shift
    ref, pred = ball(shape, spacing, centre, radius), ball(shape, spacing, moved, radius)
    m = surface_metrics(pred, ref, spacing)
    # Continuous spheres: a point of one sphere at angle u = cos(theta) to the shift lies
    # |sqrt(R^2 + d^2 - 2 R d u) - R| from the other sphere, u uniform over the surface.
    u = np.linspace(-1.0, 1.0, 200_001)
    dist = np.abs(np.sqrt(radius**2 + shift**2 - 2 * radius * shift * u) - radius)
    voxel = max(spacing)
    assert m.hd_mm == pytest.approx(shift, abs=voxel)  # the Hausdorff distance is the shift
    assert m.hd95_mm == pytest.approx(np.percentile(dist, 95), abs=voxel)
    assert m.assd_mm == pytest.approx(dist.mean(), abs=voxel)  # = shift / 2
    assert dist.mean() == pytest.approx(shift / 2, rel=1e-3)


def test_identical_masks_have_zero_distance() -> None:
    mask = ball((20, 20, 10), SPACING, (7.0, 7.0, 12.0), 5.0)
    assert surface_metrics(mask, mask, SPACING) == surface_metrics(mask, mask, (1, 1, 1))
    assert surface_metrics(mask, mask, SPACING).hd95_mm == 0.0


def test_empty_masks_give_nan() -> None:
    empty = np.zeros((5, 5, 5), dtype=bool)
    some = empty.copy()
    some[2, 2, 2] = True
    for pred, ref in ((empty, empty), (some, empty), (empty, some)):
        m = surface_metrics(pred, ref, SPACING)
        assert math.isnan(m.hd95_mm) and math.isnan(m.hd_mm) and math.isnan(m.assd_mm)


def naive_distances(pred: np.ndarray, ref: np.ndarray, spacing) -> tuple[np.ndarray, np.ndarray]:
    """Full-volume distance transforms, no cropping: the textbook implementation."""
    sp, sr = surface_voxels(pred), surface_voxels(ref)
    to_ref = ndimage.distance_transform_edt(~sr, sampling=spacing)
    to_pred = ndimage.distance_transform_edt(~sp, sampling=spacing)
    return to_ref[sp], to_pred[sr]


def random_blobs(seed: int, shape=(40, 36, 18)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), 2.0)
    return noise > 0.08


@pytest.mark.parametrize("seed", [0, 1])
def test_cropped_kdtree_equals_full_volume_distance_transform(seed: int) -> None:
    pred, ref = random_blobs(seed), random_blobs(seed + 10)
    fast = directed_surface_distances_mm(pred, ref, SPACING)
    slow = naive_distances(pred, ref, SPACING)
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(np.sort(a), np.sort(b), atol=1e-9)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_agrees_with_monai() -> None:
    torch = pytest.importorskip("torch")
    monai_metrics = pytest.importorskip("monai.metrics")
    pred, ref = random_blobs(3), random_blobs(4)
    ours = surface_metrics(pred, ref, SPACING)
    p = torch.as_tensor(pred)[None, None].float()
    r = torch.as_tensor(ref)[None, None].float()
    hd95 = monai_metrics.compute_hausdorff_distance(p, r, percentile=95, spacing=list(SPACING))
    assd = monai_metrics.compute_average_surface_distance(
        p, r, symmetric=True, spacing=list(SPACING)
    )
    assert ours.hd95_mm == pytest.approx(float(hd95), rel=1e-5)
    assert ours.assd_mm == pytest.approx(float(assd), rel=1e-5)


def test_invalid_spacing_is_an_error() -> None:
    mask = np.ones((2, 2, 2), dtype=bool)
    with pytest.raises(ValueError, match="spacing_mm"):
        surface_metrics(mask, mask, (1.0, 1.0))
    with pytest.raises(ValueError, match="spacing_mm"):
        surface_metrics(mask, mask, (1.0, 0.0, 1.0))
