"""Real data from ../shared/data (skipped with a message when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import require
from smoothseg.io import check_same_grid, read_volume

pytestmark = pytest.mark.realdata

HCC_STUDY = Path("hcc-tace-seg/HCC-TACE-Seg/HCC_009")
HCC_SERIES = "103.000000-LIVER 3 PHASE CAP-83135"


def test_hcc_study_resolves_to_the_liver_series(shared_data: Path) -> None:
    v = read_volume(require(shared_data / HCC_STUDY))
    series = v.source.series
    assert series is not None
    assert series.folder == HCC_SERIES
    assert series.n_slices == 69
    assert "most slices (69) of 2 CT series" in series.reason
    assert any("PRE LIVER" in other for other in series.others)
    assert v.native_grid.shape == (512, 512, 69)
    assert v.spacing_mm == pytest.approx((0.742188, 0.742188, 2.5), abs=1e-5)
    assert v.native_grid.axcodes == ("L", "P", "S")
    assert v.axcodes == ("R", "A", "S")
    # Plausible HU: air at about -1024, plenty of soft tissue, bone below a few thousand.
    a = v.array
    assert a.dtype == np.int16
    assert -1100 <= a.min() <= -950
    assert 500 < a.max() < 3100
    soft = np.mean((a > -100) & (a < 200))
    assert 0.1 < soft < 0.6
    # Axial slices stack along the patient axis: body (not air) in the middle of every slice.
    assert np.all(np.median(a[200:300, 200:300, :], axis=(0, 1)) > -300)


def test_hcc_other_series_by_request(shared_data: Path) -> None:
    v = read_volume(require(shared_data / HCC_STUDY), series="2.000000-PRE LIVER-36498")
    assert v.native_grid.shape == (512, 512, 20)
    assert v.spacing_mm[2] == pytest.approx(10.0, abs=1e-3)


def test_totalsegmentator_ct_and_labels_share_one_grid(shared_data: Path) -> None:
    base = require(shared_data / "totalsegmentator-example")
    ct = read_volume(base / "example_ct_sm.nii.gz")
    seg = read_volume(base / "example_seg.nii.gz")
    assert ct.kind == "image" and seg.kind == "label"
    check_same_grid(ct, seg, ("CT", "labels"))
    assert ct.shape == (122, 101, 30)
    assert ct.spacing_mm == pytest.approx((3.0, 3.0, 3.0))
    liver = seg.array == 5
    assert liver.sum() > 10000
    # Liver soft tissue HU (a PET-CT, little contrast).
    assert 20 < float(np.median(ct.array[liver])) < 200


def test_totalsegmentator_dicom_without_series_uid(shared_data: Path) -> None:
    v = read_volume(require(shared_data / "totalsegmentator-example" / "example_ct_dicom"))
    assert v.native_grid.shape == (512, 512, 20)
    assert v.source.series is not None and v.source.series.description == "CT Body 3.0"
    assert v.array.min() >= -1024


def test_lits_case_loads(shared_data: Path) -> None:
    base = require(shared_data / "lits-117")
    img = read_volume(base / "img_117.nii.gz")
    lab = read_volume(base / "lab_117.nii.gz")
    assert img.kind == "image" and lab.kind == "label"
    assert img.shape == lab.shape == (128, 128, 128)
    assert set(np.unique(lab.array).tolist()) == {0, 1, 2}
    assert any("identity affine" in w for w in img.source.warnings)


def test_dcmqi_ct_slices_and_nrrd_labels_share_one_grid(shared_data: Path) -> None:
    base = require(shared_data / "dcmqi-ct3slice")
    ct = read_volume(base)
    labels = read_volume(base / "liver_seg.nrrd")
    check_same_grid(ct, labels, ("CT", "labels"))
    assert set(np.unique(labels.array).tolist()) == {0, 1}
