"""``smoothseg train --synthetic N [--synthetic-only]``: on-the-fly phantoms in either stage."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from smoothseg.cli import main
from smoothseg.phantom.config import PhantomConfig
from smoothseg.postprocess.quality import quality_config_for
from smoothseg.preprocess.config import LiverStageConfig
from smoothseg.preprocess.transforms import train_transforms
from smoothseg.training.synthetic import SyntheticCases, SyntheticDataset
from training_data import tiny_cache

TINY = PhantomConfig.preset("small", shape=(64, 64, 24), spacing_mm=(6.0, 6.0, 10.0))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cli-synthetic")
    cache = tiny_cache(folder, n_cases=4)
    splits = folder / "splits.json"
    with pytest.raises(SystemExit) as exit_info:
        main(["split", "--manifest", str(cache), "--replications", "1", "--out", str(splits)])
    assert exit_info.value.code == 0
    return cache, splits


def test_synthetic_dataset_serves_new_cases_each_epoch() -> None:
    config = LiverStageConfig(target_spacing_mm=(8.0, 8.0, 8.0), roi_size=(16, 16, 16))
    dataset = SyntheticDataset(
        SyntheticCases(2, seed=1, config=TINY), train_transforms("liver", config, load=False)
    )
    assert len(dataset) == 2
    raw = dataset.item(1)
    assert raw["case_id"] == "synthetic-e0000-0001" and math.isnan(raw["soft_tlvr"])
    assert raw["image"].shape == raw["label"].shape and raw["image"].ndim == 4
    samples = dataset[0]
    first = samples[0] if isinstance(samples, list) else samples
    assert tuple(first["image"].shape) == (1, 16, 16, 16)
    assert set(np.unique(first["label"].numpy())) <= {0, 1}
    dataset.set_epoch(3)
    again = dataset.item(1)
    assert again["case_id"] == "synthetic-e0003-0001"
    assert again["image"].shape != raw["image"].shape or not np.array_equal(
        again["image"], raw["image"]
    )


def _write_config(path: Path, stage: str) -> Path:
    path.write_text(
        '[model]\nname = "unet"\n[train]\nmax_epochs = 1\n[loss]\nalpha = 0.0\n'
        f"[{stage}]\ntarget_spacing_mm = [8.0, 8.0, 8.0]\nroi_size = [16, 16, 16]\n"
    )
    return path


@pytest.mark.parametrize("stage", ["liver", "tumor"])
def test_train_synthetic_only_records_the_recipe(
    data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], stage: str
) -> None:
    cache, splits = data
    run = tmp_path / "run"
    code, out, err = cli(
        capsys,
        "train", stage, "--data", str(cache), "--split", str(splits), "--out", str(run),
        "--preset", "cpu-small", "--config", str(_write_config(tmp_path / "c.toml", stage)),
        "--synthetic", "2", "--synthetic-only", "--no-progress", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["epochs"] == 1
    config = json.loads((run / "config.json").read_text())
    assert (config["synthetic_cases"], config["synthetic_only"]) == (2, True)
    info = json.loads((run / "run.json").read_text())
    assert info["train"] == [] and info["synthetic"]["cases_per_epoch"] == 2
    bundle = json.loads((run / "bundle" / "bundle.json").read_text())
    assert bundle["training"]["synthetic"]["liver_hu_range"] == [40.0, 150.0]
    assert bundle["training"]["train_cases"] == 0  # the split's cases were not trained on
    assert quality_config_for(bundle["training"]).trained_liver_hu == (40.0, 150.0)


def test_train_mixes_synthetic_cases_into_the_split(
    data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache, splits = data
    run = tmp_path / "run"
    code, _, err = cli(
        capsys,
        "train", "liver", "--data", str(cache), "--split", str(splits), "--out", str(run),
        "--preset", "cpu-small", "--config", str(_write_config(tmp_path / "c.toml", "liver")),
        "--synthetic", "1", "--no-progress", "--json",
    )  # fmt: skip
    assert code == 0, err
    info = json.loads((run / "run.json").read_text())
    assert info["train"] and info["synthetic"]["only"] is False
    assert info["train"] == json.loads(splits.read_text())["splits"][0]["train"]


def test_synthetic_only_without_cases_is_one_line(
    data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache, splits = data
    code, _, err = cli(
        capsys,
        "train", "liver", "--data", str(cache), "--split", str(splits),
        "--out", str(tmp_path / "r"), "--synthetic-only", "--no-progress",
    )  # fmt: skip
    assert code == 2 and "synthetic_only" in err and "Traceback" not in err
    code, _, err = cli(
        capsys,
        "train", "tumor", "--data", str(cache), "--split", str(splits), "--preset", "cpu-small",
        "--out", str(tmp_path / "t"), "--synthetic", "1", "--synthetic-only", "--no-progress",
    )  # fmt: skip
    assert code == 2 and "synthetic phantoms (--synthetic-only) carry none" in err
    assert "alpha = 0" in err and len(err.strip().splitlines()) == 1


def test_default_model_recipe_config_resolves() -> None:
    from smoothseg.training import load_train_config

    root = Path(__file__).resolve().parents[1]
    recipe = root / "scripts" / "default_model.toml"
    liver = load_train_config("liver", preset="cpu-small", config_file=recipe)
    tumor = load_train_config("tumor", preset="cpu-small", config_file=recipe)
    assert liver.preprocess.target_spacing_mm == (3.0, 3.0, 3.0)  # issue 15: liver <= 3 mm
    assert tumor.preprocess.target_spacing_mm == (2.0, 2.0, 2.0)  # tumor <= 2 mm
    assert tumor.loss.alpha == 0.0 and liver.model.name == "unet"
    script = (root / "scripts" / "train_default_model.sh").read_text(encoding="utf-8")
    assert '--synthetic "$SYNTHETIC"' in script and "provenance.json" in script
    # the tumor stage learns from randomized (visible-contrast) lesions only
    assert '--synthetic "$SYNTHETIC_TUMOR" --synthetic-only' in script
