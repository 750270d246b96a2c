"""smoothseg: liver and liver-tumor segmentation in 3D CT (SmoothSegNet).

The public API (loaded on first use, so ``import smoothseg`` stays fast)::

    import smoothseg

    prediction = smoothseg.segment("scan.nii.gz")          # the shipped model
    smoothseg.write_volume(prediction.labels, "labels.nii.gz", reference=prediction.image)

* :func:`segment` — a CT (path or :class:`Volume`) → :class:`Prediction`.
* :class:`Predictor`, :class:`PredictConfig` — load a model once, predict many scans.
* :func:`read_volume`, :func:`write_volume` — NIfTI, NRRD, MHA, DICOM; geometry kept.
* :func:`fit_clinical` — clinical soft labels for knowledge-informed training.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from smoothseg.version import __version__

if TYPE_CHECKING:
    from smoothseg.clinical import fit_clinical
    from smoothseg.io.api import read_volume, write_volume
    from smoothseg.io.volume import Volume
    from smoothseg.predict import PredictConfig, Prediction, Predictor, segment

_EXPORTS = {
    "segment": "smoothseg.predict",
    "Predictor": "smoothseg.predict",
    "PredictConfig": "smoothseg.predict",
    "Prediction": "smoothseg.predict",
    "read_volume": "smoothseg.io.api",
    "write_volume": "smoothseg.io.api",
    "Volume": "smoothseg.io.volume",
    "fit_clinical": "smoothseg.clinical",
}

__all__ = [
    "PredictConfig",
    "Prediction",
    "Predictor",
    "Volume",
    "__version__",
    "fit_clinical",
    "read_volume",
    "segment",
    "write_volume",
]


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use."""
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'smoothseg' has no attribute {name!r}")
