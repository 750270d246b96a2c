"""smoothseg.response and `smoothseg compare` on phantom pairs of every category (truth masks)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smoothseg.cli import app, main
from smoothseg.errors import InputError
from smoothseg.phantom.followup import generate_followups
from smoothseg.response import compare
from smoothseg.response.criteria import recist
from smoothseg.response.match import Match
from smoothseg.response.measure import Lesion


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("pairs")
    truth = generate_followups(root / "phantom", 6, seed=3)
    rows: list[dict[str, Any]] = json.loads(truth.read_text())["pairs"]
    for row in rows:  # truth masks as smoothseg output folders
        for tp in ("baseline", "followup"):
            folder = root / row["case_id"] / tp
            folder.mkdir(parents=True)
            shutil.copy(root / "phantom" / row["files"][tp], folder / "image.nii.gz")
            shutil.copy(root / "phantom" / row["files"][f"{tp}_labels"], folder / "labels.nii.gz")
    return root, rows


@pytest.mark.parametrize("index", range(6))
def test_api_gets_every_category(pairs: tuple[Path, list[dict[str, Any]]], index: int) -> None:
    root, rows = pairs
    row = rows[index]
    case = root / row["case_id"]
    result = compare(
        case / "baseline",
        case / "followup",
        case / "out",
        arterial_baseline=root / "phantom" / row["files"]["baseline_arterial"],
        arterial_followup=root / "phantom" / row["files"]["followup_arterial"],
        figures=False,
    )
    got = {k: v.category for k, v in result.categories.items()}
    assert got == {
        "recist": row["recist"],
        "mrecist": row["mrecist"],
        "volumetric": row["volumetric"],
    }, (row["scenario"], result.categories)
    assert result.registration.liver_dice_after > result.registration.liver_dice_before
    if row["scenario"] == "new_lesion":
        assert any(m.kind == "new" for m in result.matches)
    if row["scenario"] == "lipiodol":
        assert sum(x.lipiodol_ml for x in result.followup_lesions) > 0


def test_cli_writes_outputs_without_paths(pairs: tuple[Path, list[dict[str, Any]]]) -> None:
    root, rows = pairs
    case = root / rows[1]["case_id"]
    out = root / "cli_out"
    res = CliRunner().invoke(
        app,
        [
            "compare",
            "--baseline",
            str(case / "baseline"),
            "--followup",
            str(case / "followup"),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "RECIST 1.1: PR" in res.output
    text = (out / "response.json").read_text()
    doc = json.loads(text)
    assert doc["schema_version"] == 1 and "mrecist" not in doc["categories"]
    assert str(root) not in text
    for name in doc["outputs"].values():
        assert (out / name).is_file()
    with pytest.raises(SystemExit) as done:
        main(
            [
                "compare",
                "--baseline",
                str(case / "baseline"),
                "--followup",
                str(case / "followup"),
                "--out",
                str(out),
            ]
        )
    assert done.value.code == 2


def test_one_arterial_phase_is_refused(pairs: tuple[Path, list[dict[str, Any]]]) -> None:
    root, rows = pairs
    case = root / rows[0]["case_id"]
    with pytest.raises(InputError, match="both arterial"):
        compare(
            case / "baseline",
            case / "followup",
            root / "x",
            arterial_baseline=case / "baseline" / "image.nii.gz",
        )


def _lesion(index: int, d: float) -> Lesion:
    return Lesion(index, d, d / 10, (0.0, 0.0, 0.0), None, None, 0.0)


def test_recist_rules_split_merge_and_small_targets() -> None:
    base = [_lesion(1, 40.0), _lesion(2, 30.0), _lesion(3, 20.0), _lesion(4, 8.0)]
    follow = [_lesion(1, 20.0), _lesion(2, 15.0), _lesion(3, 19.0)]
    matches = [
        Match(1, "split", (1,), (1, 2), 0.9),
        Match(2, "merged", (2, 3), (3,), 0.8),
        Match(3, "disappeared", (4,), (), 1.0),
    ]
    cat = recist(base, follow, matches)
    assert cat.targets == (1, 2)  # two largest measurable; 20 mm and 8 mm are non-target
    assert cat.baseline_sum == 70.0 and cat.followup_sum == 54.0  # split summed, merged once
    assert cat.category == "SD"
    small = recist([_lesion(1, 8.0)], [_lesion(1, 8.0)], [Match(1, "matched", (1,), (1,), 1.0)])
    assert small.category == "non-CR/non-PD"


def test_warnings_flag_what_a_reader_should_check() -> None:
    import SimpleITK as sitk

    from smoothseg.response.criteria import volumetric
    from smoothseg.response.register import Registration
    from smoothseg.response.warnings import response_warnings

    base = [_lesion(1, 40.0), _lesion(2, 8.0)]
    follow = [_lesion(1, 30.0), _lesion(2, 6.0), _lesion(3, 12.0)]
    matches = [
        Match(1, "split", (1,), (1, 3), 0.3),
        Match(2, "disappeared", (2,), (), 1.0),
        Match(3, "new", (), (2,), 1.0),
    ]
    cats = {
        "recist": recist(base, follow, matches),
        "volumetric": volumetric(base, follow, matches),
    }
    poor = Registration(sitk.Transform(3, sitk.sitkIdentity), 0.7, 0.6)
    text = " | ".join(response_warnings(poor, matches, base, follow, cats))
    for expected in (
        "agree poorly after registration (Dice 0.60",
        "registration lowered the liver overlap",
        "lesion #1 is matched with low confidence (0.30)",
        "lesion #1 split",
        "lesion #3 is new but 6.0 mm",
        "mRECIST (viable tumor) is not assessed",
    ):
        assert expected in text, text
    good = Registration(sitk.Transform(3, sitk.sitkIdentity), 0.7, 0.95)
    one = [Match(1, "matched", (1,), (1,), 0.9)]
    assert (
        response_warnings(good, one, base[:1], follow[:1], {**cats, "mrecist": cats["recist"]})
        == []
    )
