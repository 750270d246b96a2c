"""``smoothseg clinical fit`` / ``inspect`` end to end on a small phantom cohort."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from smoothseg import phantom
from smoothseg.cli import main

FILES = (
    "soft_labels.csv",
    "soft_labels_missing.csv",
    "model.json",
    "config.json",
    "report.md",
    "tlvr_scatter.png",
    "coefficients.png",
)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "cohort"
    phantom.generate_cohort(folder, n_cases=8, seed=1, size="small")
    return folder


def test_fit_writes_soft_labels_and_report(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "clin"
    args = (
        "clinical",
        "fit",
        "--table",
        str(cohort / "clinical.xlsx"),
        "--manifest",
        str(cohort / "manifest.csv"),
        "--out",
        str(out),
        "--trees",
        "10",
        "--folds",
        "4",
    )
    code, stdout, stderr = cli(capsys, *args)
    assert code == 0, stderr
    for name in FILES:
        assert (out / name).is_file(), name
    labels = pd.read_csv(out / "soft_labels.csv", dtype={"fold": str})
    assert list(labels.columns) == ["case_id", "tlvr", "tlvr_hat", "fold"]
    manifest = pd.read_csv(cohort / "manifest.csv")
    assert sorted(labels["case_id"]) == sorted(manifest["case_id"])
    assert labels["tlvr_hat"].between(0, 1).all()
    assert set(labels["fold"]) == {"1", "2", "3", "4"}
    assert (out / "soft_labels_missing.csv").read_text() == "case_id,reason\n"
    report = (out / "report.md").read_text()
    assert "Pearson r" in report and "MSE" in report and "MAE" in report
    assert "tlvr_scatter.png" in report and "coefficients.png" in report
    assert "paper's Table A1" in report
    doc = json.loads((out / "model.json").read_text())
    assert {"features", "encoding", "scaler", "coefficients"} <= set(doc["model"])
    assert doc["config"]["preset"] == "paper"
    assert "out-of-fold" in stdout
    assert "T_involvment" in stderr  # leakage warning: a flagged column is in the model?
    # Nothing is overwritten without --overwrite; with it, the run succeeds.
    code, _, stderr = cli(capsys, *args)
    assert code == 2 and "already exists" in stderr
    code, _, stderr = cli(capsys, *args, "--overwrite", "--preset", "strict", "--no-compare")
    assert code == 0, stderr
    assert json.loads((out / "config.json").read_text())["preset"] == "strict"


def test_fit_with_split_and_cache_manifest(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smoothseg.datasets import ManifestRow, SplitConfig, make_splits, write_manifest
    from smoothseg.datasets.splits import write_splits

    phantom = pd.read_csv(cohort / "manifest.csv")
    rows = [
        ManifestRow(
            case_id=r.case_id,
            patient_id=r.case_id,
            format="phantom",
            image="i",
            label="l",
            image_source="",
            label_source="",
            image_series_uid="",
            label_series_uid="",
            shape=(4, 4, 4),
            spacing_mm=(1.0, 1.0, 1.0),
            liver_ml=r.liver_ml,
            tumor_ml=r.tumor_ml,
            tlvr=r.tlvr,
            lesion_count=1,
            largest_lesion_diameter_mm=1.0,
        )
        for r in phantom.itertuples()
    ]
    rows.append(replace_id(rows[0], "NO_ROW_CASE"))
    cache = tmp_path / "cache"
    cache.mkdir()
    write_manifest(rows, cache)
    config = SplitConfig(replications=2, test_fraction=0.25, val_fraction=0.1, seed=3)
    splits = make_splits({r.case_id: r.case_id for r in rows}, config)
    write_splits(splits, config, tmp_path / "splits.json")
    out = tmp_path / "out"
    code, _, stderr = cli(
        capsys,
        "clinical",
        "fit",
        "--table",
        str(cohort / "clinical.csv"),
        "--manifest",
        str(cache),
        "--split",
        str(tmp_path / "splits.json"),
        "--replication",
        "2",
        "--out",
        str(out),
        "--no-compare",
        "--folds",
        "3",
    )
    assert code == 0, stderr
    labels = pd.read_csv(out / "soft_labels.csv", dtype={"fold": str})
    part = splits[1]
    test_ids = set(part.test) - {"NO_ROW_CASE"}
    assert set(labels.loc[labels["fold"] == "test", "case_id"]) == test_ids
    train = labels[labels["fold"] != "test"]
    assert set(train["case_id"]) == ({*part.train, *part.val} - {"NO_ROW_CASE"})
    missing = pd.read_csv(out / "soft_labels_missing.csv")
    assert missing.to_dict("records") == [{"case_id": "NO_ROW_CASE", "reason": "no clinical row"}]
    assert "replication_2" in (out / "report.md").read_text()
    code, _, stderr = cli(
        capsys,
        "clinical",
        "fit",
        "--table",
        str(cohort / "clinical.csv"),
        "--manifest",
        str(cache),
        "--split",
        str(tmp_path / "splits.json"),
        "--out",
        str(tmp_path / "o2"),
    )
    assert code == 2 and "--replication N or --fold N" in stderr
    code, _, stderr = cli(
        capsys,
        "clinical",
        "fit",
        "--table",
        str(cohort / "clinical.csv"),
        "--manifest",
        str(cache),
        "--split",
        str(tmp_path / "splits.json"),
        "--fold",
        "1",
        "--out",
        str(tmp_path / "o3"),
    )
    assert code == 2 and "no split part 'fold_1'" in stderr


def replace_id(row: object, case_id: str) -> object:
    from dataclasses import replace

    return replace(row, case_id=case_id, patient_id=case_id)  # type: ignore[type-var]


def test_bad_inputs_give_one_line_errors(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd.DataFrame({"case_id": ["PHANTOM_001"], "liver": [1.0]}).to_csv(tmp_path / "m.csv")
    code, _, stderr = cli(
        capsys,
        "clinical",
        "fit",
        "--table",
        str(cohort / "clinical.xlsx"),
        "--manifest",
        str(tmp_path / "m.csv"),
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and "lacks column(s) tlvr" in stderr and "Traceback" not in stderr
    code, _, stderr = cli(
        capsys,
        "clinical",
        "fit",
        "--table",
        str(cohort / "clinical.xlsx"),
        "--manifest",
        str(cohort / "manifest.csv"),
        "--out",
        str(tmp_path / "o"),
        "--exclude",
        "TPP",
    )
    assert code == 2 and "did you mean TTP" in stderr


def test_inspect(cohort: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, stderr = cli(
        capsys, "clinical", "inspect", "--table", str(cohort / "clinical.xlsx")
    )
    assert code == 0, stderr
    assert "T_involvment" in stdout and "imaging extent" in stdout and "57 columns" in stdout
    code, stdout, _ = cli(
        capsys, "clinical", "inspect", "--table", str(cohort / "clinical.xlsx"), "--json"
    )
    doc = json.loads(stdout)
    assert doc["n_rows"] == 8 and len(doc["columns"]) == 56


def test_fit_paper_mode(cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "paper"
    args = ("clinical", "fit", "--table", str(cohort / "clinical.xlsx"), "--manifest")
    args += (str(cohort / "manifest.csv"), "--out", str(out), "--mode", "paper", "--no-compare")
    code, _, stderr = cli(capsys, *args)
    assert code == 0, stderr
    labels = pd.read_csv(out / "soft_labels.csv", dtype={"fold": str})
    assert set(labels["fold"]) == {"in-sample"}
    assert "mode: `paper`" in (out / "report.md").read_text()
    assert json.loads((out / "config.json").read_text())["mode"] == "paper"
    code, _, stderr = cli(capsys, *args[:-3], "--mode", "bogus", "--overwrite")
    assert code == 2 and "--mode" in stderr
