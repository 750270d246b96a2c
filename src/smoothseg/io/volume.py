"""The :class:`Volume` type: a 3D voxel array that always carries its geometry.

Conventions (used everywhere in smoothseg):

* ``array`` is indexed ``[i, j, k]`` (x-like, y-like, slice).
* ``affine`` is the 4x4 matrix mapping voxel indices ``(i, j, k, 1)`` to world coordinates in
  millimetres in the **RAS+** patient frame (x grows to the patient's Right→Left is *negative*:
  +x = Right, +y = Anterior, +z = Superior), the NIfTI/nibabel convention. DICOM, NRRD and MHA
  store LPS; readers convert.
* The **canonical orientation** is RAS: after :meth:`Volume.to_canonical` the voxel axes point
  (as nearly as the grid allows) to +R, +A, +S. This only flips and permutes axes — never
  resamples — and records the file's native grid in ``native`` so that :meth:`Volume.to_native`
  returns exactly to it (same shape and affine), which is how outputs land on the input's grid.
* ``kind`` is ``"image"`` (intensities, e.g. HU) or ``"label"`` (integer classes; only ever
  resampled with nearest neighbour).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from nibabel import orientations as ornt

from smoothseg.errors import GeometryError

VolumeKind = Literal["image", "label"]
CANONICAL_AXCODES: tuple[str, str, str] = ("R", "A", "S")
_GRID_ATOL_MM = 1e-3


@dataclass(frozen=True)
class SeriesInfo:
    """Which DICOM series a volume came from, and why it was chosen."""

    uid: str
    description: str
    number: str
    folder: str
    n_slices: int
    reason: str
    others: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """Folder name, else description, else UID."""
        return self.folder or self.description or self.uid


@dataclass(frozen=True)
class SourceInfo:
    """Where a volume came from.

    Attributes:
        path: File or folder it was read from ("" when made in memory).
        format: Registered reader name (``nifti``, ``nrrd``, ``mha``, ``dicom``) or ``memory``.
        modality: DICOM modality when known (e.g. ``CT``).
        series: DICOM series details, for DICOM input.
        warnings: Problems noticed while reading that did not stop it.

    """

    path: str = ""
    format: str = "memory"
    modality: str | None = None
    series: SeriesInfo | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grid:
    """A voxel grid: shape plus voxel-to-RAS affine (mm)."""

    shape: tuple[int, int, int]
    affine: npt.NDArray[np.float64]

    @property
    def axcodes(self) -> tuple[str, str, str]:
        """Anatomical direction of each voxel axis, e.g. ``('L', 'P', 'S')``."""
        return _axcodes(self.affine)

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """Voxel size along i, j, k in millimetres."""
        s = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(s[0]), float(s[1]), float(s[2]))

    @property
    def origin_mm(self) -> tuple[float, float, float]:
        """RAS position of voxel (0, 0, 0) in millimetres."""
        o = self.affine[:3, 3]
        return (float(o[0]), float(o[1]), float(o[2]))

    def matches(self, other: Grid, atol_mm: float = _GRID_ATOL_MM) -> bool:
        """Whether both grids have the same shape and the same affine within ``atol_mm``."""
        return self.shape == other.shape and bool(
            np.allclose(self.affine, other.affine, rtol=0.0, atol=atol_mm)
        )


def _axcodes(affine: npt.NDArray[np.float64]) -> tuple[str, str, str]:
    codes = ornt.aff2axcodes(affine)
    return (str(codes[0]), str(codes[1]), str(codes[2]))


def _check_affine(affine: npt.NDArray[np.float64]) -> None:
    if affine.shape != (4, 4):
        raise GeometryError(f"affine must be 4x4, got shape {affine.shape}")
    if not np.all(np.isfinite(affine)):
        raise GeometryError("affine contains NaN or infinite values")
    if not np.allclose(affine[3], [0.0, 0.0, 0.0, 1.0]):
        raise GeometryError(f"affine's last row must be [0, 0, 0, 1], got {affine[3].tolist()}")
    if abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise GeometryError("affine is singular (a voxel axis has zero length or axes coincide)")


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3D voxel array with its voxel-to-RAS affine and where it came from.

    Attributes:
        array: Voxel values indexed ``[i, j, k]``.
        affine: 4x4 voxel-index → RAS+ millimetre matrix.
        kind: ``"image"`` or ``"label"``.
        source: Provenance of the data.
        native: The grid of the file it was read from, when the array has since been
            reoriented (set by :meth:`to_canonical`); ``None`` when the array is on that grid.

    """

    array: npt.NDArray[Any]
    affine: npt.NDArray[np.float64]
    kind: VolumeKind = "image"
    source: SourceInfo = field(default_factory=SourceInfo)
    native: Grid | None = None

    def __post_init__(self) -> None:
        array = np.asarray(self.array)
        if array.ndim != 3:
            raise GeometryError(f"a Volume must be 3D, got an array of shape {array.shape}")
        affine = np.asarray(self.affine, dtype=np.float64)
        _check_affine(affine)
        if self.kind not in ("image", "label"):
            raise ValueError(f"kind must be 'image' or 'label', got {self.kind!r}")
        if self.kind == "label":
            if array.dtype == np.bool_:
                array = array.astype(np.uint8)
            if not np.issubdtype(array.dtype, np.integer):
                raise TypeError(f"a label volume needs an integer array, got dtype {array.dtype}")
        object.__setattr__(self, "array", array)
        object.__setattr__(self, "affine", affine)

    # --- geometry -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """Number of voxels along i, j, k."""
        s = self.array.shape
        return (int(s[0]), int(s[1]), int(s[2]))

    @property
    def grid(self) -> Grid:
        """The current voxel grid."""
        return Grid(self.shape, self.affine)

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """Voxel size along i, j, k in millimetres."""
        return self.grid.spacing_mm

    @property
    def origin_mm(self) -> tuple[float, float, float]:
        """RAS position of voxel (0, 0, 0) in millimetres."""
        return self.grid.origin_mm

    @property
    def direction(self) -> npt.NDArray[np.float64]:
        """3x3 matrix whose columns are the unit RAS directions of the voxel axes."""
        d: npt.NDArray[np.float64] = self.affine[:3, :3] / np.asarray(self.spacing_mm)
        return d

    @property
    def axcodes(self) -> tuple[str, str, str]:
        """Anatomical direction of each voxel axis, e.g. ``('R', 'A', 'S')``."""
        return _axcodes(self.affine)

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in millilitres."""
        return float(abs(np.linalg.det(self.affine[:3, :3])) / 1000.0)

    @property
    def native_grid(self) -> Grid:
        """The grid of the source file (the current grid when never reoriented)."""
        return self.native if self.native is not None else self.grid

    # --- derived volumes ------------------------------------------------------------------
    def with_array(self, array: npt.NDArray[Any], kind: VolumeKind | None = None) -> Volume:
        """A volume on the same grid (and with the same provenance) holding ``array``."""
        if tuple(np.shape(array)) != self.shape:
            raise GeometryError(
                f"array of shape {np.shape(array)} does not fit grid of shape {self.shape}"
            )
        return replace(self, array=array, kind=kind or self.kind)

    def reoriented(self, axcodes: tuple[str, str, str]) -> Volume:
        """Flip/permute axes (no resampling) so the voxel axes point along ``axcodes``."""
        current = ornt.io_orientation(self.affine)
        target = ornt.axcodes2ornt(axcodes)
        transform = ornt.ornt_transform(current, target)
        if np.array_equal(transform, [[0, 1], [1, 1], [2, 1]]):
            return self
        array = ornt.apply_orientation(self.array, transform)
        affine = self.affine @ ornt.inv_ornt_aff(transform, self.shape)
        return replace(self, array=np.ascontiguousarray(array), affine=affine)

    def to_canonical(self) -> Volume:
        """This volume in RAS voxel order, remembering the native grid to return to."""
        native = self.native_grid
        out = self.reoriented(CANONICAL_AXCODES)
        return replace(out, native=native if not out.grid.matches(native) else None)

    def to_native(self) -> Volume:
        """This volume back on the grid of its source file (exact shape and affine)."""
        if self.native is None:
            return self
        out = self.reoriented(self.native.axcodes)
        if not out.grid.matches(self.native):
            raise GeometryError(
                "cannot return to the native grid: the volume's grid is no flip/permutation of it"
                f" (native shape {self.native.shape}, reoriented shape {out.shape})"
            )
        return replace(out, affine=self.native.affine.copy(), native=None)

    def on_grid_of(self, reference: Volume, what: str = "volume") -> Volume:
        """Adopt ``reference``'s native grid after checking both share the current grid.

        Use it for a mask computed on ``reference`` so that writing it lands on the reference's
        native grid.
        """
        if not self.grid.matches(reference.grid):
            raise GeometryError(
                f"{what} grid (shape {self.shape}, spacing {_fmt(self.spacing_mm)} mm) does not "
                f"match the reference grid (shape {reference.shape}, spacing "
                f"{_fmt(reference.spacing_mm)} mm)"
            )
        return replace(self, affine=reference.affine.copy(), native=reference.native)


def _fmt(values: tuple[float, ...]) -> str:
    return "x".join(f"{v:.4g}" for v in values)


def check_same_grid(a: Volume, b: Volume, names: tuple[str, str] = ("image", "label")) -> None:
    """Raise :class:`GeometryError` unless ``a`` and ``b`` share shape and affine."""
    if not a.grid.matches(b.grid):
        raise GeometryError(
            f"{names[0]} and {names[1]} grids differ: shapes {a.shape} vs {b.shape}, spacing "
            f"{_fmt(a.spacing_mm)} vs {_fmt(b.spacing_mm)} mm, origin {_fmt(a.origin_mm)} vs "
            f"{_fmt(b.origin_mm)} mm"
        )
