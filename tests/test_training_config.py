"""Training configs: shipped presets, user files laid over them, unknown keys, round trips."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from smoothseg.errors import InputError
from smoothseg.models import ModelConfigError
from smoothseg.preprocess import LiverStageConfig, PreprocessConfigError, TumorStageConfig
from smoothseg.training import (
    PRESETS,
    TrainConfig,
    TrainConfigError,
    load_train_config,
    resume_config,
)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("stage", ["liver", "tumor", "multiclass"])
def test_presets_resolve_for_every_stage(preset: str, stage: str) -> None:
    config = load_train_config(stage, preset=preset)
    assert config.stage == stage and config.preset == preset
    assert config.model.roi_size == config.preprocess.roi_size
    assert config.model.out_channels == (2 if stage == "liver" else 3)
    kind = TumorStageConfig if stage == "tumor" else LiverStageConfig
    assert isinstance(config.preprocess, kind)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_paper_preset_matches_tables_sb1_to_sb3() -> None:
    liver = load_train_config("liver", preset="paper")
    tumor = load_train_config("tumor", preset="paper")
    assert (liver.lr, liver.weight_decay, liver.max_epochs, liver.batch_size) == (
        1e-4,
        1e-5,
        150,
        1,
    )
    assert liver.scheduler == "cosine" and liver.amp == "auto"
    assert liver.preprocess.hu_window == (-150.0, 250.0)
    assert liver.preprocess.roi_size == (512, 512, 16)
    assert liver.preprocess.target_spacing_mm is None
    assert tumor.preprocess.hu_window == (-200.0, 250.0)
    assert tumor.preprocess.roi_size == (256, 256, 32)
    assert tumor.model.name == "segresnetvae" and tumor.model.init_filters == 16
    assert tumor.model.vae_nz == 256 and tumor.model.vae_default_std == 0.3
    assert tumor.loss.alpha == 0.5 and tumor.early_stopping_patience is None


def test_user_file_overrides_preset_and_cli_overrides_win(tmp_path: Path) -> None:
    user = tmp_path / "my.toml"
    user.write_text(
        "[train]\nlr = 0.01\nmax_epochs = 3\nearly_stopping_patience = 2\n"
        '[model]\nname = "unet"\n'
        "[tumor]\nroi_size = [32, 32, 16]\ntarget_spacing_mm = [4.0, 4.0, 4.0]\n"
        "[tumor.augment]\nenabled = false\n"
        "[loss]\nalpha = 0.6\n"
    )
    config = load_train_config(
        "tumor", preset="cpu-small", config_file=user, overrides={"max_epochs": 5}
    )
    assert config.lr == 0.01 and config.max_epochs == 5 and config.early_stopping_patience == 2
    assert config.model.name == "unet" and config.model.roi_size == (32, 32, 16)
    assert config.preprocess.target_spacing_mm == (4.0, 4.0, 4.0)
    assert isinstance(config.preprocess, TumorStageConfig)
    assert not config.preprocess.augment.enabled
    assert config.preprocess.augment.flip_axes == (0, 1, 2)  # untouched augment keys stay
    assert config.loss.alpha == 0.6
    assert load_train_config("tumor", preset="cpu-small", model="manet").model.name == "manet"
    as_json = tmp_path / "my.json"
    as_json.write_text(json.dumps({"train": {"seed": 7}, "liver": {"target_spacing_mm": "keep"}}))
    liver = load_train_config("liver", preset="cpu-small", config_file=as_json)
    assert liver.seed == 7 and liver.preprocess.target_spacing_mm is None


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("[train]\nlearning_rate = 1\n", TrainConfigError, r"\['learning_rate'\]"),
        ("[trian]\nlr = 1\n", TrainConfigError, r"\['trian'\]"),
        ("[model]\nwidth = 3\n", TrainConfigError, r"\['width'\]"),
        ("[model]\nroi_size = [16, 16, 16]\n", TrainConfigError, r"\[liver\]"),
        ("[loss]\nbeta = 1\n", TrainConfigError, r"\['beta'\]"),
        ("[liver]\nwindow = [0, 1]\n", PreprocessConfigError, r"\['window'\]"),
        ("[liver.augment]\nflip = true\n", PreprocessConfigError, r"\['flip'\]"),
        ('[model]\nname = "vnet"\n', ModelConfigError, "valid: "),
        ("[train]\nbatch_size = 0\n", TrainConfigError, "batch_size"),
        ('scale = "huge"\n', TrainConfigError, "scale"),
    ],
)
def test_bad_keys_and_values_are_named(
    tmp_path: Path, text: str, error: type[Exception], match: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(error, match=match):
        load_train_config("liver", preset="cpu-small", config_file=path)


def test_unknown_preset_stage_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(TrainConfigError, match="cpu-small"):
        load_train_config("liver", preset="gpu-huge")
    with pytest.raises(TrainConfigError, match="unknown stage"):
        load_train_config("lung")
    with pytest.raises(InputError, match="not found"):
        load_train_config("liver", config_file=tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[train\n")
    with pytest.raises(InputError, match="cannot parse"):
        load_train_config("liver", config_file=broken)
    other = tmp_path / "config.ini"
    other.write_text("x")
    with pytest.raises(InputError, match=r"\.toml"):
        load_train_config("liver", config_file=other)


def test_train_config_checks_consistency() -> None:
    config = load_train_config("liver", preset="cpu-small")
    with pytest.raises(TrainConfigError, match="roi_size"):
        replace(config, preprocess=replace(config.preprocess, roi_size=(16, 16, 16)))
    with pytest.raises(TrainConfigError, match="TumorStageConfig"):
        replace(config, stage="tumor")
    assert config.label_map == {0: "background", 1: "liver"}


def test_resume_config_allows_only_runtime_fields(tmp_path: Path) -> None:
    config = load_train_config("liver", preset="cpu-small")
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    resumed = resume_config(tmp_path, max_epochs=50, device=None)
    assert resumed.max_epochs == 50 and resumed.device == config.device
    with pytest.raises(TrainConfigError, match="lr"):
        resume_config(tmp_path, lr=0.5)
    with pytest.raises(InputError, match=r"config\.json"):
        resume_config(tmp_path / "elsewhere")


def test_alpha_is_the_tumor_stages_multiclass_and_liver_start_from_zero() -> None:
    from smoothseg.training import load_train_config

    assert load_train_config("tumor", preset="cpu-small").loss.alpha == 0.5
    assert load_train_config("multiclass", preset="cpu-small").loss.alpha == 0.0
    assert load_train_config("liver", preset="paper").loss.alpha == 0.0
    assert load_train_config("multiclass", preset="cpu-small", alpha=0.3).loss.alpha == 0.3
    assert load_train_config("tumor", preset="cpu-small", alpha=0.0).loss.alpha == 0.0
