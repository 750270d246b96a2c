"""Model registry: name → builder, with each family's divisor, description and width presets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from smoothseg.models.config import (
    SCALES,
    STAGES,
    ModelConfig,
    ModelConfigError,
    Scale,
    StageName,
)
from smoothseg.models.manet import MANET_CHANNELS, build_manet, manet_divisor
from smoothseg.models.network import CoreNetwork, SegmentationNetwork
from smoothseg.models.segresnet import build_segresnet, build_segresnetvae, segresnet_divisor
from smoothseg.models.unets import (
    UNET_CHANNELS,
    UNET_LARGE_CHANNELS,
    UNETPP_FEATURES,
    build_unet,
    build_unetpp,
    unet_divisor,
    unetpp_divisor,
)
from smoothseg.registry import Registry


@dataclass(frozen=True)
class Widths:
    """The width fields a scale preset sets."""

    init_filters: int = 16
    channels: tuple[int, ...] = ()
    attention_channels: int = 64


@dataclass(frozen=True)
class ModelSpec:
    """A registered model family.

    Attributes:
        name: Registry key.
        description: One line for listings and docs.
        build: Builds the bare network from a resolved config.
        required_divisor: Spatial sizes the bare network accepts are multiples of this
            (:class:`SegmentationNetwork` pads any other size).
        widths: Width preset per scale (``paper``, ``cpu-small``).
        has_aux: Whether training yields an auxiliary (VAE) loss.

    """

    name: str
    description: str
    build: Callable[[ModelConfig], CoreNetwork]
    required_divisor: Callable[[ModelConfig], int]
    widths: Mapping[str, Widths] = field(default_factory=dict)
    has_aux: bool = False

    def resolve(self, config: ModelConfig) -> ModelConfig:
        """``config`` with empty ``channels`` replaced by this family's paper widths."""
        paper = self.widths["paper"]
        if not config.channels and paper.channels:
            return replace(config, channels=paper.channels)
        return config


def _check_widths(spec: ModelSpec) -> None:
    missing = [s for s in SCALES if s not in spec.widths]
    if missing:
        raise ValueError(f"model {spec.name!r} lacks width presets {missing}")


#: Every model family, by name; each has ``paper`` and ``cpu-small`` widths.
MODELS: Registry[ModelSpec] = Registry(
    "model",
    unknown=lambda name, valid: ModelConfigError(f"unknown model {name!r}; valid: {valid}"),
    check=_check_widths,
)


def _same(init_filters: int, channels: tuple[int, ...] = ()) -> Widths:
    return Widths(init_filters=init_filters, channels=channels)


MODELS.register(
    ModelSpec(
        "segresnetvae",
        "SegResNet + VAE regulariser (Myronenko 2018); SmoothSegNet backbone, tables SB1/SB2",
        build_segresnetvae,
        segresnet_divisor,
        {"paper": _same(16), "cpu-small": _same(8)},
        has_aux=True,
    )
)
MODELS.register(
    ModelSpec(
        "segresnet",
        "SegResNet (Myronenko 2018): large residual encoder, compact decoder, no VAE",
        build_segresnet,
        segresnet_divisor,
        {"paper": _same(16), "cpu-small": _same(8)},
    )
)
MODELS.register(
    ModelSpec(
        "unet",
        "Residual U-Net (Kerfoot 2019), 4 levels 32-256, 2 residual units",
        build_unet,
        unet_divisor,
        {"paper": _same(16, UNET_CHANNELS), "cpu-small": _same(8, (8, 16, 32, 64))},
    )
)
MODELS.register(
    ModelSpec(
        "unet_large",
        "Residual U-Net Large, 5 levels 32-512, 2 residual units",
        build_unet,
        unet_divisor,
        {"paper": _same(16, UNET_LARGE_CHANNELS), "cpu-small": _same(8, (8, 16, 32, 64, 128))},
    )
)
MODELS.register(
    ModelSpec(
        "unetpp",
        "UNet++ (Zhou 2018): nested dense skip pathways, MONAI BasicUNetPlusPlus",
        build_unetpp,
        unetpp_divisor,
        {"paper": _same(16, UNETPP_FEATURES), "cpu-small": _same(8, (8, 8, 16, 32, 64, 8))},
    )
)
MODELS.register(
    ModelSpec(
        "manet",
        "MA-Net (Fan 2020), 3D: residual encoder, position attention, multi-scale fusion attention",
        build_manet,
        manet_divisor,
        {
            "paper": Widths(16, MANET_CHANNELS, 64),
            "cpu-small": Widths(8, (8, 16, 32, 64, 128), 16),
        },
    )
)


def model_names() -> list[str]:
    """Names of every registered model."""
    return MODELS.names()


def resolve_config(config: ModelConfig) -> ModelConfig:
    """``config`` with the family's paper widths filled in where ``channels`` is empty."""
    return MODELS.get(config.name).resolve(config)


def required_divisor(config: ModelConfig) -> int:
    """The stride the bare network needs; the built model pads other sizes itself."""
    config = resolve_config(config)
    return MODELS.get(config.name).required_divisor(config)


def preset_config(
    name: str, scale: Scale = "paper", *, stage: StageName = "tumor", **overrides: Any
) -> ModelConfig:
    """A named preset: the paper's widths or the ``cpu-small`` ones, for a stage.

    Args:
        name: Registered model name.
        scale: ``paper`` (Supplementary B/D widths) or ``cpu-small`` (about 1/2-1/4 widths).
        stage: Sets ``out_channels`` and ``roi_size`` (see :data:`STAGES`).
        **overrides: Any other :class:`ModelConfig` field.

    Returns:
        The resolved configuration (``channels`` filled in).

    """
    spec = MODELS.get(name)
    if scale not in spec.widths:
        raise ModelConfigError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")
    if stage not in STAGES:
        raise ModelConfigError(f"unknown stage {stage!r}; valid: {', '.join(STAGES)}")
    widths = spec.widths[scale]
    the_stage = STAGES[stage]
    base = ModelConfig(
        name=name,
        out_channels=the_stage.out_channels,
        roi_size=the_stage.roi(scale),
        init_filters=widths.init_filters,
        channels=widths.channels,
        attention_channels=widths.attention_channels,
    )
    try:
        return spec.resolve(replace(base, **overrides))
    except TypeError as exc:  # unknown override name
        raise ModelConfigError(f"bad preset override: {exc}") from None


def build_model(config: ModelConfig, *, seed: int | None = None) -> SegmentationNetwork:
    """Build the network ``config`` describes.

    Args:
        config: Model configuration (``config.name`` must be registered).
        seed: Seeds the weight initialisation without touching torch's global RNG state;
            ``None`` draws from the global RNG.

    Returns:
        A :class:`SegmentationNetwork` in training mode: any input size, raw logits out.

    Raises:
        ModelConfigError: Unknown name (the message lists the valid ones) or invalid widths.

    """
    spec = MODELS.get(config.name)
    config = spec.resolve(config)
    if seed is None:
        core = spec.build(config)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            core = spec.build(config)
    return SegmentationNetwork(core, config, spec.required_divisor(config))
