"""The output contract every registered model follows, and padding to the network stride.

Every model built by :func:`smoothseg.models.build_model` is a :class:`SegmentationNetwork`:

* ``model(x)`` takes ``[B, in_channels, i, j, k]`` of **any** spatial size and returns raw logits
  ``[B, out_channels, i, j, k]`` (no softmax). Inputs are padded up to the network's
  ``required_divisor`` and the logits cropped back (:func:`pad_to_divisor`).
* ``model.forward_with_aux(x)`` returns ``(logits, aux_loss)``; ``aux_loss`` is the VAE loss of
  ``segresnetvae`` in training mode and ``None`` otherwise (other models, or eval mode). A
  trainer calls this one method for every model and adds ``vae_weight * aux_loss`` when present.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from smoothseg.models.config import ModelConfig, ModelInputError

Crop = tuple[slice, ...]


def divisible_shape(spatial: Sequence[int], divisor: int) -> tuple[int, ...]:
    """Each size rounded up to a multiple of ``divisor``."""
    return tuple(-(-int(s) // divisor) * divisor for s in spatial)


def pad_to_shape(x: Tensor, shape: Sequence[int], value: float = 0.0) -> tuple[Tensor, Crop]:
    """Pad the spatial axes of ``x`` (``[B, C, *spatial]``) symmetrically up to ``shape``.

    Args:
        x: Batch to pad.
        shape: Target spatial size, each at least the current size.
        value: Constant written in the padding.

    Returns:
        The padded batch and the slices that crop a same-grid output back to ``x``'s size.

    Raises:
        ModelInputError: If a target size is smaller than the input's.

    """
    spatial = tuple(x.shape[2:])
    if len(shape) != len(spatial) or any(t < s for t, s in zip(shape, spatial, strict=True)):
        raise ModelInputError(f"cannot pad spatial size {spatial} to {tuple(shape)}")
    before = [(t - s) // 2 for t, s in zip(shape, spatial, strict=True)]
    after = [t - s - b for t, s, b in zip(shape, spatial, before, strict=True)]
    crop: Crop = (
        slice(None),
        slice(None),
        *(slice(b, b + s) for b, s in zip(before, spatial, strict=True)),
    )
    if not any(before) and not any(after):
        return x, crop
    pads: list[int] = []
    for b, a in zip(reversed(before), reversed(after), strict=True):  # F.pad: last axis first
        pads += [b, a]
    return F.pad(x, pads, mode="constant", value=value), crop


def pad_to_divisor(x: Tensor, divisor: int, value: float = 0.0) -> tuple[Tensor, Crop]:
    """Pad ``x`` so every spatial size is a multiple of ``divisor``; see :func:`pad_to_shape`.

    Example:
        >>> padded, crop = pad_to_divisor(x, 16)
        >>> logits = net(padded)[crop]  # same spatial size as x

    """
    return pad_to_shape(x, divisible_shape(x.shape[2:], divisor), value)


class CoreNetwork(nn.Module):
    """A bare network whose inputs already have a valid size.

    Subclasses implement :meth:`forward` (logits) and, if they have an auxiliary training loss,
    override :meth:`forward_with_aux` and set ``aux_roi`` to the exact spatial size that loss
    needs in training.
    """

    aux_roi: tuple[int, ...] | None = None

    def forward_with_aux(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """Logits and the auxiliary loss (``None`` by default)."""
        logits: Tensor = self(x)
        return logits, None


class SegmentationNetwork(nn.Module):
    """Any-size wrapper around a :class:`CoreNetwork` (see the module docstring).

    Args:
        core: The network; its parameters live under ``core.`` in the state dict.
        config: The configuration it was built from (kept for saving alongside the weights).
        divisor: Every spatial input size given to ``core`` is a multiple of this.
        pad_value: Intensity written into the padding (0 = the normalised background).

    """

    def __init__(
        self, core: CoreNetwork, config: ModelConfig, divisor: int, pad_value: float = 0.0
    ) -> None:
        super().__init__()
        self.core = core
        self.config = config
        self.divisor = divisor
        self.pad_value = pad_value

    @property
    def has_aux(self) -> bool:
        """Whether training produces an auxiliary loss (the VAE term)."""
        return self.core.aux_roi is not None

    def _check(self, x: Tensor) -> None:
        if x.ndim != 5 or x.shape[1] != self.config.in_channels:
            raise ModelInputError(
                f"{self.config.name} expects [B, {self.config.in_channels}, i, j, k], "
                f"got {list(x.shape)}"
            )

    def forward(self, x: Tensor) -> Tensor:
        """Raw logits ``[B, out_channels, *x.shape[2:]]``; never computes the aux loss."""
        self._check(x)
        padded, crop = pad_to_divisor(x, self.divisor, self.pad_value)
        logits: Tensor = self.core(padded)
        return logits[crop]

    def forward_with_aux(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """Logits and the auxiliary training loss (``None`` in eval mode or without one).

        In training mode a model with an aux loss pads ``x`` to exactly ``aux_roi`` (the VAE
        reconstructs the padded patch); an input larger than ``aux_roi`` is an error.
        """
        self._check(x)
        aux_roi = self.core.aux_roi
        if self.training and aux_roi is not None:
            spatial = tuple(x.shape[2:])
            if any(s > r for s, r in zip(spatial, aux_roi, strict=True)):
                raise ModelInputError(
                    f"{self.config.name} trains on patches of at most roi_size={aux_roi} "
                    f"(its VAE branch has a fixed size), got {spatial}; crop patches to the ROI"
                )
            padded, crop = pad_to_shape(x, aux_roi, self.pad_value)
        else:
            padded, crop = pad_to_divisor(x, self.divisor, self.pad_value)
        logits, aux = self.core.forward_with_aux(padded)
        return logits[crop], aux

    def parameter_count(self, trainable_only: bool = True) -> int:
        """Number of (trainable) parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
