"""SegResNet and SegResNetVAE (Myronenko 2018) from MONAI, behind the uniform contract.

SegResNetVAE's VAE branch reconstructs the input from the encoder's bottleneck through fully
connected layers whose size depends on the input size, so it is built for one fixed
``roi_size``. The branch is only used in training (the VAE loss); segmentation never goes through
it. Hence:

* ``forward(x)`` runs the encoder and decoder only, on any size that is a multiple of 8
  (the wrapper pads other sizes), in training and eval mode alike;
* ``forward_with_aux(x)`` in training mode runs the full network on a patch of exactly
  ``roi_size`` and returns the VAE loss (regulariser + reconstruction MSE); in eval mode it
  returns ``(logits, None)``.

So a model trained on ``roi_size`` patches infers on whole volumes or on sliding-window patches
of ``roi_size`` (the paper's setting) with the same weights.
"""

from __future__ import annotations

from typing import Any

from monai.networks.nets.segresnet import SegResNet, SegResNetVAE
from torch import Tensor, nn

from smoothseg.models.config import ModelConfig, ModelConfigError
from smoothseg.models.network import CoreNetwork


def monai_norm(config: ModelConfig) -> tuple[str, dict[str, Any]]:
    """MONAI norm argument for ``config.norm`` (affine instance norm by default)."""
    return (config.norm.upper(), {"affine": True})


def segresnet_divisor(config: ModelConfig) -> int:
    """Input sizes must be multiples of ``2 ** (levels - 1)`` (8 for the paper's 4 levels)."""
    return int(2 ** (len(config.blocks_down) - 1))


def _check(config: ModelConfig) -> None:
    if config.channels:
        raise ModelConfigError(f"{config.name} uses init_filters, not channels; leave it empty")
    if not config.blocks_down or any(b < 1 for b in config.blocks_down):
        raise ModelConfigError(f"blocks_down must be positive, got {config.blocks_down}")
    if len(config.blocks_up) != len(config.blocks_down) - 1 or any(b < 1 for b in config.blocks_up):
        raise ModelConfigError(
            f"blocks_up needs {len(config.blocks_down) - 1} positive entries for "
            f"blocks_down={config.blocks_down}, got {config.blocks_up}"
        )


def _common_args(config: ModelConfig) -> dict[str, Any]:
    return {
        "spatial_dims": config.spatial_dims,
        "init_filters": config.init_filters,
        "in_channels": config.in_channels,
        "out_channels": config.out_channels,
        "dropout_prob": config.dropout,
        "norm": monai_norm(config),
        "blocks_down": tuple(config.blocks_down),
        "blocks_up": tuple(config.blocks_up),
    }


class SegResNetCore(CoreNetwork):
    """MONAI ``SegResNet`` (asymmetric residual encoder-decoder, no VAE)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        _check(config)
        self.net = SegResNet(**_common_args(config))

    def forward(self, x: Tensor) -> Tensor:
        """Raw logits."""
        out: Tensor = self.net(x)
        return out


class SegResNetVAECore(CoreNetwork):
    """MONAI ``SegResNetVAE``; the VAE loss comes out of :meth:`forward_with_aux` in training.

    When ``vae_estimate_std`` is false MONAI never uses its ``vae_fc2`` layer; it is replaced by
    an identity so that every parameter receives a gradient and parameter counts are honest.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        _check(config)
        zoom = 2 ** len(config.blocks_down)
        if any(s % zoom for s in config.roi_size):
            raise ModelConfigError(
                f"segresnetvae needs roi_size multiples of {zoom} for its VAE branch, "
                f"got {config.roi_size}"
            )
        self.net = SegResNetVAE(
            input_image_size=tuple(config.roi_size),
            vae_estimate_std=config.vae_estimate_std,
            vae_default_std=config.vae_default_std,
            vae_nz=config.vae_nz,
            **_common_args(config),
        )
        if not config.vae_estimate_std and isinstance(
            getattr(self.net, "vae_fc2", None), nn.Linear
        ):
            setattr(self.net, "vae_fc2", nn.Identity())  # noqa: B010 (typed as Linear)
        self.aux_roi = tuple(config.roi_size)

    def forward(self, x: Tensor) -> Tensor:
        """Raw logits from the encoder-decoder path only (the VAE branch is skipped)."""
        out: Tensor = SegResNet.forward(self.net, x)
        return out

    def forward_with_aux(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(logits, vae_loss)`` in training mode (``x`` must be ``roi_size``), else ``None``."""
        if not self.training:
            return self.forward(x), None
        logits, vae_loss = self.net(x)
        return logits, vae_loss


def build_segresnet(config: ModelConfig) -> CoreNetwork:
    """Registry builder for ``segresnet``."""
    return SegResNetCore(config)


def build_segresnetvae(config: ModelConfig) -> CoreNetwork:
    """Registry builder for ``segresnetvae``."""
    return SegResNetVAECore(config)
