"""The command line: version, info, and one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import require
from smoothseg import __version__
from smoothseg.io import Volume, write_volume


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smoothseg", *args], capture_output=True, text=True, timeout=120
    )


def test_version() -> None:
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"smoothseg {__version__}"


def test_help_lists_commands() -> None:
    out = run("--help")
    assert out.returncode == 0
    assert "info" in out.stdout


def test_no_help_page_shows_a_bool_type_for_a_flag() -> None:
    """Flags (and --help) show no ``<bool>`` in any command's help table."""
    from typer.main import get_command
    from typer.testing import CliRunner

    from smoothseg.cli import app

    root = get_command(app)
    paths: list[list[str]] = [[]]
    for name, command in getattr(root, "commands", {}).items():
        paths.append([name])
        paths += [[name, sub] for sub in getattr(command, "commands", {})]
    runner = CliRunner()
    shown = {}
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        shown[" ".join(path)] = result.output.count("<bool>")
    assert len(shown) > 15
    assert not any(shown.values()), {k: v for k, v in shown.items() if v}


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from smoothseg.cli import app; "
        "heavy = [m for m in ('torch', 'monai', 'nibabel', 'SimpleITK', 'pydicom', 'scipy') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_info_on_a_label_file(tmp_path: Path) -> None:
    labels = np.zeros((6, 5, 4), np.uint8)
    labels[1:3, 1:3, 1:3] = 1
    labels[2, 2, 2] = 2
    affine = np.diag([-0.8, -0.8, 2.5, 1.0])
    affine[:3, 3] = [10.0, 20.0, -30.0]
    path = write_volume(Volume(labels, affine, kind="label"), tmp_path / "lab.nii.gz")
    out = run("info", str(path))
    assert out.returncode == 0, out.stderr
    assert "label (uint8)" in out.stdout
    assert "6 x 5 x 4" in out.stdout
    assert "0.8 x 0.8 x 2.5" in out.stdout
    assert "LPS in the file" in out.stdout
    assert "0: 112, 1: 7, 2: 1" in out.stdout
    data = json.loads(run("info", str(path), "--json").stdout)
    assert data["label_counts"] == {"0": 112, "1": 7, "2": 1}
    assert data["spacing_mm"] == pytest.approx([0.8, 0.8, 2.5])


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing.nii.gz", "no such file or folder"),
        (lambda p: (p / "e.nii.gz").touch() or p / "e.nii.gz", "file is empty"),
        (
            lambda p: (p / "c.nrrd").write_bytes(b"NRRD0004\ngarbage") and p / "c.nrrd",
            "cannot read",
        ),
        (lambda p: (p / "d").mkdir() or p / "d", "no DICOM files found"),
    ],
)
def test_bad_input_is_one_line_without_traceback(tmp_path: Path, make, expected: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    out = run("info", str(path))
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"error: {path}")
    assert expected in lines[0]
    assert "Traceback" not in out.stderr


def test_debug_shows_traceback(tmp_path: Path) -> None:
    out = run("--debug", "info", str(tmp_path / "missing.nii"))
    assert out.returncode != 0
    assert "Traceback" in out.stderr and "InputError" in out.stderr


def test_usage_error_exit_code() -> None:
    out = run("info")
    assert out.returncode == 2
    assert "Missing argument" in out.stderr or "Usage" in out.stderr


@pytest.mark.realdata
def test_info_hcc_study(shared_data: Path) -> None:
    study = require(shared_data / "hcc-tace-seg/HCC-TACE-Seg/HCC_009")
    out = run("info", str(study))
    assert out.returncode == 0, out.stderr
    assert "series            103.000000-LIVER 3 PHASE CAP-83135 (69 slices)" in out.stdout
    assert "512 x 512 x 69" in out.stdout
    assert "0.7422 x 0.7422 x 2.5" in out.stdout
    assert "min -1024" in out.stdout


@pytest.mark.realdata
def test_info_totalsegmentator_and_lits(shared_data: Path) -> None:
    ts = require(shared_data / "totalsegmentator-example")
    ct = run("info", str(ts / "example_ct_sm.nii.gz"))
    seg = run("info", str(ts / "example_seg.nii.gz"))
    for out in (ct, seg):
        assert out.returncode == 0, out.stderr
        assert "122 x 101 x 30" in out.stdout and "3 x 3 x 3" in out.stdout
    assert "5: 38634" in seg.stdout
    lits = run("info", str(require(shared_data / "lits-117" / "lab_117.nii.gz")))
    assert lits.returncode == 0
    assert "128 x 128 x 128" in lits.stdout and "identity affine" in lits.stdout
