"""DICOM CT series reading: find the series in a folder tree, choose one, stack its slices.

Slices are sorted by their position along the slice normal (row cosine x column cosine), not by
instance number or file name; rescale slope/intercept are applied per slice (values in HU).
Gantry tilt, uneven slice spacing, mixed orientations, duplicate positions, a single slice and
an unreadable file beside the series' slices (a truncated edge slice) are refused with a clear
error rather than stacked into a wrong geometry. Finding and choosing the series:
:mod:`smoothseg.io.dicom_scan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom

from smoothseg.errors import InputError
from smoothseg.io.common import LPS_TO_RAS, check_spacing
from smoothseg.io.dicom_scan import (
    CT_IMAGE_STORAGE,
    ENHANCED_CT_STORAGE,
    DicomFile,
    DicomSeries,
    UnreadableFile,
    choose_series,
    read_header,
    scan_dicom,
    scan_dicom_tree,
    series_key,
)
from smoothseg.io.limits import ReadLimits
from smoothseg.io.registry import READERS, ReaderSpec, ReadOptions
from smoothseg.io.volume import SeriesInfo, SourceInfo, Volume

__all__ = [
    "CT_IMAGE_STORAGE",
    "ENHANCED_CT_STORAGE",
    "DicomCtSeries",
    "DicomFile",
    "DicomSeries",
    "choose_series",
    "read_dicom",
    "read_dicom_series",
    "scan_dicom",
]
_MAX_TILT_DEG = 0.5
_SPACING_TOLERANCE = 0.05  # relative deviation of a slice step from the median step


def _check_uniform(series: DicomSeries, files: list[DicomFile], root: Path) -> None:
    first = files[0]
    for f in files:
        if f.position is None or f.orientation is None or f.pixel_spacing is None:
            raise InputError(
                f.path, "slice lacks ImagePositionPatient/ImageOrientationPatient/PixelSpacing"
            )
        if f.frames != 1:
            raise InputError(f.path, "multi-frame file inside a CT image series")
        if (f.rows, f.columns) != (first.rows, first.columns):
            raise InputError(root, f"series {series.label()} mixes image sizes")
        if not np.allclose(f.orientation, first.orientation or (), atol=1e-4):
            raise InputError(root, f"series {series.label()} mixes slice orientations")
        if not np.allclose(f.pixel_spacing, first.pixel_spacing or (), rtol=1e-4):
            raise InputError(root, f"series {series.label()} mixes pixel spacings")


def _slice_geometry(
    series: DicomSeries, root: Path
) -> tuple[list[DicomFile], npt.NDArray[np.float64]]:
    """Sort slices along the normal, validate spacing and tilt, return them and the LPS affine."""
    files = list(series.files)
    if len(files) < 2:
        raise InputError(
            root,
            f"series {series.label()} has a single slice: a 2D image; smoothseg needs a 3D "
            "volume (a series of slices)",
        )
    _check_uniform(series, files, root)
    orient = np.asarray(files[0].orientation, dtype=np.float64)
    row_cos, col_cos = orient[:3], orient[3:]
    normal = np.cross(row_cos, col_cos)
    files.sort(key=lambda f: float(np.dot(normal, f.position or (0, 0, 0))))
    positions = np.array([f.position for f in files], dtype=np.float64)
    along = positions @ normal
    name = series.label()
    steps = np.diff(along)
    if np.any(steps < 1e-3):
        raise InputError(
            root,
            f"series {name} has slices at the same position (several acquisitions "
            "or duplicates); pass --series or remove the duplicates",
        )
    median = float(np.median(steps))
    if np.max(np.abs(steps - median)) > _SPACING_TOLERANCE * median:
        raise InputError(
            root,
            f"series {name} has uneven slice spacing ({steps.min():.3g} to "
            f"{steps.max():.3g} mm; missing slices?); resample it first",
        )
    step = (positions[-1] - positions[0]) / (len(files) - 1)
    cos_angle = float(np.dot(step, normal) / np.linalg.norm(step))
    tilt = float(np.degrees(np.arccos(min(1.0, abs(cos_angle)))))
    if tilt > _MAX_TILT_DEG:
        raise InputError(
            root,
            f"series {name} has a gantry tilt / sheared geometry of {tilt:.1f} degrees,"
            " which is not supported; resample it to an orthogonal grid first",
        )
    spacing = files[0].pixel_spacing or (1.0, 1.0)
    lps = np.eye(4)
    lps[:3, 0] = row_cos * spacing[1]  # along a row: column index i, column spacing
    lps[:3, 1] = col_cos * spacing[0]  # down a column: row index j, row spacing
    lps[:3, 2] = step
    lps[:3, 3] = positions[0]
    return files, lps


def _slice_pixels(f: DicomFile) -> tuple[npt.NDArray[Any], float, float]:
    """One slice's stored values, rescale slope and intercept (clear errors on corrupt data)."""
    try:
        ds = pydicom.dcmread(f.path)
        raw = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for missing codecs/corrupt data
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise InputError(f.path, f"cannot decode pixel data: {reason}") from exc
    try:
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
    except (TypeError, ValueError) as exc:
        raise InputError(f.path, f"unreadable RescaleSlope/RescaleIntercept: {exc}") from exc
    if not (np.isfinite(slope) and np.isfinite(intercept)):
        raise InputError(f.path, f"rescale slope {slope} / intercept {intercept} not finite")
    if raw.ndim == 3 and raw.shape[:2] == (f.rows, f.columns):
        raise InputError(
            f.path,
            f"slice holds {raw.shape[2]} colour samples per pixel (RGB), not grey-level CT "
            "values in Hounsfield units",
        )
    if raw.shape != (f.rows, f.columns):
        raise InputError(
            f.path, f"pixel data of shape {raw.shape}, header says {f.rows}x{f.columns}"
        )
    return raw, slope, intercept


def _load_pixels(files: list[DicomFile]) -> npt.NDArray[Any]:
    first = _slice_pixels(files[0])  # decoded before allocating: a corrupt header fails here
    out = np.empty((files[0].columns, files[0].rows, len(files)), dtype=np.float32)
    integral = True
    for k, f in enumerate(files):
        raw, slope, intercept = first if k == 0 else _slice_pixels(f)
        integral &= slope == int(slope) and intercept == int(intercept)
        out[:, :, k] = (raw.astype(np.float64) * slope + intercept).T  # (columns, rows)
    lo, hi = float(out.min()), float(out.max())
    if integral and lo >= -32768 and hi <= 32767:
        return out.astype(np.int16)
    return out


@dataclass(frozen=True)
class DicomCtSeries:
    """A series read on its native DICOM grid, with its slice files in voxel-index ``k`` order.

    DICOM SEG placement needs the slice order: ``files[k].sop_uid`` is the SOPInstanceUID of
    slice ``volume.array[:, :, k]``.
    """

    volume: Volume
    files: tuple[DicomFile, ...]

    @property
    def sop_instance_uids(self) -> tuple[str, ...]:
        """SOPInstanceUIDs in slice (``k``) order."""
        return tuple(f.sop_uid for f in self.files)

    @property
    def frame_of_reference_uid(self) -> str:
        """FrameOfReferenceUID of the series ("" when absent)."""
        return self.files[0].frame_of_reference if self.files else ""


def read_dicom_series(
    path: Path,
    series: str | None = None,
    *,
    require_ct: bool = True,
    limits: ReadLimits | None = None,
) -> DicomCtSeries:
    """Read one series from a DICOM folder tree on its native grid (not canonical).

    Args:
        path: Folder (or one file of the series).
        series: SeriesInstanceUID, number, folder name or description; ``None`` picks the CT
            series with most slices (with ``require_ct=False``: the series with most files).
        require_ct: Refuse series that are not classic CT image series (binary mask series,
            e.g. 3D-IRCADb's MASKS_DICOM, may carry another modality).
        limits: Most voxels / bytes the series may declare (default:
            :meth:`ReadLimits.from_env`); checked before any slice is decoded.

    """
    tree = scan_dicom_tree(path)
    series_list = list(tree.series)
    requested = series
    if requested is None and path.is_file():
        own = read_header(path)
        if own is None:
            raise InputError(path, "not a readable DICOM file")
        requested = series_key(own)
    if requested is None and not require_ct:
        chosen = sorted(series_list, key=lambda s: (-len(s.files), s.uid))[0]
        reason = f"the series with most files ({len(chosen.files)})"
    else:
        chosen, reason = choose_series(path, series_list, requested)
    if require_ct and not chosen.is_ct_image:
        raise InputError(
            path,
            f"series {chosen.label()} is {chosen.not_ct_reason()}, not a CT image series; "
            "smoothseg segments CT",
        )
    warnings = _unreadable_neighbours(chosen, tree.unreadable)
    files, lps = _slice_geometry(chosen, path)
    check_spacing(path, LPS_TO_RAS @ lps)
    shape = (files[0].columns, files[0].rows, len(files))
    (limits or ReadLimits.from_env()).check_declared(path, shape, np.dtype(np.float32).itemsize)
    array = _load_pixels(files)
    others = tuple(s.summary() for s in series_list if s.uid != chosen.uid)
    info = SeriesInfo(
        uid=chosen.uid,
        description=chosen.description,
        number=chosen.number,
        folder=chosen.folder,
        n_slices=len(files),
        reason=reason,
        others=others,
    )
    source = SourceInfo(
        path=str(path),
        format="dicom",
        modality=chosen.modality,
        series=info,
        warnings=warnings,
    )
    volume = Volume(array=array, affine=LPS_TO_RAS @ lps, source=source)
    return DicomCtSeries(volume=volume, files=tuple(files))


def _unreadable_neighbours(
    series: DicomSeries, unreadable: tuple[UnreadableFile, ...]
) -> tuple[str, ...]:
    """Refuse unreadable DICOM-like files beside the series' slices; warn about the others.

    A truncated or corrupt slice at the edge of a series leaves evenly spaced slices behind:
    dropping it would shorten the volume without a word.

    Raises:
        InputError: An unreadable file lies in a folder holding slices of ``series`` or
            carries its SeriesInstanceUID.

    """
    folders = {f.path.parent for f in series.files}
    uid = series.uid.encode("ascii", "ignore")
    others = []
    for bad in unreadable:
        if bad.path.parent in folders or (uid and uid in _prefix(bad.path)):
            raise InputError(
                bad.path,
                f"unreadable DICOM file beside the slices of series {series.label()}: "
                f"{bad.reason}; a truncated or corrupt slice would leave the series short "
                "without a word: replace or remove it",
            )
        others.append(bad)
    if not others:
        return ()
    names = ", ".join(str(b.path.name) for b in others[:3])
    return (
        f"{len(others)} file(s) that look like DICOM could not be read and were left out "
        f"({names}; first reason: {others[0].reason})",
    )


def _prefix(path: Path, n_bytes: int = 1 << 20) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(n_bytes)
    except OSError:
        return b""


def read_dicom(path: Path, options: ReadOptions) -> Volume:
    """Read one CT series from a DICOM folder tree (or the folder of one DICOM file)."""
    return read_dicom_series(path, options.series, limits=options.limits).volume


READERS.register(ReaderSpec("dicom", "DICOM series", (".dcm",), read_dicom, reads_folders=True))
