"""Pairing predictions with references; ``smoothseg evaluate`` end to end on tiny NIfTI files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from smoothseg.cli import main
from smoothseg.datasets.base import CaseSource, LoadedCase
from smoothseg.datasets.cache import write_cached_case
from smoothseg.datasets.labels import label_stats
from smoothseg.datasets.manifest import ManifestRow, write_manifest
from smoothseg.errors import InputError
from smoothseg.evaluation import (
    EvaluationConfig,
    evaluate_predictions,
    find_label_files,
    pair_cases,
    write_evaluation,
)
from smoothseg.io import Volume, write_volume

AFFINE = np.diag([-0.8, -0.8, 2.5, 1.0])  # LPS-ordered voxels: exercises canonical RAS
AFFINE[:3, 3] = [40.0, 30.0, -50.0]


def labels(tumor_shift: int = 0, tumor: bool = True) -> np.ndarray:
    arr = np.zeros((24, 20, 10), np.uint8)
    arr[3:20, 3:17, 2:8] = 1
    if tumor:
        arr[6 + tumor_shift : 12 + tumor_shift, 6:12, 3:6] = 2
        arr[15:17, 13:15, 4:6] = 2
    return arr


def save(path: Path, array: np.ndarray, affine: np.ndarray = AFFINE) -> Path:
    return write_volume(Volume(array, affine, kind="label"), path, overwrite=True)


def make_case_folders(tmp_path: Path) -> tuple[Path, Path]:
    ref, pred = tmp_path / "ref", tmp_path / "pred"
    save(ref / "c1.nii.gz", labels())
    save(ref / "c2.nii.gz", labels())
    save(ref / "c3.nii.gz", labels(tumor=False))
    save(pred / "c1.nii.gz", labels())  # perfect
    save(pred / "c2" / "label.nii.gz", labels(tumor_shift=1))  # the predict layout
    save(pred / "zz.nii.gz", labels())  # no reference
    return pred, ref


def cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    return int(exc.value.code or 0)


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return {r["case_id"]: r for r in csv.DictReader(f)}


def test_label_folder_layouts(tmp_path: Path) -> None:
    save(tmp_path / "a.nii.gz", labels())
    save(tmp_path / "b" / "label.nii.gz", labels())
    save(tmp_path / "c" / "c_tumor_label.nii", labels())
    (tmp_path / "d").mkdir()  # no label inside: ignored
    (tmp_path / ".e.nii.gz").write_bytes(b"unfinished")
    found = find_label_files(tmp_path)
    assert sorted(found) == ["a", "b", "c"]
    assert found["b"].name == "label.nii.gz"


def test_label_suffix_files_take_precedence_over_images(tmp_path: Path) -> None:
    save(tmp_path / "x_label.nii.gz", labels())
    save(tmp_path / "x_image.nii.gz", labels())
    assert list(find_label_files(tmp_path)) == ["x"]


def test_duplicate_and_ambiguous_ids_are_errors(tmp_path: Path) -> None:
    save(tmp_path / "one" / "a.nii.gz", labels())
    save(tmp_path / "one" / "a" / "label.nii.gz", labels())
    with pytest.raises(InputError, match="found twice"):
        find_label_files(tmp_path / "one")
    save(tmp_path / "two" / "b" / "liver_label.nii.gz", labels())
    save(tmp_path / "two" / "b" / "tumor_label.nii.gz", labels())
    with pytest.raises(InputError, match="several label files"):
        find_label_files(tmp_path / "two")


def test_pairing_reports_missing_and_unmatched(tmp_path: Path) -> None:
    pred, ref = make_case_folders(tmp_path)
    pairing = pair_cases(pred, ref)
    assert [p.case_id for p in pairing.pairs] == ["c1", "c2", "c3"]
    assert pairing.missing == ("c3",)
    assert pairing.unmatched_predictions == ("zz",)


def test_phantom_cohort_root_is_read_through_its_cases_folder(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort"
    save(cohort / "cases" / "P1" / "label.nii.gz", labels())
    save(cohort / "cases" / "P1" / "image.nii.gz", labels())
    (cohort / "manifest.json").write_text('[{"case_id": "P1"}]')  # not a prepare manifest
    pairing = pair_cases(cohort, cohort)
    assert [(p.case_id, p.pred is not None, p.from_cache) for p in pairing.pairs] == [
        ("P1", True, False)
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "manifest.json").write_text("[]")
    with pytest.raises(InputError, match="manifest"):
        pair_cases(cohort, empty)


def make_cache(tmp_path: Path) -> Path:
    cache = tmp_path / "cache"
    rows = []
    for case_id, arr in (("HCC_001", labels()), ("HCC_002", labels(tumor=False))):
        label = Volume(arr, AFFINE, kind="label").to_canonical()
        image = label.with_array(np.zeros(label.shape, np.int16), kind="image")
        source = CaseSource(case_id, "pairs", Path("img"), Path("lab"), patient_id=case_id)
        stats = label_stats(label)
        row = ManifestRow(
            case_id, case_id, "pairs", f"cases/{case_id}/image.npy",
            f"cases/{case_id}/label.npy", "img", "lab", "", "", label.shape, label.spacing_mm,
            stats.liver_ml, stats.tumor_ml, stats.tlvr, stats.lesion_count,
            stats.largest_lesion_diameter_mm,
        )  # fmt: skip
        write_cached_case(cache, LoadedCase(source, image, label, "img", "lab"), row)
        rows.append(row)
    write_manifest(rows, cache)
    return cache


def test_prepared_cache_as_reference_and_clinical_rule(tmp_path: Path) -> None:
    cache = make_cache(tmp_path)
    pred = tmp_path / "pred"
    save(pred / "HCC_001_label.nii.gz", labels())  # native (LPS) grid vs canonical cache
    save(pred / "HCC_002_label.nii.gz", labels(tumor=False))
    table = tmp_path / "clinical.csv"
    table.write_text("TCIA_ID,Tr_Size\nHCC_001,11.0\nHCC_002,4.0\n")
    config = EvaluationConfig(size_rule="clinical", clinical=table)
    for ref in (cache, cache / "manifest.json", cache / "manifest.csv"):
        result = evaluate_predictions(pred, ref, config)
        assert [c.case_id for c in result.cases] == ["HCC_001", "HCC_002"]
        assert result.cases[0].classes["liver"].dice == 1.0
        assert [c.stratum.group for c in result.cases] == ["≥10 cm", "no tumor"]
        assert "clinical Tr_Size (cm)" in result.summary.size_rule


def test_summary_groups_and_pooled_values(tmp_path: Path) -> None:
    pred, ref = make_case_folders(tmp_path)
    result = evaluate_predictions(pred, ref, EvaluationConfig(missing_as_empty=True))
    by_id = {c.case_id: c for c in result.cases}
    assert by_id["c3"].status.startswith("missing")
    assert by_id["c3"].classes["liver"].dice == 0.0
    s = result.summary
    assert (s.n_reference, s.n_scored, s.missing) == (3, 3, ("c3",))
    all_cases = s.group("all")
    assert [g.group for g in s.groups] == ["all", "<10 cm", "no tumor"]
    tumor_dice = all_cases.stat("tumor", "dice")
    # c1: 1, c2: shifted tumor, c3: no tumor and nothing predicted → 1 (both empty).
    assert tumor_dice.n == 3 and tumor_dice.n_undefined == 0
    sens = all_cases.stat("tumor", "sensitivity")
    assert (sens.n, sens.n_undefined) == (2, 1)  # undefined without reference tumor
    c1, c2 = by_id["c1"].classes["tumor"].counts, by_id["c2"].classes["tumor"].counts
    tp, fp, fn = c1.tp + c2.tp, c1.fp + c2.fp, c1.fn + c2.fn
    assert all_cases.pooled_dice["tumor"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert all_cases.detection.n_ref == 4


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pred, ref = make_case_folders(tmp_path)
    out = tmp_path / "out"
    assert cli("evaluate", "--pred", str(pred), "--ref", str(ref), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "Lesion detection" in printed and "MISSING predictions (1, not scored): c3" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            *("per_case.csv", "per_case.json", "summary.csv", "summary.json", "summary.md"),
            "smoothseg-evaluate.log.jsonl",
        ]
    )
    rows = read_rows(out / "per_case.csv")
    assert rows["c3"]["status"] == "missing prediction"
    assert float(rows["c1"]["liver_dice"]) == 1.0
    assert float(rows["c1"]["tumor_hd95_mm"]) == 0.0
    assert rows["c1"]["spacing_mm"] == "0.8x0.8x2.5"
    # c2's 6x6x3 tumor box moved one 0.8 mm voxel (5 of its 6 rows overlap); the 2x2x2 stays.
    assert float(rows["c2"]["tumor_dice"]) == pytest.approx(2 * (5 * 18 + 8) / (2 * 116))
    assert float(rows["c2"]["tumor_hd95_mm"]) == pytest.approx(0.8)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["missing"] == ["c3"] and summary["unmatched_predictions"] == ["zz"]
    assert summary["size_rule"].startswith("mask:")
    per_case = json.loads((out / "per_case.json").read_text())
    assert per_case["cases"][0]["lesions"]["reference"][0]["detected"] is True
    assert "## Lesion detection" in (out / "summary.md").read_text()
    long = list(csv.DictReader((out / "summary.csv").open()))
    assert {r["kind"] for r in long} == {"per-case", "pooled"}

    # Existing outputs are not replaced without --overwrite.
    code = cli("evaluate", "--pred", str(pred), "--ref", str(ref), "--out", str(out))
    assert code == 2 and "already exists" in capsys.readouterr().err
    args = ["evaluate", "--pred", str(pred), "--ref", str(ref), "--out", str(out), "--overwrite"]
    assert cli(*args) == 0


@pytest.mark.parametrize(
    ("problem", "message"),
    [("grid", "not on the reference's grid"), ("values", "label value(s) [5]")],
)
def test_bad_prediction_is_a_one_line_error(tmp_path: Path, problem: str, message: str) -> None:
    pred, ref = make_case_folders(tmp_path)
    bad = labels()
    affine = AFFINE.copy()
    if problem == "grid":
        affine[2, 2] = 3.0
    else:
        bad[0, 0, 0] = 5
    save(pred / "c1.nii.gz", bad, affine)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "smoothseg",
            "evaluate",
            "--pred",
            str(pred),
            "--ref",
            str(ref),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert message in out.stderr and "c1.nii.gz" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "out").exists()


def test_clinical_rule_without_table_and_bad_bins(tmp_path: Path, capsys) -> None:
    pred, ref = make_case_folders(tmp_path)
    base = ["evaluate", "--pred", str(pred), "--ref", str(ref), "--out", str(tmp_path / "o")]
    assert cli(*base, "--size-rule", "clinical") == 2
    assert "--clinical" in capsys.readouterr().err
    assert cli(*base, "--size-rule", "diameter") == 2
    assert "valid: mask, clinical, clinical-then-mask" in capsys.readouterr().err
    assert cli(*base, "--lesion-bins-mm", "20,10") == 2
    assert "increase" in capsys.readouterr().err


def test_write_evaluation_refuses_to_overwrite(tmp_path: Path) -> None:
    pred, ref = make_case_folders(tmp_path)
    result = evaluate_predictions(pred, ref)
    write_evaluation(result, tmp_path / "o")
    before = (tmp_path / "o" / "summary.md").read_text()
    with pytest.raises(Exception, match="already exists"):
        write_evaluation(result, tmp_path / "o")
    assert (tmp_path / "o" / "summary.md").read_text() == before


@pytest.mark.realdata
def test_real_lits_label_against_a_dilated_tumor(shared_data: Path, tmp_path: Path) -> None:
    from scipy import ndimage

    from conftest import require
    from smoothseg.evaluation.surface import directed_surface_distances_mm
    from smoothseg.io import read_volume

    ref = read_volume(require(shared_data / "lits-117" / "lab_117.nii.gz"), kind="label")
    arr = np.asarray(ref.array).copy()
    tumor = ndimage.binary_dilation(arr == 2, iterations=1) & (arr > 0)
    arr[tumor] = 2
    save(tmp_path / "pred" / "117.nii.gz", arr, ref.affine)
    save(tmp_path / "ref" / "117.nii.gz", np.asarray(ref.array), ref.affine)
    case = evaluate_predictions(tmp_path / "pred", tmp_path / "ref").cases[0]
    assert case.classes["liver"].dice == 1.0
    tumor_metrics = case.classes["tumor"]
    assert 0.5 < tumor_metrics.dice < 1.0 and tumor_metrics.sensitivity == 1.0
    # Every surface voxel of a one-voxel dilation lies within a voxel diagonal of the original
    # surface (identity affine: 1 mm voxels); the other way, filled cavities can lie farther.
    d_pred, _ = directed_surface_distances_mm(arr == 2, np.asarray(ref.array) == 2, (1, 1, 1))
    assert d_pred.max() <= np.sqrt(3) + 1e-9
    assert tumor_metrics.hd95_mm >= 1.0
    les = case.lesions  # this resampled label has many 1-voxel fragments: dilated 27-fold
    largest = int(np.argmax(les.ref_diameters_mm))
    assert les.ref_detected[largest]
    assert not any(
        d for d, size in zip(les.ref_detected, les.ref_diameters_mm, strict=False) if size == 0.0
    )
