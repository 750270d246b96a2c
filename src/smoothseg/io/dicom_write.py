"""Write a :class:`Volume` as a DICOM CT image series (one file per slice).

Used for exporting phantoms as DICOM, for round-trip tests, and as the referenced series of
DICOM SEG outputs. Values are stored as signed 16-bit integers with RescaleSlope 1 and
RescaleIntercept 0, so integer HU survive exactly; non-integer values are rounded to 1 HU.
UIDs derive deterministically from ``uid_seed`` so the same inputs give identical files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian, generate_uid

from smoothseg.errors import GeometryError, InputError, OutputExistsError
from smoothseg.io.common import LPS_TO_RAS
from smoothseg.io.dicom import CT_IMAGE_STORAGE
from smoothseg.io.volume import Volume

_ORTHO_TOL = 1e-4


@dataclass(frozen=True)
class DicomSeriesMeta:
    """Patient/study/series attributes written into every slice."""

    patient_id: str = "ANONYMOUS"
    patient_name: str = "Anonymous"
    study_description: str = "smoothseg export"
    series_description: str = "CT"
    series_number: int = 1
    uid_seed: str = "smoothseg"


def format_ds(value: float) -> str:
    """Shortest decimal string (at most 16 characters, as DICOM DS allows) for ``value``."""
    for digits in range(15, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 16:
            if "e" in text:
                continue
            return text
    return f"{value:.6f}"[:16]


def _geometry(volume: Volume) -> tuple[npt.NDArray[np.float64], ...]:
    lps = LPS_TO_RAS @ volume.affine
    col0, col1, step = lps[:3, 0], lps[:3, 1], lps[:3, 2]
    row_cos, col_cos = col0 / np.linalg.norm(col0), col1 / np.linalg.norm(col1)
    if abs(float(np.dot(row_cos, col_cos))) > _ORTHO_TOL:
        raise GeometryError("cannot write DICOM: in-plane axes are not orthogonal")
    normal = np.cross(row_cos, col_cos)
    if np.linalg.norm(np.cross(step / np.linalg.norm(step), normal)) > _ORTHO_TOL:
        raise GeometryError("cannot write DICOM: slice axis is not perpendicular to the slices")
    spacing = np.array([np.linalg.norm(col1), np.linalg.norm(col0)])  # row, column spacing
    return row_cos, col_cos, spacing, step, lps[:3, 3]


def _pixels(volume: Volume) -> npt.NDArray[np.int16]:
    values = np.rint(np.asarray(volume.array, dtype=np.float64))
    if values.min() < -32768 or values.max() > 32767:
        raise GeometryError("cannot write DICOM: values outside the signed 16-bit range")
    return values.astype(np.int16)


def write_dicom_series(
    volume: Volume,
    folder: str | Path,
    meta: DicomSeriesMeta | None = None,
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``volume`` (an image) as a CT series of axial-display-ordered slices into ``folder``.

    Axes are flipped/permuted (never resampled) to the usual DICOM order (rows towards
    posterior, columns towards left, slices towards superior) before writing.

    The series is written into a temporary sibling folder and renamed into place, so an
    interrupted export leaves no partial series.

    Returns:
        The written file paths, in slice order.

    """
    if volume.kind != "image":
        raise InputError(folder, "only image volumes can be written as a CT series")
    meta = meta or DicomSeriesMeta()
    target = Path(folder)
    if target.exists() and not overwrite:
        raise OutputExistsError(target)
    volume = volume.reoriented(("L", "P", "S"))  # standard axial DICOM display order
    row_cos, col_cos, spacing, step, origin = _geometry(volume)
    pixels = _pixels(volume)
    seed = meta.uid_seed
    study_uid = generate_uid(entropy_srcs=[seed, "study"])
    series_uid = generate_uid(entropy_srcs=[seed, "series", str(meta.series_number)])
    frame_uid = generate_uid(entropy_srcs=[seed, "frame"])
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    paths: list[Path] = []
    for k in range(volume.shape[2]):
        sop_uid = generate_uid(entropy_srcs=[seed, "sop", str(meta.series_number), str(k)])
        ds = _slice_dataset(meta, study_uid, series_uid, frame_uid, sop_uid)
        ds.InstanceNumber = k + 1
        ds.ImageOrientationPatient = [format_ds(v) for v in (*row_cos, *col_cos)]
        ds.ImagePositionPatient = [format_ds(v) for v in origin + k * step]
        ds.PixelSpacing = [format_ds(v) for v in spacing]
        ds.SliceThickness = format_ds(float(np.linalg.norm(step)))
        ds.Rows, ds.Columns = volume.shape[1], volume.shape[0]
        ds.PixelData = np.ascontiguousarray(pixels[:, :, k].T).tobytes()
        name = f"slice_{k:04d}.dcm"
        ds.save_as(tmp / name, enforce_file_format=True)
        paths.append(target / name)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return paths


def _slice_dataset(
    meta: DicomSeriesMeta, study_uid: UID, series_uid: UID, frame_uid: UID, sop_uid: UID
) -> Dataset:
    file_meta = FileMetaDataset()
    file_meta.MediaStorageSOPClassUID = UID(CT_IMAGE_STORAGE)
    file_meta.MediaStorageSOPInstanceUID = sop_uid
    file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = file_meta
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_uid
    ds.Modality = "CT"
    ds.PatientID = meta.patient_id
    ds.PatientName = meta.patient_name
    ds.StudyDescription = meta.study_description
    ds.SeriesDescription = meta.series_description
    ds.SeriesNumber = meta.series_number
    ds.StudyID = "1"
    ds.Manufacturer = "smoothseg"
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    return ds
