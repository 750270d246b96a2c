"""Finding DICOM series in a folder tree: read every file's header, group by series, choose one.

Only regular files are opened (a FIFO or device inside a DICOM folder would block the reader or
never end). A file that looks like DICOM (``.dcm`` suffix or the ``DICM`` magic) but whose
header cannot be read is not dropped silently: it is remembered as an :class:`UnreadableFile`,
so that the reader can refuse or warn (a truncated slice at a series' edge would otherwise
shorten the volume without a word).
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pydicom

from smoothseg.errors import InputError

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
_HEADER_TAGS = [
    "SOPClassUID", "SeriesInstanceUID", "Modality", "SeriesDescription", "SeriesNumber",
    "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "Rows", "Columns",
    "NumberOfFrames", "SliceThickness", "SOPInstanceUID", "FrameOfReferenceUID",
    "SamplesPerPixel", "PhotometricInterpretation",
]  # fmt: skip


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
    samples: int = 1
    photometric: str = ""


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

    def not_ct_reason(self) -> str:
        """Why this series is not a CT image series, in plain words ("" when it is one)."""
        if self.is_ct_image:
            return ""
        colour = any(f.samples > 1 or f.photometric.startswith(("RGB", "YBR")) for f in self.files)
        kind = "RGB colour " if colour else ""
        if any(f.sop_class.startswith(SECONDARY_CAPTURE_PREFIX) for f in self.files):
            return (
                f"{kind}Secondary Capture images (screenshots or rendered pictures, not CT "
                "slices in Hounsfield units)"
            )
        if any(f.sop_class == ENHANCED_CT_STORAGE for f in self.files):
            return "enhanced (multi-frame) CT, which is not supported yet"
        if self.modality != "CT":
            return self.modality or "of unknown modality"
        classes = sorted({f.sop_class for f in self.files if f.sop_class != CT_IMAGE_STORAGE})
        return f"{kind}images of SOP class {', '.join(classes) or '?'} (not CT Image Storage)"


@dataclass(frozen=True)
class UnreadableFile:
    """A file that looks like DICOM but whose header cannot be read."""

    path: Path
    reason: str


@dataclass(frozen=True)
class DicomTree:
    """What :func:`scan_dicom_tree` found: the series and the unreadable DICOM-like files."""

    series: tuple[DicomSeries, ...]
    unreadable: tuple[UnreadableFile, ...]


def _floats(value: object, n: int) -> tuple[float, ...] | None:
    try:
        out = tuple(float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    return out if len(out) == n else None


def read_header(path: Path) -> DicomFile | None:
    """The fields of one file, or ``None`` when it is not a (readable) DICOM file."""
    return _header_or_reason(path)[0]


def _header_or_reason(path: Path) -> tuple[DicomFile | None, str]:
    try:
        header = _parse_header(path)
    except Exception as exc:  # InvalidDicomError, OSError, and many more on corrupt files
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return None, text or type(exc).__name__
    if header is None:
        return None, "no SOP class or modality"
    if not header.series_uid and not header.rows:  # pydicom stops quietly at a file's end
        return None, "header incomplete (no SeriesInstanceUID, no image size): truncated file?"
    return header, ""


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
        samples=int(ds.get("SamplesPerPixel", 1) or 1),
        photometric=str(ds.get("PhotometricInterpretation", "") or "").upper(),
    )


def series_key(f: DicomFile) -> str:
    """SeriesInstanceUID, or for anonymized files without one: folder, number and description."""
    if f.series_uid:
        return f.series_uid
    return f"(no SeriesInstanceUID) {f.path.parent.name}#{f.number}#{f.description}"


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def looks_like_dicom(path: Path) -> bool:
    """Whether ``path`` is named ``.dcm`` or starts with the DICOM preamble and ``DICM``."""
    if path.suffix.lower() == ".dcm":
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def scan_dicom_tree(root: Path) -> DicomTree:
    """Every DICOM series under ``root`` (a folder or one file's folder), and unreadable files.

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
    candidates = [p for p in candidates if _is_regular(p)]  # no FIFO, device or socket
    groups: dict[str, list[DicomFile]] = defaultdict(list)
    unreadable: list[UnreadableFile] = []
    for path in candidates:
        header, reason = _header_or_reason(path)
        if header is not None:
            groups[series_key(header)].append(header)
        elif looks_like_dicom(path):
            unreadable.append(UnreadableFile(path, reason))
    if not groups:
        seen = f"looked at {len(candidates)} files in the folder tree"
        if unreadable:
            first = unreadable[0]
            seen += f"; {first.path.name} looks like DICOM but cannot be read: {first.reason}"
        raise InputError(root, f"no DICOM files found ({seen})")
    series = []
    for key, files in groups.items():
        parents = {f.path.parent for f in files}
        common = Path(os.path.commonpath([str(p) for p in parents]))
        first_file = files[0]
        series.append(
            DicomSeries(
                uid=first_file.series_uid or key,
                modality=first_file.modality,
                description=first_file.description,
                number=first_file.number,
                folder=common.name if common != folder else "",
                files=tuple(files),
            )
        )
    ordered = sorted(series, key=lambda s: (s.folder, s.description, s.uid))
    return DicomTree(tuple(ordered), tuple(unreadable))


def scan_dicom(root: Path) -> list[DicomSeries]:
    """Every DICOM series under ``root`` (see :func:`scan_dicom_tree`)."""
    return list(scan_dicom_tree(root).series)


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
        found = "; ".join(
            s.summary() if s.modality != "CT" else f"{s.summary()}: {s.not_ct_reason()}"
            for s in series
        )
        raise InputError(root, f"no CT image series found; found: {found}")
    cts.sort(key=lambda s: (-len(s.files), s.uid))
    chosen = cts[0]
    reason = f"the CT series with most slices ({len(chosen.files)})"
    if len(cts) > 1:
        reason += f" of {len(cts)} CT series; pass --series to choose another"
    return chosen, reason
