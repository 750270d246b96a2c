"""The ``statistics.json`` document of one prediction.

Fields (schema ``smoothseg-statistics`` version 2):

* ``status`` — ``ok`` or ``no-liver``; ``warnings``; ``disclaimer`` (set for models trained on
  synthetic data, e.g. the shipped default model).
* ``input`` — path, format, DICOM series UID, native shape, spacing and orientation.
* ``liver_ml`` (tumor included), ``tumor_ml``, ``tlvr`` (tumor / liver volume; ``null``
  without liver), ``lesion_count``, ``uncertain_lesion_count``, ``lesions`` (largest first; see
  :class:`~smoothseg.postprocess.lesions.LesionStats`, each with its confidence: mean
  probability, contrast to the surrounding liver, CNR, ``confidence`` = ``confident`` or
  ``uncertain`` and the ``reasons``; see :mod:`smoothseg.postprocess.confidence`).
* ``quality`` — the case's QC verdict (liver volume, median HU and noise, edge contact, the
  thresholds used; its warnings are also in ``warnings``), ``null`` when no liver was found.
* ``model`` — bundle ids, stages, provenance; ``inference`` — the
  :class:`~smoothseg.inference.InferenceConfig`; ``postprocess`` — the
  :class:`~smoothseg.postprocess.PostprocessConfig`; ``requested`` — the output options;
  ``details`` — what ran; ``timings_s`` — seconds per stage; ``versions``; ``outputs``.

Version 2 replaced version 1's flat ``options`` by ``inference``, ``postprocess`` and
``requested``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from smoothseg.inference.two_stage import Prediction
from smoothseg.postprocess.lesions import LesionStats
from smoothseg.predict.config import PredictConfig
from smoothseg.version import package_versions

SCHEMA = "smoothseg-statistics"
SCHEMA_VERSION = 2


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
    details = dict(prediction.details)
    quality = dict(details.pop("quality", None) or {})
    records = _with_confidence([lesion.to_dict() for lesion in lesions], quality.pop("lesions", []))
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
        "uncertain_lesion_count": sum(r.get("confidence") == "uncertain" for r in records),
        "lesions": records,
        "quality": quality or None,
        "coordinates": "centroid_ras_mm: RAS+ (NIfTI/Slicer); centroid_lps_mm: LPS (DICOM/ITK)",
        "model": model,
        "inference": options.inference.to_dict(),
        "postprocess": options.postprocess.to_dict(),
        "requested": options.outputs,
        "details": details,
        "timings_s": {k: round(v, 3) for k, v in prediction.timings_s.items()},
        "versions": package_versions("torch", "monai", "numpy", "scikit-image", python=True),
        "outputs": dict(outputs or {}),
    }
    return doc


#: Confidence fields that repeat a measurement already in the lesion's own record.
_REPEATED = ("index", "volume_ml", "voxels", "mean_hu")


def _with_confidence(
    records: list[dict[str, Any]], confidences: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Lesion records with their confidence fields (same lesions, same numbering)."""
    if not confidences:
        return records
    if [(r["index"], r["voxels"]) for r in records] != [
        (c["index"], c["voxels"]) for c in confidences
    ]:
        raise ValueError("lesion statistics and confidences describe different lesions")
    return [
        {**record, **{k: v for k, v in conf.items() if k not in _REPEATED}}
        for record, conf in zip(records, confidences, strict=True)
    ]
