"""Scanner variation for domain-randomized phantoms: blur, slice thickness, bias, noise, streaks.

:func:`sample_scanner` draws one case's acquisition; :func:`apply_scanner` renders it on an HU
array of known spacing. All randomness comes from the generator passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Scanner:
    """One case's acquisition.

    Attributes:
        psf_sigma_mm: In-plane Gaussian blur (resolution).
        slice_thickness_mm: Reconstructed slice thickness (along-z box blur width).
        bias_hu: Peak amplitude of the smooth additive bias field.
        bias_scale: Relative peak of the smooth multiplicative gain field.
        noise_sigma_hu: Standard deviation of the correlated noise.
        noise_correlation_mm: In-plane correlation length of the noise.
        streaks: Number of streak lines through the body (0 = none).
        streak_hu: Peak amplitude of the streaks.

    """

    psf_sigma_mm: float
    slice_thickness_mm: float
    bias_hu: float
    bias_scale: float
    noise_sigma_hu: float
    noise_correlation_mm: float
    streaks: int
    streak_hu: float


def sample_scanner(rng: np.random.Generator) -> Scanner:
    """Draw an acquisition: slice thickness 0.6-5 mm, noise 5-35 HU, optional streaks."""
    return Scanner(
        psf_sigma_mm=float(rng.uniform(0.3, 1.5)),
        slice_thickness_mm=float(rng.uniform(0.6, 5.0)),
        bias_hu=float(rng.uniform(0.0, 25.0)),
        bias_scale=float(rng.uniform(0.0, 0.08)),
        noise_sigma_hu=float(rng.uniform(5.0, 35.0)),
        noise_correlation_mm=float(rng.uniform(0.3, 1.5)),
        streaks=int(rng.integers(0, 4)) if rng.random() < 0.3 else 0,
        streak_hu=float(rng.uniform(20.0, 120.0)),
    )


def _smooth_field(shape: tuple[int, ...], rng: np.random.Generator) -> F32:
    coarse = rng.standard_normal((4, 4, 3)).astype(np.float32)
    zoom = [s / c for s, c in zip(shape, coarse.shape, strict=True)]
    field = ndimage.zoom(coarse, zoom, order=3)[: shape[0], : shape[1], : shape[2]]
    peak = float(np.abs(field).max()) or 1.0
    out: F32 = (field / peak).astype(np.float32)
    return out


def _streaks(shape: tuple[int, ...], n: int, rng: np.random.Generator) -> F32:
    ii, jj = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    out = np.zeros(shape[:2], dtype=np.float32)
    ci, cj = shape[0] * rng.uniform(0.3, 0.7), shape[1] * rng.uniform(0.3, 0.7)
    for _ in range(n):
        angle = rng.uniform(0, np.pi)
        dist = np.abs((ii - ci) * np.sin(angle) - (jj - cj) * np.cos(angle))
        out += np.exp(-(dist**2) / 2.0) * rng.choice([-1.0, 1.0])
    return np.repeat(out[:, :, None], shape[2], axis=2)


def apply_scanner(
    hu: npt.ArrayLike,
    spacing_mm: tuple[float, float, float],
    scanner: Scanner,
    rng: np.random.Generator,
) -> F32:
    """Render ``scanner`` on an HU volume (same grid out); air outside stays near -1000."""
    img = np.asarray(hu, dtype=np.float32)
    sx, sy, sz = spacing_mm
    sigma_z = max(scanner.slice_thickness_mm, sz) / (2.355 * sz)
    img = ndimage.gaussian_filter(
        img, (scanner.psf_sigma_mm / sx, scanner.psf_sigma_mm / sy, sigma_z)
    )
    body = img > -500
    gain = 1.0 + scanner.bias_scale * _smooth_field(img.shape, rng)
    img = np.where(body, img * gain + scanner.bias_hu * _smooth_field(img.shape, rng), img)
    if scanner.streaks:
        img = img + scanner.streak_hu * _streaks(img.shape, scanner.streaks, rng) * body
    noise = rng.standard_normal(img.shape).astype(np.float32)
    corr = (scanner.noise_correlation_mm / sx, scanner.noise_correlation_mm / sy, 0.0)
    noise = ndimage.gaussian_filter(noise, corr)
    noise *= scanner.noise_sigma_hu / max(float(noise.std()), 1e-6)
    result: F32 = (img + noise).astype(np.float32)
    return result
