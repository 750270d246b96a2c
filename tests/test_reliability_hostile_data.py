"""Careless data in prepare, clinical fit, split, evaluate and training (issue 18).

Each case used to end in silent garbage or an internal error: all-NaN, label-map and MR images
prepared as CT, NaN weights reported as a finished training, constant soft labels from empty
features, ids that differ only in letter case, ``age=1e308``, duplicate or blank case ids,
a negative seed, and an evaluation that matched nothing. Now each is one clear line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smoothseg.cli import main
from smoothseg.clinical.api import ClinicalConfig, fit_clinical
from smoothseg.clinical.cohort import Case
from smoothseg.clinical.table import read_clinical_table
from smoothseg.datasets import PrepareConfig, make_splits, prepare_dataset, read_manifest
from smoothseg.datasets.manifest import ManifestRow, write_manifest
from smoothseg.datasets.splits import SplitConfig
from smoothseg.errors import InputError
from smoothseg.evaluation.pairing import pair_cases
from smoothseg.io import Volume, write_volume
from smoothseg.io.modality import LABEL_MAP_PROBLEM
from training_data import TINY_SHAPE, tiny_cache, tiny_case


def cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- item 4: prepare and training -------------------------------------------------------------


def test_prepare_skips_nan_label_map_and_mr_images_with_one_line_each(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    good, label = tiny_case(0, rng)
    images = {
        "GOOD": good,
        "ALLNAN": np.full(TINY_SHAPE, np.nan, np.float32),
        "LABELMAP": label,
        "MR": rng.uniform(0, 900, TINY_SHAPE).astype(np.float32),
    }
    affine = np.diag([8.0, 8.0, 10.0, 1.0])
    for case_id, image in images.items():
        folder = tmp_path / "pairs" / "cases" / case_id
        write_volume(Volume(image, affine), folder / "image.nii.gz")
        write_volume(Volume(label, affine, kind="label"), folder / "label.nii.gz")
    result = prepare_dataset(PrepareConfig("pairs", tmp_path / "pairs", tmp_path / "cache"))
    outcomes = {o.case_id: o for o in result.outcomes}
    assert outcomes["GOOD"].status == "prepared"
    assert [r.case_id for r in read_manifest(tmp_path / "cache")] == ["GOOD"]
    reasons = {k: o.reason for k, o in outcomes.items() if o.status == "skipped"}
    assert "image holds no finite value (all NaN/inf)" in reasons["ALLNAN"]
    assert LABEL_MAP_PROBLEM in reasons["LABELMAP"]
    assert "not a CT in Hounsfield units" in reasons["MR"]
    assert all("\n" not in r for r in reasons.values())


def test_training_stops_when_the_weights_become_nan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tiny_cache(tmp_path, n_cases=4)
    for image_file in sorted((cache / "cases").glob("*/image.npy")):  # a cache from before the
        image = np.load(image_file).astype(np.float32)  # CT check, holding NaN voxels
        image[:, :, : image.shape[2] // 2] = np.nan
        np.save(image_file, image)
    splits = tmp_path / "splits.json"
    with pytest.raises(SystemExit) as done:
        main(["split", "--manifest", str(cache), "--replications", "1", "--out", str(splits)])
    assert done.value.code == 0
    run = tmp_path / "run"
    line = cli_error(
        capsys, "train", "liver", "--data", str(cache), "--split", str(splits), "--out",
        str(run), "--preset", "cpu-small", "--model", "unet", "--max-epochs", "2",
        "--no-progress",
    )  # fmt: skip
    assert "training diverged in epoch 1" in line and "NaN or infinite" in line
    assert not (run / "bundle").exists()


# --- item 7 and 9: clinical tables ------------------------------------------------------------


def _cases(ids: list[str]) -> list[Case]:
    rng = np.random.default_rng(1)
    return [Case(i, float(rng.uniform(0.05, 0.5))) for i in ids]


IDS = [f"HCC_{i:03d}" for i in range(1, 21)]


def test_clinical_fit_on_empty_features_is_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame({"TCIA_ID": IDS, "age": [None] * 20, "AFP": [None] * 20})
    frame.to_csv(tmp_path / "empty.csv", index=False)
    table = read_clinical_table(tmp_path / "empty.csv")
    with pytest.raises(InputError, match=r"every feature column .* is empty for the 20 training"):
        fit_clinical(table, _cases(IDS), ClinicalConfig(trees=5))


def test_ids_differing_only_in_letter_case_are_duplicates(tmp_path: Path) -> None:
    pd.DataFrame({"TCIA_ID": ["HCC_005", "hcc_005"], "age": [50, 60]}).to_csv(
        tmp_path / "dup.csv", index=False
    )
    with pytest.raises(InputError, match=r"duplicate TCIA_ID value.*HCC_005 / hcc_005"):
        read_clinical_table(tmp_path / "dup.csv")


def test_absurd_clinical_number_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ages = ["1e308", *[str(50 + k) for k in range(19)]]
    frame = pd.DataFrame({"TCIA_ID": IDS, "age": ages, "AFP": [10 * k for k in range(20)]})
    frame.to_csv(tmp_path / "big.csv", index=False)
    with pytest.raises(InputError, match=r"column 'age': value 1e\+308 of HCC_001"):
        read_clinical_table(tmp_path / "big.csv")
    manifest = tmp_path / "cases.csv"
    manifest.write_text("case_id,tlvr\n" + "".join(f"{i},0.2\n" for i in IDS))
    line = cli_error(
        capsys, "clinical", "fit", "--table", str(tmp_path / "big.csv"), "--manifest",
        str(manifest), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert "big.csv" in line and "not a plausible number" in line


# --- item 7 and 9: splits and evaluation ------------------------------------------------------


def _row(case_id: str) -> ManifestRow:
    return ManifestRow(
        case_id, "", "pairs", f"cases/{case_id}/image.npy", f"cases/{case_id}/label.npy",
        "", "", "", "", (8, 8, 8), (1.0, 1.0, 1.0), 10.0, 1.0, 0.1, 1, 5.0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("ids", "needle"),
    [
        (["a", "b", "a"], "duplicate case_id 'a'"),
        (["HCC_005", "b", "hcc_005"], "duplicate case_id 'HCC_005' and 'hcc_005'"),
        (["a", " ", "b"], "blank case_id"),
    ],
)
def test_split_refuses_duplicate_and_blank_case_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ids: list[str], needle: str
) -> None:
    write_manifest([_row(i) for i in ids], tmp_path)
    line = cli_error(capsys, "split", "--manifest", str(tmp_path))
    assert needle in line
    assert not (tmp_path / "splits.json").exists()
    with pytest.raises(InputError, match="blank case_id"):
        make_splits({"a": "a", "": "b", "c": "c"}, SplitConfig())


def test_negative_split_seed_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_manifest([_row(i) for i in ("a", "b", "c")], tmp_path)
    line = cli_error(capsys, "split", "--manifest", str(tmp_path), "--seed", "-1")
    assert line == "error: --seed: must be a non-negative integer, got -1"


def test_evaluate_with_no_matching_prediction_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    label = np.zeros((8, 8, 8), np.uint8)
    label[2:6, 2:6, 2:6] = 1
    for name in ("c1", "c2"):
        write_volume(Volume(label, np.eye(4), kind="label"), tmp_path / "ref" / f"{name}.nii.gz")
    write_volume(Volume(label, np.eye(4), kind="label"), tmp_path / "pred" / "other.nii.gz")
    with pytest.raises(InputError, match="no prediction matches a reference case"):
        pair_cases(tmp_path / "pred", tmp_path / "ref")
    line = cli_error(
        capsys, "evaluate", "--pred", str(tmp_path / "pred"), "--ref", str(tmp_path / "ref"),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert "predictions: other; references: c1, c2" in line
