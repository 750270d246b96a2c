"""Experiment configs: the shipped ones load, unknown keys and bad values give clear errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from smoothseg.errors import InputError
from smoothseg.experiment import (
    SHIPPED,
    ExperimentConfigError,
    experiment_config_from_dict,
    load_experiment_config,
)
from smoothseg.experiment.config import shipped_path


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configs_load_and_serialize(name: str) -> None:
    config = load_experiment_config(name)
    assert shipped_path(name).is_file()
    assert config.name == name
    assert config.replications == 3
    assert config.stages.tumor.loss.alpha == config.alpha > 0
    assert config.tumor_config(smoothing=False).loss.alpha == 0.0
    assert config.ablation_config().loss.alpha == 0.0  # Table 5 row I: plain multi-class
    assert config.stages.liver.loss.alpha == 0.0
    assert set(config.stages.multiclass) == set(config.multiclass_models)
    json.dumps(config.to_dict())  # the resolved config is saved as JSON


def test_paper_config_has_the_papers_settings() -> None:
    config = load_experiment_config("paper")
    assert set(config.baselines) == {
        "unet",
        "unet_large",
        "unetpp",
        "manet",
        "segresnet",
        "segresnetvae",
    }
    assert config.test_fraction == 0.2
    for stage in (config.stages.liver, config.stages.tumor):
        assert (stage.max_epochs, stage.lr, stage.weight_decay) == (150, 1e-4, 1e-5)
        assert stage.scheduler == "cosine"
    assert config.stages.liver.preprocess.roi_size == (512, 512, 16)
    assert config.stages.tumor.preprocess.roi_size == (256, 256, 32)
    assert config.predict.chan_vese_iterations == 2


def test_cpu_small_is_small() -> None:
    config = load_experiment_config("cpu-small")
    # issue 17: all six paper baselines, >= 12 phantoms with >= 3 test cases per replication
    assert set(config.baselines) == {
        "unet",
        "unet_large",
        "unetpp",
        "manet",
        "segresnet",
        "segresnetvae",
    }
    assert config.phantom.cases >= 12 and round(config.phantom.cases * config.test_fraction) >= 3
    assert config.phantom.tumor_diameter_range_mm[0] >= 10.0  # RECIST-measurable lesions
    assert config.stages.liver.max_epochs <= 60 and config.stages.tumor.max_epochs <= 60
    assert all(c.model.init_filters <= 8 for c in config.stages.multiclass.values())
    assert config.stages.tumor.preprocess.pos >= 1
    assert config.stages.liver.device == "cpu"
    assert "cut" in config.notes  # says what was cut from the paper's scale


def test_path_config_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("replications: 2\nbaselines: unet\ntrain_preset: cpu-small\n")
    config = load_experiment_config(path)
    assert config.name == "mine"
    assert config.baselines == ("unet",)
    assert config.multiclass_models == ("unet", "segresnetvae")


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"replicatoins": 2}, ["replicatoins", "replications", "baselines"]),
        ({"training": {"trian": {}}}, ["trian", "multiclass"]),
        ({"stage_training": {"tumour": {}}}, ["tumour", "tumor", "liver"]),
        ({"stage_training": {"tumor": {"trian": {}}}}, ["trian", "stage_training.tumor"]),
        ({"clinical": {"modle": "ols"}}, ["modle", "preset"]),
        ({"predict": {"contour": True}}, ["contour", "refine"]),
        ({"phantom": {"n": 3}}, ["n", "cases"]),
        ({"evaluation": {"threshold": 5}}, ["threshold", "size_threshold_cm"]),
    ],
)
def test_unknown_keys_are_named_with_the_valid_ones(data: dict, names: list[str]) -> None:
    with pytest.raises(ExperimentConfigError) as info:
        experiment_config_from_dict({"train_preset": "cpu-small", **data})
    for name in names:
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"baselines": ["unet", "resnet"]}, "unknown baseline model 'resnet'"),
        ({"ablation_model": "nope"}, "unknown ablation model"),
        ({"alpha": 0}, "alpha must be > 0"),
        ({"replications": 0}, "replications must be >= 1"),
        ({"train_preset": "gpu"}, "unknown train_preset"),
        ({"training": {"train": {"max_epochs": 0}}}, "max_epochs must be >= 1"),
        ({"training": {"train": {"nope": 1}}}, "nope"),
        ({"predict": {"overlap": 2.0}}, "overlap"),
        ({"clinical": "ols"}, "clinical must be a mapping"),
        ({"training": {"liver": {"roi_size": [32, 32, 24]}}}, "multiples of 16"),
    ],
)
def test_bad_values_are_clear_errors(data: dict, text: str) -> None:
    with pytest.raises(ExperimentConfigError, match=text):
        experiment_config_from_dict({"train_preset": "cpu-small", **data})


def test_stage_training_changes_one_stage_only() -> None:
    config = experiment_config_from_dict(
        {
            "train_preset": "cpu-small",
            "training": {"train": {"max_epochs": 4}},
            "stage_training": {"tumor": {"train": {"max_epochs": 9}, "model": {"dropout": 0.0}}},
        }
    )
    assert config.tumor_config(smoothing=True).max_epochs == 9
    assert config.tumor_config(smoothing=False).model.dropout == 0.0
    assert config.stages.liver.max_epochs == 4 and config.stages.liver.model.dropout > 0
    assert all(c.max_epochs == 4 for c in config.stages.multiclass.values())
    assert config.to_dict()["stage_training"]["tumor"]["train"]["max_epochs"] == 9


def test_missing_or_broken_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="shipped configs: paper, cpu-small"):
        load_experiment_config(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("replications: [1,\n")
    with pytest.raises(InputError, match="cannot parse"):
        load_experiment_config(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="mapping at the top level"):
        load_experiment_config(listed)


def test_demo_refuses_to_replace_another_cohort(tmp_path: Path) -> None:
    from smoothseg.experiment import run_demo

    cohort = tmp_path / "phantom"
    cohort.mkdir()
    (cohort / "phantom_config.json").write_text('{"n_cases": 99, "seed": 5}', encoding="utf-8")
    with pytest.raises(InputError, match="holds another cohort than this config's"):
        run_demo(load_experiment_config("cpu-small"), out=tmp_path)
    assert not (tmp_path / "experiment").exists()


def test_demo_cohort_with_other_noise_is_another_cohort(tmp_path: Path) -> None:
    """A saved cohort that differs only in its noise range is not silently reused."""
    from smoothseg.experiment import run_demo
    from smoothseg.experiment.demo import _same_cohort, cohort_config

    config = load_experiment_config("cpu-small")
    p = config.phantom
    cohort = tmp_path / "phantom"
    cohort.mkdir()
    for noise, same in ((p.noise_sigma_hu, True), ((10.0, 25.0), False)):
        saved = replace(cohort_config(p), noise_sigma_hu=noise).to_dict()
        saved.update(n_cases=p.cases)
        (cohort / "phantom_config.json").write_text(json.dumps(saved), encoding="utf-8")
        assert _same_cohort(cohort, p) is same
    with pytest.raises(InputError, match="holds another cohort than this config's"):
        run_demo(config, out=tmp_path)
    with pytest.raises(ExperimentConfigError, match="noise_sigma_hu"):
        experiment_config_from_dict({"phantom": {"noise_sigma_hu": [9.0, 3.0]}})


@pytest.mark.parametrize(("name", "block"), [("cpu-small", (5, 5, 2)), ("paper-device", (3, 3, 1))])
def test_cohort_noise_is_scan_noise_averaged_into_its_voxels(
    name: str, block: tuple[int, int, int]
) -> None:
    """The shipped cohorts' noise: the generator's 10-25 HU at 0.8 x 0.8 x 2.4 mm, block-averaged.

    cpu-small: 5 x 5 x 2 blocks (4 x 4 x 4.8 mm); paper-device: 3 x 3 x 1 (2.4 mm).
    """
    import numpy as np

    from smoothseg.phantom.config import PhantomConfig
    from smoothseg.phantom.noise import correlated_noise

    default = PhantomConfig()
    shape = (240, 240, 40)
    noise = correlated_noise(
        shape, np.random.default_rng(0), (0.8, 0.8, 2.4), default.noise_correlation_mm
    )
    bx, by, bz = block
    blocks = noise.reshape(shape[0] // bx, bx, shape[1] // by, by, shape[2] // bz, bz)
    factor = float(blocks.mean(axis=(1, 3, 5)).std())  # the noise has unit variance
    low, high = load_experiment_config(name).phantom.noise_sigma_hu
    assert abs(low - factor * default.noise_sigma_hu[0]) <= 0.5
    assert abs(high - factor * default.noise_sigma_hu[1]) <= 0.5


@pytest.mark.parametrize("name", SHIPPED)
def test_ablation_one_is_the_plain_multiclass_model(name: str) -> None:
    """Fix 2: Table 5 row I has no two-step, no contour adjustment and no smoothing."""
    from smoothseg.experiment.predict import ABLATION
    from smoothseg.experiment.runner import experiment_variants, train_steps

    config = load_experiment_config(name)
    row_i = {v.name: v for v in experiment_variants(config)}[ABLATION["I"]]
    assert row_i.first == f"multiclass_{config.ablation_model}" and row_i.tumor is None
    assert (row_i.two_step, row_i.refine, row_i.smoothing) == (False, False, False)
    steps = {s.name: s for s in train_steps(config)}
    trained = steps[row_i.first]
    assert trained.config.loss.alpha == 0.0 and not trained.smoothing
    assert sorted(n for n in steps if n.startswith("multiclass_")) == sorted(
        f"multiclass_{m}" for m in config.multiclass_models
    )


def test_minimum_lesion_filter_is_a_stated_option_off_by_default() -> None:
    """Fix 5: the paper has no minimum-lesion filter; a config may still turn one on."""
    for name in SHIPPED:
        assert load_experiment_config(name).predict.min_lesion_mm3 == 0.0
    on = experiment_config_from_dict({"predict": {"min_lesion_mm3": 25.0}})
    assert on.predict.min_lesion_mm3 == 25.0
    assert experiment_config_from_dict({}).predict.min_lesion_mm3 == 0.0


def test_liver_neck_cut_is_off_in_experiments_unless_asked() -> None:
    """The paper does not cut the liver at necks; smoothseg predict does by default."""
    for name in SHIPPED:
        assert load_experiment_config(name).predict.liver_neck_mm == 0.0
    assert experiment_config_from_dict({}).predict.liver_neck_mm == 0.0
    on = experiment_config_from_dict({"predict": {"liver_neck_mm": 12.0}})
    assert on.predict.liver_neck_mm == 12.0 and on.predict.min_lesion_mm3 == 0.0
