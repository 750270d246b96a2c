"""The model stages: liver on the global view, tumor on the local view (see docs/predict.md).

Loaded bundles in, raw masks out (no refinement, no files): :func:`run_stages` runs both
stages on one CT with an :class:`InferenceConfig`. The application around it (reading,
post-processing, writing) is :mod:`smoothseg.predict`.
"""

from smoothseg.inference.config import InferenceConfig, PredictConfigError, check_device_available
from smoothseg.inference.stages import (
    liver_stage,
    probabilities,
    tta_flips,
    tumor_probability,
)
from smoothseg.inference.two_stage import Prediction, implausible_liver, run_stages

__all__ = [
    "InferenceConfig",
    "PredictConfigError",
    "Prediction",
    "check_device_available",
    "implausible_liver",
    "liver_stage",
    "probabilities",
    "run_stages",
    "tta_flips",
    "tumor_probability",
]
