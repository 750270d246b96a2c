"""The GPU fast path of training: mixed precision, cuDNN autotuning, ``torch.compile``.

Everything here is off on CPU unless asked for explicitly: bfloat16 autocast on a CPU without
native bf16 units runs two orders of magnitude slower than float32, and ``torch.compile``
costs minutes of compilation that short CPU runs never win back.

* **AMP** (:func:`autocast_dtype`): ``amp = "auto"`` → float16 (or ``amp_dtype = "bfloat16"``)
  on CUDA; ``amp = "on"`` also on CPU (always bfloat16 there); float16 steps use a gradient
  scaler (:func:`needs_scaler`).
* **cuDNN benchmark** (:func:`configure_backends`): autotuned convolutions (and TF32 matmuls) on
  CUDA unless the run is ``deterministic``.
* **torch.compile** (:func:`maybe_compile`): only with ``compile = true``.

The sliding-window batch tuned to GPU memory lives with the sliding window
(:func:`smoothseg.models.sliding.auto_sw_batch_size`).
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from smoothseg.training.config import TrainConfig

log = logging.getLogger(__name__)
DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}


def autocast_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of a run on ``device`` (``None``: full float32)."""
    if config.amp == "off":
        return None
    if device.type == "cuda":
        return DTYPES[config.amp_dtype]
    if config.amp == "on":
        log.warning("amp = 'on' on CPU: bfloat16 autocast, usually much slower than float32")
        return torch.bfloat16
    return None


def needs_scaler(dtype: torch.dtype | None, device: torch.device) -> bool:
    """float16 on CUDA needs gradient scaling; bfloat16 and float32 do not."""
    return dtype == torch.float16 and device.type == "cuda"


def configure_backends(config: TrainConfig, device: torch.device) -> bool:
    """Switch on cuDNN autotuning and TF32 for CUDA runs; returns whether benchmark is on."""
    if device.type != "cuda":
        return False
    on = config.cudnn_benchmark == "on" or (
        config.cudnn_benchmark == "auto" and not config.deterministic
    )
    torch.backends.cudnn.benchmark = on
    if not config.deterministic:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return on


def maybe_compile(module: nn.Module, config: TrainConfig) -> nn.Module:
    """``torch.compile(module)`` when the config asks for it, else ``module``."""
    if not config.compile:
        return module
    compiled: nn.Module = torch.compile(module)  # type: ignore[assignment]
    return compiled
