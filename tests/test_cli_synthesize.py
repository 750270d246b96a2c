"""``smoothseg synthesize`` end to end: NIfTI and DICOM input, native grid, same seed same bytes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from smoothseg.cli import app
from smoothseg.errors import InputError, OutputExistsError
from smoothseg.io import Volume, read_volume, write_dicom_series, write_volume
from smoothseg.phantom.cohort import cohort_case
from smoothseg.phantom.config import PhantomConfig
from smoothseg.synthesis import SynthesisConfigError


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A held-out phantom written as LPS NIfTI, as a DICOM series, and its liver mask."""
    root = tmp_path_factory.mktemp("synth")
    case = cohort_case(1, 1234, PhantomConfig.preset("small"))
    image = case.image.reoriented(("L", "P", "S"))  # a non-canonical native grid
    image = replace(image, native=None)
    liver = image.with_array(
        (np.asarray(case.labels.reoriented(("L", "P", "S")).array) > 0).astype(np.uint8),
        kind="label",
    )
    write_volume(image, root / "ct.nii.gz")
    write_volume(liver, root / "liver.nii.gz")
    write_dicom_series(image.with_array(np.rint(image.array).astype(np.int16)), root / "dicom")
    return root / "ct.nii.gz", root / "dicom", root / "liver.nii.gz"


def _run(*args: str) -> None:
    result = CliRunner().invoke(app, ["synthesize", *args])
    assert result.exit_code == 0, result.output


def test_nifti_native_grid_and_same_seed_same_bytes(phantom, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ct, _, liver = phantom
    common = ["--ct", str(ct), "--liver", str(liver), "--count", "2", "--size-mm", "15", "30"]
    _run(*common, "--out", str(tmp_path / "a"), "--seed", "3")
    _run(*common, "--out", str(tmp_path / "b"), "--seed", "3")
    _run(*common, "--out", str(tmp_path / "c"), "--seed", "4")
    for name in ("ct.nii.gz", "labels.nii.gz", "lesions.json", "preview.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "ct.nii.gz").read_bytes() != (
        tmp_path / "c" / "ct.nii.gz"
    ).read_bytes()
    native = read_volume(ct, canonical=False).grid
    labels = read_volume(tmp_path / "a" / "labels.nii.gz", kind="label", canonical=False)
    new_ct = read_volume(tmp_path / "a" / "ct.nii.gz", kind="image", canonical=False)
    assert labels.grid.matches(native) and new_ct.grid.matches(native)
    lab = np.asarray(labels.array)
    ref_liver = np.asarray(read_volume(liver, kind="label", canonical=False).array) > 0
    assert (lab == 2).any() and not ((lab > 0) & ~ref_liver).any()
    assert ((lab > 0) == ref_liver).all()


def test_dicom_in_dicom_out(phantom, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, dicom, liver = phantom
    out = tmp_path / "d"
    _run(
        "--ct",
        str(dicom),
        "--liver",
        str(liver),
        "--out",
        str(out),
        "--size-mm",
        "20",
        "20",
        "--contrast-hu",
        "-40",
        "-20",
    )
    native = read_volume(dicom, canonical=False).grid
    labels = read_volume(out / "labels.nii.gz", kind="label", canonical=False)
    assert labels.grid.matches(native)
    new_ct = read_volume(out / "ct", kind="image", canonical=False)
    assert new_ct.grid.matches(native) and new_ct.source.format == "dicom"
    assert (out / "seg.dcm").is_file() and (out / "preview.png").stat().st_size > 1000
    from smoothseg.io.dicom import read_dicom_series
    from smoothseg.io.dicom_seg_read import read_dicom_seg

    seg = read_dicom_seg(out / "seg.dcm", read_dicom_series(out / "ct"))
    seg_native = seg.label.to_canonical().on_grid_of(new_ct.to_canonical()).to_native()
    assert (np.asarray(seg_native.array) == np.asarray(labels.array)).all()


def test_auto_liver_and_bad_input(phantom, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ct, _, liver = phantom
    out = tmp_path / "auto"
    _run("--ct", str(ct), "--auto-liver", "--out", str(out), "--plain", "--size-mm", "15", "15")
    lab = np.asarray(read_volume(out / "labels.nii.gz", kind="label", canonical=False).array)
    ref = np.asarray(read_volume(liver, kind="label", canonical=False).array) > 0
    dice = 2 * ((lab > 0) & ref).sum() / ((lab > 0).sum() + ref.sum())
    assert dice > 0.85 and (lab == 2).any()
    runner = CliRunner()
    both = runner.invoke(
        app,
        ["synthesize", "--ct", str(ct), "--out", str(out), "--liver", str(liver), "--auto-liver"],
    )
    assert isinstance(both.exception, InputError)
    again = runner.invoke(
        app, ["synthesize", "--ct", str(ct), "--liver", str(liver), "--out", str(out)]
    )
    assert isinstance(again.exception, OutputExistsError)  # no --overwrite
    big = runner.invoke(
        app,
        [
            "synthesize",
            "--ct",
            str(ct),
            "--liver",
            str(liver),
            "--out",
            str(tmp_path / "x"),
            "--size-mm",
            "10",
            "200",
        ],
    )
    assert isinstance(big.exception, SynthesisConfigError)


def test_bad_input_is_one_line(phantom, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from smoothseg.cli import main

    ct, _, liver = phantom
    empty = tmp_path / "empty.nii.gz"
    mask = read_volume(liver, kind="label", canonical=False)
    write_volume(mask.with_array(np.zeros(mask.shape, np.uint8)), empty)
    small = tmp_path / "small.nii.gz"
    write_volume(Volume(np.ones((8, 8, 8), np.uint8), np.eye(4), kind="label"), small)
    for liver_file, problem in ((empty, "liver mask is empty"), (small, "grids differ")):
        with pytest.raises(SystemExit) as exit_info:
            main(
                [
                    "synthesize",
                    "--ct",
                    str(ct),
                    "--liver",
                    str(liver_file),
                    "--out",
                    str(tmp_path / "o"),
                ]
            )
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and problem in err and len(err.strip().splitlines()) == 1
