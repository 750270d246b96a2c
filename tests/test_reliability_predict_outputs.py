"""Predict's output folder and its doubts (issue 18, items 5, 8, 10, 12, 13).

The reader's geometry warnings reach ``statistics.json``, the CLI summary and the preview; a
failing case does not stop a batch; one run claims its output folder; a folder holding other
files is not written into silently; a failure while writing leaves no partial output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

import smoothseg.predict.batch as batch_module
import smoothseg.predict.scan as run_module
from smoothseg.cli import main
from smoothseg.errors import InputError
from smoothseg.io import read_volume
from smoothseg.io.claim import LOCK_NAME, claim, claimed_folder, release
from smoothseg.io.limits import ReadLimits
from smoothseg.phantom import generate_cohort
from smoothseg.predict import PredictConfig, Predictor
from smoothseg.predict.batch import BatchInput, predict_batch
from smoothseg.predict.preview import render_preview
from smoothseg.predict.scan import predict_scan


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.from_model_dir(None, PredictConfig())


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A phantom CT in which the shipped model finds a liver."""
    root = tmp_path_factory.mktemp("cohort")
    generate_cohort(root / "cohort", 1, seed=1234)
    return root / "cohort" / "cases" / "PHANTOM_001" / "image.nii.gz"


@pytest.fixture(scope="module")
def water(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small uniform, identity-affine CT: quick to predict (no liver), 1 mm assumed."""
    path = tmp_path_factory.mktemp("water") / "water.nii.gz"
    rng = np.random.default_rng(0)
    array = (rng.normal(0.0, 10.0, (48, 48, 24)) - 1000.0).astype(np.int16)
    array[8:40, 8:40, 4:20] = rng.normal(0.0, 10.0, (32, 32, 16)).astype(np.int16)
    nib.save(nib.Nifti1Image(array, np.eye(4)), path)
    return path


def test_reader_warnings_reach_statistics_and_the_cli_summary(
    water: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "-i", str(water), "-o", str(out)])
    assert exit_info.value.code in (0, None)
    stats = json.loads((out / "statistics.json").read_text(encoding="utf-8"))
    assert any("1 mm assumed" in w for w in stats["warnings"]), stats["warnings"]
    err = capsys.readouterr().err
    assert "warning: water.nii.gz: identity affine" in err


def test_preview_prints_the_warnings(tmp_path: Path, water: Path) -> None:
    image = read_volume(water, kind="image").to_canonical()
    mask = np.zeros(image.shape, dtype=bool)
    plain = render_preview(image, mask, mask, tmp_path / "plain.png")
    warned = render_preview(
        image, mask, mask, tmp_path / "warned.png", warnings=("identity affine: 1 mm assumed",)
    )
    pixels = np.asarray(Image.open(warned).convert("RGB")).reshape(-1, 3).astype(int)
    yellow = (pixels[:, 0] > 200) & (pixels[:, 1] > 170) & (pixels[:, 2] < 90)
    assert Image.open(warned).height > Image.open(plain).height
    assert yellow.sum() > 20  # the warning text is drawn in yellow


def test_a_case_failing_with_an_internal_error_does_not_stop_the_batch(
    predictor: Predictor, water: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = run_module.predict_scan

    def flaky(pred: Predictor, path: Path, folder: Path, **kwargs: object) -> object:
        if Path(folder).name == "broken":
            raise RuntimeError("simulated bug")
        return real(pred, path, folder, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch_module, "predict_scan", flaky)
    inputs = [BatchInput("broken", water), BatchInput("fine", water)]
    outcomes = predict_batch(predictor, inputs, tmp_path / "out")
    assert [o.state for o in outcomes] == ["failed", "done"]
    assert "internal error (RuntimeError: simulated bug)" in outcomes[0].error
    assert (tmp_path / "out" / "fine" / "statistics.json").is_file()


def test_one_run_claims_the_output_folder(tmp_path: Path) -> None:
    with claimed_folder(tmp_path / "out") as folder:
        assert (folder / LOCK_NAME).is_file()
        with pytest.raises(InputError, match="in use by another smoothseg run"):
            claim(folder)
    assert not (tmp_path / "out" / LOCK_NAME).exists()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    lock = claim(tmp_path)
    data = json.loads(lock.read_text(encoding="utf-8"))
    data["pid"] = int(dead.stdout)
    lock.write_text(json.dumps(data), encoding="utf-8")
    again = claim(tmp_path)
    assert json.loads(again.read_text(encoding="utf-8"))["pid"] == os.getpid()
    release(again)


def test_predict_into_a_folder_claimed_by_another_run_is_refused(
    predictor: Predictor, water: Path, tmp_path: Path
) -> None:
    lock = claim(tmp_path / "out")
    data = json.loads(lock.read_text(encoding="utf-8"))
    data["pid"] = os.getppid()  # a live process other than this one
    lock.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="in use by another smoothseg run"):
        predict_scan(predictor, water, tmp_path / "out")
    assert not (tmp_path / "out" / "statistics.json").exists()


def test_a_folder_holding_other_files_is_not_written_into_silently(
    predictor: Predictor, water: Path, tmp_path: Path
) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.docx").write_bytes(b"mine")
    with pytest.raises(InputError, match=r"holds files of something else \(chapter1.docx\)"):
        predict_scan(predictor, water, out)
    assert sorted(p.name for p in out.iterdir()) == ["chapter1.docx"]
    predict_scan(predictor, water, out, overwrite=True)  # asked for: written beside them
    assert (out / "statistics.json").is_file() and (out / "chapter1.docx").is_file()


def test_a_failure_while_writing_leaves_no_partial_output(
    predictor: Predictor, phantom: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_preview(*args: object, **kwargs: object) -> Path:
        raise RuntimeError("simulated failure after the label files")

    monkeypatch.setattr(run_module, "render_preview", broken_preview)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="simulated"):
        predict_scan(predictor, phantom, out)
    assert not out.exists()  # the run made the folder: nothing of it is left

    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "smoothseg-predict.log.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="simulated"):
        predict_scan(predictor, phantom, kept)
    assert sorted(p.name for p in kept.iterdir()) == ["smoothseg-predict.log.jsonl"]


def test_predict_scan_reads_with_the_callers_limits(
    predictor: Predictor, water: Path, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="voxels"):
        predict_scan(predictor, water, tmp_path / "out", limits=ReadLimits(max_voxels=1000))
    assert not (tmp_path / "out").exists()
