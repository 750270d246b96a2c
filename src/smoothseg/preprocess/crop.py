"""Bounding boxes, crops that remember how to undo themselves, and pasting results back.

A :class:`CropRecord` holds the box (in voxels of the parent grid, ``start`` inclusive,
``stop`` exclusive, always inside the parent) and the parent's shape. ``record.crop(array)``
cuts the box out; :func:`paste_back` puts a result computed on the crop back onto the parent
grid, filling the rest; ``record.crop_affine(affine)`` is the crop's voxel → RAS affine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from smoothseg.errors import GeometryError

Shape3 = tuple[int, int, int]


def _shape3(values: Sequence[int]) -> Shape3:
    return (int(values[0]), int(values[1]), int(values[2]))


@dataclass(frozen=True)
class BoundingBox:
    """An axis-aligned voxel box: ``start`` inclusive, ``stop`` exclusive, per axis."""

    start: Shape3
    stop: Shape3

    def __post_init__(self) -> None:
        if len(self.start) != 3 or len(self.stop) != 3:
            raise GeometryError(f"a box needs 3 starts and stops, got {self.start}, {self.stop}")
        if any(b <= a for a, b in zip(self.start, self.stop, strict=True)):
            raise GeometryError(f"empty box: start {self.start}, stop {self.stop}")

    @property
    def shape(self) -> Shape3:
        """Voxels along each axis."""
        return _shape3([b - a for a, b in zip(self.start, self.stop, strict=True)])

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        """Index expression selecting the box."""
        return (
            slice(self.start[0], self.stop[0]),
            slice(self.start[1], self.stop[1]),
            slice(self.start[2], self.stop[2]),
        )

    def expand(
        self,
        margin_mm: float | Sequence[float],
        spacing_mm: Sequence[float],
        limit: Sequence[int],
    ) -> BoundingBox:
        """The box grown by ``margin_mm`` (one value, or 6: low/high per axis) and clipped.

        Margins are converted to voxels per axis with ``spacing_mm`` (rounded up: at least
        the asked distance); negative margins shrink the box, never below one voxel.

        Args:
            margin_mm: Margin for every face, or ``(lo_i, hi_i, lo_j, hi_j, lo_k, hi_k)``.
            spacing_mm: Voxel size along i, j, k.
            limit: Parent shape; the result stays inside ``[0, limit)``.

        """
        faces = [float(margin_mm)] * 6 if isinstance(margin_mm, int | float) else list(margin_mm)
        if len(faces) != 6:
            raise GeometryError(f"margin_mm must be one value or 6, got {margin_mm}")
        start, stop = [], []
        for axis in range(3):
            lo = _voxels(faces[2 * axis], spacing_mm[axis])
            hi = _voxels(faces[2 * axis + 1], spacing_mm[axis])
            a = max(self.start[axis] - lo, 0)
            b = min(self.stop[axis] + hi, int(limit[axis]))
            a = min(a, int(limit[axis]) - 1)
            start.append(a)
            stop.append(max(b, a + 1))
        return BoundingBox(_shape3(start), _shape3(stop))

    def to_dict(self) -> dict[str, list[int]]:
        """JSON-ready dict."""
        return {"start": list(self.start), "stop": list(self.stop)}


def _voxels(mm: float, spacing: float) -> int:
    """Voxels covering ``mm`` (rounded up away from zero, small float errors forgiven)."""
    v = abs(mm) / float(spacing)
    n = math.ceil(v - 1e-6)
    return n if mm >= 0 else -n


def bounding_box(mask: npt.ArrayLike) -> BoundingBox | None:
    """The tightest box holding every true voxel of a 3D mask; ``None`` when empty."""
    binary = np.asarray(mask).astype(bool, copy=False)
    if binary.ndim != 3:
        raise GeometryError(f"expected a 3D mask, got shape {binary.shape}")
    start, stop = [], []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hits = np.flatnonzero(binary.any(axis=other))
        if hits.size == 0:
            return None
        start.append(int(hits[0]))
        stop.append(int(hits[-1]) + 1)
    return BoundingBox(_shape3(start), _shape3(stop))


@dataclass(frozen=True)
class CropRecord:
    """A crop of a parent grid: the box (inside the parent) and the parent's shape."""

    box: BoundingBox
    parent_shape: Shape3

    def __post_init__(self) -> None:
        if any(
            a < 0 or b > n
            for a, b, n in zip(self.box.start, self.box.stop, self.parent_shape, strict=True)
        ):
            raise GeometryError(
                f"box {self.box} is not inside the parent shape {self.parent_shape}"
            )

    @property
    def shape(self) -> Shape3:
        """Shape of the crop."""
        return self.box.shape

    def crop(self, array: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """The box of ``array`` (a view); ``array``'s last three axes are the parent grid.

        Raises:
            GeometryError: ``array`` is not on the parent grid.

        """
        if tuple(array.shape[-3:]) != self.parent_shape:
            raise GeometryError(
                f"array of shape {array.shape} is not on the parent grid {self.parent_shape}"
            )
        return array[(..., *self.box.slices)]

    def crop_affine(self, affine: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The crop's voxel → RAS affine given the parent's."""
        shift = np.eye(4)
        shift[:3, 3] = self.box.start
        out: npt.NDArray[np.float64] = np.asarray(affine, dtype=np.float64) @ shift
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"box": self.box.to_dict(), "parent_shape": list(self.parent_shape)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CropRecord:
        """Inverse of :meth:`to_dict`."""
        box = BoundingBox(_shape3(data["box"]["start"]), _shape3(data["box"]["stop"]))
        return cls(box, _shape3(data["parent_shape"]))


def paste_back(
    array: npt.NDArray[Any], record: CropRecord, fill: float | int = 0
) -> npt.NDArray[Any]:
    """Put ``array`` (on the crop; leading axes allowed) back onto the parent grid.

    Voxels outside the box get ``fill``; the dtype is kept.

    Raises:
        GeometryError: ``array`` is not on the crop's grid.

    """
    if tuple(array.shape[-3:]) != record.shape:
        raise GeometryError(f"array of shape {array.shape} is not on the crop grid {record.shape}")
    out = np.full((*array.shape[:-3], *record.parent_shape), fill, dtype=array.dtype)
    out[(..., *record.box.slices)] = array
    return out


def crop_to_mask(
    mask: npt.ArrayLike,
    spacing_mm: Sequence[float],
    margin_mm: float | Sequence[float],
) -> CropRecord | None:
    """The crop covering ``mask``'s bounding box plus ``margin_mm``; ``None`` for an empty mask.

    Args:
        mask: 3D binary mask on the parent grid.
        spacing_mm: Voxel size of that grid.
        margin_mm: Margin on every face, or 6 values (low/high per axis).

    """
    binary = np.asarray(mask)
    box = bounding_box(binary)
    if box is None:
        return None
    shape = _shape3(binary.shape)
    return CropRecord(box.expand(margin_mm, spacing_mm, shape), shape)
