"""Read a DICOM SEG onto the grid of the CT series it was drawn on.

Frames are placed on CT slices through their ReferencedSOPInstanceUID; when a frame names no
source instance it is placed by its position alone (with a warning). Geometry is verified, not
assumed: each frame's own ImagePositionPatient / ImageOrientationPatient / PixelSpacing must
land exactly on the CT grid (flips and transposes are fine: SEGs with negated orientation
cosines are placed where their pixels really are), and the slice the position gives must be the
slice the reference names. Anything else is refused with a clear :class:`InputError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import highdicom as hd
import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset

from smoothseg.errors import InputError
from smoothseg.io.common import LPS_TO_RAS
from smoothseg.io.dicom import DicomCtSeries, read_dicom_series, scan_dicom
from smoothseg.io.dicom_seg_header import (
    SegHeader,
    SegmentInfo,
    frame_sources,
    map_segments,
    read_seg_header,
)
from smoothseg.io.dicom_seg_mapping import ROLE_CLASS, ROLE_PRIORITY, SegmentMapping, SegmentRole
from smoothseg.io.volume import SourceInfo, Volume

_TOL_VOXEL = 0.25  # largest tolerated misfit of a frame pixel centre, in voxels


@dataclass(frozen=True)
class SegLabel:
    """A SEG read onto a CT grid.

    Attributes:
        label: Harmonized uint8 label map (0 background, 1 liver, 2 tumor), canonical RAS unless
            read with ``canonical=False``; same grid as ``ct.volume`` (after the same reorient).
        segments: Every segment with its role.
        warnings: Problems that did not stop reading (e.g. frames placed by position only).
        header: The SEG's own header facts.

    """

    label: Volume
    segments: tuple[SegmentInfo, ...]
    warnings: tuple[str, ...]
    header: SegHeader


@dataclass(frozen=True)
class _Frame:
    index: int  # 0-based
    segment: int | None
    sources: tuple[str, ...]
    position: npt.NDArray[np.float64] | None
    orientation: npt.NDArray[np.float64] | None
    spacing: npt.NDArray[np.float64] | None


def _first(fg: Dataset | None, shared: Dataset | None, name: str) -> Dataset | None:
    for group in (fg, shared):
        seq = group.get(name) if group is not None else None
        if seq:
            return seq[0]  # type: ignore[no-any-return]
    return None


def _vec(item: Dataset | None, key: str, n: int) -> npt.NDArray[np.float64] | None:
    value = item.get(key) if item is not None else None
    if value is None or len(value) != n:
        return None
    return np.asarray([float(v) for v in value], dtype=np.float64)


def _frames(ds: Dataset) -> list[_Frame]:
    shared_seq = ds.get("SharedFunctionalGroupsSequence") or [None]
    shared = shared_seq[0]
    per_frame = list(ds.get("PerFrameFunctionalGroupsSequence") or [])
    n = int(ds.get("NumberOfFrames", 1) or 1)
    frames = []
    for index in range(n):
        fg = per_frame[index] if index < len(per_frame) else None
        seg_id = _first(fg, shared, "SegmentIdentificationSequence")
        number = seg_id.get("ReferencedSegmentNumber") if seg_id is not None else None
        frames.append(
            _Frame(
                index=index,
                segment=int(number) if number is not None else None,
                sources=tuple(frame_sources(fg)) if fg is not None else (),
                position=_vec(
                    _first(fg, shared, "PlanePositionSequence"), "ImagePositionPatient", 3
                ),
                orientation=_vec(
                    _first(fg, shared, "PlaneOrientationSequence"), "ImageOrientationPatient", 6
                ),
                spacing=_vec(_first(fg, shared, "PixelMeasuresSequence"), "PixelSpacing", 2),
            )
        )
    return frames


@dataclass(frozen=True)
class _Block:
    """A frame's pixels in CT (i, j) order and where they go: ``[i0:i1, j0:j1, k]``."""

    pixels: npt.NDArray[np.bool_]
    i0: int
    j0: int
    k: int | None  # slice from the position (None: frame has no geometry)


def _locate(
    frame: _Frame,
    mask: npt.NDArray[np.bool_],
    inv_lps: npt.NDArray[np.float64],
    shape: tuple[int, int, int],
    where: Path,
) -> _Block:
    """Map a frame onto the CT voxel grid from its own geometry, verifying it fits exactly."""
    name = f"frame {frame.index + 1}"
    if frame.position is None or frame.orientation is None or frame.spacing is None:
        return _Block(mask.T, 0, 0, None)  # CT native grid: i = column, j = row
    rows, cols = mask.shape
    v0 = inv_lps[:3, :3] @ frame.position + inv_lps[:3, 3]
    u = inv_lps[:3, :3] @ (frame.orientation[:3] * frame.spacing[1])  # per column step
    w = inv_lps[:3, :3] @ (frame.orientation[3:] * frame.spacing[0])  # per row step
    axes = []
    for vec, count in ((u, cols), (w, rows)):
        a = int(np.argmax(np.abs(vec)))
        ideal = np.zeros(3)
        ideal[a] = np.sign(vec[a])
        if a == 2 or float(np.abs(vec - ideal).max()) * max(count - 1, 1) > _TOL_VOXEL:
            raise InputError(
                where,
                f"{name}'s pixel grid (orientation {frame.orientation.tolist()}, spacing "
                f"{frame.spacing.tolist()}) is not the CT slice grid or a flip of it; the SEG "
                "was drawn on another or a resampled series",
            )
        axes.append((a, int(ideal[a])))
    if axes[0][0] == axes[1][0]:
        raise InputError(where, f"{name} has degenerate orientation {frame.orientation.tolist()}")
    snapped = np.rint(v0)
    if float(np.abs(v0 - snapped).max()) > _TOL_VOXEL:
        raise InputError(
            where,
            f"{name} at ImagePositionPatient {frame.position.tolist()} lies between CT "
            f"voxels (offset {np.round(v0 - snapped, 3).tolist()} voxels): geometry mismatch",
        )
    block = mask.T if axes[0][0] == 0 else mask  # -> (i, j)
    starts = [int(snapped[0]), int(snapped[1])]
    for axis in (0, 1):
        sign = axes[0][1] if axes[0][0] == axis else axes[1][1]
        if sign < 0:
            block = np.flip(block, axis=axis)
            starts[axis] -= block.shape[axis] - 1
    return _Block(np.ascontiguousarray(block), starts[0], starts[1], int(snapped[2]))


def _paint(
    rank: npt.NDArray[np.uint8], block: _Block, k: int, priority: int, where: Path, index: int
) -> None:
    ni, nj, _ = rank.shape
    i0, j0 = block.i0, block.j0
    i1, j1 = i0 + block.pixels.shape[0], j0 + block.pixels.shape[1]
    ci0, cj0, ci1, cj1 = max(i0, 0), max(j0, 0), min(i1, ni), min(j1, nj)
    inside = (
        block.pixels[ci0 - i0 : ci1 - i0, cj0 - j0 : cj1 - j0] if ci1 > ci0 and cj1 > cj0 else None
    )
    n_inside = int(inside.sum()) if inside is not None else 0
    if n_inside != int(block.pixels.sum()):
        raise InputError(
            where, f"frame {index + 1} has segmented pixels outside the CT slice: geometry mismatch"
        )
    if inside is not None and n_inside:
        target = rank[ci0:ci1, cj0:cj1, k]
        target[inside & (target < priority)] = priority


def _frame_masks(
    seg: hd.seg.Segmentation, frame: _Frame, roles: Mapping[int, SegmentRole]
) -> list[tuple[SegmentRole, npt.NDArray[np.bool_]]]:
    stored = seg.get_stored_frame(frame.index + 1)
    kind = seg.segmentation_type
    if kind == hd.seg.SegmentationTypeValues.LABELMAP:
        return [(roles[n], stored == n) for n in np.unique(stored) if int(n) in roles]
    if frame.segment is None or frame.segment not in roles:
        return []
    if kind == hd.seg.SegmentationTypeValues.FRACTIONAL:
        top = float(seg.get("MaximumFractionalValue", 255) or 255)
        return [(roles[frame.segment], stored.astype(np.float64) >= 0.5 * top)]
    return [(roles[frame.segment], stored > 0)]


def _target_slice(
    frame: _Frame, block: _Block, known: list[int], shape: tuple[int, int, int], where: Path
) -> int:
    """The CT slice of a frame: the one it references, checked against its position."""
    name = f"frame {frame.index + 1}"
    if block.k is None and block.pixels.shape != shape[:2]:
        raise InputError(where, f"{name} has no plane geometry and a size unlike the CT slices")
    k = known[0] if known else block.k
    if k is None:
        raise InputError(where, f"{name} has neither a source reference nor a position")
    if known and block.k is not None and block.k != k:
        raise InputError(
            where,
            f"{name} references CT slice {k} but its ImagePositionPatient lies at slice "
            f"{block.k}: geometry mismatch",
        )
    if not 0 <= k < shape[2]:
        raise InputError(where, f"{name} lies outside the CT series (slice {k} of {shape[2]})")
    return k


def read_dicom_seg(
    path: str | Path,
    ct: DicomCtSeries,
    mapping: SegmentMapping | None = None,
    *,
    canonical: bool = True,
) -> SegLabel:
    """Read a DICOM SEG onto ``ct``'s grid as a harmonized label map.

    Args:
        path: The SEG file.
        ct: The CT series it was drawn on, read with
            :func:`smoothseg.io.dicom.read_dicom_series` (native grid, slice UIDs in order).
        mapping: Segment name → role table (defaults suit HCC-TACE-Seg).
        canonical: Return the label in canonical RAS order (else on the CT's native grid).

    Raises:
        InputError: unknown segment names, another frame of reference, references to absent
            instances, or frames that do not fit the CT grid.

    """
    p = Path(path)
    header = read_seg_header(p)
    segments = map_segments(header, mapping or SegmentMapping())
    ct_for = ct.frame_of_reference_uid
    if header.frame_of_reference_uid and ct_for and header.frame_of_reference_uid != ct_for:
        raise InputError(
            p,
            f"SEG frame of reference {header.frame_of_reference_uid} differs from CT series "
            f"{ct.volume.source.series.name if ct.volume.source.series else ''} ({ct_for})",
        )
    try:
        seg = hd.seg.Segmentation.from_dataset(pydicom.dcmread(p), copy=False)
    except Exception as exc:  # highdicom/pydicom raise many types on malformed SEGs
        raise InputError(p, f"cannot read as DICOM SEG: {exc}") from exc
    roles = {s.number: s.role for s in segments if s.role is not None and s.role != "ignore"}
    shape = ct.volume.shape
    inv_lps = np.asarray(np.linalg.inv(LPS_TO_RAS @ ct.volume.affine), dtype=np.float64)
    slice_of = {uid: k for k, uid in enumerate(ct.sop_instance_uids) if uid}
    rank = np.zeros(shape, dtype=np.uint8)
    absent: set[str] = set()
    by_position = no_geometry = 0
    for frame in _frames(seg):
        masks = _frame_masks(seg, frame, roles)
        if not masks:
            continue
        known = [slice_of[u] for u in frame.sources if u in slice_of]
        absent.update(u for u in frame.sources if u not in slice_of)
        if frame.sources and not known:
            continue  # reported below
        for role, mask in masks:
            block = _locate(frame, mask, inv_lps, shape, p)
            k = _target_slice(frame, block, known, shape, p)
            by_position += not known
            no_geometry += block.k is None
            _paint(rank, block, k, ROLE_PRIORITY[role], p, frame.index)
    if absent:
        raise InputError(
            p,
            f"SEG references {len(absent)} SOP instance(s) absent from the CT series (e.g. "
            f"{sorted(absent)[0]}); the series on disk is incomplete or not the one segmented",
        )
    warnings = []
    if by_position:
        warnings.append(f"{by_position} SEG frame(s) name no source instance; placed by position")
    if no_geometry:
        warnings.append(f"{no_geometry} SEG frame(s) lack plane geometry; assumed CT layout")
    if not any(s.role in ("liver", "tumor", "portal_vein") for s in segments):
        warnings.append("SEG has no liver or tumor segment")
    lut = np.zeros(max(ROLE_PRIORITY.values()) + 1, dtype=np.uint8)
    for role, prio in ROLE_PRIORITY.items():
        lut[prio] = ROLE_CLASS[role] if prio else 0
    source = SourceInfo(path=str(p), format="dicom-seg", modality="SEG", warnings=tuple(warnings))
    label = replace(ct.volume, array=lut[rank], kind="label", source=source)
    return SegLabel(
        label=label.to_canonical() if canonical else label,
        segments=segments,
        warnings=tuple(warnings),
        header=header,
    )


def find_referenced_ct(header: SegHeader, root: str | Path) -> DicomCtSeries:
    """Read the CT series under ``root`` that the SEG references (native grid).

    The series is found by the SEG's ReferencedSeriesSequence, else by the SOP instances its
    frames reference; never just "the largest".

    Raises:
        InputError: the referenced series is not under ``root``.

    """
    base = Path(root)
    series = [s for s in scan_dicom(base) if s.is_ct_image]
    wanted = [s for s in series if s.uid in header.referenced_series_uids]
    if not wanted and header.referenced_instance_uids:
        refs = set(header.referenced_instance_uids)
        wanted = [s for s in series if refs & {f.sop_uid for f in s.files}]
    if len(wanted) != 1:
        found = "; ".join(s.summary() for s in series) or "no CT series"
        what = ", ".join(header.referenced_series_uids) or "(no ReferencedSeriesSequence)"
        problem = "is not on disk" if not wanted else "matches several series"
        raise InputError(
            header.path,
            f"the CT series this SEG references ({what}) {problem} under {base}; found: {found}",
        )
    return read_dicom_series(base, wanted[0].uid)
