"""The header of a DICOM SEG: its segments (and their roles) and what it references.

Read without decoding pixel data, so discovering and checking SEGs is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from smoothseg.errors import InputError
from smoothseg.io.dicom_seg_mapping import ROLES, SegmentMapping, SegmentRole

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"


@dataclass(frozen=True)
class SegmentInfo:
    """One segment of a SEG and the role the mapping gave it (``None``: unknown name)."""

    number: int
    label: str
    description: str
    property_type: str
    role: SegmentRole | None = None

    def display(self) -> str:
        """``'Label' (#n)`` for messages."""
        return f"{self.label or self.property_type or '?'!r} (#{self.number})"


@dataclass(frozen=True)
class SegHeader:
    """What a SEG says about itself and its source, read without pixel data."""

    path: Path
    series_uid: str
    frame_of_reference_uid: str
    referenced_series_uids: tuple[str, ...]
    referenced_instance_uids: tuple[str, ...]
    segments: tuple[SegmentInfo, ...]


def _uids_in(items: object, key: str) -> list[str]:
    return [str(it.get(key, "")) for it in (items or []) if it.get(key, "")]  # type: ignore[attr-defined]


def read_seg_header(path: str | Path) -> SegHeader:
    """Segments and references of a DICOM SEG file, without decoding its frames.

    Raises:
        InputError: not a readable DICOM SEG.

    """
    p = Path(path)
    try:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
    except Exception as exc:  # pydicom raises many types on corrupt files
        raise InputError(p, f"cannot read as DICOM: {exc}") from exc
    if str(ds.get("SOPClassUID", "")) != SEGMENTATION_STORAGE and ds.get("Modality") != "SEG":
        raise InputError(p, f"not a DICOM SEG (modality {ds.get('Modality', '?')})")
    series_refs: list[str] = []
    instance_refs: list[str] = []
    for ref in ds.get("ReferencedSeriesSequence", []) or []:
        series_refs += _uids_in([ref], "SeriesInstanceUID")
        instance_refs += _uids_in(ref.get("ReferencedInstanceSequence"), "ReferencedSOPInstanceUID")
    for fg in ds.get("PerFrameFunctionalGroupsSequence", []) or []:
        instance_refs += frame_sources(fg)
    segments = []
    for item in ds.get("SegmentSequence", []) or []:
        ptype = item.get("SegmentedPropertyTypeCodeSequence") or []
        segments.append(
            SegmentInfo(
                number=int(item.get("SegmentNumber", 0)),
                label=str(item.get("SegmentLabel", "") or ""),
                description=str(item.get("SegmentDescription", "") or ""),
                property_type=str(ptype[0].get("CodeMeaning", "")) if ptype else "",
            )
        )
    return SegHeader(
        path=p,
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        frame_of_reference_uid=str(ds.get("FrameOfReferenceUID", "") or ""),
        referenced_series_uids=tuple(dict.fromkeys(series_refs)),
        referenced_instance_uids=tuple(dict.fromkeys(instance_refs)),
        segments=tuple(segments),
    )


def frame_sources(fg: Dataset) -> list[str]:
    """ReferencedSOPInstanceUIDs of one per-frame functional group item."""
    uids: list[str] = []
    for der in fg.get("DerivationImageSequence", []) or []:
        uids += _uids_in(der.get("SourceImageSequence"), "ReferencedSOPInstanceUID")
    return uids


def map_segments(header: SegHeader, mapping: SegmentMapping) -> tuple[SegmentInfo, ...]:
    """Give every segment its role; unknown names raise an error that says how to map them."""
    mapped = tuple(
        replace(s, role=mapping.role_of((s.label, s.description, s.property_type)))
        for s in header.segments
    )
    unknown = [s for s in mapped if s.role is None]
    if unknown:
        names = ", ".join(s.display() for s in unknown)
        example = unknown[0].label or unknown[0].property_type
        raise InputError(
            header.path,
            f"unknown segment name(s) {names}; map them with --segment-map "
            f"'{example}=ROLE' (roles: {', '.join(ROLES)})",
        )
    return mapped
