"""Writing a cohort: layout, manifest, clinical workbook, determinism, overwrite, CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smoothseg.cli import main
from smoothseg.clinical import COLUMN_NAMES
from smoothseg.errors import InputError, OutputExistsError, SmoothsegError
from smoothseg.io import read_volume
from smoothseg.phantom import MANIFEST_COLUMNS, generate_cohort


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("phantom") / "cohort"
    manifest = generate_cohort(out, n_cases=3, seed=7, preview=True)
    assert manifest == out / "manifest.csv"
    return out


def test_layout_and_manifest(cohort: Path) -> None:
    for name in ("clinical.xlsx", "clinical.csv", "manifest.json", "phantom_config.json"):
        assert (cohort / name).is_file()
    manifest = pd.read_csv(cohort / "manifest.csv")
    assert list(manifest.columns) == list(MANIFEST_COLUMNS)
    assert list(manifest["case_id"]) == ["PHANTOM_001", "PHANTOM_002", "PHANTOM_003"]
    records = json.loads((cohort / "manifest.json").read_text())
    assert [r["case_id"] for r in records] == list(manifest["case_id"])
    config = json.loads((cohort / "phantom_config.json").read_text())
    assert config["seed"] == 7 and config["n_cases"] == 3 and config["size"] == "small"
    for row in manifest.itertuples():
        image = read_volume(cohort / row.image)
        label = read_volume(cohort / row.label, kind="label")
        structures = read_volume(cohort / row.structures, kind="label")
        assert image.array.dtype == np.int16 and label.array.dtype == np.uint8
        assert image.shape == (row.shape_x, row.shape_y, row.shape_z)
        assert np.allclose(image.spacing_mm, (row.spacing_x_mm, row.spacing_y_mm, row.spacing_z_mm))
        assert label.grid.matches(image.grid) and structures.grid.matches(image.grid)
        lab = label.array
        tlvr = (lab == 2).sum() / max(1, (lab > 0).sum())
        assert tlvr == pytest.approx(row.tlvr, abs=1e-5)
        assert (lab > 0).sum() * label.voxel_volume_ml == pytest.approx(row.liver_ml, rel=1e-3)
        assert set(np.unique(structures.array)) <= {0, 1, 2, 3, 4}
        assert (cohort / row.preview).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        tumors = json.loads((cohort / f"cases/{row.case_id}/tumors.json").read_text())
        assert len(tumors) == row.n_tumors


def test_clinical_files_hold_one_row_per_case(cohort: Path) -> None:
    sheets = pd.read_excel(cohort / "clinical.xlsx", sheet_name=None)
    assert list(sheets) == ["data table", "glossary"]
    table = sheets["data table"]
    assert list(table.columns) == list(COLUMN_NAMES)
    assert list(table["TCIA_ID"]) == ["PHANTOM_001", "PHANTOM_002", "PHANTOM_003"]
    csv = pd.read_csv(cohort / "clinical.csv")
    pd.testing.assert_frame_equal(csv, table, check_dtype=False)


def test_same_seed_gives_byte_identical_files_and_prefix_cohorts(
    cohort: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    generate_cohort(again, n_cases=3, seed=7, preview=True)
    assert _digests(again) == _digests(cohort)
    shorter = tmp_path / "shorter"
    generate_cohort(shorter, n_cases=2, seed=7)
    full, short = _digests(cohort), _digests(shorter)
    for name in ("image.nii.gz", "label.nii.gz", "structures.nii.gz", "tumors.json"):
        for case in ("PHANTOM_001", "PHANTOM_002"):
            key = f"cases/{case}/{name}"
            assert short[key] == full[key]
    rows = pd.read_csv(shorter / "clinical.csv")
    pd.testing.assert_frame_equal(rows, pd.read_csv(cohort / "clinical.csv").iloc[:2])


def test_existing_output_is_protected_and_overwrite_replaces_cohort(tmp_path: Path) -> None:
    out = tmp_path / "c"
    generate_cohort(out, n_cases=2, seed=1)
    with pytest.raises(OutputExistsError):
        generate_cohort(out, n_cases=1, seed=1)
    generate_cohort(out, n_cases=1, seed=2, overwrite=True)
    assert sorted(p.name for p in (out / "cases").iterdir()) == ["PHANTOM_001"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    other = tmp_path / "precious"
    other.mkdir()
    (other / "thesis.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a phantom cohort"):
        generate_cohort(other, n_cases=1, overwrite=True)
    assert (other / "thesis.txt").read_text() == "keep me"
    with pytest.raises(SmoothsegError, match="at least 1"):
        generate_cohort(tmp_path / "none", n_cases=0)
    with pytest.raises(SmoothsegError, match="unknown phantom size"):
        generate_cohort(tmp_path / "none", n_cases=1, size="huge")


def test_cli_writes_cohort_and_reports_errors_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    with pytest.raises(SystemExit) as done:
        main(["phantom", "--out", str(out), "--cases", "1", "--seed", "3", "--preview"])
    assert done.value.code in (0, None)
    assert (out / "previews" / "PHANTOM_001.png").is_file()
    with pytest.raises(SystemExit) as refused:
        main(["phantom", "--out", str(out), "--cases", "1"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "already exists (pass --overwrite" in err and "Traceback" not in err
