"""Round trips through every writer and the DICOM series writer keep array and geometry."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from smoothseg.errors import GeometryError, OutputExistsError
from smoothseg.io import (
    READERS,
    WRITERS,
    Volume,
    read_volume,
    write_dicom_series,
    write_volume,
)

FILE_SUFFIXES = [".nii.gz", ".nii", ".nrrd", ".mha"]


def assert_same(a: Volume, b: Volume, atol_mm: float = 1e-6) -> None:
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.array, b.array)
    np.testing.assert_allclose(a.affine, b.affine, rtol=0, atol=atol_mm)


@pytest.mark.parametrize("suffix", FILE_SUFFIXES)
def test_file_round_trip_is_exact(tmp_path: Path, oblique_volume: Volume, suffix: str) -> None:
    canonical = oblique_volume.to_canonical()
    path = write_volume(canonical, tmp_path / f"vol{suffix}")
    # Written on the native grid: reading without reorientation gives the original back.
    raw = read_volume(path, canonical=False, kind="image")
    assert_same(raw, oblique_volume)
    assert raw.array.dtype == np.int16
    back = read_volume(path, kind="image")
    assert_same(back, canonical)
    assert back.native is not None and back.native.matches(oblique_volume.grid)


@pytest.mark.parametrize("suffix", FILE_SUFFIXES)
def test_label_round_trip_keeps_values(tmp_path: Path, oblique_volume: Volume, suffix: str) -> None:
    labels = np.zeros(oblique_volume.shape, np.int64)
    labels[1:4, 2:4, 1:3] = 1
    labels[2, 3, 2] = 2
    mask = oblique_volume.with_array(labels, kind="label")
    back = read_volume(write_volume(mask, tmp_path / f"mask{suffix}"), canonical=False)
    assert back.kind == "label"
    assert back.array.dtype == np.uint8
    np.testing.assert_array_equal(back.array, labels)


def test_dicom_series_round_trip_is_exact(tmp_path: Path, oblique_volume: Volume) -> None:
    files = write_dicom_series(oblique_volume, tmp_path / "series")
    assert len(files) == oblique_volume.shape[2]
    back = read_volume(tmp_path / "series")
    assert back.source.format == "dicom" and back.source.modality == "CT"
    assert back.source.series is not None and back.source.series.n_slices == 4
    assert_same(back, oblique_volume.to_canonical(), atol_mm=1e-5)


def test_dicom_series_is_deterministic(tmp_path: Path, oblique_volume: Volume) -> None:
    a = write_dicom_series(oblique_volume, tmp_path / "a")
    b = write_dicom_series(oblique_volume, tmp_path / "b")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_dicom_refuses_non_orthogonal_slices(tmp_path: Path) -> None:
    affine = np.array([[1.0, 0, 0.3, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]])
    with pytest.raises(GeometryError, match="perpendicular"):
        write_dicom_series(Volume(np.zeros((4, 4, 3), np.int16), affine), tmp_path / "s")


def test_mask_lands_on_the_image_native_grid_nifti(tmp_path: Path, oblique_volume: Volume) -> None:
    image_path = write_volume(oblique_volume, tmp_path / "image.nii.gz")
    image = read_volume(image_path)
    mask = image.with_array((image.array > 0).astype(np.uint8), kind="label")
    mask_path = write_volume(mask, tmp_path / "mask.nii.gz", reference=image)
    a, b = nib.load(image_path), nib.load(mask_path)
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.affine, b.affine)
    np.testing.assert_array_equal(a.header.get_qform(), b.header.get_qform())
    np.testing.assert_array_equal(np.asarray(b.dataobj), oblique_volume.array > 0)


def test_mask_lands_on_the_image_native_grid_nrrd(tmp_path: Path, oblique_volume: Volume) -> None:
    image_path = write_volume(oblique_volume, tmp_path / "image.nrrd")
    image = read_volume(image_path)
    mask = image.with_array((image.array > 100).astype(np.uint8), kind="label")
    mask_path = write_volume(mask, tmp_path / "mask.nrrd", reference=image)
    a, b = sitk.ReadImage(str(image_path)), sitk.ReadImage(str(mask_path))
    assert a.GetSize() == b.GetSize()
    assert a.GetSpacing() == b.GetSpacing()
    assert a.GetOrigin() == b.GetOrigin()
    assert a.GetDirection() == b.GetDirection()


def test_mask_on_a_different_grid_is_refused(tmp_path: Path, oblique_volume: Volume) -> None:
    image = oblique_volume.to_canonical()
    other = Volume(np.zeros((3, 3, 3), np.uint8), np.eye(4), kind="label")
    with pytest.raises(GeometryError, match="does not match"):
        write_volume(other, tmp_path / "m.nii.gz", reference=image)


def test_existing_output_needs_overwrite(tmp_path: Path, oblique_volume: Volume) -> None:
    path = write_volume(oblique_volume, tmp_path / "v.nii.gz")
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="--overwrite"):
        write_volume(oblique_volume, path)
    assert path.read_bytes() == before
    write_volume(oblique_volume.with_array(oblique_volume.array * 0), path, overwrite=True)
    assert read_volume(path).array.max() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.nii.gz"]  # no temp files left


def test_failed_write_leaves_nothing(tmp_path: Path, oblique_volume: Volume) -> None:
    class Boom(Exception):
        pass

    spec = WRITERS.get("nifti")

    def explode(volume: Volume, path: Path) -> None:
        path.write_bytes(b"partial")
        raise Boom

    object.__setattr__(spec, "write", explode)
    try:
        with pytest.raises(Boom):
            write_volume(oblique_volume, tmp_path / "v.nii.gz")
    finally:
        from smoothseg.io.nifti import write_nifti

        object.__setattr__(spec, "write", write_nifti)
    assert list(tmp_path.iterdir()) == []


def test_registries_list_formats() -> None:
    assert READERS.names() == ["dicom", "mha", "nifti", "nrrd"]
    assert WRITERS.names() == ["mha", "nifti", "nrrd"]
    assert "nifti (.nii, .nii.gz)" in READERS.supported()


def test_written_files_get_normal_permissions(tmp_path: Path, oblique_volume: Volume) -> None:
    import os

    mask = os.umask(0o022)
    try:
        path = write_volume(oblique_volume, tmp_path / "v.nii.gz")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644
