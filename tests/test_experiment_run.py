"""A tiny experiment end to end: 2 replications of a tiny phantom cohort, 1 epoch per model.

Checks that every table and figure exists and holds numbers of this run (a table cell is
recomputed from the per-case results the run wrote), and that a re-run skips finished steps.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smoothseg.cli import app
from smoothseg.errors import InputError, OutputExistsError
from smoothseg.experiment import experiment_config_from_dict, run_experiment

SMALL = {"target_spacing_mm": [16.0, 16.0, 16.0], "roi_size": [16, 16, 16]}
TINY = {
    "name": "tiny",
    "replications": 2,
    "test_fraction": 0.25,
    "val_fraction": 0.2,
    "baselines": ["unet"],
    "ablation_model": "unet",
    "train_preset": "cpu-small",
    "training": {
        "train": {"max_epochs": 1},
        "model": {"name": "unet"},
        "liver": {**SMALL, "samples_per_volume": 1},
        "tumor": {**SMALL, "samples_per_volume": 1},
        "multiclass": {**SMALL, "samples_per_volume": 1},
    },
    "clinical": {"select": False, "folds": 2, "compare": False},
    "predict": {"overlap": 0.0, "chan_vese_iterations": 1},
    "figure_cases": 1,
}
TABLES = ("table2_liver", "table3_tumor", "table4_tumor_size", "table5_ablation")


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    from smoothseg.phantom import PhantomConfig, generate_cohort

    root = tmp_path_factory.mktemp("experiment")
    cohort = root / "cohort"
    phantom = PhantomConfig.preset("small", shape=(48, 48, 30), spacing_mm=(8.0, 8.0, 8.0))
    generate_cohort(cohort, 6, seed=3, config=phantom)
    config = experiment_config_from_dict(TINY)
    result = run_experiment(config, data=cohort, out=root / "out", progress=False)
    return cohort, root / "out", result


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_table_and_figure_is_written(experiment: tuple[Path, Path, object]) -> None:
    _, out, result = experiment
    report = (out / "report.md").read_text(encoding="utf-8")
    splits = json.loads((out / "splits.json").read_text())["splits"]
    n_test = sum(len(sp["test"]) for sp in splits)
    for key in (*TABLES, *(f"{t}_per_case" for t in TABLES)):
        for suffix in ("md", "csv", "tex"):
            assert (out / "tables" / f"{key}.{suffix}").stat().st_size > 0
        rows = _rows(out / "tables" / f"{key}.csv")
        assert rows and "p_dice" in rows[0], key
        if key.startswith("table2"):  # every test case of both replications is scored
            assert {r["dice_n_cases"] for r in rows} == {str(n_test)}, key
            assert {r["dice_n_replications"] for r in rows} == {"2"}, key
    for title in (
        "Table 2. Liver segmentation (pooled)",
        "Table 2. Liver segmentation (per-case means)",
        "Table 3.",
        "Table 4.",
        "Table 5.",
        "| p Dice | p Sensitivity |",
        "paired Wilcoxon signed-rank",
        "Figure C1",
        "Figure D1",
        "2 replication",
        "Minimum-lesion filter: off",
        "soft-label mode `cross-fit`",
        "truncated to 5-150 mm",  # the cohort's settings, from its phantom_config.json
        "image noise sd 10-25 HU per voxel",
    ):
        assert title in report, title
    assert "SmoothSegNet (proposed)" in report and "U-Net" in report
    n = len(splits[0]["train"])
    assert f"replication_1 tumor_smooth: α 0.5, {n} of {n} training cases with a soft" in report
    assert f"replication_1 tumor_plain: α 0, 0 of {n} training cases" in report
    for name in ("figure_d1_smoothing.png", "figure4_samples.png", "figure_c1_steps.png"):
        data = (out / "figures" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert "tables/table2_liver.csv" in report and "figures/figure4_samples.png" in report
    assert result.report == out / "report.md"  # type: ignore[attr-defined]


def test_tables_hold_this_runs_numbers(experiment: tuple[Path, Path, object]) -> None:
    _, out, _ = experiment
    splits = json.loads((out / "splits.json").read_text())
    names = [s["name"] for s in splits["splits"]]
    assert len(names) == 2
    per_rep = []
    for name in names:
        rows = _rows(out / "runs" / name / "evaluation" / "cases.csv")
        test = json.loads((out / "runs" / name / "evaluation" / "step_config.json").read_text())
        mine = [r for r in rows if r["variant"] == "smoothsegnet"]
        assert sorted(r["case_id"] for r in mine) == sorted(test["test"])
        per_rep.append(statistics.mean(float(r["liver_dice"]) for r in mine))
    table = {r["model"]: r for r in _rows(out / "tables" / "table2_liver.csv")}
    cell = table["SmoothSegNet (proposed)"]
    assert math.isclose(float(cell["dice_mean"]), statistics.mean(per_rep), rel_tol=1e-5)
    assert math.isclose(float(cell["dice_sd"]), statistics.stdev(per_rep), rel_tol=1e-4)
    assert cell["dice_n_replications"] == "2"
    ablation = _rows(out / "tables" / "table5_ablation.csv")
    assert [r["model_version"] for r in ablation] == [
        "I",
        "V (proposed)",
        "I",
        "II",
        "III",
        "IV",
        "V (proposed)",
    ]
    v_liver = next(
        r for r in ablation if r["task"] == "liver" and r["model_version"].startswith("V")
    )
    assert v_liver["dice_mean"] == cell["dice_mean"]


def test_runs_keep_their_config_and_training_history(
    experiment: tuple[Path, Path, object],
) -> None:
    _, out, _ = experiment
    rep = out / "runs" / "replication_1"
    for step in ("clinical", "liver", "tumor_smooth", "tumor_plain", "multiclass_unet",
                 "evaluation"):  # fmt: skip
        assert (rep / step / "step_config.json").is_file(), step
        assert json.loads((rep / step / "done.json").read_text())["config"]
    smooth = json.loads((rep / "tumor_smooth" / "config.json").read_text())
    plain = json.loads((rep / "tumor_plain" / "config.json").read_text())
    assert smooth["loss"]["alpha"] > 0 and plain["loss"]["alpha"] == 0
    bundle = json.loads((rep / "tumor_smooth" / "bundle" / "bundle.json").read_text())
    n_train = len(json.loads((out / "splits.json").read_text())["splits"][0]["train"])
    assert bundle["training"]["alpha_effective"] == 0.5
    assert bundle["training"]["soft_label_train_cases"] == bundle["training"]["train_cases"]
    assert bundle["training"]["train_cases"] == n_train
    assert bundle["training"]["loss"] == "knowledge_informed"
    plain_bundle = json.loads((rep / "tumor_plain" / "bundle" / "bundle.json").read_text())
    assert plain_bundle["training"]["alpha_effective"] == 0.0
    assert plain_bundle["training"]["loss"] == "dice_focal"
    run = json.loads((rep / "tumor_smooth" / "run.json").read_text())
    split = json.loads((out / "splits.json").read_text())["splits"][0]
    assert set(run["soft_label_cases"]) <= set(split["train"]) | set(split["val"])
    soft = _rows(rep / "clinical" / "soft_labels.csv")
    assert {r["case_id"] for r in soft if r["fold"] != "test"} <= set(split["train"]) | set(
        split["val"]
    )
    assert json.loads((out / "experiment.json").read_text())["resolved_training"]["liver"]


def test_rerun_skips_finished_steps_and_refuses_other_configs(
    experiment: tuple[Path, Path, object],
) -> None:
    cohort, out, _ = experiment
    marker = out / "runs" / "replication_1" / "liver" / "done.json"
    before = marker.stat().st_mtime_ns
    (out / "tables" / "table3_tumor.csv").unlink()
    import yaml

    path = out.parent / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY), encoding="utf-8")
    args = ["experiment", "--config", str(path), "--data", str(cohort), "--out", str(out)]
    done = CliRunner().invoke(app, [*args, "--no-progress"])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip().splitlines()[-1] == str(out / "report.md")
    assert "0 step(s) run, 12 skipped" in done.stdout  # 2 x (clinical, 5 models, evaluation)
    first = next(
        line
        for line in (out / "report.md").read_text(encoding="utf-8").splitlines()
        if "as they first ran" in line
    )
    number, unit = first.split(": ")[-1].removesuffix(".").split(" ")
    assert unit in ("s", "min") and float(number) > 0.0  # the first run's step times are kept
    assert marker.stat().st_mtime_ns == before
    assert (out / "tables" / "table3_tumor.csv").is_file()
    config = experiment_config_from_dict(TINY)
    with pytest.raises(OutputExistsError):
        run_experiment(config, data=cohort, out=out, resume=False, progress=False)
    other = experiment_config_from_dict({**TINY, "alpha": 0.6})
    with pytest.raises(InputError, match="another config"):
        run_experiment(other, data=cohort, out=out, progress=False)


def test_durations_keep_short_runs_visible() -> None:
    from smoothseg.experiment.report import duration

    assert duration(3.04) == "3.0 s"  # a tiny run's step times do not round to "0.0 min"
    assert duration(59.94) == "59.9 s"
    assert duration(558.0) == "9.3 min"
