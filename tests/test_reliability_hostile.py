"""Hostile and careless inputs to the readers and the CLI (issue 18, docs/reliability.md).

Detached data files outside their header's folder, decompression bombs and oversized headers,
broken edge slices, FIFOs, single-slice series, complex voxels, absurd spacing, RGB secondary
captures, unreadable files and label maps given instead of a CT: each gets one clear line,
before anything is allocated or written. Every input is built small, in ``tmp_path``.
"""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from smoothseg.cli import main
from smoothseg.errors import InputError
from smoothseg.io import Volume, read_volume, write_dicom_series, write_volume
from smoothseg.io.limits import ENV_ALLOW_OUTSIDE, ReadLimits
from smoothseg.io.modality import LABEL_MAP_PROBLEM, check_ct_intensities

SC_STORAGE = "1.2.840.10008.5.1.4.1.1.7"


def cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the CLI in process; assert exit 2 with one ``error:`` line and no usage box."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    assert "Usage:" not in err and "╭" not in err and "Traceback" not in err, err
    return lines[0]


def _ct_array(shape: tuple[int, int, int] = (16, 16, 8)) -> np.ndarray:
    array = np.full(shape, 40, np.int16)
    array[:3] = -1000
    return array


def _series(folder: Path, n_slices: int = 20) -> list[Path]:
    volume = Volume(_ct_array((16, 16, n_slices)), np.diag([2.0, 2.0, 2.5, 1.0]))
    return write_dicom_series(volume, folder)


def _raw_beside(folder: Path, name: str = "data.raw") -> Path:
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    np.full((4, 4, 4), -1000, "<i2").tofile(path)
    return path


def _nrrd(path: Path, data_file: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "NRRD0004\ntype: short\ndimension: 3\nspace: left-posterior-superior\nsizes: 4 4 4\n"
        "space directions: (1,0,0) (0,1,0) (0,0,1)\nencoding: raw\nendian: little\n"
        f"data file: {data_file}\n\n"
    )
    return path


def _mha(path: Path, data_file: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementType = MET_SHORT\n"
        f"ElementSpacing = 1 1 1\nElementDataFile = {data_file}\n"
    )
    return path


# --- item 1: detached data files -------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda up, secret: _nrrd(up / "evil.nrrd", str(secret)),  # absolute path
        lambda up, secret: _nrrd(up / "evil.nhdr", "../secret/data.raw"),
        lambda up, secret: _nrrd(up / "list.nhdr", "LIST\n../secret/data.raw"),
        lambda up, secret: _nrrd(up / "fmt.nhdr", "../secret/dat%s.raw 0 0 1"),
        lambda up, secret: _mha(up / "evil.mha", "../secret/data.raw"),
        lambda up, secret: _mha(up / "evil.mhd", str(secret)),
    ],
    ids=["nrrd-absolute", "nhdr-relative", "nhdr-list", "nhdr-pattern", "mha", "mhd"],
)
def test_detached_data_outside_the_header_folder_is_refused(tmp_path: Path, make: object) -> None:
    secret = _raw_beside(tmp_path / "secret")
    (tmp_path / "secret" / "dat0.raw").write_bytes(secret.read_bytes())
    header = make(tmp_path / "up", secret)  # type: ignore[operator]
    with pytest.raises(InputError, match="data file outside its own folder") as err:
        read_volume(header)
    assert str(header) in str(err.value)


def test_a_link_beside_the_header_pointing_outside_is_refused(tmp_path: Path) -> None:
    secret = _raw_beside(tmp_path / "secret")
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "data.raw").symlink_to(secret)
    with pytest.raises(InputError, match="data file outside its own folder"):
        read_volume(_nrrd(tmp_path / "up" / "x.nhdr", "data.raw"))


def test_dev_zero_as_data_file_is_refused_even_when_outside_files_are_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = _nrrd(tmp_path / "zero.nhdr", "/dev/zero")
    with pytest.raises(InputError, match="outside its own folder"):
        read_volume(header)
    monkeypatch.setenv(ENV_ALLOW_OUTSIDE, "1")
    with pytest.raises(InputError, match="not a regular file"):
        read_volume(header)


def test_outside_data_files_can_be_allowed_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _raw_beside(tmp_path / "secret")
    header = _mha(tmp_path / "up" / "x.mha", "../secret/data.raw")
    monkeypatch.setenv(ENV_ALLOW_OUTSIDE, "1")
    assert read_volume(header).shape == (4, 4, 4)
    with pytest.raises(InputError, match="outside its own folder"):  # the web app's limits
        read_volume(header, limits=ReadLimits(confine_data_files=True))


@pytest.mark.parametrize("suffix", [".nhdr", ".mhd"])
@pytest.mark.parametrize("compress", [False, True])
def test_detached_data_beside_the_header_still_reads(
    tmp_path: Path, suffix: str, compress: bool
) -> None:
    image = sitk.GetImageFromArray(np.arange(60, dtype=np.int16).reshape(3, 4, 5) - 1000)
    sitk.WriteImage(image, str(tmp_path / f"x{suffix}"), useCompression=compress)
    volume = read_volume(tmp_path / f"x{suffix}", canonical=False)
    assert volume.shape == (5, 4, 3) and int(volume.array.min()) == -1000


def test_detached_header_claiming_more_than_its_file_holds_is_refused(tmp_path: Path) -> None:
    _raw_beside(tmp_path)  # 128 bytes
    header = tmp_path / "big.nhdr"
    header.write_text(
        "NRRD0004\ntype: short\ndimension: 3\nsizes: 64 64 64\nencoding: raw\nendian: little\n"
        "data file: data.raw\n"
    )
    with pytest.raises(InputError, match="file holds only 128 bytes"):
        read_volume(header)


# --- item 2: decompression bombs and declared sizes -------------------------------------------


def _zeros_nifti_gz(path: Path, shape: tuple[int, int, int]) -> Path:
    """A .nii.gz of int16 zeros: ~1000x compression, like a decompression bomb."""
    nib.save(nib.Nifti1Image(np.zeros(shape, np.int16), np.diag([1.0, 1.0, 1.0, 1.0])), path)
    return path


def test_gzip_nifti_bomb_is_refused_before_it_is_inflated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = _zeros_nifti_gz(tmp_path / "bomb.nii.gz", (128, 128, 128))  # 4 MiB inflated
    assert bomb.stat().st_size < 20_000
    monkeypatch.setenv("SMOOTHSEG_MAX_DECOMPRESSED_MB", "1")
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"above the limit of 1 MiB.*MAX_DECOMPRESSED_MB"):
            read_volume(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, peak  # the 4 MiB were never inflated


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".nrrd", ".mha"])
def test_declared_voxels_over_the_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    path = write_volume(Volume(_ct_array(), np.eye(4)), tmp_path / f"ct{suffix}")
    monkeypatch.setenv("SMOOTHSEG_MAX_VOXELS", "1000")
    with pytest.raises(InputError, match=r"16x16x8 volume \(2,048 voxels\), above the limit"):
        read_volume(path)
    monkeypatch.delenv("SMOOTHSEG_MAX_VOXELS")
    assert read_volume(path).shape == (16, 16, 8)


def test_nifti_extension_larger_than_its_header_is_refused(tmp_path: Path) -> None:
    img = nib.Nifti1Image(_ct_array(), np.eye(4))
    img.header["vox_offset"] = 352 + 32
    raw = bytearray(img.header.binaryblock)
    raw += b"\x01\x00\x00\x00" + struct.pack("<ii", 2**30, 0) + b"\0" * 24
    raw += _ct_array().tobytes(order="F")
    path = tmp_path / "ext.nii.gz"
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(InputError, match="header extension of 1073741824 bytes does not fit"):
        read_volume(path)


def test_read_limits_are_settings_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ReadLimits.from_env() == ReadLimits()
    assert ReadLimits().max_voxels == 512 * 512 * 2048
    assert ReadLimits().max_decompressed_bytes == 2 * 2**30
    monkeypatch.setenv("SMOOTHSEG_MAX_VOXELS", "1e6")
    assert ReadLimits.from_env().max_voxels == 1_000_000


# --- item 6: a broken slice at a series' edge ------------------------------------------------


@pytest.mark.parametrize("keep_bytes", [100, 400, 600])
def test_truncated_edge_slice_is_not_dropped_silently(tmp_path: Path, keep_bytes: int) -> None:
    files = _series(tmp_path / "ct")
    last = files[-1]
    last.write_bytes(last.read_bytes()[:keep_bytes])
    with pytest.raises(InputError, match="unreadable DICOM file beside the slices") as err:
        read_volume(tmp_path / "ct")
    assert last.name in str(err.value)


def test_unreadable_dicom_elsewhere_in_the_study_is_a_reader_warning(tmp_path: Path) -> None:
    _series(tmp_path / "study" / "ct", n_slices=6)
    (tmp_path / "study" / "other").mkdir()
    (tmp_path / "study" / "other" / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x01")
    volume = read_volume(tmp_path / "study")
    assert volume.shape[2] == 6
    assert any("broken.dcm" in w and "could not be read" in w for w in volume.source.warnings)


# --- item 11: a FIFO in a DICOM folder --------------------------------------------------------


def _read_in_child(path: Path) -> subprocess.CompletedProcess[str]:
    code = f"from smoothseg.io import read_volume; print(read_volume({str(path)!r}).shape)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_fifo_inside_a_dicom_folder_does_not_hang_the_reader(tmp_path: Path) -> None:
    _series(tmp_path / "ct", n_slices=4)
    os.mkfifo(tmp_path / "ct" / "pipe.dcm")
    done = _read_in_child(tmp_path / "ct")  # a hang raises TimeoutExpired
    assert done.returncode == 0, done.stderr
    assert "(16, 16, 4)" in done.stdout


def test_fifo_given_as_the_scan_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "scan.nii.gz")
    with pytest.raises(InputError, match="not a regular file"):
        read_volume(tmp_path / "scan.nii.gz")


# --- item 9: single slice, complex voxels, absurd spacing -------------------------------------


def test_single_slice_series_is_refused_before_predict_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _series(tmp_path / "ct", n_slices=1)
    out = tmp_path / "out"
    line = cli_error(capsys, "predict", "-i", str(tmp_path / "ct"), "-o", str(out))
    assert "single slice" in line and "3D volume" in line
    assert not (out / "labels.nii.gz").exists() and not (out / "seg.dcm").exists()


def test_complex_valued_image_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "complex.nii.gz"
    nib.save(nib.Nifti1Image(_ct_array().astype(np.complex64), np.eye(4)), path)
    line = cli_error(capsys, "info", str(path))
    assert "complex values (complex64)" in line and "magnitude" in line


@pytest.mark.parametrize("spacing", [1e4, 1e-6])
def test_absurd_spacing_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spacing: float
) -> None:
    path = tmp_path / "odd.nii.gz"
    affine = np.diag([spacing, spacing, spacing, 1.0])
    nib.save(nib.Nifti1Image(_ct_array(), affine), path)
    line = cli_error(capsys, "info", str(path))
    assert f"voxel spacing {spacing:.3g} x" in line and "implausible for a CT" in line


# --- item 13: messages ------------------------------------------------------------------------


def test_rgb_secondary_capture_says_why_it_is_not_usable(tmp_path: Path) -> None:
    for path in _series(tmp_path / "sc", n_slices=3):
        ds = pydicom.dcmread(path)
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SC_STORAGE
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.PixelData = np.zeros((ds.Rows, ds.Columns, 3), np.uint8).tobytes()
        ds.save_as(path)
    with pytest.raises(InputError, match="no CT image series found") as err:
        read_volume(tmp_path / "sc")
    assert "RGB colour Secondary Capture" in str(err.value)
    assert "not CT slices in Hounsfield units" in str(err.value)


def test_unreadable_file_is_one_line_not_a_usage_box(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_volume(Volume(_ct_array(), np.eye(4)), tmp_path / "locked.nii.gz")
    real_access = os.access
    monkeypatch.setattr(  # as for a non-root user and a mode-000 file (tests may run as root)
        os, "access", lambda p, mode, **kw: str(p) != str(path) and real_access(p, mode, **kw)
    )
    line = cli_error(capsys, "info", str(path))
    assert line == f"error: {path}: cannot read this file: permission denied"
    line = cli_error(capsys, "predict", "-i", str(path), "-o", str(tmp_path / "out"))
    assert "cannot read this file: permission denied" in line


def test_label_map_gets_the_shared_words_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = np.zeros((24, 24, 12), np.uint8)
    labels[5:15, 5:15, 3:9] = 1
    path = write_volume(Volume(labels, np.diag([4.0, 4.0, 4.0, 1.0])), tmp_path / "seg.nii.gz")
    line = cli_error(capsys, "predict", "-i", str(path), "-o", str(tmp_path / "out"))
    assert line == f"error: {path}: {LABEL_MAP_PROBLEM}"
    assert not (tmp_path / "out" / "labels.nii.gz").exists()


# --- item 4: NaN/inf in an image --------------------------------------------------------------


def test_partial_nan_image_is_refused_not_segmented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    array = _ct_array((24, 24, 12)).astype(np.float32)
    array[:, :, 6:] = np.nan
    volume = Volume(array, np.diag([4.0, 4.0, 4.0, 1.0]))
    with pytest.raises(InputError, match=r"3,456 NaN or infinite voxel\(s\) \(50% of"):
        check_ct_intensities(volume, "nan.nii.gz")
    path = write_volume(volume, tmp_path / "nan.nii.gz")
    line = cli_error(capsys, "predict", "-i", str(path), "-o", str(tmp_path / "out"))
    assert "NaN or infinite voxel(s)" in line


def test_dicom_series_declaring_more_voxels_than_the_limit_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _series(tmp_path / "ct", n_slices=6)
    monkeypatch.setenv("SMOOTHSEG_MAX_VOXELS", "1000")
    with pytest.raises(InputError, match=r"16x16x6 volume \(1,536 voxels\), above the limit"):
        read_volume(tmp_path / "ct")
