"""``ircadb``: 3D-IRCADb-01 (``3Dircadb1.N/PATIENT_DICOM`` + ``MASKS_DICOM/<structure>/``).

Each structure folder holds one binary mask as a DICOM series on the patient's grid (values
0/255, sometimes with the CT's rescale applied, so "foreground" is any value above the
minimum). ``liver`` gives the liver; every ``livertumorNN`` / ``livertumors`` folder gives
tumor (tumor wins over liver). Other structures (vessels, cysts, other organs) are ignored.
The download ships these folders as ``.zip`` files: unzip them first.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

from smoothseg.datasets.base import (
    DATASET_FORMATS,
    CaseSource,
    DatasetFormat,
    DatasetOptions,
    LoadedCase,
    natural_key,
)
from smoothseg.datasets.labels import LIVER, TUMOR, require_same_grid
from smoothseg.errors import InputError
from smoothseg.io.dicom import read_dicom_series

_TUMOR = re.compile(r"^livertumou?rs?\d*$")


def _structure_role(name: str) -> str | None:
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    if key == "liver":
        return "liver"
    return "tumor" if _TUMOR.match(key) else None


def _patient_dirs(root: Path) -> list[Path]:
    if (root / "PATIENT_DICOM").exists() or (root / "PATIENT_DICOM.zip").exists():
        return [root]
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and ((p / "PATIENT_DICOM").exists() or (p / "PATIENT_DICOM.zip").exists())
    )


def _case(patient: Path) -> CaseSource:
    image, masks = patient / "PATIENT_DICOM", patient / "MASKS_DICOM"
    problem = None
    parts: tuple[tuple[str, Path], ...] = ()
    if not image.is_dir():
        problem = "PATIENT_DICOM is still zipped: unzip PATIENT_DICOM.zip first"
    elif not masks.is_dir():
        zipped = (patient / "MASKS_DICOM.zip").exists()
        problem = "MASKS_DICOM is still zipped: unzip it first" if zipped else "no MASKS_DICOM"
    else:
        folders = sorted(
            (p for p in masks.iterdir() if p.is_dir()), key=lambda p: natural_key(p.name)
        )
        parts = tuple((p.name, p) for p in folders if _structure_role(p.name))
        if not any(_structure_role(name) == "liver" for name, _ in parts):
            problem = "MASKS_DICOM has no liver mask folder"
    return CaseSource(
        case_id=patient.name,
        format="ircadb",
        image=image,
        label=masks,
        parts=parts,
        problem=problem,
    )


def discover(root: Path, options: DatasetOptions) -> list[CaseSource]:
    """One case per ``3Dircadb1.N`` folder (or ``root`` itself when it is one)."""
    del options
    return [_case(p) for p in sorted(_patient_dirs(root), key=lambda p: natural_key(p.name))]


def _binary(array: npt.NDArray[np.generic], folder: Path) -> npt.NDArray[np.bool_]:
    values = np.unique(array)
    if len(values) > 2:
        raise InputError(folder, f"not a binary mask: {len(values)} distinct values")
    if len(values) < 2:
        return np.zeros(array.shape, dtype=bool)
    return np.asarray(array > values[0])


def load(case: CaseSource, options: DatasetOptions) -> LoadedCase:
    """Read the CT and fold the structure masks into one harmonized label map."""
    del options
    ct = read_dicom_series(case.image, require_ct=False)
    image = ct.volume.to_canonical()
    label = np.zeros(image.shape, dtype=np.uint8)
    tumor = np.zeros(image.shape, dtype=bool)
    for name, folder in case.parts:
        mask = read_dicom_series(folder, require_ct=False).volume.to_canonical()
        require_same_grid(image, mask, folder)
        binary = _binary(np.asarray(mask.array), folder)
        if _structure_role(name) == "liver":
            label[binary] = LIVER
        else:
            tumor |= binary
    label[tumor] = TUMOR
    series = ct.volume.source.series
    return LoadedCase(
        source=case,
        image=image,
        label=image.with_array(label, kind="label"),
        image_source=str(case.image),
        label_source=";".join(str(folder) for _, folder in case.parts),
        image_series_uid=series.uid if series else "",
    )


FORMAT = DATASET_FORMATS.register(
    DatasetFormat(
        name="ircadb",
        description="3D-IRCADb-01: PATIENT_DICOM + MASKS_DICOM/<structure>/ binary masks",
        layout="ROOT/3Dircadb1.N/PATIENT_DICOM/ + .../MASKS_DICOM/{liver,livertumor01,...}/",
        discover=discover,
        load=load,
    )
)
