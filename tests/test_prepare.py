"""prepare: TCIA-layout phantom → cache, bad cases skipped with reasons, resume, CLI, real data."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from conftest import require
from smoothseg.cli import main
from smoothseg.datasets import (
    PrepareConfig,
    load_cached_case,
    prepare_dataset,
    read_manifest,
)
from smoothseg.datasets.tcia_export import CLINICAL_NAME, export_cohort_tcia
from smoothseg.errors import InputError, OutputExistsError
from smoothseg.io import Volume, read_volume, write_volume

SHAPE = (24, 20, 8)


def _affine() -> np.ndarray:
    affine = np.diag([1.5, 1.6, 4.0, 1.0])
    affine[:3, 3] = [-20.0, -15.0, -10.0]
    return affine


def _structures(n: int) -> np.ndarray:
    st = np.zeros(SHAPE, np.uint8)
    st[4:18, 3:15, 1:7] = 1
    st[6:10, 5:9, 2:5] = 2
    st[12:15, 10:13, 3:5] = 3
    st[20:23, 15:18, :] = 4  # aorta on every slice
    st[14 + n % 3, 4, 2] = 2  # a small second lesion, different per case
    return st


def make_cohort(folder: Path, n_cases: int) -> Path:
    """A tiny cohort in the phantom generator's layout (not using the phantom package)."""
    rng = np.random.default_rng(7)
    rows = []
    for n in range(1, n_cases + 1):
        case_id = f"PHANTOM_{n:03d}"
        st = _structures(n)
        label = np.select([st == 1, st == 2, st == 3], [1, 2, 1], 0).astype(np.uint8)
        image = rng.integers(-200, 300, SHAPE).astype(np.int16)
        case = folder / "cases" / case_id
        write_volume(Volume(image, _affine()), case / "image.nii.gz")
        write_volume(Volume(label, _affine(), kind="label"), case / "label.nii.gz")
        write_volume(Volume(st, _affine(), kind="label"), case / "structures.nii.gz")
        rel = f"cases/{case_id}"
        rows.append(
            {
                "case_id": case_id,
                "image": f"{rel}/image.nii.gz",
                "label": f"{rel}/label.nii.gz",
                "structures": f"{rel}/structures.nii.gz",
            }
        )
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    table = pd.DataFrame({"TCIA_ID": ["PHANTOM_001"], "Age": [61]})
    with pd.ExcelWriter(folder / "clinical.xlsx") as writer:
        table.to_excel(writer, sheet_name="data table", index=False)
        pd.DataFrame({"Field": ["Age"]}).to_excel(writer, sheet_name="glossary", index=False)
    table.to_csv(folder / "clinical.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def tcia(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("tcia")
    cohort = make_cohort(base / "cohort", 2)
    export = export_cohort_tcia(cohort, base / "download")
    return cohort, export.root


def test_export_writes_the_tcia_layout(tcia: tuple[Path, Path], tmp_path: Path) -> None:
    cohort, root = tcia
    patients = sorted(p.name for p in (root / "HCC-TACE-Seg").iterdir())
    assert patients == ["PHANTOM_001", "PHANTOM_002"]
    study = next((root / "HCC-TACE-Seg" / "PHANTOM_001").iterdir())
    assert study.name.startswith("01-01-2000-NA-PP CAPLIVER PROTO.-")
    series = sorted(p.name for p in study.iterdir())
    assert series[0].startswith("103.000000-LIVER 3 PHASE CAP-")
    assert series[1].startswith("300.000000-Segmentation-")
    assert sorted(p.name for p in (study / series[0]).iterdir())[:2] == ["1-01.dcm", "1-02.dcm"]
    seg = pydicom.dcmread(study / series[1] / "1-1.dcm")
    assert [s.SegmentLabel for s in seg.SegmentSequence] == [
        "Liver",
        "Mass",
        "Portal vein",
        "Abdominal aorta",
    ]
    assert (root / CLINICAL_NAME).is_file()
    with pytest.raises(OutputExistsError):
        export_cohort_tcia(cohort, root)


@pytest.mark.realdata
def test_export_metadata_has_the_real_tcia_columns(
    shared_data: Path, tcia: tuple[Path, Path]
) -> None:
    real = require(shared_data / "hcc-tace-seg" / "metadata.csv")
    with real.open() as fh, (tcia[1] / "metadata.csv").open() as mine:
        assert next(csv.reader(mine)) == next(csv.reader(fh))


def test_phantom_in_tcia_layout_prepares_to_exactly_its_own_labels(
    tcia: tuple[Path, Path], tmp_path: Path
) -> None:
    cohort, root = tcia
    cache = tmp_path / "cache"
    result = prepare_dataset(
        PrepareConfig("hcc-tace-seg", root, cache, clinical=root / CLINICAL_NAME)
    )
    assert [o.status for o in result.outcomes] == ["prepared", "prepared"]
    for row in result.rows:
        cached = load_cached_case(cache, row.case_id)
        truth = read_volume(cohort / "cases" / row.case_id / "label.nii.gz", kind="label")
        image = read_volume(cohort / "cases" / row.case_id / "image.nii.gz", kind="image")
        assert cached.label.grid.matches(truth.grid)
        assert np.array_equal(cached.label.array, truth.array)
        assert np.array_equal(cached.image.array, image.array)
        assert isinstance(cached.image.array.base, np.memmap) or isinstance(
            cached.image.array, np.memmap
        )
        assert row.lesion_count == 2
        assert row.tlvr == pytest.approx(
            np.count_nonzero(truth.array == 2) / np.count_nonzero(truth.array)
        )
        assert row.image_series_uid and row.label_series_uid
    assert [r.has_clinical for r in result.rows] == [True, False]
    assert read_manifest(cache) == result.rows
    csv_rows = read_manifest(cache / "manifest.csv")
    assert [r.case_id for r in csv_rows] == ["PHANTOM_001", "PHANTOM_002"]
    assert csv_rows[0].tlvr == pytest.approx(result.rows[0].tlvr)


def test_rerun_skips_finished_cases_and_overwrite_redoes_them(
    tcia: tuple[Path, Path], tmp_path: Path
) -> None:
    _, root = tcia
    config = PrepareConfig("hcc-tace-seg", root, tmp_path / "cache")
    first = prepare_dataset(config)
    second = prepare_dataset(config)
    assert [o.status for o in second.outcomes] == ["cached", "cached"]
    assert second.rows == first.rows
    again = prepare_dataset(PrepareConfig("hcc-tace-seg", root, tmp_path / "cache", overwrite=True))
    assert [o.status for o in again.outcomes] == ["prepared", "prepared"]


def test_cache_from_another_source_is_refused(tcia: tuple[Path, Path], tmp_path: Path) -> None:
    cohort, root = tcia
    cache = tmp_path / "cache"
    prepare_dataset(PrepareConfig("hcc-tace-seg", root, cache))
    with pytest.raises(InputError, match="prepared from hcc-tace-seg"):
        prepare_dataset(PrepareConfig("pairs", cohort, cache))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a smoothseg cache"):
        prepare_dataset(PrepareConfig("pairs", cohort, tmp_path / "other"))


def _study(root: Path, case_id: str) -> tuple[Path, Path]:
    study = next((root / "HCC-TACE-Seg" / case_id).iterdir())
    ct = next(p for p in study.iterdir() if "LIVER" in p.name)
    seg = next(p for p in study.iterdir() if "Segmentation" in p.name) / "1-1.dcm"
    return ct, seg


def _edit(path: Path, **attrs: object) -> None:
    ds = pydicom.dcmread(path)
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.save_as(path)


def test_bad_cases_are_skipped_with_reasons_and_the_rest_proceed(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort", 6)
    root = export_cohort_tcia(cohort, tmp_path / "download").root
    ct2, _ = _study(root, "PHANTOM_002")
    (ct2 / "1-08.dcm").unlink()  # the SEG's aorta frame on that slice references it
    _, seg3 = _study(root, "PHANTOM_003")
    _edit(seg3, FrameOfReferenceUID="1.2.3.4.5")
    ct4, _ = _study(root, "PHANTOM_004")
    for path in ct4.iterdir():  # 10 degree gantry tilt: y shifts with z
        ds = pydicom.dcmread(path)
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y + np.tan(np.radians(10)) * (z + 10.0), z]
        ds.save_as(path)
    ct5, _ = _study(root, "PHANTOM_005")
    (ct5 / "1-04.dcm").unlink()
    _, seg6 = _study(root, "PHANTOM_006")
    ds = pydicom.dcmread(seg6)
    ds.SegmentSequence[1].SegmentLabel = "Spleen"
    ds.SegmentSequence[1].SegmentedPropertyTypeCodeSequence[0].CodeMeaning = "Spleen"
    ds.save_as(seg6)
    cache = tmp_path / "cache"
    result = prepare_dataset(PrepareConfig("hcc-tace-seg", root, cache))
    reasons = {o.case_id: o.reason for o in result.outcomes}
    assert [o.status for o in result.outcomes] == ["prepared"] + ["skipped"] * 5
    assert "absent from the CT series" in reasons["PHANTOM_002"]
    assert "frame of reference" in reasons["PHANTOM_003"]
    assert "gantry tilt" in reasons["PHANTOM_004"]
    assert "uneven slice spacing" in reasons["PHANTOM_005"]
    assert "'Spleen'" in reasons["PHANTOM_006"] and "--segment-map" in reasons["PHANTOM_006"]
    assert [r.case_id for r in read_manifest(cache)] == ["PHANTOM_001"]
    log = json.loads((cache / "prepare_log.json").read_text())["cases"]
    assert [(e["case_id"], e["status"]) for e in log][:2] == [
        ("PHANTOM_001", "prepared"),
        ("PHANTOM_002", "skipped"),
    ]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smoothseg", *args], capture_output=True, text=True, timeout=300
    )


def test_without_metadata_csv_the_disk_is_scanned(tmp_path: Path) -> None:
    cohort = make_cohort(tmp_path / "cohort", 1)
    root = export_cohort_tcia(cohort, tmp_path / "download").root
    (root / "metadata.csv").unlink()
    result = prepare_dataset(PrepareConfig("hcc-tace-seg", root / "HCC-TACE-Seg", tmp_path / "c"))
    assert [o.status for o in result.outcomes] == ["prepared"]
    _, seg = _study(root, "PHANTOM_001")
    seg.unlink()
    result = prepare_dataset(PrepareConfig("hcc-tace-seg", root, tmp_path / "c2"))
    assert result.skipped[0].reason == "no DICOM SEG series found"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process (as ``smoothseg ARGS``)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_prepare_then_split(
    tcia: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort, root = tcia
    cache = tmp_path / "cache"
    base = ("prepare", "--format", "hcc-tace-seg", "--root", str(root), "--out", str(cache))
    code, out, err = cli(capsys, *base, "--clinical", str(cohort / "clinical.csv"), "--json")
    assert code == 0, err
    assert json.loads(out)["counts"] == {"prepared": 2, "cached": 0, "skipped": 0}
    code, out, err = cli(capsys, *base)
    assert code == 0 and "2 already cached" in out, err
    code, out, err = cli(
        capsys, "split", "--manifest", str(cache), "--replications", "3", "--seed", "4"
    )
    assert code == 0, err
    splits = json.loads((cache / "splits.json").read_text())
    assert [s["name"] for s in splits["splits"]] == [f"replication_{i}" for i in (1, 2, 3)]
    code, _, err = cli(capsys, "split", "--manifest", str(cache), "--seed", "4")
    assert code == 2 and "already exists" in err
    code, _, err = cli(
        capsys, "split", "--manifest", str(cache), "--folds", "2", "--replications", "3"
    )
    assert code == 2 and "not both" in err
    code, _, err = cli(
        capsys,
        "prepare",
        "--format",
        "pairs",
        "--root",
        str(cohort),
        "--out",
        str(tmp_path / "p"),
        "--label-values",
        "x=1",
    )
    assert code == 2 and "VALUE=CLASS" in err


@pytest.mark.realdata
def test_real_hcc_tace_seg_reports_missing_seg_without_crashing(
    shared_data: Path, tmp_path: Path
) -> None:
    root = require(shared_data / "hcc-tace-seg")
    clinical = require(root / "HCC-TACE-Seg_clinical_data-V2.xlsx")
    cache = tmp_path / "cache"
    out = run(
        "prepare",
        "--format",
        "hcc-tace-seg",
        "--root",
        str(root),
        "--out",
        str(cache),
        "--clinical",
        str(clinical),
    )
    assert out.returncode == 0, out.stderr
    assert "HCC_009" in out.stdout and "1 skipped" in out.stdout
    log = list(csv.DictReader((cache / "prepare_log.csv").open()))
    assert [(e["case_id"], e["status"]) for e in log] == [("HCC_009", "skipped")]
    assert "300.000000-Segmentation-91221" in log[0]["reason"]
    assert "absent on disk" in log[0]["reason"]
    assert log[0]["image_source"].endswith("103.000000-LIVER 3 PHASE CAP-83135")
    assert read_manifest(cache) == []


@pytest.mark.realdata
def test_real_lits_pair_prepares(shared_data: Path, tmp_path: Path) -> None:
    root = require(shared_data / "lits-117")
    result = prepare_dataset(PrepareConfig("pairs", root, tmp_path / "cache"))
    (row,) = result.rows
    assert row.case_id == "117" and row.shape == (128, 128, 128)
    assert 0.0 < (row.tlvr or 0.0) < 1.0 and row.lesion_count >= 1
    assert "identity affine" in row.warnings


def test_phantom_manifest_is_not_taken_for_a_cache_manifest(tmp_path: Path) -> None:
    from smoothseg.datasets import read_manifest

    path = tmp_path / "manifest.json"
    path.write_text('[{"case_id": "PHANTOM_001", "image": "cases/PHANTOM_001/image.nii.gz"}]')
    with pytest.raises(InputError, match="not a prepared-cache manifest"):
        read_manifest(path)
