"""``smoothseg stress-test`` at tiny scale (phantom CT, shipped model, 1 x 2 cells)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from smoothseg.cli import app
from smoothseg.io import write_volume
from smoothseg.phantom.cohort import cohort_case
from smoothseg.phantom.config import PhantomConfig
from smoothseg.stress.run import StressConfig, StressConfigError, score_lesions


def test_cli_writes_csv_and_heatmap(tmp_path: Path) -> None:
    case = cohort_case(2, 1234, PhantomConfig.preset("small"))  # held-out phantom
    write_volume(case.image, tmp_path / "ct.nii.gz")
    out = tmp_path / "stress"
    args = ["stress-test", "--ct", str(tmp_path / "ct.nii.gz"), "--out", str(out)]
    args += ["--sizes-mm", "20", "--contrasts-hu", "-60", "--contrasts-hu", "20", "--lesions", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "cells.csv").open()))
    assert [(r["size_mm"], r["contrast_hu"]) for r in rows] == [("20", "-60"), ("20", "20")]
    for row in rows:
        assert int(row["lesions"]) == 2 and 0 <= int(row["detected"]) <= 2
        assert 0.0 <= float(row["dice_mean"]) <= 1.0
    (baseline,) = list(csv.DictReader((out / "baseline.csv").open()))
    assert (
        float(baseline["liver_ml"]) > 500 and float(baseline["fp_tumor_ml_without_implants"]) >= 0
    )
    png = (out / "heatmap.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert "Detection rate" in (out / "summary.md").read_text()
    again = CliRunner().invoke(app, args)
    assert again.exit_code != 0  # outputs exist, no --overwrite


def test_scoring_rules() -> None:
    implanted = np.zeros((20, 20, 20), dtype=bool)
    implanted[2:6, 2:6, 2:6] = True
    implanted[12:16, 12:16, 12:16] = True
    predicted = np.zeros_like(implanted)
    predicted[2:6, 2:6, 2:5] = True  # 3/4 of the first lesion: IoU 0.75, Dice 0.857
    lesions, detected, dice = score_lesions(predicted, implanted, (1.0, 1.0, 1.0), 0.1)
    assert (lesions, detected) == (2, 1)
    assert sorted(dice) == pytest.approx([0.0, 2 * 0.75 / 1.75])


def test_bad_grid() -> None:
    with pytest.raises(StressConfigError, match="outside 3-120"):
        StressConfig(sizes_mm=(1.0,))
