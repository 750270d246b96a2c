"""Segmentation networks: a registry of 3D models with one output contract.

Quick use::

    from smoothseg.models import build_model, preset_config

    config = preset_config("segresnetvae", "cpu-small", stage="tumor")
    model = build_model(config, seed=0)
    logits, vae_loss = model.forward_with_aux(patch)  # training: vae_loss is a tensor
    model.eval()
    logits = model(volume)  # any size; raw logits [B, C, *spatial]
"""

from smoothseg.models.config import (
    SCALES,
    STAGES,
    ModelConfig,
    ModelConfigError,
    ModelInputError,
    Scale,
    Stage,
    StageName,
)
from smoothseg.models.network import (
    CoreNetwork,
    SegmentationNetwork,
    divisible_shape,
    pad_to_divisor,
    pad_to_shape,
)
from smoothseg.models.registry import (
    MODELS,
    ModelSpec,
    build_model,
    model_names,
    preset_config,
    required_divisor,
    resolve_config,
)

__all__ = [
    "MODELS",
    "SCALES",
    "STAGES",
    "CoreNetwork",
    "ModelConfig",
    "ModelConfigError",
    "ModelInputError",
    "ModelSpec",
    "Scale",
    "SegmentationNetwork",
    "Stage",
    "StageName",
    "build_model",
    "divisible_shape",
    "model_names",
    "pad_to_divisor",
    "pad_to_shape",
    "preset_config",
    "required_divisor",
    "resolve_config",
]
