"""Scanner effects: partial-volume blur and spatially correlated quantum noise."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from smoothseg.phantom.shapes import F32

#: Standard deviation of a uniform box one voxel wide, in voxels: the partial-volume average
#: of a voxel's footprint, approximated by a Gaussian.
_BOX_SIGMA = 1.0 / np.sqrt(12.0)


def partial_volume(
    hu: F32, spacing_mm: tuple[float, float, float], psf_sigma_mm: float, slice_profile: float
) -> F32:
    """Blur with the scanner's point spread function and the voxel footprint.

    In-plane sigma combines ``psf_sigma_mm`` with the voxel box; along z the slice profile
    (``slice_profile`` slice spacings) replaces the PSF.
    """
    sx, sy, _ = spacing_mm
    sigma = (
        float(np.hypot(psf_sigma_mm / sx, _BOX_SIGMA)),
        float(np.hypot(psf_sigma_mm / sy, _BOX_SIGMA)),
        float(np.hypot(slice_profile, _BOX_SIGMA)),
    )
    out: F32 = ndimage.gaussian_filter(hu, sigma=sigma, mode="nearest", truncate=3.0)
    return out


def correlated_noise(
    shape: tuple[int, int, int],
    rng: np.random.Generator,
    spacing_mm: tuple[float, float, float],
    correlation_mm: float,
) -> F32:
    """Unit-variance Gaussian noise, low-pass filtered in-plane (correlated like CT noise).

    The filter's sigma is ``correlation_mm`` in x and y (at least half a voxel) and half a
    voxel along z; the result is rescaled to unit standard deviation analytically (sum of
    squared filter weights), so no data-dependent normalization is needed.
    """
    white = rng.standard_normal(shape, dtype=np.float32)
    sx, sy, _ = spacing_mm
    sigma = (max(correlation_mm / sx, 0.5), max(correlation_mm / sy, 0.5), 0.5)
    out: F32 = ndimage.gaussian_filter(white, sigma=sigma, mode="wrap", truncate=3.0)
    gain = 1.0
    for s in sigma:
        gain *= float(np.sqrt(np.sum(_kernel(s) ** 2)))
    out /= np.float32(gain)
    return out


def _kernel(sigma: float) -> np.ndarray:
    radius = int(3.0 * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    result: np.ndarray = k / k.sum()
    return result


def add_noise(
    hu: F32,
    rng: np.random.Generator,
    sigma_hu: float,
    spacing_mm: tuple[float, float, float],
    correlation_mm: float,
) -> F32:
    """``hu`` plus correlated noise of standard deviation ``sigma_hu``."""
    shape = (hu.shape[0], hu.shape[1], hu.shape[2])
    noise = correlated_noise(shape, rng, spacing_mm, correlation_mm)
    out: F32 = hu + np.float32(sigma_hu) * noise
    return out
