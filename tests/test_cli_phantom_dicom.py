"""`smoothseg phantom --format dicom` → `smoothseg prepare` gives back the phantom's labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smoothseg.cli import main
from smoothseg.datasets import load_cached_case
from smoothseg.io import read_volume


def _cli(*args: str) -> None:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    assert done.value.code == 0


def test_phantom_tcia_layout_prepares_to_the_same_labels(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort"
    _cli("phantom", "--out", str(cohort), "--cases", "2", "--seed", "3", "--format", "dicom")
    assert (cohort / "tcia" / "metadata.csv").is_file()
    assert (cohort / "tcia" / "HCC-TACE-Seg_clinical_data-V2.xlsx").is_file()
    cache = tmp_path / "cache"
    _cli("prepare", "--format", "hcc-tace-seg", "--root", str(cohort / "tcia"), "--out", str(cache))
    for case_id in ("PHANTOM_001", "PHANTOM_002"):
        truth = read_volume(cohort / "cases" / case_id / "label.nii.gz", kind="label")
        image = read_volume(cohort / "cases" / case_id / "image.nii.gz", kind="image")
        cached = load_cached_case(cache, case_id)
        np.testing.assert_array_equal(np.asarray(cached.label.array), truth.array)
        np.testing.assert_array_equal(np.asarray(cached.image.array), image.array)
        np.testing.assert_allclose(cached.label.affine, truth.affine, atol=1e-4)


def test_unknown_phantom_format_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["phantom", "--out", str(tmp_path / "c"), "--format", "png"])
    assert done.value.code == 2
    assert "unknown --format 'png'" in capsys.readouterr().err
