"""Resampling to a target voxel size, with a record of how to return to the parent grid.

The new grid covers exactly the parent's extent: along each axis with ``n`` voxels of size
``s`` it has ``m = round(n * s / t)`` voxels of size ``s * n / m`` (as close to the target ``t``
as the extent allows), and the outer faces of the first and last voxels coincide with the
parent's. Images are resampled trilinearly, labels with nearest neighbour (never anything
else); :func:`undo_resample` maps results back onto the parent grid the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F  # noqa: N812

from smoothseg.errors import GeometryError
from smoothseg.io.volume import Grid, Volume

Shape3 = tuple[int, int, int]


@dataclass(frozen=True, eq=False)
class ResampleRecord:
    """How a resampled grid relates to its parent grid.

    Attributes:
        parent: The grid before resampling (shape and voxel → RAS affine).
        grid: The grid after resampling.

    """

    parent: Grid
    grid: Grid

    @property
    def identity(self) -> bool:
        """Whether nothing was resampled."""
        return self.parent.matches(self.grid, atol_mm=1e-6)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "parent": {"shape": list(self.parent.shape), "affine": self.parent.affine.tolist()},
            "grid": {"shape": list(self.grid.shape), "affine": self.grid.affine.tolist()},
        }


def resampled_grid(grid: Grid, target_spacing_mm: Sequence[float] | None) -> Grid:
    """The grid :func:`resample_array` produces from ``grid`` (``None``: ``grid`` itself)."""
    if target_spacing_mm is None:
        return grid
    if len(target_spacing_mm) != 3 or min(target_spacing_mm) <= 0:
        raise GeometryError(f"target spacing must be 3 positive sizes, got {target_spacing_mm}")
    spacing = grid.spacing_mm
    shape = tuple(
        max(1, round(n * s / t))
        for n, s, t in zip(grid.shape, spacing, target_spacing_mm, strict=True)
    )
    factors = np.array([n / m for n, m in zip(grid.shape, shape, strict=True)])
    scale = np.eye(4)
    scale[:3, :3] = np.diag(factors)
    scale[:3, 3] = (factors - 1.0) / 2.0
    return Grid((int(shape[0]), int(shape[1]), int(shape[2])), grid.affine @ scale)


def resample_array(
    array: npt.NDArray[Any], shape: Sequence[int], *, label: bool
) -> npt.NDArray[Any]:
    """Resample a 3D array to ``shape`` over the same extent (see the module docs).

    Args:
        array: ``[i, j, k]`` values.
        shape: Output voxels along i, j, k.
        label: Nearest neighbour (keeps the dtype) instead of trilinear (float32 out).

    Returns:
        The resampled array (``array`` itself when the shape is unchanged).

    """
    target = tuple(int(s) for s in shape)
    if tuple(array.shape) == target:
        return array
    if label:
        values = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
        out = F.interpolate(values[None, None], size=target, mode="nearest-exact")
        return out[0, 0].numpy().astype(array.dtype)
    values = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    out = F.interpolate(values[None, None], size=target, mode="trilinear", align_corners=False)
    result: npt.NDArray[Any] = out[0, 0].numpy()
    return result


def resample_to_spacing(
    array: npt.NDArray[Any],
    affine: npt.NDArray[np.float64],
    target_spacing_mm: Sequence[float] | None,
    *,
    label: bool,
) -> tuple[npt.NDArray[Any], ResampleRecord]:
    """Resample ``array`` (on the grid ``affine``) to ``target_spacing_mm``.

    Returns:
        The array on the new grid and the record that undoes it.

    """
    parent = Grid((int(array.shape[0]), int(array.shape[1]), int(array.shape[2])), affine)
    grid = resampled_grid(parent, target_spacing_mm)
    return resample_array(array, grid.shape, label=label), ResampleRecord(parent, grid)


def undo_resample(
    array: npt.NDArray[Any], record: ResampleRecord, *, label: bool = True
) -> npt.NDArray[Any]:
    """Bring an array on ``record.grid`` back onto the parent grid (nearest for labels).

    Raises:
        GeometryError: ``array`` is not on ``record.grid``.

    """
    if tuple(array.shape) != record.grid.shape:
        raise GeometryError(
            f"array of shape {array.shape} is not on the resampled grid {record.grid.shape}"
        )
    return resample_array(array, record.parent.shape, label=label)


def resample_volume(
    volume: Volume, target_spacing_mm: Sequence[float] | None
) -> tuple[Volume, ResampleRecord]:
    """:func:`resample_to_spacing` on a :class:`Volume` (labels nearest, by ``kind``).

    The result has no ``native`` grid: bring results back with :func:`undo_resample` and
    put them on the original volume's grid (``Volume.with_array``) before writing.
    """
    array, record = resample_to_spacing(
        np.asarray(volume.array), volume.affine, target_spacing_mm, label=volume.kind == "label"
    )
    if record.identity:
        return volume, record
    out = Volume(array, record.grid.affine, kind=volume.kind, source=volume.source)
    return out, record
