"""Prediction, the application: scans in, masks, measurements and output files out.

It composes the layers below: model bundles (:mod:`smoothseg.bundle`) → model stages
(:mod:`smoothseg.inference`) → post-processing (:mod:`smoothseg.postprocess`) → writers
(:mod:`smoothseg.io`).

* :func:`segment` — one call: a scan or its path → :class:`Prediction`.
* :class:`Predictor` — loaded models plus a :class:`PredictConfig`; reuse one for many scans.
* :func:`predict_scan` — one scan into an output folder (``smoothseg predict``).
* :func:`predict_batch` / :func:`predict_batch_parallel` — many scans, resumable, in one
  process or spread over worker processes.
* :func:`statistics_document` / :func:`render_preview` — ``statistics.json`` and
  ``preview.png``.

Example::

    import smoothseg

    prediction = smoothseg.segment("scan.nii.gz", tta=True)  # the shipped model
    smoothseg.write_volume(prediction.labels, "labels.nii.gz", reference=prediction.image)
"""

from smoothseg.bundle import default_model_dir
from smoothseg.inference.config import InferenceConfig, PredictConfigError
from smoothseg.inference.two_stage import Prediction
from smoothseg.postprocess.config import PostprocessConfig
from smoothseg.predict.batch import BatchInput, BatchOutcome, find_inputs, predict_batch
from smoothseg.predict.config import PredictConfig
from smoothseg.predict.predictor import Predictor
from smoothseg.predict.preview import render_preview
from smoothseg.predict.scan import OUTPUT_NAMES, STATISTICS, ScanResult, predict_scan
from smoothseg.predict.segment import segment
from smoothseg.predict.statistics import statistics_document
from smoothseg.predict.workers import predict_batch_parallel, worker_devices

__all__ = [
    "OUTPUT_NAMES",
    "STATISTICS",
    "BatchInput",
    "BatchOutcome",
    "InferenceConfig",
    "PostprocessConfig",
    "PredictConfig",
    "PredictConfigError",
    "Prediction",
    "Predictor",
    "ScanResult",
    "default_model_dir",
    "find_inputs",
    "predict_batch",
    "predict_batch_parallel",
    "predict_scan",
    "render_preview",
    "segment",
    "statistics_document",
    "worker_devices",
]
