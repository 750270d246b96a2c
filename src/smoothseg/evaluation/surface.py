"""Surface distances in millimetres: HD95, Hausdorff distance and ASSD.

Conventions (those of MONAI's ``compute_hausdorff_distance(percentile=95)`` and
``compute_average_surface_distance(symmetric=True)``, the common choice in liver-tumor papers):

* **Surface** of a mask: its voxels with at least one of the 6 face neighbours outside the mask
  (the mask minus its binary erosion by the 6-connected cross); outside the array counts as
  background, so a mask touching the volume's edge has a surface there.
* **Distance** of a surface voxel of A to B: the Euclidean distance in mm between its centre and
  the nearest surface-voxel centre of B, voxel offsets scaled by ``spacing_mm`` (so anisotropic
  voxels are handled exactly). ``d(A→B)`` lists it for every surface voxel of A.
* **HD95** = max(P95 of d(pred→ref), P95 of d(ref→pred)): the larger of the two *directed*
  95th percentiles (not the percentile of both directions pooled), with numpy's default linear
  interpolation between order statistics.
* **HD** = the largest distance in either direction (the classic Hausdorff distance).
* **ASSD** = (Σ d(pred→ref) + Σ d(ref→pred)) / (number of surface voxels of both masks).

Empty masks: when either mask is empty every surface metric is NaN (undefined) rather than a
penalty value. A penalty (e.g. the LiTS evaluation's 9001 mm, or the image diagonal) would
dominate any mean it enters and depends on the field of view; a missed or hallucinated tumor is
already scored by Dice = 0 and by lesion detection. Summaries report how many cases had no
surface metric.

Speed: both masks are cropped to the box around their union (plus one voxel of background), and
nearest surface voxels are found with a k-d tree over surface-voxel coordinates in mm (exact,
like MONAI's CPU path); see ``benchmarks/bench_metrics.py`` for the comparison with a full-volume
distance transform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import KDTree

NAN = float("nan")
DEFAULT_PERCENTILE = 95.0


@dataclass(frozen=True)
class SurfaceMetrics:
    """Surface-distance metrics of one prediction against one reference (mm; NaN if undefined).

    Attributes:
        hd95_mm: Max of the two directed 95th-percentile surface distances.
        hd_mm: Hausdorff distance (largest surface distance either way).
        assd_mm: Average symmetric surface distance.

    """

    hd95_mm: float
    hd_mm: float
    assd_mm: float


UNDEFINED = SurfaceMetrics(NAN, NAN, NAN)


def check_spacing_mm(spacing_mm: Sequence[float], ndim: int) -> npt.NDArray[np.float64]:
    """``spacing_mm`` as an array after checking it has ``ndim`` positive finite values.

    Raises:
        ValueError: wrong length, or a value that is not a positive finite number.

    """
    spacing = np.asarray(spacing_mm, dtype=np.float64).ravel()
    if spacing.size != ndim:
        raise ValueError(f"spacing_mm needs {ndim} values, got {spacing.size}")
    if not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
        raise ValueError(f"spacing_mm must be positive finite numbers, got {spacing.tolist()}")
    return spacing


def surface_voxels(mask: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Voxels of ``mask`` with a face neighbour outside it (outside the array is background)."""
    m = np.asarray(mask).astype(bool, copy=False)
    eroded = ndimage.binary_erosion(m, structure=ndimage.generate_binary_structure(m.ndim, 1))
    out: npt.NDArray[np.bool_] = m & ~eroded
    return out


def union_box(*masks: npt.NDArray[np.bool_], margin: int = 1) -> tuple[slice, ...] | None:
    """The box (slices) around the union of ``masks`` grown by ``margin`` voxels; None if empty."""
    union = np.logical_or.reduce(masks)
    found = ndimage.find_objects(union.astype(np.uint8))
    if not found or found[0] is None:
        return None
    return tuple(
        slice(max(s.start - margin, 0), min(s.stop + margin, n))
        for s, n in zip(found[0], union.shape, strict=True)
    )


def directed_surface_distances_mm(
    pred: npt.ArrayLike, ref: npt.ArrayLike, spacing_mm: Sequence[float]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Surface distances ``(d(pred→ref), d(ref→pred))`` in mm (see module docs).

    Both arrays are empty when either mask is empty.

    Raises:
        ValueError: shapes differ or ``spacing_mm`` is invalid.

    """
    p = np.asarray(pred).astype(bool, copy=False)
    r = np.asarray(ref).astype(bool, copy=False)
    if p.shape != r.shape:
        raise ValueError(f"prediction shape {p.shape} differs from reference shape {r.shape}")
    spacing = check_spacing_mm(spacing_mm, p.ndim)
    empty = np.zeros(0, dtype=np.float64)
    box = union_box(p, r)
    if box is None or not p.any() or not r.any():
        return empty, empty.copy()
    p_points = np.argwhere(surface_voxels(p[box])) * spacing
    r_points = np.argwhere(surface_voxels(r[box])) * spacing
    # A larger leaf size than the default suits one batched query per tree (as in MONAI).
    d_pred = KDTree(r_points, leafsize=32).query(p_points, k=1)[0]
    d_ref = KDTree(p_points, leafsize=32).query(r_points, k=1)[0]
    return np.asarray(d_pred, dtype=np.float64), np.asarray(d_ref, dtype=np.float64)


def surface_metrics(
    pred: npt.ArrayLike,
    ref: npt.ArrayLike,
    spacing_mm: Sequence[float],
    *,
    percentile: float = DEFAULT_PERCENTILE,
) -> SurfaceMetrics:
    """HD95 (or another percentile), HD and ASSD in mm; all NaN when either mask is empty.

    Raises:
        ValueError: shapes differ, ``spacing_mm`` is invalid, or ``percentile`` is not in
            [0, 100].

    """
    if not 0.0 <= percentile <= 100.0:
        raise ValueError(f"percentile must be in [0, 100], got {percentile}")
    d_pred, d_ref = directed_surface_distances_mm(pred, ref, spacing_mm)
    if d_pred.size == 0 or d_ref.size == 0:
        return UNDEFINED
    hd_p = max(float(np.percentile(d_pred, percentile)), float(np.percentile(d_ref, percentile)))
    hd = max(float(d_pred.max()), float(d_ref.max()))
    assd = (float(d_pred.sum()) + float(d_ref.sum())) / (d_pred.size + d_ref.size)
    return SurfaceMetrics(hd95_mm=hd_p, hd_mm=hd, assd_mm=assd)


def hd95_mm(pred: npt.ArrayLike, ref: npt.ArrayLike, spacing_mm: Sequence[float]) -> float:
    """95th-percentile Hausdorff distance in mm (NaN when either mask is empty)."""
    return surface_metrics(pred, ref, spacing_mm).hd95_mm


def assd_mm(pred: npt.ArrayLike, ref: npt.ArrayLike, spacing_mm: Sequence[float]) -> float:
    """Average symmetric surface distance in mm (NaN when either mask is empty)."""
    return surface_metrics(pred, ref, spacing_mm).assd_mm
