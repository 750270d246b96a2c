"""Configuration of the synthetic abdominal CT cohort, and the per-case random streams."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np

from smoothseg.phantom.grid import PhantomGrid

SizePreset = Literal["small", "paper"]
SIZES: tuple[SizePreset, ...] = ("small", "paper")

#: (shape, spacing_mm) of each size preset; both cover 384 x 384 x 240 mm.
_PRESETS: dict[str, tuple[tuple[int, int, int], tuple[float, float, float]]] = {
    "small": ((128, 128, 48), (3.0, 3.0, 5.0)),
    "paper": ((512, 512, 96), (0.75, 0.75, 2.5)),
}


@dataclass(frozen=True)
class PhantomConfig:
    """How phantoms are generated. Defaults are the ``small`` preset.

    Attributes:
        size: Preset name the grid came from (``small`` or ``paper``; ``custom`` otherwise).
        shape: Voxels along x (R), y (A), z (S).
        spacing_mm: Voxel size; in-plane finer than slice spacing like real CT.
        z_top_mm: z of the top slice; the right liver dome is at z = 0.
        seed: Cohort seed (case ``i`` depends only on ``seed`` and ``i``).
        strata: Block length of the stratified tumor-burden draw: in every block of
            ``strata`` consecutive cases each quantile band of the burden distribution occurs
            once (one band is tumor-free).
        max_tumors: Most tumors in one liver.
        multifocal_probability: Chance that a liver with tumors has more than one.
        diameter_median_mm: Median of the log-normal largest-tumor diameter.
        diameter_sigma: Log-space standard deviation of that diameter.
        diameter_range_mm: Truncation range of tumor diameters.
        margin_sigma_mm: Range of the Gaussian width of tumor margins (contrast ramp).
        noise_sigma_hu: Range of the per-case noise standard deviation.
        noise_correlation_mm: Gaussian correlation length of the noise in-plane.
        psf_sigma_mm: Partial-volume blur (Gaussian sigma) in-plane; along z it is
            ``slice_profile`` times the slice spacing.
        slice_profile: Along-z blur as a fraction of the slice spacing.
        reference_spacing_mm: Isotropic grid on which tumors are placed and the latent TLVR
            (used by the clinical model) is measured, independent of the output grid.

    """

    size: str = "small"
    shape: tuple[int, int, int] = _PRESETS["small"][0]
    spacing_mm: tuple[float, float, float] = _PRESETS["small"][1]
    z_top_mm: float = 35.0
    seed: int = 0
    strata: int = 10
    max_tumors: int = 6
    multifocal_probability: float = 0.6
    diameter_median_mm: float = 50.0
    diameter_sigma: float = 0.85
    diameter_range_mm: tuple[float, float] = (5.0, 150.0)
    margin_sigma_mm: tuple[float, float] = (0.8, 2.5)
    noise_sigma_hu: tuple[float, float] = (10.0, 25.0)
    noise_correlation_mm: float = 1.2
    psf_sigma_mm: float = 0.9
    slice_profile: float = 0.35
    reference_spacing_mm: float = 5.0

    def __post_init__(self) -> None:
        if len(self.shape) != 3 or min(self.shape) < 8:
            raise ValueError(f"shape must be three sizes of at least 8 voxels, got {self.shape}")
        if len(self.spacing_mm) != 3 or min(self.spacing_mm) <= 0:
            raise ValueError(f"spacing_mm must be three positive sizes, got {self.spacing_mm}")
        if self.strata < 2:
            raise ValueError(f"strata must be at least 2, got {self.strata}")
        if not 1 <= self.max_tumors <= 20:
            raise ValueError(f"max_tumors must be between 1 and 20, got {self.max_tumors}")
        lo, hi = self.diameter_range_mm
        if not 0 < lo < hi:
            raise ValueError(f"diameter_range_mm must be increasing and positive, got {lo}, {hi}")

    @classmethod
    def preset(cls, size: str = "small", **overrides: Any) -> PhantomConfig:
        """The config of a size preset (``small`` or ``paper``) with field overrides."""
        if size not in _PRESETS:
            raise ValueError(f"unknown phantom size {size!r}; choose one of {', '.join(SIZES)}")
        shape, spacing = _PRESETS[size]
        return replace(cls(size=size, shape=shape, spacing_mm=spacing), **overrides)

    @property
    def grid(self) -> PhantomGrid:
        """The output voxel grid."""
        return PhantomGrid(self.shape, self.spacing_mm, self.z_top_mm)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of every field."""
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


# Independent random streams of one case, so that e.g. a noise change leaves anatomy alone.
STREAM_ANATOMY, STREAM_TUMORS, STREAM_CLINICAL, STREAM_IMAGE = 0, 1, 2, 3
_CASE_KEY, _BLOCK_KEY = 1, 2


def case_seed(seed: int, index: int) -> np.random.SeedSequence:
    """Seed sequence of case ``index`` (0-based) of the cohort with ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(_CASE_KEY, index))


def substream(root: np.random.SeedSequence, stream: int) -> np.random.Generator:
    """Generator for one aspect (``STREAM_*``) of a case."""
    return np.random.default_rng(
        np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, 100 + stream))
    )


def burden_quantile(seed: int, index: int, strata: int) -> float:
    """Stratified quantile in [0, 1) of case ``index``'s tumor burden.

    Cases are grouped in blocks of ``strata``; a seeded permutation gives each case of a block
    its own band ``[s/strata, (s+1)/strata)``, and a uniform draw places it inside the band.
    Marginally the quantile is uniform; the block structure guarantees that any ``strata``
    consecutive-block cases span the whole burden range.
    """
    block, pos = divmod(index, strata)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_BLOCK_KEY, block)))
    band = int(rng.permutation(strata)[pos])
    offsets = rng.uniform(0.0, 1.0, strata)
    return (band + float(offsets[pos])) / strata
