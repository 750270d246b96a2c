"""Determinism on CPU: the same seed gives identical predictions and identical training curves.

(GPU runs are not bit-reproducible unless ``deterministic = true``; see docs/reliability.md.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from smoothseg.io import read_volume
from smoothseg.predict import PredictConfig, Predictor
from smoothseg.training import load_train_config, select_split, train
from training_data import default_splits, tiny_cache


def test_same_input_same_prediction(tmp_path: Path) -> None:
    from smoothseg.phantom import PhantomConfig, generate_cohort

    config = PhantomConfig.preset("small", shape=(48, 48, 30), spacing_mm=(8.0, 8.0, 8.0))
    generate_cohort(tmp_path / "cohort", 1, seed=77, config=config)
    image = read_volume(tmp_path / "cohort" / "cases" / "PHANTOM_001" / "image.nii.gz")
    runs = [
        Predictor.from_model_dir(None, PredictConfig()).predict(image) for _ in range(2)
    ]  # two separately loaded predictors, as two processes would
    assert runs[0].status == "ok" and runs[0].liver.any()
    assert np.array_equal(runs[0].labels.array, runs[1].labels.array)


def _curve(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if not k.endswith("_seconds")} for row in history]


def test_same_seed_same_training_curve(tmp_path: Path) -> None:
    cache = tiny_cache(tmp_path, n_cases=6)
    split = select_split(default_splits(cache, tmp_path / "splits.json"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    results = []
    try:
        for name, seed, epochs in (("a", 5, 2), ("b", 5, 2), ("c", 6, 1)):
            config = load_train_config(
                "liver",
                preset="cpu-small",
                model="unet",
                overrides={"max_epochs": epochs, "seed": seed, "device": "cpu"},
            )
            config = _small_roi(config)
            results.append(
                train(config, data=cache, split=split, out=tmp_path / name, progress=False)
            )
    finally:
        torch.set_num_threads(threads)
    a, b, c = results
    assert _curve(a.history) == _curve(b.history)
    assert _curve(a.history)[0] != _curve(c.history)[0]  # the seed does matter
    weights_a = torch.load(a.bundle_dir / "model.pt", weights_only=True)
    weights_b = torch.load(b.bundle_dir / "model.pt", weights_only=True)
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)


def _small_roi(config: Any) -> Any:
    """The cpu-small liver config with 16^3 patches (as tests/test_reliability_crash.py)."""
    from dataclasses import replace

    roi = (16, 16, 16)
    return replace(
        config,
        model=replace(config.model, roi_size=roi),
        preprocess=replace(config.preprocess, roi_size=roi),
    )
