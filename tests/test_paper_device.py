"""The device-sized paper run (``paper-device.yaml``): what it promises, and a toy-size CPU run.

The toy run is that config with only what costs time shrunk (8 phantoms on a 12 mm grid,
cpu-small widths, tiny patches, one epoch, one replication, CPU instead of CUDA); the three
stages, all six baselines, ablation I, the clinical fit and the persistent cache stay as shipped.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from smoothseg.datasets.splits import SplitConfig, make_splits
from smoothseg.experiment import (
    SHIPPED,
    ExperimentConfig,
    experiment_config_from_dict,
    load_experiment_config,
    run_demo,
)
from smoothseg.experiment.config import read_mapping, shipped_path
from smoothseg.experiment.runner import train_steps
from smoothseg.experiment.tables import MODEL_LABELS
from smoothseg.training.config import merge
from test_experiment_run import SMALL, TABLES

SIX = {"unet", "unet_large", "unetpp", "manet", "segresnet", "segresnetvae"}
# SegResNetVAE's VAE branch needs more than one voxel after its four halvings: 32 x 32 x 16
STAGE = {**SMALL, "roi_size": [32, 32, 16], "samples_per_volume": 1}
TOY = {
    "replications": 1,
    "training": {
        "scale": "cpu-small",
        "train": {"max_epochs": 1, "val_every": 1, "device": "cpu", "num_workers": 0},
        "liver": STAGE,
        "tumor": STAGE,
        "multiclass": STAGE,
    },
    "predict": {"device": "cpu", "amp": False, "auto_sw_batch": False, "overlap": 0.0},
    "figure_cases": 1,
    "phantom": {"cases": 8, "shape": [32, 32, 20], "spacing_mm": [12.0, 12.0, 12.0]},
}


@pytest.fixture(scope="module")
def device_config() -> ExperimentConfig:
    return load_experiment_config("paper-device")


def test_paper_device_is_shipped_and_keeps_its_promises(device_config: ExperimentConfig) -> None:
    config = device_config
    assert "paper-device" in SHIPPED and config.name == "paper-device"
    assert set(config.baselines) == SIX and config.ablation_model == "segresnetvae"
    assert config.replications == 3 and config.test_fraction == 0.2
    assert config.phantom.cases >= 20 and max(config.phantom.spacing_mm) <= 2.0
    ids = {f"PHANTOM_{i:03d}": f"PHANTOM_{i:03d}" for i in range(config.phantom.cases)}
    splits = make_splits(
        ids,
        SplitConfig(
            scheme="replications",
            replications=config.replications,
            test_fraction=config.test_fraction,
            val_fraction=config.val_fraction,
            seed=config.split_seed,
        ),
    )
    assert [(len(s.train), len(s.val), len(s.test)) for s in splits] == [(14, 2, 4)] * 3
    tumor, liver = config.stages.tumor.preprocess, config.stages.liver.preprocess
    assert tumor.target_spacing_mm is not None and max(tumor.target_spacing_mm) <= 2.0
    assert liver.target_spacing_mm is not None and 2.0 < max(liver.target_spacing_mm) <= 4.0
    steps = train_steps(config)
    assert len(steps) == 3 + len(SIX)  # liver, tumor with and without smoothing, six models
    for step in steps:  # all on the GPU, all with the same budget
        assert step.config.device == "cuda" and step.config.amp == "auto", step.name
        assert step.config.max_epochs == config.stages.liver.max_epochs, step.name
    assert config.predict.device == "cuda" and config.predict.min_lesion_mm3 == 0.0


def test_paper_device_has_the_paper_widths(device_config: ExperimentConfig) -> None:
    """Every model equals the ``paper`` experiment's but for its (smaller) patch size."""
    paper = load_experiment_config("paper")
    pairs = [
        (device_config.stages.liver, paper.stages.liver),
        (device_config.stages.tumor, paper.stages.tumor),
        *((device_config.stages.multiclass[m], paper.stages.multiclass[m]) for m in SIX),
    ]
    for mine, theirs in pairs:
        assert mine.scale == theirs.scale == "paper"
        assert replace(mine.model, roi_size=theirs.model.roi_size) == theirs.model, mine.stage
        assert (mine.weight_decay, mine.scheduler, mine.batch_size) == (1e-5, "cosine", 1)


def test_paper_device_runs_end_to_end_at_toy_size(
    tmp_path: Path, device_config: ExperimentConfig
) -> None:
    shipped = read_mapping(shipped_path("paper-device"))
    config = experiment_config_from_dict(merge(shipped, TOY), name="paper-device-toy")
    assert config.baselines == tuple(shipped["baselines"])
    assert config.clinical == device_config.clinical and config.alpha == device_config.alpha
    result = run_demo(config, out=tmp_path, progress=False)
    out = tmp_path / "experiment"
    assert result.report == out / "report.md" and result.report.stat().st_size > 0
    split = json.loads((out / "splits.json").read_text())["splits"][0]
    assert (len(split["train"]), len(split["val"]), len(split["test"])) == (5, 1, 2)
    for step in ("liver", "tumor_smooth", "tumor_plain", *(f"multiclass_{m}" for m in SIX)):
        assert (out / "runs" / "replication_1" / step / "bundle").is_dir(), step
    assert any((out / "cache" / "preprocessed").iterdir())  # the persistent cache was used
    for table in TABLES:
        for suffix in ("md", "csv", "tex"):
            assert (out / "tables" / f"{table}.{suffix}").stat().st_size > 0
    table3 = (out / "tables" / "table3_tumor.md").read_text(encoding="utf-8")
    for label in ("SmoothSegNet (proposed)", *(MODEL_LABELS[m] for m in SIX)):
        assert label in table3, label
    assert (out / "figures" / "figure4_samples.png").stat().st_size > 0
