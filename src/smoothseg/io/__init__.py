"""Volume input/output: readers and writers for NIfTI, NRRD, MetaImage and DICOM.

Importing this package registers every built-in reader and writer.
"""

from smoothseg.io import dicom, itk, nifti  # noqa: F401  (registration side effects)
from smoothseg.io.api import looks_like_labels, read_volume, reader_for, write_volume
from smoothseg.io.dicom_write import DicomSeriesMeta, write_dicom_series
from smoothseg.io.registry import READERS, WRITERS, ReadOptions
from smoothseg.io.volume import (
    CANONICAL_AXCODES,
    Grid,
    SeriesInfo,
    SourceInfo,
    Volume,
    VolumeKind,
    check_same_grid,
)

__all__ = [
    "CANONICAL_AXCODES",
    "READERS",
    "WRITERS",
    "DicomSeriesMeta",
    "Grid",
    "ReadOptions",
    "SeriesInfo",
    "SourceInfo",
    "Volume",
    "VolumeKind",
    "check_same_grid",
    "looks_like_labels",
    "read_volume",
    "reader_for",
    "write_dicom_series",
    "write_volume",
]
