"""Helpers shared by the readers and writers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from smoothseg.errors import InputError

#: Multiply an LPS affine by this (on the left) to get RAS, and vice versa.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def require_3d(array: npt.NDArray[Any], path: Path) -> npt.NDArray[Any]:
    """Return ``array`` as 3D (dropping trailing length-1 axes) or raise a clear error."""
    while array.ndim > 3 and array.shape[-1] == 1:
        array = array[..., 0]
    shape = "x".join(str(s) for s in array.shape)
    if array.ndim > 3:
        raise InputError(
            path, f"image is {array.ndim}D (shape {shape}); smoothseg needs one 3D volume"
        )
    if array.ndim < 3 or min(array.shape) <= 1:
        raise InputError(path, f"image is 2D (shape {shape}); smoothseg needs a 3D volume")
    return array


def affine_from_itk(
    direction: npt.ArrayLike, spacing: npt.ArrayLike, origin: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """RAS affine from ITK/LPS geometry (row-major 3x3 direction, spacing, origin)."""
    lps = np.eye(4)
    lps[:3, :3] = np.asarray(direction, dtype=np.float64).reshape(3, 3) * np.asarray(
        spacing, dtype=np.float64
    )
    lps[:3, 3] = np.asarray(origin, dtype=np.float64)
    ras: npt.NDArray[np.float64] = LPS_TO_RAS @ lps
    return ras


def itk_from_affine(
    affine: npt.NDArray[np.float64],
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """ITK/LPS (direction row-major, spacing, origin) from a RAS affine."""
    lps = LPS_TO_RAS @ affine
    spacing = np.linalg.norm(lps[:3, :3], axis=0)
    direction = lps[:3, :3] / spacing
    return (
        tuple(float(v) for v in direction.ravel()),
        tuple(float(v) for v in spacing),
        tuple(float(v) for v in lps[:3, 3]),
    )
