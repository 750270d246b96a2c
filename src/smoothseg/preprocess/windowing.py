"""Hounsfield-unit windowing and intensity normalisation (Supplementary C.1)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from smoothseg.preprocess.config import PreprocessConfigError

F32 = npt.NDArray[np.float32]


def window_hu(hu: npt.ArrayLike, window: tuple[float, float]) -> F32:
    """Map ``window = (low, high)`` HU linearly to [0, 1], clipping outside values.

    Example:
        >>> window_hu([-1000, -150, 50, 250, 3000], (-150, 250)).tolist()
        [0.0, 0.0, 0.5, 1.0, 1.0]

    Raises:
        PreprocessConfigError: ``low >= high``.

    """
    low, high = float(window[0]), float(window[1])
    if not low < high:
        raise PreprocessConfigError(f"HU window must have low < high, got {window}")
    out = np.asarray(hu, dtype=np.float32) - np.float32(low)
    out *= np.float32(1.0 / (high - low))
    np.clip(out, 0.0, 1.0, out=out)
    return out


def windowed_value(hu: float, window: tuple[float, float]) -> float:
    """The windowed value in [0, 1] of one HU value (:func:`window_hu` of a scalar)."""
    low, high = window
    return float(min(max((hu - low) / (high - low), 0.0), 1.0))


def zscore(array: npt.NDArray[Any], eps: float = 1e-8) -> F32:
    """Zero mean, unit variance over the whole array (float32)."""
    out = np.asarray(array, dtype=np.float32)
    mean, std = float(out.mean()), float(out.std())
    return ((out - mean) / max(std, eps)).astype(np.float32)
