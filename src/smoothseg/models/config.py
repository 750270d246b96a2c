"""Typed model configuration: :class:`ModelConfig`, stages and width presets.

The defaults are the paper's SmoothSegNet tumor model (Supplementary table SB2): a SegResNetVAE
with ``blocks_down=(1, 2, 2, 4)``, ``blocks_up=(1, 1, 1)``, ``init_filters=16``, ``vae_nz=256``,
``vae_default_std=0.3``, 1 input channel, 3 output classes (background, liver, tumor) and a
``(256, 256, 32)`` input ROI; instance normalisation and dropout 0.2 as in Supplementary D.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Literal

from smoothseg.errors import SmoothsegError

Scale = Literal["paper", "cpu-small"]
StageName = Literal["liver", "tumor", "multiclass"]
SCALES: tuple[Scale, ...] = ("paper", "cpu-small")
NORMS: tuple[str, ...] = ("instance", "batch")


class ModelConfigError(SmoothsegError, ValueError):
    """A model configuration is invalid (unknown name, bad widths, bad ROI...)."""


class ModelInputError(SmoothsegError, ValueError):
    """A tensor given to a model does not fit its configuration."""


@dataclass(frozen=True)
class Stage:
    """What a pipeline stage predicts and the input ROI it trains on.

    Attributes:
        name: ``liver`` (global view), ``tumor`` (local view) or ``multiclass`` (baselines).
        out_channels: Number of classes predicted (background included).
        paper_roi: Input ROI of the paper (tables SB1/SB2), voxels ``(i, j, k)``.
        small_roi: Input ROI of the ``cpu-small`` scale.

    """

    name: StageName
    out_channels: int
    paper_roi: tuple[int, int, int]
    small_roi: tuple[int, int, int]

    def roi(self, scale: Scale) -> tuple[int, int, int]:
        """The input ROI for ``scale``."""
        return self.paper_roi if scale == "paper" else self.small_roi


STAGES: dict[str, Stage] = {
    # SB1: global view, whole CT, classes background/liver.
    "liver": Stage("liver", 2, (512, 512, 16), (96, 96, 32)),
    # SB2: local view, liver box with outside-liver masked, classes background/liver/tumor.
    "tumor": Stage("tumor", 3, (256, 256, 32), (64, 64, 32)),
    # Supplementary D baselines: whole image, background/liver/tumor (global-view ROI of SB1).
    "multiclass": Stage("multiclass", 3, (512, 512, 16), (96, 96, 32)),
}


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to build a segmentation network (always 3D).

    Fields a family does not use are ignored by it (``channels`` must then stay empty).

    Attributes:
        name: Registered model name (see :func:`smoothseg.models.model_names`).
        in_channels: Input image channels (1 for CT).
        out_channels: Output classes, background included (2 liver stage, 3 tumor/multiclass).
        init_filters: Width of the first layer of ``segresnet``/``segresnetvae``.
        blocks_down: Residual blocks per encoder level (``segresnet*``).
        blocks_up: Residual blocks per decoder level (``segresnet*``).
        channels: Widths per level for ``unet``, ``unet_large``, ``manet`` and the six
            ``features`` of ``unetpp``; empty means the family's paper widths.
        num_res_units: Residual units per level (``unet``, ``unet_large``, ``manet``).
        attention_channels: Query/key width of MA-Net's position attention block.
        dropout: Dropout probability (0.2 for every model, Supplementary D).
        norm: Feature normalisation, ``instance`` (paper) or ``batch``.
        roi_size: Training input size ``(i, j, k)``; fixes SegResNetVAE's VAE branch.
        vae_nz: Latent variables of the VAE branch.
        vae_default_std: Fixed latent std when ``vae_estimate_std`` is false.
        vae_estimate_std: Learn the latent std instead of using ``vae_default_std``.

    """

    name: str = "segresnetvae"
    in_channels: int = 1
    out_channels: int = 3
    init_filters: int = 16
    blocks_down: tuple[int, ...] = (1, 2, 2, 4)
    blocks_up: tuple[int, ...] = (1, 1, 1)
    channels: tuple[int, ...] = ()
    num_res_units: int = 2
    attention_channels: int = 64
    dropout: float = 0.2
    norm: str = "instance"
    roi_size: tuple[int, int, int] = (256, 256, 32)
    vae_nz: int = 256
    vae_default_std: float = 0.3
    vae_estimate_std: bool = False

    spatial_dims: ClassVar[int] = 3

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.name:
            problems.append("name is empty")
        if self.in_channels < 1 or self.out_channels < 1:
            problems.append("in_channels and out_channels must be >= 1")
        if self.init_filters < 1:
            problems.append("init_filters must be >= 1")
        if any(c < 1 for c in self.channels):
            problems.append(f"channels must be positive, got {self.channels}")
        if self.num_res_units < 0:
            problems.append("num_res_units must be >= 0")
        if self.attention_channels < 1:
            problems.append("attention_channels must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.dropout}")
        if self.norm not in NORMS:
            problems.append(f"norm {self.norm!r} is not one of {', '.join(NORMS)}")
        if len(self.roi_size) != self.spatial_dims or any(s < 1 for s in self.roi_size):
            problems.append(f"roi_size must be 3 positive sizes, got {self.roi_size}")
        if self.vae_nz < 1 or self.vae_default_std <= 0:
            problems.append("vae_nz must be >= 1 and vae_default_std > 0")
        if problems:
            raise ModelConfigError("invalid model config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error that lists the valid ones."""
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise ModelConfigError(
                f"unknown model config keys {unknown}; valid: {', '.join(sorted(valid))}"
            )
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        return cls(**values)
