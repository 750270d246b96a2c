"""The ``statistics.json`` document of one prediction.

Fields (schema ``smoothseg-statistics`` version 1):

* ``status`` — ``ok`` or ``no-liver``; ``warnings``; ``disclaimer`` (set for models trained on
  synthetic data, e.g. the shipped default model).
* ``input`` — path, format, DICOM series UID, native shape, spacing and orientation.
* ``liver_ml`` (tumor included), ``tumor_ml``, ``tlvr`` (tumor / liver volume; ``null``
  without liver), ``lesion_count``, ``lesions`` (largest first; see
  :class:`~smoothseg.postprocess.lesions.LesionStats`).
* ``model`` — bundle ids, stages, provenance; ``options`` — the :class:`PredictConfig`;
  ``details`` — what ran; ``timings_s`` — seconds per stage; ``versions``; ``outputs``.
"""

from __future__ import annotations

import platform
from typing import Any

import monai
import numpy as np
import torch

from smoothseg import __version__
from smoothseg.inference.config import PredictConfig
from smoothseg.inference.predictor import Prediction
from smoothseg.postprocess.lesions import LesionStats

SCHEMA = "smoothseg-statistics"
SCHEMA_VERSION = 1


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {
        "smoothseg": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "monai": monai.__version__,
        "numpy": np.__version__,
        "scikit-image": version("scikit-image"),
    }


def statistics_document(
    prediction: Prediction,
    lesions: list[LesionStats],
    *,
    model: dict[str, Any],
    options: PredictConfig,
    outputs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ``statistics.json`` content (see the module docs)."""
    image = prediction.image
    voxel_ml = image.voxel_volume_ml
    liver_ml = float(np.count_nonzero(prediction.liver)) * voxel_ml
    tumor_ml = float(np.count_nonzero(prediction.tumor & prediction.liver)) * voxel_ml
    native = image.native_grid
    source = image.source
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "status": prediction.status,
        "warnings": list(prediction.warnings),
        "disclaimer": model.get("disclaimer"),
        "input": {
            "path": source.path,
            "format": source.format,
            "series_uid": source.series.uid if source.series is not None else None,
            "shape": list(native.shape),
            "spacing_mm": [round(s, 4) for s in native.spacing_mm],
            "orientation": "".join(native.axcodes),
        },
        "liver_ml": round(liver_ml, 3),
        "tumor_ml": round(tumor_ml, 3),
        "tlvr": round(tumor_ml / liver_ml, 6) if liver_ml > 0 else None,
        "lesion_count": len(lesions),
        "lesions": [lesion.to_dict() for lesion in lesions],
        "coordinates": "centroid_ras_mm: RAS+ (NIfTI/Slicer); centroid_lps_mm: LPS (DICOM/ITK)",
        "model": model,
        "options": options.to_dict(),
        "details": prediction.details,
        "timings_s": {k: round(v, 3) for k, v in prediction.timings_s.items()},
        "versions": _versions(),
        "outputs": dict(outputs or {}),
    }
    return doc
