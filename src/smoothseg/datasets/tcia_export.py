"""Write a synthetic cohort in the TCIA HCC-TACE-Seg download layout.

Input: a phantom cohort folder (``DIR/cases/<id>/image.nii.gz`` int16 HU, ``structures.nii.gz``
with 0 background, 1 liver, 2 tumor mass, 3 portal vein, 4 abdominal aorta; ``DIR/manifest.csv``
listing ``case_id,image,structures`` relative to DIR; optional ``DIR/clinical.xlsx``).

Output, as the NBIA Data Retriever lays out a real download::

    OUT/HCC-TACE-Seg/<id>/01-01-2000-NA-PP CAPLIVER PROTO.-<5 digits>/
        103.000000-LIVER 3 PHASE CAP-<5 digits>/1-01.dcm ...   (CT series)
        300.000000-Segmentation-<5 digits>/1-1.dcm             (DICOM SEG, four segments)
    OUT/metadata.csv
    OUT/HCC-TACE-Seg_clinical_data-V2.xlsx                      (copy of clinical.xlsx)

The SEG's segments are named like the collection's ("Liver", "Mass", "Portal vein",
"Abdominal aorta"), so ``prepare --format hcc-tace-seg`` exercises the real-data path end to end.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import pydicom

from smoothseg.datasets.tcia_metadata import write_tcia_metadata
from smoothseg.errors import InputError, OutputExistsError
from smoothseg.io import DicomSeriesMeta, read_volume, write_dicom_series
from smoothseg.io.dicom import CT_IMAGE_STORAGE, read_dicom_series
from smoothseg.io.dicom_seg import (
    HCC_TACE_SEG_SEGMENTS,
    SEGMENTATION_STORAGE,
    SegWriteMeta,
    write_dicom_seg,
)
from smoothseg.io.volume import check_same_grid

COLLECTION = "HCC-TACE-Seg"
CLINICAL_NAME = "HCC-TACE-Seg_clinical_data-V2.xlsx"
STUDY_DATE = "01-01-2000"
STUDY_DESCRIPTION = "PP CAPLIVER PROTO."
CT_DESCRIPTION, CT_NUMBER = "LIVER 3 PHASE CAP", 103
SEG_DESCRIPTION, SEG_NUMBER = "Segmentation", 300


@dataclass(frozen=True)
class TciaExport:
    """What :func:`export_cohort_tcia` wrote."""

    root: Path
    case_ids: tuple[str, ...]
    metadata: Path
    clinical: Path | None


def _cohort_cases(cohort: Path) -> list[tuple[str, Path, Path]]:
    manifest = cohort / "manifest.csv"
    if manifest.is_file():
        with manifest.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        if rows and not {"case_id", "image", "structures"} <= set(rows[0]):
            raise InputError(manifest, "needs columns case_id, image, structures")
        return [(r["case_id"], cohort / r["image"], cohort / r["structures"]) for r in rows]
    folders = sorted(p for p in (cohort / "cases").glob("*") if p.is_dir())
    return [(p.name, p / "image.nii.gz", p / "structures.nii.gz") for p in folders]


def _uid_tail(uid: str) -> str:
    return uid.replace(".", "")[-5:]


def _size_mb(folder: Path) -> str:
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    return f"{size / 1e6:.2f} MB"


def _row(case_id: str, ds: pydicom.Dataset, folder: Path, root: Path, n: int) -> dict[str, str]:
    seg = str(ds.SOPClassUID) == SEGMENTATION_STORAGE
    location = "\\".join((".", *folder.relative_to(root).parts))
    return {
        "Series UID": str(ds.SeriesInstanceUID),
        "Collection": COLLECTION,
        "3rd Party Analysis": "NO",
        "Data Description URI": "https://doi.org/10.7937/TCIA.5FNA0924",
        "Subject ID": case_id,
        "Study UID": str(ds.StudyInstanceUID),
        "Study Description": STUDY_DESCRIPTION,
        "Study Date": STUDY_DATE,
        "Series Description": str(ds.get("SeriesDescription", "")),
        "Manufacturer": str(ds.get("Manufacturer", "")),
        "Modality": str(ds.Modality),
        "SOP Class Name": "Segmentation Storage" if seg else "CT Image Storage",
        "SOP Class UID": SEGMENTATION_STORAGE if seg else CT_IMAGE_STORAGE,
        "Number of Images": str(n),
        "File Size": _size_mb(folder),
        "File Location": location,
        "Download Timestamp": "2000-01-01T00:00:00.000",
    }


def _export_case(
    case_id: str, image_path: Path, structures_path: Path, root: Path
) -> list[dict[str, str]]:
    image = read_volume(image_path, kind="image")
    structures = read_volume(structures_path, kind="label")
    check_same_grid(image, structures, ("image", "structures"))
    patient = root / COLLECTION / case_id
    work = patient / "study"
    seed = f"smoothseg-tcia-{case_id}"
    meta = DicomSeriesMeta(
        patient_id=case_id,
        patient_name=case_id,
        study_description=STUDY_DESCRIPTION,
        series_description=CT_DESCRIPTION,
        series_number=CT_NUMBER,
        uid_seed=seed,
    )
    files = write_dicom_series(image, work / "ct", meta)
    for k, path in enumerate(files):
        path.rename(path.with_name(f"1-{k + 1:02d}.dcm"))
    ct = read_dicom_series(work / "ct")
    seg_meta = SegWriteMeta(
        series_description=SEG_DESCRIPTION,
        series_number=SEG_NUMBER,
        content_label="SEGMENTATION",
        algorithm_type="MANUAL",
        uid_seed=seed,
    )
    write_dicom_seg(
        structures, ct, work / "seg" / "1-1.dcm", segments=HCC_TACE_SEG_SEGMENTS, meta=seg_meta
    )
    ct_ds = pydicom.dcmread(ct.files[0].path, stop_before_pixels=True)
    seg_ds = pydicom.dcmread(work / "seg" / "1-1.dcm", stop_before_pixels=True)
    study = (
        patient / f"{STUDY_DATE}-NA-{STUDY_DESCRIPTION}-{_uid_tail(str(ct_ds.StudyInstanceUID))}"
    )
    work.rename(study)
    ct_dir = (study / "ct").rename(
        study / f"{CT_NUMBER}.000000-{CT_DESCRIPTION}-{_uid_tail(str(ct_ds.SeriesInstanceUID))}"
    )
    seg_dir = (study / "seg").rename(
        study / f"{SEG_NUMBER}.000000-{SEG_DESCRIPTION}-{_uid_tail(str(seg_ds.SeriesInstanceUID))}"
    )
    return [
        _row(case_id, seg_ds, seg_dir, root, 1),
        _row(case_id, ct_ds, ct_dir, root, len(files)),
    ]


def export_cohort_tcia(
    cohort_dir: str | Path, out_root: str | Path, *, overwrite: bool = False
) -> TciaExport:
    """Write the cohort in ``cohort_dir`` as a TCIA HCC-TACE-Seg download under ``out_root``.

    The export is built in a temporary sibling folder and renamed into place.

    Raises:
        InputError: the cohort folder has no cases or a case's files are unusable.
        OutputExistsError: ``out_root`` exists and ``overwrite`` is False.

    """
    cohort, target = Path(cohort_dir).expanduser(), Path(out_root).expanduser()
    cases = _cohort_cases(cohort)
    if not cases:
        raise InputError(cohort, "no cases found (expected manifest.csv or cases/<id>/)")
    if target.exists() and not overwrite:
        raise OutputExistsError(target)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        rows = []
        for case_id, image, structures in cases:
            rows += _export_case(case_id, image, structures, tmp)
        write_tcia_metadata(rows, tmp / "metadata.csv")
        clinical = cohort / "clinical.xlsx"
        if clinical.is_file():
            shutil.copy2(clinical, tmp / CLINICAL_NAME)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return TciaExport(
        root=target,
        case_ids=tuple(c for c, _, _ in cases),
        metadata=target / "metadata.csv",
        clinical=target / CLINICAL_NAME if clinical.is_file() else None,
    )
