"""``hcc-tace-seg``: HCC-TACE-Seg as the TCIA downloader writes it.

Layout: ``ROOT/HCC-TACE-Seg/<patient>/<study>/<series>/*.dcm`` with ``ROOT/metadata.csv``
(ROOT may also be the ``HCC-TACE-Seg`` folder itself, or a folder holding the downloader's
``manifest-*`` folder). One case per patient: its DICOM SEG and the CT series the SEG
references (ReferencedSeriesSequence, else the instances its frames reference) — never simply
the largest series. ``metadata.csv``, when present, says where each series should be, so a SEG
listed there but absent on disk is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pydicom

from smoothseg.datasets.base import (
    DATASET_FORMATS,
    CaseSource,
    DatasetFormat,
    DatasetOptions,
    LoadedCase,
)
from smoothseg.datasets.labels import require_same_grid
from smoothseg.datasets.tcia_metadata import TciaSeriesRow, read_tcia_metadata
from smoothseg.errors import InputError
from smoothseg.io.dicom_seg import find_referenced_ct, read_dicom_seg, read_seg_header

COLLECTION = "HCC-TACE-Seg"


@dataclass(frozen=True)
class _Series:
    uid: str
    modality: str
    folder: Path
    n_files: int
    listed_only: bool = False  # in metadata.csv but not on disk


def _collection_dir(root: Path) -> Path:
    if root.name == COLLECTION:
        return root
    for candidate in [root / COLLECTION, *sorted(root.glob(f"*/{COLLECTION}"))]:
        if candidate.is_dir():
            return candidate
    return root


def _metadata(collection: Path) -> tuple[list[TciaSeriesRow], Path] | None:
    for candidate in (collection.parent / "metadata.csv", collection / "metadata.csv"):
        if candidate.is_file():
            return read_tcia_metadata(candidate), candidate.parent
    return None


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _peek(path: Path) -> tuple[str, str]:
    try:
        ds = pydicom.dcmread(
            path, stop_before_pixels=True, specific_tags=["Modality", "SeriesInstanceUID"]
        )
    except Exception:  # not DICOM / unreadable: ignored here, reported when loading
        return "", ""
    return str(ds.get("Modality", "")).upper(), str(ds.get("SeriesInstanceUID", ""))


def _scan_series(patient: Path) -> list[_Series]:
    """One header per leaf folder: enough to tell SEG from CT folders cheaply."""
    out = []
    for folder in sorted({p.parent for p in patient.rglob("*") if p.is_file()}):
        files = _files(folder)
        if files:
            modality, uid = _peek(files[0])
            if modality:
                out.append(_Series(uid, modality, folder, len(files)))
    return out


def _listed_series(rows: list[TciaSeriesRow], base: Path) -> list[_Series]:
    out = []
    for row in rows:
        folder = row.folder(base)
        on_disk = folder.is_dir() and bool(_files(folder))
        out.append(_Series(row.series_uid, row.modality, folder, row.n_images, not on_disk))
    return out


def _case(patient: Path, series: list[_Series], listed: bool) -> CaseSource:
    name = patient.name
    segs = [s for s in series if s.modality == "SEG"]
    cts = sorted((s for s in series if s.modality == "CT"), key=lambda s: (-s.n_files, s.uid))
    cts_present = [s for s in cts if not s.listed_only]
    parts = (("patient", patient), *((s.uid, s.folder) for s in cts_present if s.uid))
    present = [s for s in segs if not s.listed_only]
    fallback = cts_present[0] if cts_present else None
    image = fallback.folder if fallback else patient
    notes = []
    if fallback and not present:
        notes.append(
            f"CT series {fallback.folder.name} (UID {fallback.uid}) has most images "
            f"({fallback.n_files}); once present, the SEG names the series actually used"
        )
    problem = None
    if not present:
        if segs:
            s = segs[0]
            problem = (
                f"SEG series '{s.folder.name}' (UID {s.uid}) is listed in metadata.csv but absent "
                "on disk (partial download?); download the Segmentation series"
            )
        else:
            problem = "no DICOM SEG series found" + (
                " in metadata.csv or on disk" if listed else ""
            )
    elif not cts_present:
        problem = "no CT image series on disk"
    label = _files(present[0].folder)[0] if present else None
    if len(present) > 1:
        notes.append(f"{len(present)} SEG series; using {present[0].folder.name}")
    return CaseSource(
        case_id=name,
        format="hcc-tace-seg",
        image=image,
        label=label,
        image_series=fallback.uid if fallback else None,
        parts=parts,
        problem=problem,
        notes=tuple(notes),
    )


def discover(root: Path, options: DatasetOptions) -> list[CaseSource]:
    """One case per patient folder of the collection."""
    del options
    collection = _collection_dir(root)
    meta = _metadata(collection)
    patients = sorted(p for p in collection.iterdir() if p.is_dir() and not p.name.startswith("."))
    cases = []
    for patient in patients:
        rows = [r for r in meta[0] if r.subject_id == patient.name] if meta else []
        series = _listed_series(rows, meta[1]) if meta else []
        listed = {s.folder for s in series}  # the disk has the last word on what is present
        series += [s for s in _scan_series(patient) if s.folder not in listed]
        if series:
            cases.append(_case(patient, series, meta is not None))
    return cases


def load(case: CaseSource, options: DatasetOptions) -> LoadedCase:
    """Read the SEG, find and read the CT series it references, place the SEG on it."""
    if case.label is None:
        raise InputError(case.image, case.problem or "no DICOM SEG")
    header = read_seg_header(case.label)
    folders = dict(case.parts)
    known = [folders[u] for u in header.referenced_series_uids if u in folders]
    ct = find_referenced_ct(header, known[0] if known else folders.get("patient", case.image))
    seg = read_dicom_seg(case.label, ct, options.segment_map)
    image = ct.volume.to_canonical()
    require_same_grid(image, seg.label, case.label)
    series = ct.volume.source.series
    folder = ct.files[0].path.parent if ct.files else case.image
    return LoadedCase(
        source=case,
        image=image,
        label=seg.label,
        image_source=str(folder),
        label_source=str(case.label),
        image_series_uid=series.uid if series else "",
        label_series_uid=header.series_uid,
        warnings=seg.warnings,
    )


FORMAT = DATASET_FORMATS.register(
    DatasetFormat(
        name="hcc-tace-seg",
        description="HCC-TACE-Seg (TCIA): CT series + one DICOM SEG per patient",
        layout="ROOT/HCC-TACE-Seg/<patient>/<study>/<series>/*.dcm plus ROOT/metadata.csv",
        discover=discover,
        load=load,
    )
)
