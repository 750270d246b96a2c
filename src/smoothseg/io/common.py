"""Helpers shared by the readers and writers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from smoothseg.errors import InputError

#: No CT volume is larger than this; a header claiming more is corrupt (64 GiB).
MAX_VOLUME_BYTES = 64 * 2**30
#: Deflate/zlib cannot compress better than about 1032:1; a header claiming more data than
#: this many times the compressed file size is corrupt.
MAX_COMPRESSION_RATIO = 1100

#: A CT voxel is larger than this along every axis (mm); smaller means a corrupt header or
#: another unit (metres).
MIN_SPACING_MM = 0.01
#: ... and smaller than this (mm).
MAX_SPACING_MM = 100.0

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


def check_spacing(path: Path, affine: npt.NDArray[np.float64]) -> None:
    """Refuse voxel sizes no CT has (below :data:`MIN_SPACING_MM`, above :data:`MAX_SPACING_MM`).

    Non-finite affines are left to :class:`~smoothseg.io.volume.Volume`, which names them.
    """
    matrix = np.asarray(affine, dtype=np.float64)[:3, :3]
    if not np.all(np.isfinite(matrix)):
        return
    spacing = np.linalg.norm(matrix, axis=0)
    if np.all((spacing >= MIN_SPACING_MM) & (spacing <= MAX_SPACING_MM)):
        return
    text = " x ".join(f"{s:.3g}" for s in spacing)
    raise InputError(
        path,
        f"voxel spacing {text} mm is implausible for a CT (expected {MIN_SPACING_MM:g} to "
        f"{MAX_SPACING_MM:g} mm per voxel): corrupt header, or spacing stored in another unit",
    )


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


def check_claimed_size(
    path: Path,
    shape: tuple[int, ...],
    itemsize: int,
    *,
    available: int,
    compressed: bool,
    what: str = "",
) -> None:
    """Refuse a header whose shape cannot be backed by the file (corrupt or truncated).

    Reading such a header would allocate the claimed size first: gigabytes for a few bytes.

    Args:
        path: The file (for the message).
        shape: The shape its header claims.
        itemsize: Bytes per voxel.
        available: Bytes of data the file holds (after the header, when known).
        compressed: Whether the data are gzip/zlib compressed.
        what: Format name for the message (``cannot read as <what>: ...``).

    Raises:
        InputError: Negative dimensions, more than :data:`MAX_VOLUME_BYTES`, or more data than
            the file can hold.

    """
    lead = f"cannot read as {what}: " if what else ""
    if any(int(n) < 0 for n in shape):
        raise InputError(path, f"{lead}header has a negative dimension {shape}: corrupt header")
    claimed = int(np.prod([int(n) for n in shape], dtype=np.float64)) * max(1, itemsize)
    dims = "x".join(str(int(n)) for n in shape)
    if claimed > MAX_VOLUME_BYTES:
        raise InputError(
            path, f"{lead}header claims a {dims} volume ({claimed / 2**30:.0f} GiB): corrupt header"
        )
    limit = available * MAX_COMPRESSION_RATIO if compressed else available
    if claimed > max(limit, 0):
        raise InputError(
            path,
            f"{lead}header claims a {dims} volume ({claimed} bytes) but the file holds only "
            f"{available} bytes: truncated file or corrupt header",
        )
