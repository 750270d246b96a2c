"""Training end to end on a small phantom cohort (CPU): liver, tumor with soft labels, multiclass,
exact resume, early stopping, run-folder protection."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch

from smoothseg.bundle import load_bundle
from smoothseg.datasets.splits import Split
from smoothseg.errors import InputError, OutputExistsError
from smoothseg.training import (
    TrainConfig,
    ValidationResult,
    load_train_config,
    read_soft_labels,
    select_split,
    train,
)
from smoothseg.training.checkpoint import load_checkpoint
from training_data import default_splits, phantom_cache

FAST_LIVER = """
[train]
lr = 5e-3
batch_size = 1
max_epochs = 4
[model]
name = "unet"
[liver]
samples_per_volume = 2
"""

SMALL_TUMOR = """
[train]
batch_size = 1
max_epochs = 2
[tumor]
target_spacing_mm = "keep"
roi_size = [32, 32, 32]
samples_per_volume = 2
"""


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("phantom")
    cache = phantom_cache(folder, 12)
    return cache, default_splits(cache, folder / "splits.json")


def _config(tmp_path: Path, stage: str, text: str, **overrides: object) -> TrainConfig:
    path = tmp_path / f"{stage}.toml"
    path.write_text(text)
    return load_train_config(stage, preset="cpu-small", config_file=path, overrides=overrides)


def _rows(run: Path) -> list[dict[str, str]]:
    with (run / "metrics.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_liver_stage_learns_on_phantoms(cohort: tuple[Path, Path], tmp_path: Path) -> None:
    cache, splits = cohort
    split = select_split(splits, replication=1)
    assert (len(split.train), len(split.val)) == (9, 2)
    config = _config(tmp_path, "liver", FAST_LIVER)
    result = train(config, data=cache, split=split, out=tmp_path / "run", progress=False)

    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < 0.7 * losses[0], losses
    assert result.best_score is not None and result.best_score > 0.7, result.history
    rows = _rows(tmp_path / "run")
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[-1]["val_dice_liver"]) > 0.6 and rows[0]["lr"] == "0.005"
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    for name in ("config.json", "run.json", "last.pt", "best.pt"):
        assert (tmp_path / "run" / name).is_file()
    assert json.loads((tmp_path / "run" / "run.json").read_text())["val"] == list(split.val)

    bundle = load_bundle(result.bundle_dir)
    assert bundle.stage == "liver" and bundle.label_map == {0: "background", 1: "liver"}
    assert bundle.training["epoch"] == result.best_epoch
    assert not bundle.model.training
    with pytest.raises(OutputExistsError):
        train(config, data=cache, split=split, out=tmp_path / "run", progress=False)


def test_tumor_stage_uses_soft_labels(cohort: tuple[Path, Path], tmp_path: Path) -> None:
    cache, splits = cohort
    full = select_split(splits)
    split = Split("small", full.train[:3], full.val[:1], ())
    csv_path = tmp_path / "soft_labels.csv"
    csv_path.write_text(
        "case_id,tlvr,tlvr_hat,fold\n"
        + "".join(f"{c},0.1,{0.05 + 0.1 * i},{i}\n" for i, c in enumerate(split.train[:2]))
    )
    labels = read_soft_labels(csv_path)
    config = _config(tmp_path, "tumor", SMALL_TUMOR)
    assert config.model.name == "segresnetvae" and config.loss.alpha > 0
    result = train(
        config,
        data=cache,
        split=split,
        out=tmp_path / "run",
        soft_labels=labels,
        soft_labels_path=csv_path,
        progress=False,
    )
    assert len(result.history) == 2
    assert all(row["train_tlvr"] > 0 for row in result.history)
    assert all(row["train_vae"] > 0 for row in result.history)
    assert math.isfinite(result.history[-1]["val_dice"])
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["soft_label_cases"] == sorted(split.train[:2])  # the third has none
    assert info["alpha_effective"] == config.loss.alpha and info["soft_label_train_cases"] == 2
    bundle = load_bundle(result.bundle_dir)
    assert bundle.stage == "tumor" and bundle.postprocessing == "restrict_to_liver"
    assert bundle.preprocessing.roi_size == (32, 32, 32)


def test_multiclass_baseline_runs_one_epoch(cohort: tuple[Path, Path], tmp_path: Path) -> None:
    cache, splits = cohort
    full = select_split(splits)
    config = _config(tmp_path, "multiclass", '[model]\nname = "unet"\n', max_epochs=1)
    split = Split("small", full.train[:3], full.val[:1], ())
    result = train(config, data=cache, split=split, out=tmp_path / "run", progress=False)
    row = result.history[0]
    assert {"val_dice_liver", "val_dice_tumor"} <= set(row)
    assert row["val_dice"] == pytest.approx((row["val_dice_liver"] + row["val_dice_tumor"]) / 2)
    assert load_bundle(result.bundle_dir).label_map[2] == "tumor"


def test_resume_continues_exactly(cohort: tuple[Path, Path], tmp_path: Path) -> None:
    cache, splits = cohort
    full = select_split(splits)
    split = Split("small", full.train[:3], full.val[:1], ())
    config = _config(tmp_path, "liver", '[model]\nname = "unet"\n', max_epochs=2, batch_size=1)
    straight = train(config, data=cache, split=split, out=tmp_path / "a", progress=False)
    train(config, data=cache, split=split, out=tmp_path / "b", progress=False, stop_after=1)
    with pytest.raises(OutputExistsError):
        train(config, data=cache, split=split, out=tmp_path / "b", progress=False)
    resumed = train(
        config, data=cache, split=split, out=tmp_path / "b", resume=True, progress=False
    )

    a = load_checkpoint(tmp_path / "a" / "last.pt")
    b = load_checkpoint(tmp_path / "b" / "last.pt")
    assert a["epoch"] == b["epoch"] == 2
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    for key in ("train_loss", "val_dice"):
        assert [r[key] for r in straight.history] == [r[key] for r in resumed.history]
    untimed = [
        [{k: v for k, v in row.items() if not k.endswith("seconds")} for row in _rows(tmp_path / r)]
        for r in ("a", "b")
    ]
    assert untimed[0] == untimed[1]
    with pytest.raises(InputError, match="nothing to resume"):
        train(config, data=cache, split=split, out=tmp_path / "c", resume=True, progress=False)
    other = Split("other", full.train[3:5], full.val[:1], ())
    with pytest.raises(InputError, match="split differs"):
        train(config, data=cache, split=other, out=tmp_path / "b", resume=True, progress=False)


def test_early_stopping_after_patience(
    cohort: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, splits = cohort
    full = select_split(splits)
    split = Split("small", full.train[:2], full.val[:1], ())

    def flat(*args: object, **kwargs: object) -> ValidationResult:
        return ValidationResult(
            per_case={"x": {"liver": 0.5}}, empty_target={"x": {"liver": False}}
        )

    monkeypatch.setattr("smoothseg.training.trainer.validate", flat)
    config = _config(
        tmp_path,
        "liver",
        '[model]\nname = "unet"\n[train]\nearly_stopping_patience = 2\n',
        max_epochs=10,
    )
    result = train(config, data=cache, split=split, out=tmp_path / "run", progress=False)
    assert result.stopped_early and result.epochs == 3 and result.best_epoch == 1


def test_tumor_alpha_without_usable_soft_labels_is_an_error(
    cohort: tuple[Path, Path], tmp_path: Path
) -> None:
    """α > 0 with no (or non-matching) soft labels refuses to train, never a silent α = 0."""
    cache, splits = cohort
    full = select_split(splits)
    split = Split("small", full.train[:2], full.val[:1], ())
    config = _config(tmp_path, "tumor", SMALL_TUMOR)
    assert config.loss.alpha > 0
    for labels, match in ((None, "no soft labels were given"), ({"OTHER_001": 0.1}, "matches")):
        with pytest.raises(InputError, match=match):
            train(config, data=cache, split=split, out=tmp_path / "r", soft_labels=labels)
        assert not (tmp_path / "r").exists()
    zero = _config(tmp_path, "tumor", SMALL_TUMOR + "[loss]\nalpha = 0.0\n", max_epochs=1)
    train(zero, data=cache, split=split, out=tmp_path / "z", progress=False)
    info = json.loads((tmp_path / "z" / "run.json").read_text())
    assert info["alpha_effective"] == 0.0 and info["soft_label_train_cases"] == 0
