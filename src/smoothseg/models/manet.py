"""A 3D MA-Net written for smoothseg, after Fan et al. 2020 (IEEE Access 8:179656).

The paper ("MA-Net: A Multi-Scale Attention Network for Liver and Tumor Segmentation") is 2D;
this is our own 3D implementation of its two attention blocks on a ResNet-like 3D encoder.

Layout (``channels = (c0, ..., cL)``, L stride-2 downsamplings, so inputs are padded to
multiples of ``2 ** L``):

* **Encoder**: a ResNet-like 3D encoder. Level 0 is a 3x3x3 convolution and a residual block at
  full resolution; each deeper level starts with a stride-2 residual block and adds
  ``num_res_units - 1`` more (basic blocks: two 3x3x3 convolutions, instance norm, ReLU, and a
  1x1x1 projection on the shortcut when the shape changes).
* **Position-wise attention block (PAB)** on the bottleneck: self-attention over all bottleneck
  voxels (query/key from 1x1x1 convolutions of width ``attention_channels``, value of full
  width, softmax over keys), added to its input and fused by a 3x3x3 convolution block. It
  models long-range spatial dependencies at the coarsest scale, where the voxel count is small.
* **Multi-scale fusion attention blocks (MFAB)** in the decoder: the coarse (high-level) feature
  is projected to the skip width and upsampled to the skip's grid; channel attention computed
  from both the high-level and the low-level (skip) feature — squeeze (global average) and
  excitation (bottleneck 1x1x1 convolutions), summed, sigmoid — reweights the high-level
  channels, which are concatenated with the skip and fused by two convolution blocks.
* **Head**: dropout and a 1x1x1 convolution to raw class logits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from smoothseg.models.config import ModelConfig, ModelConfigError
from smoothseg.models.network import CoreNetwork

MANET_CHANNELS = (16, 32, 64, 128, 256)


def manet_divisor(config: ModelConfig) -> int:
    """``2 ** (levels - 1)``: one stride-2 residual block per level below the top."""
    return int(2 ** (len(config.channels) - 1))


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm3d(channels)
    return nn.InstanceNorm3d(channels, affine=True)


class ConvBlock(nn.Sequential):
    """Convolution, normalisation, ReLU."""

    def __init__(
        self, in_ch: int, out_ch: int, norm: str, kernel_size: int = 3, stride: int = 1
    ) -> None:
        super().__init__(
            nn.Conv3d(
                in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2, bias=False
            ),
            _norm(norm, out_ch),
            nn.ReLU(inplace=True),
        )


class ResidualBlock(nn.Module):
    """Basic 3D residual block (two 3x3x3 convolutions) with an optional stride."""

    def __init__(self, in_ch: int, out_ch: int, norm: str, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = ConvBlock(in_ch, out_ch, norm, stride=stride)
        self.conv2 = nn.Conv3d(out_ch, out_ch, 3, padding=1, bias=False)
        self.norm2 = _norm(norm, out_ch)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv3d(in_ch, out_ch, 1, stride=stride, bias=False), _norm(norm, out_ch)
            )

    def forward(self, x: Tensor) -> Tensor:
        """``relu(F(x) + shortcut(x))``."""
        out = self.norm2(self.conv2(self.conv1(x)))
        return F.relu(out + self.shortcut(x))


class PositionAttention(nn.Module):
    """Position-wise attention block (PAB): global self-attention over voxels.

    Args:
        channels: Feature width ``C``.
        attention_channels: Query/key width (capped at ``C``).
        norm: Normalisation of the output convolution block.

    """

    def __init__(self, channels: int, attention_channels: int, norm: str) -> None:
        super().__init__()
        width = min(attention_channels, channels)
        self.query = nn.Conv3d(channels, width, 1)
        self.key = nn.Conv3d(channels, width, 1)
        self.value = nn.Conv3d(channels, channels, 1)
        self.fuse = ConvBlock(channels, channels, norm)

    def forward(self, x: Tensor) -> Tensor:
        """``fuse(x + attention(x))`` with softmax over key voxels."""
        b, c = x.shape[:2]
        q = self.query(x).flatten(2).transpose(1, 2)  # [B, N, Ca]
        k = self.key(x).flatten(2).transpose(1, 2)  # [B, N, Ca]
        v = self.value(x).flatten(2).transpose(1, 2)  # [B, N, C]
        # softmax(q kᵀ / sqrt(Ca)) v, without materialising the N x N map where possible.
        context = F.scaled_dot_product_attention(q, k, v)  # [B, N, C]
        context = context.transpose(1, 2).reshape(b, c, *x.shape[2:])
        out: Tensor = self.fuse(x + context)
        return out


class ChannelGate(nn.Module):
    """Squeeze-and-excitation logits ``[B, C, 1, 1, 1]`` (no sigmoid)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = max(2, channels // 4)
        self.fc1 = nn.Conv3d(channels, hidden, 1)
        self.fc2 = nn.Conv3d(hidden, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Per-channel attention logits."""
        squeezed = F.adaptive_avg_pool3d(x, 1)
        out: Tensor = self.fc2(F.relu(self.fc1(squeezed)))
        return out


class MultiScaleFusionAttention(nn.Module):
    """Multi-scale fusion attention block (MFAB): one decoder step.

    Args:
        high_ch: Width of the coarse (high-level) input.
        skip_ch: Width of the encoder skip feature at the finer scale.
        out_ch: Output width.
        norm: Normalisation kind.

    """

    def __init__(self, high_ch: int, skip_ch: int, out_ch: int, norm: str) -> None:
        super().__init__()
        self.project = ConvBlock(high_ch, skip_ch, norm)
        self.gate_high = ChannelGate(skip_ch)
        self.gate_low = ChannelGate(skip_ch)
        self.fuse = nn.Sequential(
            ConvBlock(2 * skip_ch, out_ch, norm), ConvBlock(out_ch, out_ch, norm)
        )

    def forward(self, high: Tensor, skip: Tensor) -> Tensor:
        """Upsample ``high`` to ``skip``'s grid, reweight its channels, fuse with ``skip``."""
        up = F.interpolate(
            self.project(high), size=skip.shape[2:], mode="trilinear", align_corners=False
        )
        gate = torch.sigmoid(self.gate_high(up) + self.gate_low(skip))
        out: Tensor = self.fuse(torch.cat([up * gate, skip], dim=1))
        return out


class MANet3D(CoreNetwork):
    """3D MA-Net: residual encoder, PAB bottleneck, MFAB decoder (see the module docstring)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        ch = tuple(config.channels)
        if len(ch) < 2:
            raise ModelConfigError(f"manet needs at least 2 channels, got {ch}")
        if config.num_res_units < 1:
            raise ModelConfigError("manet needs num_res_units >= 1")
        norm = config.norm
        self.stem = nn.Sequential(
            ConvBlock(config.in_channels, ch[0], norm), ResidualBlock(ch[0], ch[0], norm)
        )
        self.encoder = nn.ModuleList(
            nn.Sequential(
                ResidualBlock(ch[i - 1], ch[i], norm, stride=2),
                *(ResidualBlock(ch[i], ch[i], norm) for _ in range(config.num_res_units - 1)),
            )
            for i in range(1, len(ch))
        )
        self.attention = PositionAttention(ch[-1], config.attention_channels, norm)
        self.bottleneck_dropout = nn.Dropout3d(config.dropout)
        self.decoder = nn.ModuleList(
            MultiScaleFusionAttention(ch[i], ch[i - 1], ch[i - 1], norm)
            for i in range(len(ch) - 1, 0, -1)
        )
        self.head = nn.Sequential(
            nn.Dropout(config.dropout), nn.Conv3d(ch[0], config.out_channels, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        """Raw logits."""
        skips = [self.stem(x)]
        for stage in self.encoder:
            skips.append(stage(skips[-1]))
        out = self.bottleneck_dropout(self.attention(skips.pop()))
        for block in self.decoder:
            out = block(out, skips.pop())
        logits: Tensor = self.head(out)
        return logits


def build_manet(config: ModelConfig) -> CoreNetwork:
    """Registry builder for ``manet``."""
    return MANet3D(config)
