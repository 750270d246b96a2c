"""``msd``: Medical Segmentation Decathlon Task03 Liver (imagesTr, labelsTr, dataset.json).

``dataset.json``'s ``training`` list gives the pairs and its ``labels`` table names the values
(``{"0": "background", "1": "liver", "2": "cancer"}``, or the nnU-Net v2 form
``{"background": 0, ...}``); names are mapped to the harmonized classes. Without a
``dataset.json`` the files in ``imagesTr`` and ``labelsTr`` are paired by name. macOS ``._*``
files that the MSD archives carry are ignored.
"""

from __future__ import annotations

import json
from pathlib import Path

from smoothseg.datasets.base import (
    DATASET_FORMATS,
    CaseSource,
    DatasetFormat,
    DatasetOptions,
    LoadedCase,
)
from smoothseg.datasets.labels import label_mapping
from smoothseg.datasets.pairs import load_pair, pair_cases
from smoothseg.errors import InputError
from smoothseg.io.dicom_seg_mapping import normalize_name

_CLASS_OF_NAME = {
    "background": 0,
    "liver": 1,
    "cancer": 2,
    "tumor": 2,
    "tumour": 2,
    "lesion": 2,
    "liver tumor": 2,
    "mass": 2,
}


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(path, f"cannot read dataset.json: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(path, "dataset.json is not a JSON object")
    return data


def _task_dir(root: Path) -> Path:
    if (root / "dataset.json").is_file() or (root / "imagesTr").is_dir():
        return root
    for candidate in sorted(root.glob("Task03*")):
        if candidate.is_dir():
            return candidate
    return root


def label_values_of(dataset_json: Path) -> dict[int, int]:
    """Raw label value → harmonized class from ``dataset.json``'s ``labels`` table."""
    labels = _read_json(dataset_json).get("labels", {})
    if not isinstance(labels, dict) or not labels:
        return label_mapping(())
    pairs = [(k, v) if str(k).isdigit() else (v, k) for k, v in labels.items()]
    out: dict[int, int] = {}
    for value, name in pairs:
        cls = _CLASS_OF_NAME.get(normalize_name(str(name)))
        if cls is None:
            raise InputError(
                dataset_json,
                f"label {value} is named {name!r}, which is not background, liver "
                "or tumor; pass --label-values VALUE=CLASS to map it",
            )
        out[int(value)] = cls
    return out


def discover(root: Path, options: DatasetOptions) -> list[CaseSource]:
    """Pairs from ``dataset.json`` (or by file name in ``imagesTr``/``labelsTr``)."""
    del options
    task = _task_dir(root)
    meta = task / "dataset.json"
    if not meta.is_file():
        return pair_cases(task, "imagesTr/{id}.nii.gz", "labelsTr/{id}.nii.gz", "msd")
    training = _read_json(meta).get("training", [])
    cases = []
    for item in training if isinstance(training, list) else []:
        image = task / str(item.get("image", "")) if isinstance(item, dict) else task
        label = task / str(item.get("label", "")) if isinstance(item, dict) else task
        case_id = image.name.removesuffix(".gz").removesuffix(".nii")
        problem = None
        if not image.is_file():
            problem = f"image {image} listed in dataset.json is missing"
        elif not label.is_file():
            problem = f"label {label} listed in dataset.json is missing"
        cases.append(
            CaseSource(
                case_id, "msd", image, label, parts=(("dataset_json", meta),), problem=problem
            )
        )
    return cases


def load(case: CaseSource, options: DatasetOptions) -> LoadedCase:
    """Read one pair, mapping label values by ``dataset.json``'s label names."""
    parts = dict(case.parts)
    meta = parts.get("dataset_json")
    mapping = label_values_of(meta) if meta is not None else label_mapping(())
    extra = label_mapping(options.label_values)  # validates the classes
    mapping.update({raw: extra[raw] for raw, _ in options.label_values})
    return load_pair(case, options, mapping)


FORMAT = DATASET_FORMATS.register(
    DatasetFormat(
        name="msd",
        description="Medical Segmentation Decathlon Task03 Liver",
        layout="ROOT/dataset.json + ROOT/imagesTr/liver_N.nii.gz + ROOT/labelsTr/liver_N.nii.gz",
        discover=discover,
        load=load,
    )
)
