"""DICOM SEG reading and writing (highdicom), in one import.

Reading (:mod:`smoothseg.io.dicom_seg_read`) maps segments by name to the harmonized classes
and places frames on the referenced CT grid with verified geometry; writing
(:mod:`smoothseg.io.dicom_seg_write`) produces a BINARY SEG referencing the source CT series.
"""

from smoothseg.io.dicom_seg_header import (
    SEGMENTATION_STORAGE,
    SegHeader,
    SegmentInfo,
    map_segments,
    read_seg_header,
)
from smoothseg.io.dicom_seg_mapping import (
    DEFAULT_SEGMENT_NAMES,
    ROLES,
    SegmentMapping,
    SegmentRole,
    normalize_name,
    parse_override,
)
from smoothseg.io.dicom_seg_read import SegLabel, find_referenced_ct, read_dicom_seg
from smoothseg.io.dicom_seg_write import (
    HARMONIZED_SEGMENTS,
    HCC_TACE_SEG_SEGMENTS,
    SegmentSpec,
    SegWriteMeta,
    write_dicom_seg,
)

__all__ = [
    "DEFAULT_SEGMENT_NAMES",
    "HARMONIZED_SEGMENTS",
    "HCC_TACE_SEG_SEGMENTS",
    "ROLES",
    "SEGMENTATION_STORAGE",
    "SegHeader",
    "SegLabel",
    "SegWriteMeta",
    "SegmentInfo",
    "SegmentMapping",
    "SegmentRole",
    "SegmentSpec",
    "find_referenced_ct",
    "map_segments",
    "normalize_name",
    "parse_override",
    "read_dicom_seg",
    "read_seg_header",
    "write_dicom_seg",
]
