"""Synthetic lesions: inside the liver, away from vessels, seeded."""

import numpy as np

from smoothseg.synthesis import LesionRequest, implant_lesions


def _scan() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    ct = (60 + 10 * rng.standard_normal((48, 48, 32))).astype(np.float32)
    z, y, x = np.ogrid[:48, :48, :32]
    liver = (z - 24) ** 2 + (y - 24) ** 2 + (x - 16) ** 2 * 2 < 20**2
    ct[20:28, 22:26, :] = 200.0  # a bright vessel
    return ct, liver


def test_lesions_inside_liver_away_from_vessels_and_seeded() -> None:
    ct, liver = _scan()
    req = LesionRequest(count=3, size_mm=(6.0, 10.0), contrast_hu=(-40.0, -30.0))
    a, tumor, lesions = implant_lesions(ct, liver, (2.0, 2.0, 2.0), req, np.random.default_rng(5))
    b, tumor_b, _ = implant_lesions(ct, liver, (2.0, 2.0, 2.0), req, np.random.default_rng(5))
    assert a.tobytes() == b.tobytes() and (tumor == tumor_b).all()
    assert tumor.any() and not (tumor & ~liver).any()
    assert len(lesions) == 3
    for lesion in lesions:
        assert 6.0 <= lesion.diameter_mm <= 10.0 and -40 <= lesion.contrast_hu <= -30
        assert ct[lesion.center_ijk] < 150
    assert float(np.median(a[tumor] - ct[tumor])) < -15


def test_label_map_on_ct_grid() -> None:
    from smoothseg.io import Volume
    from smoothseg.synthesis import synthesize_volume

    ct, liver = _scan()
    affine = np.diag([1.5, 0.8, 2.5, 1.0])
    new_ct, labels, _ = synthesize_volume(
        Volume(ct, affine),
        Volume(liver.astype(np.uint8), affine, kind="label"),
        LesionRequest(count=1, size_mm=(8.0, 8.0)),
        np.random.default_rng(1),
    )
    assert labels.grid.matches(new_ct.grid) and labels.shape == ct.shape
    assert set(np.unique(labels.array)) == {0, 1, 2}


def test_cli_synthesize_nifti(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from smoothseg.cli import app
    from smoothseg.io import Volume, read_volume, write_volume

    ct, liver = _scan()
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    write_volume(Volume(ct, affine), tmp_path / "ct.nii.gz")
    write_volume(Volume(liver.astype(np.uint8), affine, kind="label"), tmp_path / "liver.nii.gz")
    args = [
        "synthesize",
        "--ct",
        str(tmp_path / "ct.nii.gz"),
        "--liver",
        str(tmp_path / "liver.nii.gz"),
        "--out",
        str(tmp_path / "o"),
        "--size-mm",
        "6",
        "10",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    labels = read_volume(tmp_path / "o" / "labels.nii.gz", kind="label")
    assert labels.shape == ct.shape and (labels.array == 2).any()
