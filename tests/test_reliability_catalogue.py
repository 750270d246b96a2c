"""The bad-input catalogue (docs/reliability.md): one clear line naming the file and the problem.

Reader-level cases live in ``test_io_bad_input.py``; this file holds the cases that need the
CLI (exit code, one line, no traceback unless --debug) or other modules (datasets, clinical,
bundles, devices, output folders).
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pydicom
import pytest
import torch

from smoothseg.bundle import load_bundle
from smoothseg.cli import main
from smoothseg.clinical.table import read_clinical_table
from smoothseg.datasets.base import CaseSource, DatasetOptions
from smoothseg.datasets.pairs import load_pair
from smoothseg.errors import InputError
from smoothseg.inference.config import PredictConfigError, check_device_available
from smoothseg.io import Volume, read_volume, write_dicom_series, write_volume
from smoothseg.io.modality import check_ct_intensities
from smoothseg.predict import PredictConfig, Predictor, default_model_dir

NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")


def cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the CLI in process; assert exit 2 with one ``error:`` line and no traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _ct(tmp_path: Path, name: str = "ct.nii.gz", low: float = -1000.0) -> Path:
    array = np.full((24, 20, 12), 40.0)
    array[:4] = low
    return write_volume(
        Volume(array.astype(np.int16), np.diag([8.0, 8.0, 10.0, 1.0])), tmp_path / name
    )


def test_missing_input_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = cli_error(
        capsys, "predict", "-i", str(tmp_path / "nope.nii.gz"), "-o", str(tmp_path / "o")
    )
    assert "nope.nii.gz" in line and "no such file or folder" in line
    assert not (tmp_path / "o").exists()


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError):
        main(["--debug", "predict", "-i", str(tmp_path / "nope.nii.gz"), "-o", str(tmp_path / "o")])
    from smoothseg.cli.state import STATE

    STATE.debug = False


def test_truncated_nrrd_and_mha(tmp_path: Path) -> None:
    vol = Volume(np.ones((20, 20, 20), np.int16), np.eye(4))
    for suffix, name in ((".nrrd", "NRRD"), (".mha", "MetaImage")):
        good = write_volume(vol, tmp_path / f"good{suffix}")
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        with pytest.raises(InputError, match=f"cannot read as {name}") as err:
            read_volume(cut)
        assert str(cut) in str(err.value) and "\n" not in str(err.value)
        assert "SimpleITK-build" not in str(err.value)  # the useful part of ITK's message


def _series(tmp_path: Path, n: int = 6) -> list[Path]:
    array = np.arange(8 * 6 * n, dtype=np.int16).reshape(8, 6, n) - 1000
    write_dicom_series(Volume(array, np.diag([0.8, 0.8, 2.5, 1.0])), tmp_path / "ct")
    return sorted((tmp_path / "ct").iterdir())


def test_truncated_dicom_slice(tmp_path: Path) -> None:
    files = _series(tmp_path)
    files[3].write_bytes(files[3].read_bytes()[:-40])  # pixel data cut short
    with pytest.raises(InputError, match="cannot decode pixel data") as err:
        read_volume(tmp_path / "ct")
    assert "slice_0003" in str(err.value)


def test_corrupt_dicom_file(tmp_path: Path) -> None:
    path = tmp_path / "x.dcm"
    path.write_bytes(b"\0" * 128 + b"DICM" + np.random.default_rng(0).bytes(500))
    with pytest.raises(InputError, match=r"no DICOM files found|not a readable DICOM"):
        read_volume(path)


def test_mixed_image_sizes_in_one_series(tmp_path: Path) -> None:
    files = _series(tmp_path)
    ds = pydicom.dcmread(files[2])
    ds.Rows, ds.Columns = 4, 4
    ds.PixelData = np.zeros((4, 4), np.int16).tobytes()
    ds.save_as(files[2])
    with pytest.raises(InputError, match="mixes image sizes"):
        read_volume(tmp_path / "ct")


def test_mr_series_requested_explicitly(tmp_path: Path) -> None:
    files = _series(tmp_path)
    for path in files:
        ds = pydicom.dcmread(path)
        ds.Modality, ds.SOPClassUID = "MR", "1.2.840.10008.5.1.4.1.1.4"
        ds.SeriesDescription = "T1"
        ds.save_as(path)
    with pytest.raises(InputError, match="is MR, not a CT image series"):
        read_volume(tmp_path / "ct", series="T1")


def test_mr_nifti_fails_the_intensity_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mr = np.random.default_rng(0).uniform(0, 900, (24, 20, 12)).astype(np.float32)
    path = write_volume(Volume(mr, np.diag([8.0, 8.0, 10.0, 1.0])), tmp_path / "t1.nii.gz")
    line = cli_error(capsys, "predict", "-i", str(path), "-o", str(tmp_path / "out"))
    assert "t1.nii.gz" in line and "not a CT in Hounsfield units" in line
    assert not (tmp_path / "out" / "statistics.json").exists()
    # A CT in HU passes; a modality tag other than CT is refused by name.
    check_ct_intensities(read_volume(_ct(tmp_path), kind="image"))
    tagged = Volume(np.full((4, 4, 4), -1000, np.int16), np.eye(4))
    from dataclasses import replace

    tagged = replace(tagged, source=replace(tagged.source, modality="MR", path="mr.dcm"))
    with pytest.raises(InputError, match="modality is MR, not CT"):
        check_ct_intensities(tagged)


def test_image_label_grid_mismatch_and_label_values_outside_the_map(tmp_path: Path) -> None:
    image = _ct(tmp_path, "image.nii.gz")
    shifted = np.zeros((24, 20, 12), np.uint8)
    lab = Volume(shifted, np.diag([4.0, 8.0, 10.0, 1.0]), kind="label")
    label = write_volume(lab, tmp_path / "label.nii.gz")
    case = CaseSource(case_id="c1", format="pairs", image=image, label=label)
    with pytest.raises(InputError, match="not on its image's grid") as err:
        load_pair(case, DatasetOptions())
    assert "label.nii.gz" in str(err.value)
    values = np.zeros((24, 20, 12), np.uint8)
    values[5, 5, 5] = 7
    odd = write_volume(
        Volume(values, np.diag([8.0, 8.0, 10.0, 1.0]), kind="label"), tmp_path / "odd.nii.gz"
    )
    with pytest.raises(InputError, match="7") as err:
        load_pair(
            CaseSource(case_id="c1", format="pairs", image=image, label=odd), DatasetOptions()
        )
    assert "odd.nii.gz" in str(err.value)


def test_clinical_table_cases(tmp_path: Path) -> None:
    pd.DataFrame({"ID": ["a"], "Age": [3]}).to_csv(tmp_path / "noid.csv", index=False)
    with pytest.raises(InputError, match="no TCIA_ID column") as err:
        read_clinical_table(tmp_path / "noid.csv")
    assert "noid.csv" in str(err.value)
    pd.DataFrame({"TCIA_ID": ["a", "b", "a"], "Age": [3, 4, 5]}).to_csv(
        tmp_path / "dup.csv", index=False
    )
    with pytest.raises(InputError, match=r"duplicate TCIA_ID value.*a"):
        read_clinical_table(tmp_path / "dup.csv")
    # A mostly unparseable schema column (e.g. shifted) is refused, naming column and values.
    ids = [f"P{i}" for i in range(6)]
    ages = ["male", "female", "male", "male", "61", "female"]
    pd.DataFrame({"TCIA_ID": ids, "Age": ages}).to_csv(tmp_path / "shift.csv", index=False)
    with pytest.raises(InputError, match=r"column 'age': 5 of 6 values cannot be read as numeric"):
        read_clinical_table(tmp_path / "shift.csv")
    # A few unparseable cells are read as missing and named in the report's problems.
    pd.DataFrame({"TCIA_ID": ids, "Age": ["50", "61", "n/k", "70", "44", "58"]}).to_csv(
        tmp_path / "few.csv", index=False
    )
    table = read_clinical_table(tmp_path / "few.csv")
    assert any("'n/k'" in p and "age" in p for p in table.report.problems())


def test_clinical_fit_cli_names_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd.DataFrame({"ID": ["a"], "Age": [3]}).to_csv(tmp_path / "noid.csv", index=False)
    manifest = tmp_path / "cases.csv"
    manifest.write_text("case_id,tlvr\na,0.1\n")
    line = cli_error(
        capsys, "clinical", "fit", "--table", str(tmp_path / "noid.csv"), "--manifest",
        str(manifest), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert "noid.csv" in line and "no TCIA_ID column" in line


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[train]\nmax_epoch = 3\n", "max_epoch"),
        ('[train]\nlr = "fast"\n', "lr"),
        ("[train\nlr = 1\n", "bad.toml"),
    ],
)
def test_config_unknown_keys_and_wrong_types(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    line = cli_error(
        capsys, "train", "liver", "--data", str(tmp_path), "--split", str(tmp_path / "s.json"),
        "--out", str(tmp_path / "run"), "--config", str(config),
    )  # fmt: skip
    assert needle in line


def _bundle_copy(tmp_path: Path, **changes: object) -> Path:
    folder = tmp_path / "bundle"
    shutil.copytree(default_model_dir() / "liver", folder)
    doc = json.loads((folder / "bundle.json").read_text())
    doc.update(changes)
    (folder / "bundle.json").write_text(json.dumps(doc))
    return folder


@pytest.mark.parametrize("version", [99, 0, "one", None])
def test_bundle_from_an_incompatible_version(tmp_path: Path, version: object) -> None:
    folder = _bundle_copy(tmp_path, format_version=version)
    with pytest.raises(InputError, match=r"newer than this smoothseg|not one this smoothseg reads"):
        load_bundle(folder)


def test_bundle_version_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _bundle_copy(tmp_path, format_version=2)
    line = cli_error(
        capsys,
        "predict",
        "-i",
        str(_ct(tmp_path)),
        "-o",
        str(tmp_path / "o"),
        "--model",
        str(folder),
    )
    assert "bundle.json" in line and "newer than this smoothseg" in line


@NO_GPU
def test_device_cuda_without_a_gpu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PredictConfigError, match="CUDA is not available"):
        check_device_available("cuda")
    line = cli_error(
        capsys, "predict", "-i", str(_ct(tmp_path)), "-o", str(tmp_path / "o"), "--device", "cuda"
    )
    assert "--device cuda" in line and "use --device cpu" in line
    line = cli_error(
        capsys, "train", "liver", "--data", str(tmp_path), "--split", str(tmp_path / "s.json"),
        "--out", str(tmp_path / "run"), "--preset", "cpu-small", "--device", "cuda",
    )  # fmt: skip
    assert "CUDA is not available" in line
    assert not (tmp_path / "run").exists()


def test_output_folder_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "report.txt"
    blocker.write_text("x")
    line = cli_error(capsys, "predict", "-i", str(_ct(tmp_path)), "-o", str(blocker / "out"))
    assert "report.txt" in line and "is a file" in line


def test_output_folder_on_a_read_only_filesystem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /proc refuses new files even to root; elsewhere a read-only mount is simulated.
    line = cli_error(capsys, "predict", "-i", str(_ct(tmp_path)), "-o", "/proc/smoothseg-out")
    assert "/proc/smoothseg-out" in line and "not writable" in line


def test_output_folder_not_writable_simulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    line = cli_error(capsys, "phantom", "--out", str(tmp_path / "cohort"), "--cases", "1")
    assert "cohort" in line and "Read-only file system" in line
    assert not (tmp_path / "cohort").exists()


def test_disk_full_during_a_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer dies half-way with ENOSPC: a clear error and no file, partial or temporary."""
    real_save = nib.save

    def half_then_full(img: object, filename: str) -> None:
        real_save(img, filename)
        data = Path(filename).read_bytes()
        Path(filename).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(nib, "save", half_then_full)
    out = tmp_path / "out"
    out.mkdir()
    vol = Volume(np.zeros((6, 6, 6), np.int16), np.eye(4))
    with pytest.raises(InputError, match=r"No space left on device.*disk full") as err:
        write_volume(vol, out / "labels.nii.gz")
    assert "labels.nii.gz" in str(err.value)
    assert list(out.iterdir()) == []


def test_disk_full_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``smoothseg predict`` on a full disk: exit 2, one line, no statistics.json left behind."""
    real = Path.write_text

    def full(self: Path, data: str, *args: object, **kwargs: object) -> int:
        if self.name.startswith(".statistics.json"):
            real(self, data[: len(data) // 2], encoding="utf-8")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", full)
    air = np.full((32, 32, 12), -1000, np.int16)  # no liver: statistics.json is the only output
    image = write_volume(Volume(air, np.diag([8.0, 8.0, 10.0, 1.0])), tmp_path / "air.nii.gz")
    out = tmp_path / "out"
    line = cli_error(capsys, "predict", "-i", str(image), "-o", str(out))
    assert "statistics.json" in line and "No space left on device" in line
    assert not out.exists()  # the run made the folder; nothing of it is left behind


def test_predictor_refuses_cuda_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(PredictConfigError, match="1 GPU"):
        Predictor.from_model_dir(None, PredictConfig(device="cuda:3"))
