"""MONAI dictionary pipelines of each stage, built from the frozen stage configs.

Training (random parts after the cached deterministic prefix)::

    liver / multiclass: LoadCachedCased → Resampled → GlobalViewd | SpatialPadd(ROI) →
        RandSpatialCropSamplesd(ROI) → augmentation → Finalized
    tumor:              LoadCachedCased → Resampled → WholeTlvrCountsd → LiverRegiond |
        [RandSyntheticTumord] → RandLiverMaskd → RandCropByPosNegLabeld(ROI, pos/neg) →
        augmentation → Finalized

(multi-class training also counts the whole reference, ``WholeTlvrCountsd``, before its view;
``RandSyntheticTumord`` only when ``TumorStageConfig.synthetic_prob > 0``; it adds its implanted
tumor to those counts.)

Validation drops the random parts and keeps whole volumes (liver / multiclass) or the whole
ground-truth liver box (tumor, via :class:`LocalViewd`, which adds ``mask``). Items enter as
``{"case_id", "cache", "soft_tlvr"}``; they leave as ``image`` ``[1, i, j, k]`` float32,
``label`` ``[1, i, j, k]`` int64 (liver stage 0/1, others 0/1/2), ``case_id``, ``soft_tlvr``
(and ``mask`` in tumor validation).
"""

from __future__ import annotations

import math
from typing import Any

from monai.transforms.compose import Compose
from monai.transforms.croppad.dictionary import (
    RandCropByPosNegLabeld,
    RandSpatialCropSamplesd,
    SpatialPadd,
)
from monai.transforms.intensity.dictionary import RandScaleIntensityd, RandShiftIntensityd
from monai.transforms.spatial.dictionary import RandAffined, RandFlipd

from smoothseg.preprocess.config import (
    AugmentConfig,
    LiverStageConfig,
    PreprocessConfigError,
    StageConfig,
    TumorStageConfig,
)
from smoothseg.preprocess.dict_transforms import (
    Finalized,
    GlobalViewd,
    LiverRegiond,
    LoadCachedCased,
    LocalViewd,
    RandLiverMaskd,
    Resampled,
    WholeTlvrCountsd,
)
from smoothseg.preprocess.synthetic_tumor import RandSyntheticTumord

KEYS = ["image", "label"]
STAGE_NAMES = ("liver", "tumor", "multiclass")


def _check(stage: str, config: StageConfig) -> None:
    if stage not in STAGE_NAMES:
        raise PreprocessConfigError(f"unknown stage {stage!r}; valid: {', '.join(STAGE_NAMES)}")
    want = TumorStageConfig if stage == "tumor" else LiverStageConfig
    if not isinstance(config, want):
        raise PreprocessConfigError(f"the {stage} stage needs a {want.__name__}")


def augment_transforms(config: AugmentConfig, roi: tuple[int, int, int]) -> list[Any]:
    """Flips, a small in-plane rotation with scaling, and intensity scale/shift.

    Labels use nearest neighbour; the affine fills with 0 (the background after windowing).
    """
    if not config.enabled:
        return []
    out: list[Any] = [
        RandFlipd(keys=KEYS, prob=config.flip_prob, spatial_axis=axis) for axis in config.flip_axes
    ]
    if config.affine_prob > 0 and (config.rotate_deg > 0 or config.scale_fraction > 0):
        out.append(
            RandAffined(
                keys=KEYS,
                prob=config.affine_prob,
                rotate_range=(0.0, 0.0, math.radians(config.rotate_deg)),
                scale_range=(config.scale_fraction,) * 3,
                mode=("bilinear", "nearest"),
                padding_mode="zeros",
                spatial_size=roi,
                cache_grid=True,
            )
        )
    if config.intensity_prob > 0 and config.intensity_scale > 0:
        out.append(
            RandScaleIntensityd(
                keys="image", factors=config.intensity_scale, prob=config.intensity_prob
            )
        )
    if config.intensity_prob > 0 and config.intensity_shift > 0:
        out.append(
            RandShiftIntensityd(
                keys="image", offsets=config.intensity_shift, prob=config.intensity_prob
            )
        )
    return out


def _prefix(stage: str, config: StageConfig, load: bool = True) -> list[Any]:
    loader: list[Any] = [LoadCachedCased()] if load else []
    return [*loader, Resampled(config.target_spacing_mm)]


def train_transforms(stage: str, config: StageConfig, *, load: bool = True) -> Compose:
    """The training pipeline of ``stage`` (``liver``, ``tumor`` or ``multiclass``).

    Args:
        stage: ``liver``, ``tumor`` or ``multiclass``.
        config: The stage's preprocessing config.
        load: Start by loading the case from the prepared cache; ``False`` for items that
            already carry ``image``/``label`` ``[1, i, j, k]`` (canonical RAS), ``affine`` and
            ``spacing_mm`` (the on-the-fly synthetic cases).

    Raises:
        PreprocessConfigError: Unknown stage or a config of the wrong kind.

    """
    _check(stage, config)
    steps = _prefix(stage, config, load)
    if stage != "liver":  # the whole reference's TLVR counts, before any crop
        steps.append(WholeTlvrCountsd())
    roi = config.roi_size
    if isinstance(config, TumorStageConfig):
        steps.append(LiverRegiond(config))
        if config.synthetic_prob > 0:
            steps.append(RandSyntheticTumord.from_config(config))
        steps += [
            RandLiverMaskd(config),
            RandCropByPosNegLabeld(
                keys=KEYS,
                label_key="label",
                spatial_size=roi,
                pos=config.pos,
                neg=config.neg,
                num_samples=config.samples_per_volume,
                fg_indices_key="fg_indices",
                bg_indices_key="bg_indices",
            ),
        ]
    else:
        steps += [
            GlobalViewd(config, binary_liver=stage == "liver"),
            SpatialPadd(keys=KEYS, spatial_size=roi, mode="constant"),
            RandSpatialCropSamplesd(
                keys=KEYS,
                roi_size=roi,
                num_samples=config.samples_per_volume,
                random_size=False,
            ),
        ]
    steps += [*augment_transforms(config.augment, roi), Finalized()]
    return Compose(steps)


def val_transforms(stage: str, config: StageConfig) -> Compose:
    """The validation pipeline of ``stage``: whole volume or whole ground-truth liver box."""
    _check(stage, config)
    steps = _prefix(stage, config)
    if isinstance(config, TumorStageConfig):
        steps.append(LocalViewd(config))
    else:
        steps.append(GlobalViewd(config, binary_liver=stage == "liver"))
    steps.append(Finalized(keep=("case_id", "soft_tlvr", "spacing_mm")))
    return Compose(steps)
