"""U-Net family from MONAI (Supplementary D): residual U-Net (Kerfoot 2019) and UNet++.

* ``unet``: 4 levels, widths 32-64-128-256, 2 residual units per level, stride-2 convolutions.
* ``unet_large``: 5 levels, widths 32-...-512, otherwise the same.
* ``unetpp``: MONAI ``BasicUNetPlusPlus`` (Zhou 2018) with its six ``features``
  (5 encoder levels and the last decoder width), without deep supervision.
"""

from __future__ import annotations

from monai.networks.nets.basic_unetplusplus import BasicUNetPlusPlus
from monai.networks.nets.unet import UNet
from torch import Tensor, nn

from smoothseg.models.config import ModelConfig, ModelConfigError
from smoothseg.models.network import CoreNetwork
from smoothseg.models.segresnet import monai_norm

UNET_CHANNELS = (32, 64, 128, 256)
UNET_LARGE_CHANNELS = (32, 64, 128, 256, 512)
UNETPP_FEATURES = (32, 32, 64, 128, 256, 32)


def unet_divisor(config: ModelConfig) -> int:
    """``2 ** (levels - 1)``: one stride-2 convolution per level below the top."""
    return int(2 ** (len(config.channels) - 1))


def unetpp_divisor(config: ModelConfig) -> int:
    """UNet++ always has four max-pool downsamplings."""
    return 16


class ResidualUNetCore(CoreNetwork):
    """MONAI ``UNet`` with residual units; ``channels`` gives the width of each level."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if len(config.channels) < 2:
            raise ModelConfigError(
                f"{config.name} needs at least 2 channels (one per level), got {config.channels}"
            )
        self.net = UNet(
            spatial_dims=config.spatial_dims,
            in_channels=config.in_channels,
            out_channels=config.out_channels,
            channels=tuple(config.channels),
            strides=(2,) * (len(config.channels) - 1),
            num_res_units=config.num_res_units,
            norm=monai_norm(config),
            dropout=config.dropout,
        )

    def forward(self, x: Tensor) -> Tensor:
        """Raw logits (the last layer is a bare convolution)."""
        out: Tensor = self.net(x)
        return out


class UNetPlusPlusCore(CoreNetwork):
    """MONAI ``BasicUNetPlusPlus``; the unused deep-supervision heads are removed."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if len(config.channels) != 6:
            raise ModelConfigError(
                f"unetpp needs 6 channels (5 encoder levels + last decoder), got {config.channels}"
            )
        self.net = BasicUNetPlusPlus(
            spatial_dims=config.spatial_dims,
            in_channels=config.in_channels,
            out_channels=config.out_channels,
            features=tuple(config.channels),
            deep_supervision=False,
            norm=monai_norm(config),
            dropout=config.dropout,
        )
        # Without deep supervision only final_conv_0_4 produces the output.
        for head in ("final_conv_0_1", "final_conv_0_2", "final_conv_0_3"):
            if isinstance(getattr(self.net, head, None), nn.Module):
                setattr(self.net, head, nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        """Raw logits of the full-depth node ``X(0,4)``."""
        outputs: list[Tensor] = self.net(x)
        return outputs[-1]


def build_unet(config: ModelConfig) -> CoreNetwork:
    """Registry builder for ``unet`` and ``unet_large`` (they differ by ``channels``)."""
    return ResidualUNetCore(config)


def build_unetpp(config: ModelConfig) -> CoreNetwork:
    """Registry builder for ``unetpp``."""
    return UNetPlusPlusCore(config)
