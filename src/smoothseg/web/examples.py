"""Examples selectable without an upload: a phantom case and the real TotalSegmentator CT.

The phantom is a held-out synthetic case (seed 1234; the default model was trained on seed 0)
written as a DICOM series, so the whole flow, DICOM SEG included, works everywhere. The real
CT (NIfTI) is read in place from the shared data folder and offered only when it is present.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from smoothseg.web.settings import find_shared_data

PHANTOM_SEED = 1234
PHANTOM_INDEX = 1
TOTALSEG = "totalsegmentator-example"


@dataclass(frozen=True)
class Example:
    """One bundled example.

    Attributes:
        id: Short name used in the URL.
        title: What the page shows.
        description: One sentence about the scan.
        prepare: Writes or locates the scan given a job folder; returns the input path.

    """

    id: str
    title: str
    description: str
    prepare: Callable[[Path], Path]

    def to_json(self) -> dict[str, str]:
        """The example as the page lists it."""
        return {"id": self.id, "title": self.title, "description": self.description}


def _phantom(folder: Path) -> Path:
    from smoothseg.io import DicomSeriesMeta, write_dicom_series
    from smoothseg.phantom import PhantomConfig, cohort_case

    case = cohort_case(PHANTOM_INDEX, PHANTOM_SEED, PhantomConfig.preset("small"))
    target = folder / "phantom-dicom"
    meta = DicomSeriesMeta(
        patient_id=case.case_id,
        patient_name="Phantom^Synthetic",
        study_description="smoothseg synthetic phantom",
        series_description="synthetic abdominal CT",
        uid_seed=f"smoothseg-web-phantom-{PHANTOM_SEED}",
    )
    write_dicom_series(case.image, target, meta)
    return target


def phantom_followup_pair(folder: Path) -> dict[str, Path]:
    """The compare example: the phantom example's scan and its follow-up after TACE.

    The follow-up (``smoothseg phantom --followup``'s lipiodol scenario: lesions the same size,
    their centres now lipiodol deposits and no longer enhancing, the patient shifted) comes
    with arterial phases of both time points. True categories: RECIST 1.1 SD, mRECIST PR,
    volumetric SD.

    Returns:
        Compare role → NIfTI file written in ``folder``.

    """
    import numpy as np

    from smoothseg.io import write_volume
    from smoothseg.phantom import PhantomConfig, cohort_case
    from smoothseg.phantom.followup import make_followup

    case = cohort_case(PHANTOM_INDEX, PHANTOM_SEED, PhantomConfig.preset("small"))
    volumes, _ = make_followup(case, "lipiodol", np.random.default_rng(PHANTOM_SEED))
    names = {
        "baseline": "baseline",
        "followup": "followup",
        "arterial_baseline": "baseline_arterial",
        "arterial_followup": "followup_arterial",
    }
    folder.mkdir(parents=True, exist_ok=True)
    return {
        role: write_volume(volumes[key], folder / f"phantom_{key}.nii.gz")
        for role, key in names.items()
    }


def _located(path: Path) -> Callable[[Path], Path]:
    def prepare(folder: Path) -> Path:
        del folder  # read in place
        return path

    return prepare


def available_examples(shared_dir: Path | None = None) -> dict[str, Example]:
    """The examples this installation can offer, by id."""
    examples = [
        Example(
            "phantom",
            "Synthetic phantom (DICOM series)",
            "A synthetic abdominal CT with liver tumors (128 x 128 x 48 voxels, 3 x 3 x 5 mm), "
            "made by smoothseg phantom; not patient data.",
            _phantom,
        )
    ]
    data = find_shared_data(shared_dir)
    if data is not None:
        nifti = data / TOTALSEG / "example_ct_sm.nii.gz"
        if nifti.is_file():
            examples.append(
                Example(
                    "totalseg",
                    "Real abdominal CT (TotalSegmentator example)",
                    "A real abdominal CT, 122 x 101 x 30 voxels at 3 mm (NIfTI; Apache-2.0).",
                    _located(nifti),
                )
            )
    return {e.id: e for e in examples}
