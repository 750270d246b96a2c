"""Preprocessing of each stage: configs, HU windowing, resampling, masks, crops, transforms.

Deterministic functions (shared by training, validation and predict)::

    from smoothseg.preprocess import TumorStageConfig, local_view

    local = local_view(ct, liver_mask, TumorStageConfig())  # crop + mask + window
    labels_on_ct_grid = local.to_parent(predicted_labels_on_box)

MONAI training/validation pipelines: :func:`train_transforms`, :func:`val_transforms`.
"""

from smoothseg.preprocess.config import (
    AugmentConfig,
    LiverStageConfig,
    PreprocessConfigError,
    StageConfig,
    TumorStageConfig,
    stage_config_from_dict,
)
from smoothseg.preprocess.crop import (
    BoundingBox,
    CropRecord,
    bounding_box,
    crop_to_mask,
    paste_back,
)
from smoothseg.preprocess.masks import (
    clean_liver_mask,
    cut_liver_bridges,
    fill_holes,
    largest_component,
    signed_distance_mm,
)
from smoothseg.preprocess.pipeline import (
    GlobalInput,
    LocalInput,
    global_intensities,
    global_view,
    local_view,
    masked_crop,
)
from smoothseg.preprocess.resample import (
    ResampleRecord,
    resample_array,
    resample_to_spacing,
    resample_volume,
    resampled_grid,
    undo_resample,
)
from smoothseg.preprocess.transforms import augment_transforms, train_transforms, val_transforms
from smoothseg.preprocess.windowing import window_hu, windowed_value, zscore

__all__ = [
    "AugmentConfig",
    "BoundingBox",
    "CropRecord",
    "GlobalInput",
    "LiverStageConfig",
    "LocalInput",
    "PreprocessConfigError",
    "ResampleRecord",
    "StageConfig",
    "TumorStageConfig",
    "augment_transforms",
    "bounding_box",
    "clean_liver_mask",
    "crop_to_mask",
    "cut_liver_bridges",
    "fill_holes",
    "global_intensities",
    "global_view",
    "largest_component",
    "local_view",
    "masked_crop",
    "paste_back",
    "resample_array",
    "resample_to_spacing",
    "resample_volume",
    "resampled_grid",
    "signed_distance_mm",
    "stage_config_from_dict",
    "train_transforms",
    "undo_resample",
    "val_transforms",
    "window_hu",
    "windowed_value",
    "zscore",
]
