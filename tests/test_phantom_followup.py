"""Phantom follow-ups: every scenario gets its designed categories and images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from smoothseg.cli import app
from smoothseg.io import read_volume
from smoothseg.phantom.followup import categories


def test_categories_follow_the_design() -> None:
    assert categories(0.0, 0.0, False) == ("CR", "CR", "CR")
    assert categories(0.5, 1.0, False) == ("PR", "PR", "PR")
    assert categories(1.0, 1.0, False) == ("SD", "SD", "SD")
    assert categories(1.5, 1.0, False) == ("PD", "PD", "PD")
    assert categories(1.0, 1.0, True) == ("PD", "PD", "PD")
    assert categories(1.0, 0.4, False) == ("SD", "PR", "SD")


def test_cli_writes_followup_pairs(tmp_path: Path) -> None:
    out = tmp_path / "pairs"
    result = CliRunner().invoke(app, ["phantom", "--followup", "--cases", "6", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "followups.json").read_text())["pairs"]
    assert [r["scenario"] for r in rows] == ["CR", "PR", "SD", "PD", "new_lesion", "lipiodol"]
    for row in rows:
        assert all(not Path(f).is_absolute() for f in row["files"].values())
        base = read_volume(out / row["files"]["baseline_labels"]).array
        follow = read_volume(out / row["files"]["followup_labels"]).array
        assert (base == 2).any()
        n_base, n_follow = int((base == 2).sum()), int((follow == 2).sum())
        if row["scenario"] == "CR":
            assert n_follow == 0
        if row["scenario"] == "PR":
            assert n_follow < 0.3 * n_base
        if row["scenario"] == "PD":
            assert n_follow > 2 * n_base
    lip = rows[5]
    img = read_volume(out / lip["files"]["followup"]).array
    lab = read_volume(out / lip["files"]["followup_labels"]).array
    assert np.count_nonzero((lab == 2) & (img > 300)) > 0
