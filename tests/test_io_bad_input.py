"""Bad input gives one clear error naming the file and the problem."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from smoothseg.errors import InputError, UnsupportedFormatError
from smoothseg.io import Volume, read_volume, write_dicom_series, write_volume


def _nifti(path: Path, array: np.ndarray) -> Path:
    nib.save(nib.Nifti1Image(array, np.diag([1.0, 1.0, 2.0, 1.0])), str(path))
    return path


def _series(tmp_path: Path, n: int = 6) -> Path:
    array = np.arange(8 * 6 * n, dtype=np.int16).reshape(8, 6, n)
    write_dicom_series(Volume(array, np.diag([0.8, 0.8, 2.5, 1.0])), tmp_path / "ct")
    return tmp_path / "ct"


def _edit(files: list[Path], **changes: object) -> None:
    for path in files:
        ds = pydicom.dcmread(path)
        for key, value in changes.items():
            setattr(ds, key, value)
        ds.save_as(path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder") as err:
        read_volume(tmp_path / "nope.nii.gz")
    assert str(tmp_path / "nope.nii.gz") in str(err.value)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.nii.gz").touch()
    with pytest.raises(InputError, match="empty"):
        read_volume(tmp_path / "empty.nii.gz")


@pytest.mark.parametrize("name", ["junk.nii.gz", "junk.nii", "junk.nrrd", "junk.mha"])
def test_corrupt_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(1).bytes(3000))
    with pytest.raises(InputError, match="cannot read") as err:
        read_volume(path)
    assert name in str(err.value) and "\n" not in str(err.value)


def test_truncated_gzip_nifti(tmp_path: Path) -> None:
    good = _nifti(tmp_path / "good.nii.gz", np.ones((20, 20, 20), np.int16))
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match="cannot read as NIfTI"):
        read_volume(cut)


def test_truncated_plain_nifti(tmp_path: Path) -> None:
    good = _nifti(tmp_path / "good.nii", np.ones((20, 20, 20), np.int16))
    cut = tmp_path / "cut.nii"
    cut.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(InputError, match="cannot read as NIfTI"):
        read_volume(cut)


def test_corrupt_gzip_stream(tmp_path: Path) -> None:
    path = tmp_path / "bad.nii.gz"
    path.write_bytes(gzip.compress(b"not a nifti header at all" * 20))
    with pytest.raises(InputError, match="cannot read as NIfTI"):
        read_volume(path)


def test_2d_image(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="2D"):
        read_volume(_nifti(tmp_path / "flat.nii.gz", np.zeros((16, 16), np.int16)))
    with pytest.raises(InputError, match="2D"):
        read_volume(_nifti(tmp_path / "slice.nii.gz", np.zeros((16, 16, 1), np.int16)))


def test_4d_image(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="4D"):
        read_volume(_nifti(tmp_path / "t.nii.gz", np.zeros((8, 8, 8, 3), np.int16)))
    # A trailing axis of length 1 is just a 3D volume.
    assert read_volume(_nifti(tmp_path / "ok.nii.gz", np.zeros((8, 8, 8, 1), np.int16))).shape == (
        8,
        8,
        8,
    )


def test_unknown_format_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG....")
    with pytest.raises(UnsupportedFormatError, match=r"supported: dicom .*nifti \(\.nii"):
        read_volume(path)


def test_folder_without_dicom(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.dcm").write_bytes(b"garbage")
    with pytest.raises(InputError, match=r"no DICOM files found \(looked at 2 files"):
        read_volume(tmp_path)


def test_dicom_without_ct(tmp_path: Path) -> None:
    folder = _series(tmp_path)
    _edit(sorted(folder.iterdir()), Modality="MR", SOPClassUID="1.2.840.10008.5.1.4.1.1.4")
    with pytest.raises(InputError, match=r"no CT image series found; found: .*MR"):
        read_volume(folder)


def test_uneven_slice_spacing(tmp_path: Path) -> None:
    folder = _series(tmp_path)
    sorted(folder.iterdir())[2].unlink()
    with pytest.raises(InputError, match="uneven slice spacing"):
        read_volume(folder)


def test_gantry_tilt(tmp_path: Path) -> None:
    folder = _series(tmp_path)
    for path in sorted(folder.iterdir()):
        ds = pydicom.dcmread(path)
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y + 0.4 * z, z]  # sheared stack, 9 degrees
        ds.save_as(path)
    with pytest.raises(InputError, match="gantry tilt"):
        read_volume(folder)


def test_duplicate_positions(tmp_path: Path) -> None:
    folder = _series(tmp_path)
    files = sorted(folder.iterdir())
    ds = pydicom.dcmread(files[1])
    ds.ImagePositionPatient = pydicom.dcmread(files[0]).ImagePositionPatient
    ds.save_as(files[1])
    with pytest.raises(InputError, match="same position"):
        read_volume(folder)


def test_series_choice_and_request(tmp_path: Path) -> None:
    big = np.zeros((8, 6, 7), np.int16)
    small = np.full((8, 6, 3), 5, np.int16)
    from smoothseg.io import DicomSeriesMeta

    write_dicom_series(
        Volume(big, np.eye(4)),
        tmp_path / "study" / "big",
        DicomSeriesMeta(series_description="thin", series_number=3, uid_seed="a"),
    )
    write_dicom_series(
        Volume(small, np.eye(4)),
        tmp_path / "study" / "small",
        DicomSeriesMeta(series_description="thick", series_number=2, uid_seed="b"),
    )
    chosen = read_volume(tmp_path / "study")
    assert chosen.shape[2] == 7
    assert chosen.source.series is not None
    assert chosen.source.series.folder == "big"
    assert "most slices (7) of 2 CT series" in chosen.source.series.reason
    for key in ("2", "small", "thick"):
        assert read_volume(tmp_path / "study", series=key).shape[2] == 3
    with pytest.raises(InputError, match="matches no series; found: big"):
        read_volume(tmp_path / "study", series="99")


def test_rescale_slope_intercept_applied(tmp_path: Path) -> None:
    folder = _series(tmp_path)
    _edit(sorted(folder.iterdir()), RescaleSlope="2", RescaleIntercept="-1024")
    v = read_volume(folder, canonical=False)
    expected = np.arange(8 * 6 * 6).reshape(8, 6, 6) * 2 - 1024
    # DICOM is written in L,P,S order; the reader's native grid equals that order.
    assert v.array.dtype == np.int16
    assert sorted(v.array.ravel().tolist()) == sorted(expected.ravel().tolist())


def test_non_integer_rescale_gives_float(tmp_path: Path) -> None:
    folder = _series(tmp_path)
    _edit(sorted(folder.iterdir()), RescaleSlope="0.5")
    assert read_volume(folder).array.dtype == np.float32


def test_write_into_unwritable_place(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    vol = Volume(np.zeros((2, 2, 2), np.int16), np.eye(4))
    with pytest.raises(InputError, match="cannot write here"):
        write_volume(vol, blocker / "out.nii.gz")
