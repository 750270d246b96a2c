"""Dataset formats: a registry of name → how to find cases under a root and load one.

A :class:`DatasetFormat` turns a root folder into :class:`CaseSource` records (cheap: paths and
what is already known to be wrong) and loads one case into a :class:`LoadedCase`: the image and
its harmonized label map (uint8: 0 background, 1 liver incl. portal vein, 2 tumor), both in
canonical RAS order on the same grid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from smoothseg.errors import InputError, UnsupportedFormatError
from smoothseg.io.dicom_seg_mapping import SegmentMapping
from smoothseg.io.volume import Volume
from smoothseg.registry import Registry


@dataclass(frozen=True)
class DatasetOptions:
    """Per-format options (formats ignore what does not apply to them).

    Attributes:
        segment_map: DICOM SEG segment name → role (``hcc-tace-seg``).
        image_pattern: Image path relative to the root with an ``{id}`` placeholder
            (``pairs``), e.g. ``"images/{id}.nii.gz"``; ``None`` tries the usual layouts.
        label_pattern: Matching label path pattern (``pairs``).
        label_values: Extra ``(raw value, harmonized class)`` pairs for label files whose values
            are not already 0/1/2 (``pairs``, ``lits``, ``msd``), e.g. ``((5, 1),)``.

    """

    segment_map: SegmentMapping = field(default_factory=SegmentMapping)
    image_pattern: str | None = None
    label_pattern: str | None = None
    label_values: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class CaseSource:
    """Where one case's data are, found by a format's ``discover``.

    Attributes:
        case_id: Unique id within the dataset (e.g. ``HCC_009``).
        format: Name of the format that found it.
        image: Image file, or DICOM folder.
        label: Label file (NIfTI, DICOM SEG file, mask folder); ``None`` when absent.
        patient_id: Patient the case belongs to (splits are patient-level); defaults to the id.
        image_series: DICOM SeriesInstanceUID of the image when already known.
        parts: Named extra paths (IRCADb structure mask folders; HCC-TACE-Seg CT series folders
            keyed by SeriesInstanceUID; MSD ``dataset.json``).
        problem: Why the case cannot be used, when discovery already knows (e.g. SEG missing).
        notes: Facts worth logging (e.g. which CT series was chosen and why).

    """

    case_id: str
    format: str
    image: Path
    label: Path | None
    patient_id: str = ""
    image_series: str | None = None
    parts: tuple[tuple[str, Path], ...] = ()
    problem: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def patient(self) -> str:
        """The patient id (the case id when no separate patient id is known)."""
        return self.patient_id or self.case_id


@dataclass(frozen=True)
class LoadedCase:
    """One case read and harmonized.

    Attributes:
        source: Where it came from.
        image: CT image, canonical RAS (native grid remembered).
        label: uint8 harmonized label map on the image's grid.
        image_source: The file or series folder the image was read from.
        label_source: The file(s) the label was read from.
        image_series_uid: DICOM SeriesInstanceUID of the image ("" for non-DICOM).
        label_series_uid: DICOM SeriesInstanceUID of the SEG or masks ("" for non-DICOM).
        warnings: Problems that did not stop loading.

    """

    source: CaseSource
    image: Volume
    label: Volume
    image_source: str
    label_source: str
    image_series_uid: str = ""
    label_series_uid: str = ""
    warnings: tuple[str, ...] = ()


DiscoverFn = Callable[[Path, DatasetOptions], list[CaseSource]]
LoadFn = Callable[[CaseSource, DatasetOptions], LoadedCase]


@dataclass(frozen=True)
class DatasetFormat:
    """A registered dataset format.

    Attributes:
        name: CLI name (``--format``).
        description: One line for help texts.
        layout: The expected folder layout, shown when nothing is found.
        discover: Root → cases (sorted by id).
        load: Case → loaded, harmonized case.

    """

    name: str
    description: str
    layout: str
    discover: DiscoverFn
    load: LoadFn


#: Every dataset layout ``prepare`` reads, by name.
DATASET_FORMATS: Registry[DatasetFormat] = Registry(
    "dataset format",
    unknown=lambda name, valid: UnsupportedFormatError(
        name, f"unknown dataset format; valid: {valid}"
    ),
)


def natural_key(text: str) -> tuple[str, ...]:
    """Sort key that orders ``case2`` before ``case10``."""
    return tuple(t.zfill(20) if t.isdigit() else t for t in re.split(r"(\d+)", text))


def discover_cases(
    format: str, root: str | Path, options: DatasetOptions | None = None
) -> list[CaseSource]:
    """Find every case of dataset ``format`` under ``root``, in natural order of case id.

    Raises:
        InputError: the root is missing, holds no case, or two cases share an id.

    """
    fmt = DATASET_FORMATS.get(format)
    base = Path(root).expanduser()
    if not base.is_dir():
        raise InputError(base, "no such folder")
    cases = sorted(
        fmt.discover(base, options or DatasetOptions()), key=lambda c: natural_key(c.case_id)
    )
    if not cases:
        raise InputError(base, f"no {fmt.name} cases found; expected layout: {fmt.layout}")
    ids = [c.case_id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InputError(base, f"several cases share the id(s) {', '.join(dupes)}")
    return cases


def load_case(case: CaseSource, options: DatasetOptions | None = None) -> LoadedCase:
    """Load and harmonize one discovered case with its format's loader."""
    return DATASET_FORMATS.get(case.format).load(case, options or DatasetOptions())
