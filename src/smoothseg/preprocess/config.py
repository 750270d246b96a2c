"""Frozen preprocessing configs of each stage, with the paper's values as defaults.

* :class:`LiverStageConfig` — global view (Supplementary B table SB1, Supplementary C.1): HU
  window (-150, 250) → [0, 1], optional resampling, random ROI crop (512x512x16) with padding.
* :class:`TumorStageConfig` — local view (table SB2, Supplementary C.1): outside-liver voxels set
  to background, crop to the liver box plus a margin, HU window (-200, 250), ROI 256x256x32 with
  positive/negative-balanced sampling; during training the ground-truth liver is jittered so it
  resembles a predicted one.
* :class:`AugmentConfig` — augmentation applied after cropping.

The multi-class baselines (Supplementary D) use the global view, :class:`LiverStageConfig`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, TypeVar

from smoothseg.errors import SmoothsegError

Normalize = Literal["none", "zscore"]
NORMALIZE: tuple[Normalize, ...] = ("none", "zscore")


class PreprocessConfigError(SmoothsegError, ValueError):
    """A preprocessing configuration is invalid (bad window, ROI, unknown key...)."""


def _triple(name: str, value: Any, problems: list[str], *, positive: bool = True) -> None:
    if len(value) != 3 or (positive and any(v <= 0 for v in value)):
        problems.append(f"{name} must be 3 positive numbers, got {tuple(value)}")


@dataclass(frozen=True)
class AugmentConfig:
    """Random augmentation applied to the training patch after cropping.

    Labels are always transformed with nearest neighbour.

    Attributes:
        enabled: Apply any augmentation at all.
        flip_axes: Voxel axes (0 = R-L, 1 = A-P, 2 = S-I) that may be flipped.
        flip_prob: Probability of flipping, per axis.
        affine_prob: Probability of a random rotation + scaling.
        rotate_deg: Largest rotation in the axial plane (about the k axis), degrees.
        scale_fraction: Zoom drawn in ``[1 - s, 1 + s]`` per axis.
        intensity_prob: Probability of each intensity change (scale, shift).
        intensity_scale: Multiply intensities by ``1 + u``, ``u`` in ``[-s, s]``.
        intensity_shift: Add ``u`` in ``[-s, s]`` (intensities are in [0, 1] after windowing).

    """

    enabled: bool = True
    flip_axes: tuple[int, ...] = (0, 1, 2)
    flip_prob: float = 0.5
    affine_prob: float = 0.2
    rotate_deg: float = 10.0
    scale_fraction: float = 0.1
    intensity_prob: float = 0.5
    intensity_scale: float = 0.1
    intensity_shift: float = 0.1

    def __post_init__(self) -> None:
        problems: list[str] = []
        if any(a not in (0, 1, 2) for a in self.flip_axes):
            problems.append(f"flip_axes must be among 0, 1, 2, got {self.flip_axes}")
        for name in ("flip_prob", "affine_prob", "intensity_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 <= self.rotate_deg <= 180.0:
            problems.append(f"rotate_deg must be in [0, 180], got {self.rotate_deg}")
        for name in ("scale_fraction", "intensity_scale", "intensity_shift"):
            if not 0.0 <= getattr(self, name) < 1.0:
                problems.append(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if problems:
            raise PreprocessConfigError("invalid augment config: " + "; ".join(problems))


def _check_common(config: LiverStageConfig | TumorStageConfig, problems: list[str]) -> None:
    low, high = config.hu_window
    if not low < high:
        problems.append(f"hu_window must be (low, high) with low < high, got {config.hu_window}")
    if config.target_spacing_mm is not None:
        _triple("target_spacing_mm", config.target_spacing_mm, problems)
    _triple("roi_size", config.roi_size, problems)
    if config.samples_per_volume < 1:
        problems.append(f"samples_per_volume must be >= 1, got {config.samples_per_volume}")


@dataclass(frozen=True)
class LiverStageConfig:
    """Global-view preprocessing (liver stage and the multi-class baselines).

    Attributes:
        hu_window: HU interval mapped linearly to [0, 1] and clipped (SB1 ``hu_range``).
        target_spacing_mm: Resample to this voxel size first (image linear, labels nearest);
            ``None`` keeps the cached grid (the paper's setting).
        normalize: ``none``: the fixed window → [0, 1] map is the dataset-wide intensity
            normalisation (the same for every scan, 0 = at or below the window);
            ``zscore``: additionally zero mean, unit variance per volume.
        roi_size: Training patch ``(i, j, k)`` in voxels (SB1 ``input_image_size``); volumes
            smaller than it are padded with 0, larger ones randomly cropped. Also the
            sliding-window size at validation and inference.
        samples_per_volume: Patches drawn from each volume per epoch.
        augment: Augmentation after cropping (no flips by default: the global view relies on
            the liver lying on the patient's right).

    """

    hu_window: tuple[float, float] = (-150.0, 250.0)
    target_spacing_mm: tuple[float, float, float] | None = None
    normalize: Normalize = "none"
    roi_size: tuple[int, int, int] = (512, 512, 16)
    samples_per_volume: int = 1
    augment: AugmentConfig = AugmentConfig(flip_axes=())

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_common(self, problems)
        if self.normalize not in NORMALIZE:
            problems.append(f"normalize must be one of {', '.join(NORMALIZE)}")
        if problems:
            raise PreprocessConfigError("invalid liver stage config: " + "; ".join(problems))

    @property
    def kind(self) -> Literal["global"]:
        """``global`` (whole image)."""
        return "global"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LiverStageConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error naming them."""
        return _from_dict(cls, data, "liver stage")


@dataclass(frozen=True)
class TumorStageConfig:
    """Local-view preprocessing (tumor stage).

    Attributes:
        hu_window: HU interval mapped to [0, 1] (SB2 ``hu_range``).
        target_spacing_mm: Resample to this voxel size first; ``None`` keeps the cached grid.
        roi_size: Training patch and sliding-window size (SB2 ``input_image_size``).
        margin_mm: Margin added on every side of the liver's bounding box.
        background_hu: Intensity written outside the liver (``None``: the window's lower
            bound, i.e. 0 after windowing, the same as the padding).
        pos: Relative weight of patches centred on tumor (positive/negative balance).
        neg: Relative weight of patches centred on non-tumor liver.
        samples_per_volume: Patches drawn from each liver box per epoch.
        liver_offset_mm: Training only: the ground-truth liver surface is moved by a random
            signed distance in this range (negative erodes, positive dilates) so the mask
            resembles a predicted liver. ``(0, 0)`` uses the ground truth as is.
        box_jitter_mm: Training only: each face of the crop box moves by up to this much.
        augment: Augmentation after cropping.
        synthetic_prob: Training only: chance per sample of implanting synthetic lesions into
            the liver (:class:`~smoothseg.preprocess.synthetic_tumor.RandSyntheticTumord`);
            real tumors are kept. 0 (the default) leaves the pipeline as it was.
        synthetic_size_mm: Diameter range of the synthetic lesions (3-120 mm).
        synthetic_max_count: At most this many synthetic lesions per sample (at least 1).

    """

    hu_window: tuple[float, float] = (-200.0, 250.0)
    target_spacing_mm: tuple[float, float, float] | None = None
    roi_size: tuple[int, int, int] = (256, 256, 32)
    margin_mm: float = 10.0
    background_hu: float | None = None
    pos: float = 1.0
    neg: float = 1.0
    samples_per_volume: int = 1
    liver_offset_mm: tuple[float, float] = (-3.0, 6.0)
    box_jitter_mm: float = 5.0
    augment: AugmentConfig = AugmentConfig()
    synthetic_prob: float = 0.0
    synthetic_size_mm: tuple[float, float] = (5.0, 40.0)
    synthetic_max_count: int = 3

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_common(self, problems)
        if not 0.0 <= self.synthetic_prob <= 1.0:
            problems.append(f"synthetic_prob must be in [0, 1], got {self.synthetic_prob}")
        low, high = self.synthetic_size_mm
        if not 3.0 <= low <= high <= 120.0:
            problems.append(
                f"synthetic_size_mm must satisfy 3 <= min <= max <= 120, got {(low, high)}"
            )
        if self.synthetic_max_count < 1:
            problems.append(f"synthetic_max_count must be >= 1, got {self.synthetic_max_count}")
        if self.margin_mm < 0 or self.box_jitter_mm < 0:
            problems.append("margin_mm and box_jitter_mm must be >= 0")
        if self.pos < 0 or self.neg < 0 or self.pos + self.neg <= 0:
            problems.append(f"pos and neg must be >= 0 and not both 0, got {self.pos}, {self.neg}")
        low, high = self.liver_offset_mm
        if not low <= 0.0 <= high:
            problems.append(f"liver_offset_mm must satisfy low <= 0 <= high, got {(low, high)}")
        if problems:
            raise PreprocessConfigError("invalid tumor stage config: " + "; ".join(problems))

    @property
    def kind(self) -> Literal["local"]:
        """``local`` (liver box)."""
        return "local"

    @property
    def background(self) -> float:
        """Background intensity in HU (the window's lower bound unless set)."""
        return self.hu_window[0] if self.background_hu is None else self.background_hu

    @property
    def max_extent_mm(self) -> float:
        """Farthest a training crop may reach beyond the ground-truth liver, mm."""
        return self.margin_mm + max(self.liver_offset_mm[1], 0.0) + self.box_jitter_mm

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TumorStageConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error naming them."""
        return _from_dict(cls, data, "tumor stage")


StageConfig = LiverStageConfig | TumorStageConfig
_C = TypeVar("_C", LiverStageConfig, TumorStageConfig)


def _to_dict(config: LiverStageConfig | TumorStageConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in asdict(config).items():
        if isinstance(value, dict):
            value = {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


def check_keys(
    data: Mapping[str, Any],
    valid: set[str],
    what: str,
    error: type[SmoothsegError] = PreprocessConfigError,
) -> None:
    """Raise ``error`` naming any key of ``data`` not in ``valid`` (and listing the valid ones)."""
    unknown = sorted(set(data) - valid)
    if unknown:
        raise error(f"unknown {what} config keys {unknown}; valid: {', '.join(sorted(valid))}")


def augment_from_dict(data: Mapping[str, Any], base: AugmentConfig | None = None) -> AugmentConfig:
    """An :class:`AugmentConfig` from ``data`` laid over ``base`` (unknown keys rejected)."""
    check_keys(data, {f.name for f in fields(AugmentConfig)}, "augment")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return replace(base or AugmentConfig(), **values)


def _from_dict(cls: type[_C], data: Mapping[str, Any], what: str, base: _C | None = None) -> _C:
    check_keys(data, {f.name for f in fields(cls)}, what)
    values: dict[str, Any] = {}
    start = base if base is not None else cls()
    for key, value in data.items():
        if key == "augment":
            values[key] = augment_from_dict(value, start.augment)
        elif isinstance(value, list):
            values[key] = tuple(value)
        else:
            values[key] = value
    return replace(start, **values)


def stage_config_from_dict(
    stage: str, data: Mapping[str, Any], base: StageConfig | None = None
) -> StageConfig:
    """The preprocessing config of ``stage`` (``liver``, ``tumor``, ``multiclass``) from a dict.

    Args:
        stage: Stage name; ``tumor`` gives a :class:`TumorStageConfig`, the others a
            :class:`LiverStageConfig`.
        data: Fields to set (a nested ``augment`` table is laid over the base's).
        base: Config the fields are laid over (default: the paper defaults).

    Raises:
        PreprocessConfigError: Unknown keys (named) or invalid values.

    """
    if stage == "tumor":
        tumor_base = base if isinstance(base, TumorStageConfig) else None
        return _from_dict(TumorStageConfig, data, "tumor stage", tumor_base)
    liver_base = base if isinstance(base, LiverStageConfig) else None
    return _from_dict(LiverStageConfig, data, f"{stage} stage", liver_base)
