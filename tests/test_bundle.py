"""Model bundles: save/load gives identical outputs; bad bundles give clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from smoothseg.bundle import load_bundle, save_bundle
from smoothseg.errors import InputError, OutputExistsError
from smoothseg.models import build_model
from smoothseg.models.sliding import SlidingWindowConfig, sliding_window_logits
from smoothseg.preprocess import TumorStageConfig
from smoothseg.training import load_train_config


@pytest.mark.parametrize(("stage", "model"), [("tumor", "segresnetvae"), ("liver", "unet")])
def test_bundle_round_trip_gives_identical_outputs(tmp_path: Path, stage: str, model: str) -> None:
    config = load_train_config(stage, preset="cpu-small", model=model)
    net = build_model(config.model, seed=3)
    bundle_dir = save_bundle(tmp_path / "bundle", net, config, training={"epoch": 4})
    assert sorted(p.name for p in bundle_dir.iterdir()) == ["bundle.json", "model.pt"]
    # state_dict only: loads with weights_only=True
    assert isinstance(torch.load(bundle_dir / "model.pt", weights_only=True), dict)

    bundle = load_bundle(bundle_dir)
    assert not bundle.model.training and bundle.stage == stage
    assert bundle.model_config == config.model
    assert bundle.preprocessing == config.preprocess
    assert bundle.label_map == config.label_map
    assert bundle.sliding_window.roi_size == config.preprocess.roi_size
    assert bundle.training["epoch"] == 4 and "config" in bundle.training
    assert set(bundle.versions) == {"smoothseg", "torch", "monai"}

    net.eval()
    x = torch.rand((1, 1, 40, 36, 20), generator=torch.Generator().manual_seed(0))
    window = SlidingWindowConfig(roi_size=(32, 32, 16), overlap=0.25)
    with torch.no_grad():
        assert torch.equal(net(x), bundle.model(x))
    assert torch.equal(
        sliding_window_logits(net, x, window), sliding_window_logits(bundle.model, x, window)
    )


def test_bundle_is_not_overwritten_silently(tmp_path: Path) -> None:
    config = load_train_config("liver", preset="cpu-small", model="unet")
    net = build_model(config.model, seed=0)
    save_bundle(tmp_path / "b", net, config)
    with pytest.raises(OutputExistsError):
        save_bundle(tmp_path / "b", net, config)
    save_bundle(tmp_path / "b", net, config, overwrite=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_bad_bundles_raise_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a model bundle"):
        load_bundle(tmp_path)
    config = load_train_config("tumor", preset="cpu-small", model="unet")
    bundle_dir = save_bundle(tmp_path / "b", build_model(config.model, seed=0), config)
    doc = json.loads((bundle_dir / "bundle.json").read_text())
    assert load_bundle(bundle_dir / "bundle.json").stage == "tumor"
    assert isinstance(load_bundle(bundle_dir).preprocessing, TumorStageConfig)

    doc["model"]["channels"] = [4, 8, 16, 32]  # weights no longer fit
    (bundle_dir / "bundle.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="cannot load the weights"):
        load_bundle(bundle_dir)
    doc["format"] = "something-else"
    (bundle_dir / "bundle.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="not a smoothseg bundle"):
        load_bundle(bundle_dir)
    (bundle_dir / "bundle.json").write_text("{")
    with pytest.raises(InputError, match="cannot read"):
        load_bundle(bundle_dir)


def test_sliding_window_handles_volumes_smaller_than_the_roi() -> None:
    config = load_train_config("liver", preset="cpu-small", model="unet")
    net = build_model(config.model, seed=0).eval()
    x = torch.rand(1, 1, 20, 18, 10)
    logits = sliding_window_logits(net, x, SlidingWindowConfig(roi_size=(32, 32, 16)))
    assert logits.shape == (1, 2, 20, 18, 10) and logits.dtype == torch.float32


def test_bundle_folder_gets_normal_permissions(tmp_path: Path) -> None:
    import os

    config = load_train_config("liver", preset="cpu-small", model="unet")
    mask = os.umask(0o022)
    try:
        out = save_bundle(tmp_path / "b", build_model(config.model, seed=0), config)
    finally:
        os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o755
