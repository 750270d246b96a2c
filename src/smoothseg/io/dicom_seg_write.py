"""Write a label map as a DICOM SEG (BINARY) that references its source CT series.

The SEG is built with highdicom from the CT slices themselves, so it carries the CT's patient,
study and frame of reference, a ReferencedSeriesSequence naming the series and instances, and
per-frame source-image references (what 3D Slicer / dcmqi and OHIF use to place it). Segments
carry SNOMED-CT coded concepts and Slicer-style display colours; empty frames are omitted.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import highdicom as hd
import numpy as np
import pydicom
from pydicom.multival import MultiValue
from pydicom.sr.coding import Code
from pydicom.uid import generate_uid

from smoothseg.errors import GeometryError, InputError
from smoothseg.io.atomic import atomic_output
from smoothseg.io.dicom import DicomCtSeries, read_dicom_series
from smoothseg.io.volume import Volume
from smoothseg.version import __version__

ANATOMICAL_STRUCTURE = Code("91723000", "SCT", "Anatomical Structure")
MORPHOLOGICALLY_ALTERED_STRUCTURE = Code("49755003", "SCT", "Morphologically Altered Structure")
LIVER = Code("10200004", "SCT", "Liver")
NEOPLASM = Code("108369006", "SCT", "Neoplasm")
MASS = Code("4147007", "SCT", "Mass")
PORTAL_VEIN = Code("32764006", "SCT", "Portal vein")
ABDOMINAL_AORTA = Code("7832008", "SCT", "Abdominal aorta")


@dataclass(frozen=True)
class SegmentSpec:
    """One segment to write: the voxels of ``value`` in the label map.

    Attributes:
        value: Label value in the volume.
        label: SegmentLabel text (what readers and the name mapping see).
        category: Segmented property category code.
        property_type: Segmented property type code.
        rgb: Recommended display colour.
        anatomic_region: Optional anatomic region code (e.g. liver, for a tumor).

    """

    value: int
    label: str
    category: Code
    property_type: Code
    rgb: tuple[int, int, int]
    anatomic_region: Code | None = None


#: smoothseg's harmonized labels: 1 liver, 2 tumor.
HARMONIZED_SEGMENTS: tuple[SegmentSpec, ...] = (
    SegmentSpec(1, "Liver", ANATOMICAL_STRUCTURE, LIVER, (221, 130, 101)),
    SegmentSpec(
        2,
        "Liver tumor",
        MORPHOLOGICALLY_ALTERED_STRUCTURE,
        NEOPLASM,
        (144, 238, 144),
        anatomic_region=LIVER,
    ),
)

#: The four structures of HCC-TACE-Seg SEGs, named like the collection's own files.
HCC_TACE_SEG_SEGMENTS: tuple[SegmentSpec, ...] = (
    SegmentSpec(1, "Liver", ANATOMICAL_STRUCTURE, LIVER, (221, 130, 101)),
    SegmentSpec(
        2, "Mass", MORPHOLOGICALLY_ALTERED_STRUCTURE, MASS, (144, 238, 144), anatomic_region=LIVER
    ),
    SegmentSpec(3, "Portal vein", ANATOMICAL_STRUCTURE, PORTAL_VEIN, (0, 151, 206)),
    SegmentSpec(4, "Abdominal aorta", ANATOMICAL_STRUCTURE, ABDOMINAL_AORTA, (224, 97, 76)),
)


@dataclass(frozen=True)
class SegWriteMeta:
    """Series-level attributes of the written SEG.

    Attributes:
        series_description: SeriesDescription.
        series_number: SeriesNumber.
        content_label: ContentLabel (DICOM CS: upper case, digits, ``_``, space).
        algorithm_type: ``AUTOMATIC`` (model output), ``SEMIAUTOMATIC`` or ``MANUAL``.
        algorithm_name: Algorithm name recorded for (semi)automatic segments.
        uid_seed: Derive UIDs deterministically from this text; ``None`` makes fresh UIDs.

    """

    series_description: str = "Segmentation"
    series_number: int = 300
    content_label: str = "SMOOTHSEG"
    algorithm_type: Literal["AUTOMATIC", "SEMIAUTOMATIC", "MANUAL"] = "AUTOMATIC"
    algorithm_name: str = "smoothseg"
    uid_seed: str | None = None


def _cielab(rgb: tuple[int, int, int]) -> hd.color.CIELabColor:
    srgb = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    xyz = (
        np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
        @ lin
        / np.array([0.95047, 1.0, 1.08883])
    )
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    lab = (116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2]))
    return hd.color.CIELabColor(
        float(np.clip(lab[0], 0, 100)),
        float(np.clip(lab[1], -128, 127)),
        float(np.clip(lab[2], -128, 127)),
    )


def _descriptions(
    segments: tuple[SegmentSpec, ...], meta: SegWriteMeta
) -> list[hd.seg.SegmentDescription]:
    algorithm = None
    if meta.algorithm_type != "MANUAL":
        algorithm = hd.AlgorithmIdentificationSequence(
            name=meta.algorithm_name,
            family=Code("123110", "DCM", "Artificial Intelligence"),
            version=__version__,
        )
    return [
        hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=spec.label,
            segmented_property_category=spec.category,
            segmented_property_type=spec.property_type,
            algorithm_type=meta.algorithm_type,
            algorithm_identification=algorithm,
            anatomic_regions=[spec.anatomic_region] if spec.anatomic_region else None,
            display_color=_cielab(spec.rgb),
        )
        for number, spec in enumerate(segments, start=1)
    ]


_TYPE2 = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyID",
)


def _character_set(ds: pydicom.Dataset) -> None:
    """Make the slice's SpecificCharacterSet one highdicom accepts (it copies it into the SEG).

    An empty value (or ``ISO_IR 6``) means the default repertoire: the attribute is dropped. An
    empty first value of a multi-valued set is the default with code extensions
    (``ISO 2022 IR 6``). Anything else highdicom does not know becomes UTF-8 (``ISO_IR 192``),
    which can hold every text pydicom decoded from the slice.
    """
    if "SpecificCharacterSet" not in ds:
        return
    raw = ds.SpecificCharacterSet
    values = [
        str(v).strip() for v in (raw if isinstance(raw, list | tuple | MultiValue) else [raw])
    ]
    if not any(values) or values == ["ISO_IR 6"]:
        del ds.SpecificCharacterSet
        return
    if len(values) > 1 and not values[0]:
        values[0] = "ISO 2022 IR 6"
    known = {v.value for v in hd.enum.SpecificCharacterSetValues}
    if all(v in known for v in values):
        ds.SpecificCharacterSet = values if len(values) > 1 else values[0]
    else:
        ds.SpecificCharacterSet = "ISO_IR 192"


def _with_type2(ds: pydicom.Dataset) -> pydicom.Dataset:
    """Complete what the SEG copies from a CT slice, when the slice lacks it.

    Adds empty type-2 patient/study attributes, takes an empty or missing SOP Class/Instance
    UID from the file meta (some exporters leave the dataset's own copy blank), and makes an
    empty SpecificCharacterSet valid (:func:`_character_set`).
    """
    _character_set(ds)
    for keyword in _TYPE2:
        if keyword not in ds:
            setattr(ds, keyword, "")
    meta = getattr(ds, "file_meta", None)
    for own, in_meta in (
        ("SOPClassUID", "MediaStorageSOPClassUID"),
        ("SOPInstanceUID", "MediaStorageSOPInstanceUID"),
    ):
        if not str(getattr(ds, own, "") or "") and meta is not None and in_meta in meta:
            setattr(ds, own, getattr(meta, in_meta))
    return ds


def write_dicom_seg(
    label: Volume,
    ct: DicomCtSeries | str | Path,
    path: str | Path,
    *,
    series: str | None = None,
    segments: tuple[SegmentSpec, ...] = HARMONIZED_SEGMENTS,
    meta: SegWriteMeta | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``label`` as a DICOM SEG referencing the CT series it was computed on.

    Args:
        label: Label map on the CT's grid (canonical or native; both are accepted).
        ct: The CT series (as read by :func:`~smoothseg.io.dicom.read_dicom_series`) or its
            folder.
        path: Output ``.dcm`` file (written atomically).
        series: CT series to pick when ``ct`` is a folder holding several.
        segments: Which label values become which segments (default: liver 1, tumor 2).
        meta: Series attributes and UID seed.
        overwrite: Replace an existing file.

    Raises:
        GeometryError: the label is not on the CT's grid.
        InputError: the label holds values that no segment describes.

    """
    meta = meta or SegWriteMeta()
    source = ct if isinstance(ct, DicomCtSeries) else read_dicom_series(Path(ct), series)
    image = source.volume.to_canonical()
    canon = label.to_canonical()
    if not canon.grid.matches(image.grid):
        raise GeometryError(
            f"label grid (shape {canon.shape}) does not match CT series grid (shape {image.shape})"
        )
    native = canon.on_grid_of(image, what="label").to_native()
    pixels = np.asarray(native.array).transpose(2, 1, 0)  # (frames, rows, columns)
    values = {int(v) for v in np.unique(pixels)} - {0}
    missing = values - {s.value for s in segments}
    if missing:
        raise InputError(path, f"label values {sorted(missing)} have no segment to write them as")
    coded = np.zeros(pixels.shape, dtype=np.uint8)
    for number, spec in enumerate(segments, start=1):
        coded[pixels == spec.value] = number
    datasets = [_with_type2(pydicom.dcmread(f.path)) for f in source.files]
    seed = meta.uid_seed
    with warnings.catch_warnings():  # single-component names such as "Anonymous" are fine here
        warnings.filterwarnings("ignore", message=".*intended person name.*")
        seg = _build(datasets, coded, segments, meta, seed)
    with atomic_output(path, overwrite=overwrite) as tmp:
        seg.save_as(tmp)
    return Path(path)


def _build(
    datasets: list[pydicom.Dataset],
    coded: np.ndarray,
    segments: tuple[SegmentSpec, ...],
    meta: SegWriteMeta,
    seed: str | None,
) -> hd.seg.Segmentation:
    return hd.seg.Segmentation(
        source_images=datasets,
        pixel_array=coded,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=_descriptions(segments, meta),
        series_instance_uid=generate_uid(entropy_srcs=[seed, "seg-series"]) if seed else hd.UID(),
        series_number=meta.series_number,
        sop_instance_uid=generate_uid(entropy_srcs=[seed, "seg-sop"]) if seed else hd.UID(),
        instance_number=1,
        manufacturer="smoothseg",
        manufacturer_model_name="smoothseg",
        software_versions=__version__,
        device_serial_number="0",
        content_label=meta.content_label,
        series_description=meta.series_description,
    )
