"""Contract tests every registered model passes (cpu-small widths, tiny inputs)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from monai.inferers import sliding_window_inference
from torch import nn

from smoothseg.models import (
    MODELS,
    STAGES,
    ModelConfig,
    ModelConfigError,
    ModelInputError,
    SegmentationNetwork,
    build_model,
    model_names,
    pad_to_divisor,
    preset_config,
    required_divisor,
)

NAMES = model_names()
# The VAE branch of segresnetvae needs a fixed ROI; it must hold both test sizes.
TEST_ROI = (32, 48, 16)
SIZES = {"divisible": (32, 32, 16), "odd": (29, 35, 13)}


def small_config(name: str, **overrides: object) -> ModelConfig:
    overrides.setdefault("roi_size", TEST_ROI)
    return preset_config(name, "cpu-small", **overrides)


def make_input(size: tuple[int, int, int], batch: int = 1, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn((batch, 1, *size), generator=gen)


@pytest.fixture(scope="module", params=NAMES)
def model(request: pytest.FixtureRequest) -> SegmentationNetwork:
    return build_model(small_config(request.param), seed=0)


def test_registry_lists_the_issue_models() -> None:
    assert set(NAMES) == {"segresnetvae", "segresnet", "unet", "unet_large", "unetpp", "manet"}
    for name in NAMES:
        spec = MODELS.get(name)
        assert spec.description
        assert required_divisor(preset_config(name)) in (8, 16)


def test_unknown_name_error_lists_valid_names() -> None:
    with pytest.raises(ModelConfigError) as info:
        build_model(ModelConfig(name="vnet"))
    message = str(info.value)
    assert "vnet" in message
    for name in NAMES:
        assert name in message
    with pytest.raises(ModelConfigError, match="segresnetvae"):
        preset_config("nope")


@pytest.mark.parametrize("size_name", list(SIZES))
def test_forward_shape_any_size(model: SegmentationNetwork, size_name: str) -> None:
    size = SIZES[size_name]
    x = make_input(size, batch=2)
    model.train()
    assert model(x).shape == (2, 3, *size)
    model.eval()
    with torch.no_grad():
        logits, aux = model.forward_with_aux(x)
    assert logits.shape == (2, 3, *size)
    assert aux is None
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("size_name", list(SIZES))
def test_backward_reaches_every_parameter(model: SegmentationNetwork, size_name: str) -> None:
    model.train()
    model.zero_grad(set_to_none=True)
    logits, aux = model.forward_with_aux(make_input(SIZES[size_name], seed=1))
    loss = logits.square().mean() + (aux if aux is not None else 0.0)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters without gradient: {missing[:5]}"
    bad = [
        n for n, p in model.named_parameters() if p.grad is not None and not p.grad.isfinite().all()
    ]
    assert not bad


def test_state_dict_roundtrip_gives_identical_outputs(
    model: SegmentationNetwork, tmp_path: Path
) -> None:
    path = tmp_path / "weights.pt"
    torch.save(model.state_dict(), path)
    fresh = build_model(model.config, seed=123)
    x = make_input(SIZES["odd"], seed=2)
    model.eval()
    fresh.eval()
    with torch.no_grad():
        expected = model(x)
        assert not torch.equal(fresh(x), expected)
        fresh.load_state_dict(torch.load(path, weights_only=True))
        assert torch.equal(fresh(x), expected)


def test_paper_conventions_instance_norm_and_dropout(model: SegmentationNetwork) -> None:
    modules = list(model.modules())
    assert any(isinstance(m, nn.InstanceNorm3d) for m in modules)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in modules)
    drops = [m.p for m in modules if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0]
    assert drops
    assert set(drops) == {0.2}


def test_seeded_build_is_reproducible_and_leaves_global_rng_alone() -> None:
    config = small_config("unet")
    state = torch.random.get_rng_state()
    a = build_model(config, seed=7).state_dict()
    assert torch.equal(torch.random.get_rng_state(), state)
    b = build_model(config, seed=7).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_pad_to_divisor_crops_back_exactly() -> None:
    x = make_input(SIZES["odd"])
    padded, crop = pad_to_divisor(x, 16)
    assert padded.shape[2:] == (32, 48, 16)
    assert torch.equal(padded[crop], x)
    same, crop2 = pad_to_divisor(padded, 16)
    assert same is padded
    assert torch.equal(same[crop2], padded)


def test_wrong_channels_is_a_clear_error() -> None:
    net = build_model(small_config("segresnet"), seed=0)
    with pytest.raises(ModelInputError, match=r"expects \[B, 1, i, j, k\]"):
        net(torch.zeros(1, 2, 16, 16, 16))


def test_segresnetvae_aux_loss_in_training_only() -> None:
    net = build_model(small_config("segresnetvae"), seed=0)
    assert net.has_aux
    net.train()
    for size in SIZES.values():
        logits, vae = net.forward_with_aux(make_input(size))
        assert logits.shape[2:] == size
        assert vae is not None
        assert vae.ndim == 0
        assert torch.isfinite(vae)
        assert float(vae.detach()) > 0
    net.eval()
    with torch.no_grad():
        _, vae = net.forward_with_aux(make_input(SIZES["divisible"]))
    assert vae is None
    assert not build_model(small_config("segresnet"), seed=0).has_aux


def test_segresnetvae_training_patch_larger_than_roi_is_refused() -> None:
    net = build_model(small_config("segresnetvae"), seed=0)
    net.train()
    with pytest.raises(ModelInputError, match="roi_size"):
        net.forward_with_aux(make_input((64, 48, 16)))
    net.eval()  # inference takes any size: the VAE branch is not used
    with torch.no_grad():
        assert net(make_input((64, 48, 16))).shape == (1, 3, 64, 48, 16)


def test_segresnetvae_eval_sliding_window_over_roi_patches() -> None:
    net = build_model(small_config("segresnetvae"), seed=0).eval()
    volume = make_input((40, 56, 20))
    with torch.no_grad():
        out = sliding_window_inference(volume, TEST_ROI, 2, net, overlap=0.25)
    assert isinstance(out, torch.Tensor)
    assert out.shape == (1, 3, 40, 56, 20)


def test_segresnetvae_roi_must_fit_vae() -> None:
    with pytest.raises(ModelConfigError, match="multiples of 16"):
        build_model(small_config("segresnetvae", roi_size=(32, 40, 16)))


def test_paper_preset_matches_tables_sb1_sb2() -> None:
    tumor = preset_config("segresnetvae")
    assert tumor == ModelConfig()
    assert tumor.blocks_down == (1, 2, 2, 4)
    assert tumor.blocks_up == (1, 1, 1)
    assert (tumor.init_filters, tumor.vae_nz, tumor.vae_default_std) == (16, 256, 0.3)
    assert (tumor.in_channels, tumor.out_channels, tumor.roi_size) == (1, 3, (256, 256, 32))
    assert (tumor.dropout, tumor.norm) == (0.2, "instance")
    liver = preset_config("segresnetvae", stage="liver")
    assert (liver.out_channels, liver.roi_size) == (2, STAGES["liver"].paper_roi)
    assert liver.roi_size == (512, 512, 16)
    assert preset_config("unet").channels == (32, 64, 128, 256)
    assert preset_config("unet_large").channels == (32, 64, 128, 256, 512)
    assert preset_config("unet").num_res_units == 2


def test_config_dict_roundtrip_and_unknown_keys() -> None:
    config = small_config("manet")
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ModelConfigError, match="valid:"):
        ModelConfig.from_dict({"name": "unet", "widht": 3})
    with pytest.raises(ModelConfigError, match="dropout"):
        ModelConfig(dropout=1.5)
    with pytest.raises(ModelConfigError, match="bad preset override"):
        preset_config("unet", "cpu-small", nonsense=1)
