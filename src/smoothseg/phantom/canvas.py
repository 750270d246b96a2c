"""The image under construction: HU values and a tissue map, painted shape by shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smoothseg.phantom.grid import Box, PhantomGrid
from smoothseg.phantom.shapes import F32, Coords, Shape
from smoothseg.phantom.tissues import Tissue

HuFn = Callable[[Coords], F32]


@dataclass
class Canvas:
    """HU image (float32) and tissue codes (uint8) on a phantom grid."""

    grid: PhantomGrid
    hu: F32
    tissue: npt.NDArray[np.uint8]
    values: dict[Tissue, float]

    @classmethod
    def empty(cls, grid: PhantomGrid, values: dict[Tissue, float]) -> Canvas:
        """All air."""
        return cls(
            grid,
            np.full(grid.shape, values[Tissue.AIR], dtype=np.float32),
            np.full(grid.shape, int(Tissue.AIR), dtype=np.uint8),
            values,
        )

    def box_of(self, shape: Shape, margin_mm: float = 0.0) -> Box | None:
        """Grid box covering ``shape`` (``None`` when it lies outside the grid)."""
        lo, hi = shape.bounds()
        m = margin_mm
        return self.grid.box((lo[0] - m, lo[1] - m, lo[2] - m), (hi[0] + m, hi[1] + m, hi[2] + m))

    def paint(
        self,
        shape: Shape,
        tissue: Tissue,
        hu: float | HuFn | None = None,
        within: Shape | None = None,
    ) -> None:
        """Set voxels inside ``shape`` (and inside ``within``) to ``tissue``.

        Args:
            shape: The solid to paint.
            tissue: Tissue code to write.
            hu: Constant HU, a function of the box coordinates, or ``None`` for the
                tissue's patient value.
            within: Optional second solid the painted voxels must also lie in.

        """
        box = self.box_of(shape)
        if box is None:
            return
        mask = shape.sdf(box.coords) < 0
        if within is not None:
            mask &= within.sdf(box.coords) < 0
        self.paint_mask(box, mask, tissue, hu)

    def paint_mask(
        self,
        box: Box,
        mask: npt.NDArray[np.bool_],
        tissue: Tissue,
        hu: float | HuFn | F32 | None = None,
    ) -> None:
        """Set the voxels of ``box`` selected by ``mask`` (box-shaped or broadcastable)."""
        mask = np.broadcast_to(mask, box.shape)
        if not mask.any():
            return
        sub_hu = self.hu[box.index]
        if hu is None:
            value: F32 | float = self.values[tissue]
        elif callable(hu):
            value = np.broadcast_to(hu(box.coords), box.shape)[mask]
        elif isinstance(hu, np.ndarray):
            value = np.broadcast_to(hu, box.shape)[mask]
        else:
            value = float(hu)
        sub_hu[mask] = value
        self.tissue[box.index][mask] = int(tissue)
