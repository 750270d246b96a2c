"""DICOM CT series reading: find the series in a folder tree, choose one, stack its slices.

Slices are sorted by their position along the slice normal (row cosine x column cosine), not by
instance number or file name; rescale slope/intercept are applied per slice (values in HU).
Gantry tilt, uneven slice spacing, mixed orientations and duplicate positions are refused with
a clear error rather than stacked into a wrong geometry.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom

from smoothseg.errors import InputError
from smoothseg.io.common import LPS_TO_RAS
from smoothseg.io.registry import READERS, ReaderSpec, ReadOptions
from smoothseg.io.volume import SeriesInfo, SourceInfo, Volume

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"
_HEADER_TAGS = [
    "SOPClassUID", "SeriesInstanceUID", "Modality", "SeriesDescription", "SeriesNumber",
    "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "Rows", "Columns",
    "NumberOfFrames", "SliceThickness", "SOPInstanceUID", "FrameOfReferenceUID",
]  # fmt: skip
_MAX_TILT_DEG = 0.5
_SPACING_TOLERANCE = 0.05  # relative deviation of a slice step from the median step


@dataclass(frozen=True)
class DicomFile:
    """Header fields of one DICOM file that series grouping and sorting need."""

    path: Path
    sop_class: str
    series_uid: str
    modality: str
    description: str
    number: str
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    rows: int
    columns: int
    frames: int
    thickness: float | None
    sop_uid: str = ""
    frame_of_reference: str = ""


@dataclass(frozen=True)
class DicomSeries:
    """All files of one SeriesInstanceUID found under a folder."""

    uid: str
    modality: str
    description: str
    number: str
    folder: str
    files: tuple[DicomFile, ...]

    @property
    def is_ct_image(self) -> bool:
        """Whether this is a classic (single-frame) CT image series."""
        return self.modality == "CT" and all(f.sop_class == CT_IMAGE_STORAGE for f in self.files)

    def label(self) -> str:
        """Short human name: folder name, else description, else UID."""
        return self.folder or self.description or self.uid

    def summary(self) -> str:
        """One-line description for messages."""
        return f"{self.label()} ({self.modality}, {len(self.files)} files, UID {self.uid})"


def _floats(value: object, n: int) -> tuple[float, ...] | None:
    try:
        out = tuple(float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    return out if len(out) == n else None


def _read_header(path: Path) -> DicomFile | None:
    """The fields of one file, or ``None`` when it is not a (readable) DICOM file."""
    try:
        return _parse_header(path)
    except Exception:  # InvalidDicomError, OSError, and many more on corrupt files: skipped
        return None


def _parse_header(path: Path) -> DicomFile | None:
    ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_HEADER_TAGS)
    meta = getattr(ds, "file_meta", None)
    sop_class = str(ds.get("SOPClassUID", "") or "") or str(
        getattr(meta, "MediaStorageSOPClassUID", "") or ""
    )
    if not sop_class and "Modality" not in ds:
        return None
    pos = _floats(ds.get("ImagePositionPatient"), 3)
    spacing = _floats(ds.get("PixelSpacing"), 2)
    thickness = ds.get("SliceThickness")
    try:
        thick = float(thickness) if thickness not in (None, "") else None
    except (TypeError, ValueError):
        thick = None
    return DicomFile(
        path=path,
        sop_class=sop_class,
        series_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        modality=str(ds.get("Modality", "")).upper(),
        description=str(ds.get("SeriesDescription", "")),
        number=str(ds.get("SeriesNumber") or ""),
        position=(pos[0], pos[1], pos[2]) if pos else None,
        orientation=_floats(ds.get("ImageOrientationPatient"), 6),
        pixel_spacing=(spacing[0], spacing[1]) if spacing else None,
        rows=int(ds.get("Rows", 0) or 0),
        columns=int(ds.get("Columns", 0) or 0),
        frames=int(ds.get("NumberOfFrames", 1) or 1),
        thickness=thick,
        sop_uid=str(ds.get("SOPInstanceUID", "") or ""),
        frame_of_reference=str(ds.get("FrameOfReferenceUID", "") or ""),
    )


def _series_key(f: DicomFile) -> str:
    """SeriesInstanceUID, or for anonymized files without one: folder, number and description."""
    if f.series_uid:
        return f.series_uid
    return f"(no SeriesInstanceUID) {f.path.parent.name}#{f.number}#{f.description}"


def scan_dicom(root: Path) -> list[DicomSeries]:
    """Find every DICOM series under ``root`` (a folder or one file's folder).

    Raises:
        InputError: no DICOM file was found.

    """
    folder = root if root.is_dir() else root.parent
    candidates = sorted(
        Path(d) / name
        for d, _, names in os.walk(folder)
        for name in names
        if not name.startswith(".") and name.upper() != "DICOMDIR"
    )
    groups: dict[str, list[DicomFile]] = defaultdict(list)
    for path in candidates:
        header = _read_header(path)
        if header is not None:
            groups[_series_key(header)].append(header)
    if not groups:
        raise InputError(
            root, f"no DICOM files found (looked at {len(candidates)} files in the folder tree)"
        )
    series = []
    for key, files in groups.items():
        parents = {f.path.parent for f in files}
        common = Path(os.path.commonpath([str(p) for p in parents]))
        first = files[0]
        series.append(
            DicomSeries(
                uid=first.series_uid or key,
                modality=first.modality,
                description=first.description,
                number=first.number,
                folder=common.name if common != folder else "",
                files=tuple(files),
            )
        )
    return sorted(series, key=lambda s: (s.folder, s.description, s.uid))


def choose_series(
    root: Path, series: list[DicomSeries], requested: str | None
) -> tuple[DicomSeries, str]:
    """Pick the series to read and say why.

    Args:
        root: The folder searched (for messages).
        series: Everything :func:`scan_dicom` found.
        requested: SeriesInstanceUID, series number, folder name or description; ``None`` picks
            the CT image series with most slices.

    """
    if requested is not None:
        matches = [s for s in series if requested in (s.uid, s.number, s.folder, s.description)]
        if len(matches) == 1:
            how = "the series of the given file" if root.is_file() else f"--series {requested}"
            return matches[0], f"requested ({how})"
        listing = "; ".join(s.summary() for s in series)
        problem = "matches several series" if matches else "matches no series"
        raise InputError(root, f"--series {requested!r} {problem}; found: {listing}")
    cts = [s for s in series if s.is_ct_image]
    if not cts:
        enhanced = [s for s in series if any(f.sop_class == ENHANCED_CT_STORAGE for f in s.files)]
        if enhanced:
            raise InputError(
                root,
                "only enhanced (multi-frame) CT found, which is not supported yet: "
                + "; ".join(s.summary() for s in enhanced),
            )
        found = "; ".join(s.summary() for s in series)
        raise InputError(root, f"no CT image series found; found: {found}")
    cts.sort(key=lambda s: (-len(s.files), s.uid))
    chosen = cts[0]
    reason = f"the CT series with most slices ({len(chosen.files)})"
    if len(cts) > 1:
        reason += f" of {len(cts)} CT series; pass --series to choose another"
    return chosen, reason


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
    _check_uniform(series, files, root)
    orient = np.asarray(files[0].orientation, dtype=np.float64)
    row_cos, col_cos = orient[:3], orient[3:]
    normal = np.cross(row_cos, col_cos)
    files.sort(key=lambda f: float(np.dot(normal, f.position or (0, 0, 0))))
    positions = np.array([f.position for f in files], dtype=np.float64)
    along = positions @ normal
    name = series.label()
    if len(files) > 1:
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
    else:
        step = normal * (files[0].thickness or 1.0)
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
    path: Path, series: str | None = None, *, require_ct: bool = True
) -> DicomCtSeries:
    """Read one series from a DICOM folder tree on its native grid (not canonical).

    Args:
        path: Folder (or one file of the series).
        series: SeriesInstanceUID, number, folder name or description; ``None`` picks the CT
            series with most slices (with ``require_ct=False``: the series with most files).
        require_ct: Refuse series that are not classic CT image series (binary mask series,
            e.g. 3D-IRCADb's MASKS_DICOM, may carry another modality).

    """
    series_list = scan_dicom(path)
    requested = series
    if requested is None and path.is_file():
        own = _read_header(path)
        if own is None:
            raise InputError(path, "not a readable DICOM file")
        requested = _series_key(own)
    if requested is None and not require_ct:
        chosen = sorted(series_list, key=lambda s: (-len(s.files), s.uid))[0]
        reason = f"the series with most files ({len(chosen.files)})"
    else:
        chosen, reason = choose_series(path, series_list, requested)
    if require_ct and not chosen.is_ct_image:
        raise InputError(
            path,
            f"series {chosen.label()} is {chosen.modality or 'of unknown modality'}, "
            "not a CT image series; smoothseg segments CT",
        )
    files, lps = _slice_geometry(chosen, path)
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
    source = SourceInfo(path=str(path), format="dicom", modality=chosen.modality, series=info)
    volume = Volume(array=array, affine=LPS_TO_RAS @ lps, source=source)
    return DicomCtSeries(volume=volume, files=tuple(files))


def read_dicom(path: Path, options: ReadOptions) -> Volume:
    """Read one CT series from a DICOM folder tree (or the folder of one DICOM file)."""
    return read_dicom_series(path, options.series).volume


READERS.register(ReaderSpec("dicom", "DICOM series", (".dcm",), read_dicom, reads_folders=True))
