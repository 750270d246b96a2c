"""The ``metadata.csv`` the TCIA / NBIA Data Retriever writes next to a download.

One row per downloaded series. Real files have a quirk this parser tolerates: the ``File Size``
column may hold an unquoted decimal comma (``9,21 MB``), giving rows one field more than the
header. Columns left of ``File Size`` are read from the left, columns right of it from the
right, and whatever lies between is the file size.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from smoothseg.errors import InputError
from smoothseg.io.atomic import atomic_output

TCIA_COLUMNS: tuple[str, ...] = (
    "Series UID", "Collection", "3rd Party Analysis", "Data Description URI", "Subject ID",
    "Study UID", "Study Description", "Study Date", "Series Description", "Manufacturer",
    "Modality", "SOP Class Name", "SOP Class UID", "Number of Images", "File Size",
    "File Location", "Download Timestamp",
)  # fmt: skip
_REQUIRED = ("Series UID", "Subject ID", "Modality", "File Location")


@dataclass(frozen=True)
class TciaSeriesRow:
    """One series listed in ``metadata.csv``."""

    series_uid: str
    subject_id: str
    study_uid: str
    study_description: str
    series_description: str
    modality: str
    n_images: int
    file_location: str

    def folder(self, base: Path) -> Path:
        """The series folder on disk: ``File Location`` (Windows or POSIX style) under ``base``."""
        parts = [p for p in PureWindowsPath(self.file_location).parts if p not in (".", "")]
        return base.joinpath(*parts)

    @property
    def folder_name(self) -> str:
        """Last component of ``File Location``."""
        parts = PureWindowsPath(self.file_location).parts
        return parts[-1] if parts else ""


def _fields(header: list[str], row: list[str]) -> dict[str, str]:
    if len(row) == len(header) or "File Size" not in header:
        return dict(zip(header, row, strict=False))
    cut = header.index("File Size")
    n_right = len(header) - cut - 1
    out = dict(zip(header[:cut], row[:cut], strict=False))
    right = row[len(row) - n_right :] if n_right else []
    out.update(zip(header[cut + 1 :], right, strict=False))
    out["File Size"] = ",".join(row[cut : len(row) - n_right])
    return out


def read_tcia_metadata(path: str | Path) -> list[TciaSeriesRow]:
    """Parse a TCIA ``metadata.csv``.

    Raises:
        InputError: unreadable, or a required column is missing.

    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(p, f"cannot read: {exc}") from exc
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError(p, "empty metadata.csv")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise InputError(p, f"not a TCIA metadata.csv: missing column(s) {', '.join(missing)}")
    out = []
    for raw in rows[1:]:
        f = _fields(header, raw)
        try:
            n_images = int(f.get("Number of Images", "0") or 0)
        except ValueError:
            n_images = 0
        out.append(
            TciaSeriesRow(
                series_uid=f.get("Series UID", "").strip(),
                subject_id=f.get("Subject ID", "").strip(),
                study_uid=f.get("Study UID", "").strip(),
                study_description=f.get("Study Description", "").strip(),
                series_description=f.get("Series Description", "").strip(),
                modality=f.get("Modality", "").strip().upper(),
                n_images=n_images,
                file_location=f.get("File Location", "").strip(),
            )
        )
    return out


def write_tcia_metadata(
    rows: list[dict[str, str]], path: str | Path, *, overwrite: bool = False
) -> Path:
    """Write rows (dicts keyed by :data:`TCIA_COLUMNS`) as a TCIA-style ``metadata.csv``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(TCIA_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in TCIA_COLUMNS})
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    return Path(path)
