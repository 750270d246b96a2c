"""The voxel grid a phantom is rasterized on, and sub-boxes of it.

The grid is axis-aligned in RAS (voxel axes point to +R, +A, +S, so the volume is already in
smoothseg's canonical orientation) and centred on the body in x and y; z runs from
``z_top_mm`` downwards over ``shape[2]`` slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smoothseg.phantom.shapes import F32, Coords, Vec


@dataclass(frozen=True)
class Box:
    """A rectangular part of a grid: index slices plus the mm coordinates of its voxels."""

    index: tuple[slice, slice, slice]
    coords: Coords

    @property
    def shape(self) -> tuple[int, int, int]:
        """Voxels along each axis."""
        return (
            self.index[0].stop - self.index[0].start,
            self.index[1].stop - self.index[1].start,
            self.index[2].stop - self.index[2].start,
        )


@dataclass(frozen=True)
class PhantomGrid:
    """Shape, spacing and position of a phantom's voxel grid.

    Attributes:
        shape: Voxels along i (x), j (y), k (z).
        spacing_mm: Voxel size along each axis.
        z_top_mm: z of the top slice (the liver dome is at z = 0).
        center_xy_mm: x and y of the grid's centre (the body centre is at 0, 0).

    """

    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    z_top_mm: float = 35.0
    center_xy_mm: tuple[float, float] = (0.0, 0.0)

    @property
    def origin_mm(self) -> Vec:
        """RAS position of voxel (0, 0, 0)."""
        sx, sy, sz = self.spacing_mm
        nx, ny, nz = self.shape
        cx, cy = self.center_xy_mm
        return (cx - (nx - 1) * sx / 2.0, cy - (ny - 1) * sy / 2.0, self.z_top_mm - (nz - 1) * sz)

    @property
    def affine(self) -> npt.NDArray[np.float64]:
        """4x4 voxel → RAS mm matrix."""
        a = np.diag([*self.spacing_mm, 1.0])
        a[:3, 3] = self.origin_mm
        return a

    @property
    def voxel_ml(self) -> float:
        """Volume of one voxel in millilitres."""
        return float(np.prod(self.spacing_mm)) / 1000.0

    def axis_mm(self, axis: int) -> npt.NDArray[np.float32]:
        """Coordinates (mm) of the voxel centres along ``axis``."""
        n = self.shape[axis]
        return (self.origin_mm[axis] + np.arange(n) * self.spacing_mm[axis]).astype(np.float32)

    def full(self) -> Box:
        """The whole grid as a box."""
        return self._box(tuple(slice(0, n) for n in self.shape))  # type: ignore[arg-type]

    def box(self, lo: Vec, hi: Vec) -> Box | None:
        """Voxels whose centres lie in the mm box ``[lo, hi]``; ``None`` if there are none."""
        idx = []
        for a in range(3):
            o, s, n = self.origin_mm[a], self.spacing_mm[a], self.shape[a]
            start = max(0, int(np.ceil((lo[a] - o) / s)))
            stop = min(n, int(np.floor((hi[a] - o) / s)) + 1)
            if stop <= start:
                return None
            idx.append(slice(start, stop))
        return self._box((idx[0], idx[1], idx[2]))

    def _box(self, index: tuple[slice, slice, slice]) -> Box:
        axes = [self.axis_mm(a)[index[a]] for a in range(3)]
        coords: Coords = (
            axes[0][:, None, None],
            axes[1][None, :, None],
            axes[2][None, None, :],
        )
        return Box(index, coords)


def zeros(grid: PhantomGrid, dtype: type = np.float32) -> F32:
    """A zero array over the whole grid."""
    out: F32 = np.zeros(grid.shape, dtype=dtype)
    return out
