"""The prepared-cache manifest: one typed row per usable case, stored as CSV and JSON.

``manifest.json`` is ``{"version": 1, "cases": [row, ...]}`` with lists for ``shape`` and
``spacing_mm``; ``manifest.csv`` has the same columns with ``shape`` / ``spacing_mm`` written as
``AxBxC`` and empty cells for missing values. Paths in ``image`` / ``label`` are relative to the
cache folder; ``image_source`` / ``label_source`` are the original files or series folders.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from smoothseg.errors import InputError
from smoothseg.io.atomic import atomic_output

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ManifestRow:
    """One prepared case.

    Attributes:
        case_id: Case id (folder name under ``cases/``).
        patient_id: Patient the case belongs to (splits are patient-level).
        format: Dataset format it came from.
        image: Cached image, relative to the cache folder.
        label: Cached harmonized label, relative to the cache folder.
        image_source: Original image file or DICOM series folder.
        label_source: Original label file(s) / DICOM SEG.
        image_series_uid: DICOM SeriesInstanceUID of the image ("" if not DICOM).
        label_series_uid: DICOM SeriesInstanceUID of the SEG / masks ("" if not DICOM).
        shape: Voxels along i, j, k (canonical RAS).
        spacing_mm: Voxel size along i, j, k.
        liver_ml: Whole-liver volume, tumor included.
        tumor_ml: Tumor volume.
        tlvr: Tumor / (liver + tumor) voxels (paper eq. 1); ``None`` without liver or tumor.
        lesion_count: 26-connected tumor components.
        largest_lesion_diameter_mm: Largest centre-to-centre extent of one lesion.
        has_clinical: Whether the clinical table has a row for the case (``None``: no table).
        warnings: Non-fatal problems, ``"; "``-joined.

    """

    case_id: str
    patient_id: str
    format: str
    image: str
    label: str
    image_source: str
    label_source: str
    image_series_uid: str
    label_series_uid: str
    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    liver_ml: float
    tumor_ml: float
    tlvr: float | None
    lesion_count: int
    largest_lesion_diameter_mm: float
    has_clinical: bool | None = None
    warnings: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        out = asdict(self)
        out["shape"], out["spacing_mm"] = list(self.shape), list(self.spacing_mm)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManifestRow:
        """Inverse of :meth:`to_json`."""
        return cls._build(data, data["shape"], data["spacing_mm"])

    @classmethod
    def _build(cls, data: dict[str, Any], shape: Any, spacing: Any) -> ManifestRow:
        values: dict[str, Any] = {f.name: data.get(f.name) for f in fields(cls)}
        values["shape"] = (int(shape[0]), int(shape[1]), int(shape[2]))
        values["spacing_mm"] = (float(spacing[0]), float(spacing[1]), float(spacing[2]))
        values["warnings"] = values["warnings"] or ""
        return cls(**values)

    def to_csv(self) -> dict[str, str]:
        """CSV cells."""
        out: dict[str, str] = {}
        for key, value in self.to_json().items():
            if isinstance(value, list):
                out[key] = "x".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in value)
            elif value is None:
                out[key] = ""
            elif isinstance(value, bool):
                out[key] = "true" if value else "false"
            else:
                out[key] = str(value)
        return out

    @classmethod
    def from_csv(cls, cells: dict[str, str]) -> ManifestRow:
        """Inverse of :meth:`to_csv` (floats in shape/spacing are rounded to 6 digits there)."""

        def opt_float(text: str) -> float | None:
            return float(text) if text.strip() else None

        clinical = cells.get("has_clinical", "").strip().lower()
        data: dict[str, Any] = {k: v for k, v in cells.items() if k in COLUMNS}
        data.update(
            liver_ml=float(cells["liver_ml"]),
            tumor_ml=float(cells["tumor_ml"]),
            tlvr=opt_float(cells.get("tlvr", "")),
            lesion_count=int(cells["lesion_count"]),
            largest_lesion_diameter_mm=float(cells["largest_lesion_diameter_mm"]),
            has_clinical=None if clinical == "" else clinical == "true",
        )
        return cls._build(data, cells["shape"].split("x"), cells["spacing_mm"].split("x"))


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ManifestRow))


def check_case_ids(case_ids: Iterable[str], where: str | Path = "--manifest") -> None:
    """Refuse blank case ids and ids that repeat (also when differing only in letter case).

    Case ids name the cache's folders and the prediction files: ``HCC_005`` and ``hcc_005``
    collide on case-insensitive file systems and in the clinical join.

    Raises:
        InputError: A blank or repeated id.

    """
    seen: dict[str, str] = {}
    for case_id in case_ids:
        if not case_id.strip():
            raise InputError(where, "a case has a blank case_id; every case needs an id")
        key = case_id.strip().casefold()
        if key in seen:
            same = "" if seen[key] == case_id else f" and {case_id!r} (letter case differs)"
            raise InputError(where, f"duplicate case_id {seen[key]!r}{same}; ids must be unique")
        seen[key] = case_id


def write_manifest(rows: list[ManifestRow], folder: str | Path) -> tuple[Path, Path]:
    """Write ``manifest.csv`` and ``manifest.json`` into ``folder`` (replacing them)."""
    base = Path(folder)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(r.to_csv() for r in rows)
    csv_path, json_path = base / "manifest.csv", base / "manifest.json"
    with atomic_output(csv_path, overwrite=True) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    doc = {"version": MANIFEST_VERSION, "cases": [r.to_json() for r in rows]}
    with atomic_output(json_path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return csv_path, json_path


def read_manifest(path: str | Path) -> list[ManifestRow]:
    """Read a manifest: a cache folder, its ``manifest.json`` or its ``manifest.csv``.

    Raises:
        InputError: missing, unreadable, or not a smoothseg manifest.

    """
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "manifest.json" if (p / "manifest.json").is_file() else p / "manifest.csv"
    if not p.is_file():
        raise InputError(p, "no such manifest (run `smoothseg prepare` first)")
    try:
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() == ".json":
            doc = json.loads(text)
            if not isinstance(doc, dict) or "cases" not in doc:
                raise InputError(
                    p,
                    "not a prepared-cache manifest (a phantom cohort's manifest? run "
                    "`smoothseg prepare --format pairs --root COHORT --out CACHE` first)",
                )
            rows = [ManifestRow.from_json(item) for item in doc["cases"]]
            check_case_ids((r.case_id for r in rows), p)
            return rows
        reader = csv.DictReader(io.StringIO(text))
        missing = [
            c for c in ("case_id", "shape", "spacing_mm") if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise InputError(p, f"not a smoothseg manifest: missing column(s) {', '.join(missing)}")
        rows = [ManifestRow.from_csv(cells) for cells in reader]
        check_case_ids((r.case_id for r in rows), p)
        return rows
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise InputError(p, f"not a readable smoothseg manifest: {exc}") from exc
