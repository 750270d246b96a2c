"""``pairs``: a folder of image/label volume pairs matched by a name pattern.

Patterns are paths relative to the root with an ``{id}`` placeholder, e.g.
``images/{id}.nii.gz`` + ``labels/{id}.nii.gz``. Without patterns the usual layouts are tried
in order (:data:`PAIR_LAYOUTS`) and the first that matches any pair is used; this includes the
smoothseg phantom cohort layout ``cases/{id}/image.nii.gz``. Labels must hold 0/1/2 unless
``label_values`` maps other values.
"""

from __future__ import annotations

import re
from pathlib import Path

from smoothseg.datasets.base import (
    DATASET_FORMATS,
    CaseSource,
    DatasetFormat,
    DatasetOptions,
    LoadedCase,
)
from smoothseg.datasets.labels import label_mapping, remap_labels, require_same_grid
from smoothseg.errors import InputError
from smoothseg.io import read_volume

_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha")
#: Tried in order when no pattern is given (each also with .nii, .nrrd and .mha).
PAIR_LAYOUTS: tuple[tuple[str, str], ...] = (
    ("cases/{id}/image.nii.gz", "cases/{id}/label.nii.gz"),
    ("images/{id}.nii.gz", "labels/{id}.nii.gz"),
    ("imagesTr/{id}.nii.gz", "labelsTr/{id}.nii.gz"),
    ("{id}/image.nii.gz", "{id}/label.nii.gz"),
    ("{id}_image.nii.gz", "{id}_label.nii.gz"),
    ("{id}_img.nii.gz", "{id}_seg.nii.gz"),
    ("img_{id}.nii.gz", "lab_{id}.nii.gz"),
    ("image_{id}.nii.gz", "label_{id}.nii.gz"),
)


def match_pattern(root: Path, pattern: str) -> dict[str, Path]:
    """Files under ``root`` matching ``pattern`` (with ``{id}``), keyed by the id."""
    if pattern.count("{id}") != 1:
        raise InputError(pattern, "a pattern needs exactly one {id} placeholder")
    regex = re.compile("^" + re.escape(pattern).replace(re.escape("{id}"), "(?P<id>.+?)") + "$")
    out: dict[str, Path] = {}
    for path in sorted(root.glob(pattern.replace("{id}", "*"))):
        match = regex.match(path.relative_to(root).as_posix())
        if match and path.is_file() and not path.name.startswith("."):
            out[match["id"]] = path
    return out


def _variants(pattern: str) -> list[str]:
    for suffix in _SUFFIXES:
        if pattern.endswith(suffix):
            stem = pattern[: -len(suffix)]
            return [stem + s for s in _SUFFIXES]
    return [pattern]


def _layouts(options: DatasetOptions) -> list[tuple[str, str]]:
    if (options.image_pattern is None) != (options.label_pattern is None):
        raise InputError("--image-pattern", "give both --image-pattern and --label-pattern")
    if options.image_pattern and options.label_pattern:
        return [(options.image_pattern, options.label_pattern)]
    return [
        (img, lab)
        for image, label in PAIR_LAYOUTS
        for img, lab in zip(_variants(image), _variants(label), strict=True)
    ]


def pair_cases(root: Path, image_pattern: str, label_pattern: str, fmt: str) -> list[CaseSource]:
    """Cases for every image matching ``image_pattern``; a missing label is the case's problem."""
    labels = match_pattern(root, label_pattern)
    return [
        CaseSource(
            case_id=case_id,
            format=fmt,
            image=image,
            label=labels.get(case_id),
            problem=None if case_id in labels else f"no label file matching {label_pattern!r}",
        )
        for case_id, image in match_pattern(root, image_pattern).items()
    ]


def discover(root: Path, options: DatasetOptions) -> list[CaseSource]:
    """Cases of the first layout that matches any image."""
    for image_pattern, label_pattern in _layouts(options):
        cases = pair_cases(root, image_pattern, label_pattern, "pairs")
        if cases:
            return cases
    return []


def load_pair(
    case: CaseSource, options: DatasetOptions, mapping: dict[int, int] | None = None
) -> LoadedCase:
    """Read an image/label file pair, remap label values, check both share a grid."""
    if case.label is None:
        raise InputError(case.image, case.problem or "no label file")
    image = read_volume(case.image, kind="image")
    raw = read_volume(case.label, kind="label")
    values = mapping if mapping is not None else label_mapping(options.label_values)
    label = raw.with_array(remap_labels(raw.array, values, case.label))
    require_same_grid(image, label, case.label)
    return LoadedCase(
        source=case,
        image=image,
        label=label,
        image_source=str(case.image),
        label_source=str(case.label),
        warnings=tuple(dict.fromkeys(image.source.warnings + raw.source.warnings)),
    )


def load(case: CaseSource, options: DatasetOptions) -> LoadedCase:
    """Load one pair."""
    return load_pair(case, options)


FORMAT = DATASET_FORMATS.register(
    DatasetFormat(
        name="pairs",
        description="image/label volume pairs matched by name pattern",
        layout="e.g. ROOT/images/{id}.nii.gz + ROOT/labels/{id}.nii.gz (see --image-pattern)",
        discover=discover,
        load=load,
    )
)
