"""Sliding-window inference over whole volumes with Gaussian blending (MONAI).

Used by validation during training and by the predict stage. Windows of ``roi_size`` (the
model's training ROI) overlap by ``overlap``; each window's logits are weighted by a Gaussian
centred on it (``sigma_scale`` of the window size) so seams do not show; volumes smaller than
the ROI are padded with ``pad_value`` (0 = the windowed background) and cropped back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from monai.inferers.utils import sliding_window_inference
from torch import Tensor, nn

from smoothseg.models.config import ModelInputError


@dataclass(frozen=True)
class SlidingWindowConfig:
    """Sliding-window settings.

    Attributes:
        roi_size: Window size ``(i, j, k)`` in voxels (the model's training ROI).
        overlap: Fraction of overlap between neighbouring windows.
        sw_batch_size: Windows run through the model at once.
        mode: ``gaussian`` (default) or ``constant`` blending.
        sigma_scale: Gaussian sigma as a fraction of the window size.
        pad_value: Intensity used to pad volumes smaller than the window.

    """

    roi_size: tuple[int, int, int]
    overlap: float = 0.25
    sw_batch_size: int = 1
    mode: str = "gaussian"
    sigma_scale: float = 0.125
    pad_value: float = 0.0

    def __post_init__(self) -> None:
        if len(self.roi_size) != 3 or min(self.roi_size) < 1:
            raise ModelInputError(f"roi_size must be 3 positive sizes, got {self.roi_size}")
        if not 0.0 <= self.overlap < 1.0:
            raise ModelInputError(f"overlap must be in [0, 1), got {self.overlap}")
        if self.sw_batch_size < 1:
            raise ModelInputError("sw_batch_size must be >= 1")
        if self.mode not in ("gaussian", "constant"):
            raise ModelInputError(f"mode must be 'gaussian' or 'constant', got {self.mode!r}")


def sliding_window_logits(
    model: nn.Module,
    image: Tensor,
    config: SlidingWindowConfig,
    *,
    device: torch.device | str | None = None,
    amp: bool = False,
) -> Tensor:
    """Logits of a whole volume by overlapping windows.

    Args:
        model: Maps ``[N, C_in, *roi]`` to ``[N, C_out, *roi]`` logits; put it in eval mode
            first (this function does not change its mode).
        image: ``[B, C_in, i, j, k]`` on any device; windows run on the model's device.
        config: Window size, overlap and blending.
        device: Where to run the windows (default: the device of the model's parameters).
        amp: float16 autocast (CUDA only; ignored elsewhere).

    Returns:
        ``[B, C_out, i, j, k]`` float32 logits on ``image``'s device.

    Raises:
        ModelInputError: ``image`` is not 5D.

    """
    if image.ndim != 5:
        raise ModelInputError(f"expected [B, C, i, j, k], got {list(image.shape)}")
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else image.device
    run_on = torch.device(device)
    use_amp = amp and run_on.type == "cuda"
    with torch.no_grad(), torch.autocast(run_on.type, dtype=torch.float16, enabled=use_amp):
        out = sliding_window_inference(
            image,
            roi_size=config.roi_size,
            sw_batch_size=config.sw_batch_size,
            predictor=model,
            overlap=config.overlap,
            mode=config.mode,
            sigma_scale=config.sigma_scale,
            padding_mode="constant",
            cval=config.pad_value,
            sw_device=run_on,
            device=image.device,
        )
    if not isinstance(out, Tensor):
        raise ModelInputError("the model must return a single logits tensor")
    logits = out.as_tensor() if hasattr(out, "as_tensor") else out
    return logits.float()


def sliding_window_labels(
    model: nn.Module,
    image: Tensor,
    config: SlidingWindowConfig,
    *,
    device: torch.device | str | None = None,
    amp: bool = False,
) -> Tensor:
    """Argmax class per voxel ``[B, i, j, k]`` (int64) of :func:`sliding_window_logits`."""
    return sliding_window_logits(model, image, config, device=device, amp=amp).argmax(dim=1)


def auto_sw_batch_size(
    model: nn.Module,
    roi_size: tuple[int, int, int],
    device: torch.device | str,
    *,
    in_channels: int = 1,
    dtype: torch.dtype | None = None,
    memory_fraction: float = 0.5,
    cap: int = 32,
    fallback: int = 2,
) -> int:
    """Windows per forward pass that fit in ``memory_fraction`` of the free GPU memory.

    Measures the peak memory of one window's forward pass (eval, no grad) and divides the free
    memory share by it. On CPU returns ``fallback`` (memory is not the limit there).
    """
    run_on = torch.device(device)
    if run_on.type != "cuda":
        return fallback
    torch.cuda.synchronize(run_on)
    torch.cuda.empty_cache()
    free, _ = torch.cuda.mem_get_info(run_on)
    torch.cuda.reset_peak_memory_stats(run_on)
    base = torch.cuda.memory_allocated(run_on)
    window = torch.zeros((1, in_channels, *roi_size), device=run_on)
    with (
        torch.no_grad(),
        torch.autocast("cuda", dtype=dtype or torch.float16, enabled=dtype is not None),
    ):
        model(window)
    torch.cuda.synchronize(run_on)
    per_window = max(torch.cuda.max_memory_allocated(run_on) - base, 1)
    del window
    torch.cuda.empty_cache()
    return int(max(1, min(cap, (free * memory_fraction) // per_window)))
