"""Lesion diameters: the one rule every part of smoothseg measures with.

A diameter is the largest **centre-to-centre** distance between boundary voxels of one
26-connected component, in mm through the image's affine (direction and spacing). A digitised
sphere of diameter D therefore measures between D minus one voxel and D; a one-voxel lesion
measures 0 mm. Used by dataset statistics (:mod:`smoothseg.datasets.labels`), lesion
measurements of predictions (:mod:`smoothseg.postprocess.lesions`), evaluation strata and the
treatment-response rules.

* :func:`feret_diameter_mm` — of a point set (3D or one axial plane).
* :func:`lesion_diameters_mm` — the 3D diameter of each component of a mask.
* :func:`longest_axial_diameter_mm` — RECIST-style: the largest in-plane diameter over the axial
  slices of one component.
"""

from __future__ import annotations

import contextlib

import cc3d
import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from scipy.spatial.distance import pdist

#: Above this many points the farthest pair is searched on the convex hull only.
HULL_MIN_POINTS = 64


def feret_diameter_mm(
    points_vox: npt.NDArray[np.float64], linear: npt.NDArray[np.float64]
) -> float:
    """Largest centre-to-centre distance (mm) between voxels at ``points_vox``.

    Args:
        points_vox: ``N x d`` voxel indices of the object's (boundary) voxels.
        linear: ``d x d`` voxel → mm matrix (direction times spacing) of those axes.

    """
    points = np.asarray(points_vox, dtype=np.float64) @ np.asarray(linear, dtype=np.float64).T
    if len(points) < 2:
        return 0.0
    if len(points) >= HULL_MIN_POINTS:
        # The farthest pair lies on the convex hull; "QJ" copes with flat (coplanar) lesions;
        # degenerate beyond joggling: every point is used.
        with contextlib.suppress(QhullError, ValueError):
            points = points[ConvexHull(points, qhull_options="QJ").vertices]
    return float(pdist(points).max())


def _boundary(component: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    edge: npt.NDArray[np.bool_] = component & ~ndimage.binary_erosion(component, border_value=0)
    return edge


def lesion_diameters_mm(
    mask: npt.NDArray[np.bool_], affine: npt.NDArray[np.float64]
) -> list[float]:
    """3D diameter (mm) of each 26-connected component of ``mask``, in cc3d labelling order."""
    labels, n = cc3d.connected_components(
        np.ascontiguousarray(mask, dtype=np.uint8), connectivity=26, return_N=True
    )
    if n == 0:
        return []
    boxes = cc3d.statistics(labels)["bounding_boxes"]
    linear = np.asarray(affine, dtype=np.float64)[:3, :3]
    out = []
    for index in range(1, n + 1):
        component = labels[boxes[index]] == index
        out.append(feret_diameter_mm(np.argwhere(_boundary(component)).astype(np.float64), linear))
    return out


def longest_axial_diameter_mm(
    component: npt.NDArray[np.bool_], linear: npt.NDArray[np.float64]
) -> float:
    """Largest in-plane diameter (mm) over the axial slices (third axis) of one component.

    Args:
        component: One lesion's mask (its bounding box is enough).
        linear: The image's ``3 x 3`` voxel → mm matrix.

    """
    best = 0.0
    # in-plane metric: express the slice's 2D axes in an orthonormal basis of their span
    _, r = np.linalg.qr(np.asarray(linear, dtype=np.float64)[:, :2])
    for k in np.flatnonzero(component.any(axis=(0, 1))):
        edge = _boundary(component[:, :, k])
        best = max(best, feret_diameter_mm(np.argwhere(edge).astype(np.float64), r))
    return best
