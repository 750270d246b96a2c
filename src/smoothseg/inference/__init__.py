"""Two-stage inference: liver on the global view, tumor on the local view (see docs/predict.md).

from smoothseg.inference import PredictConfig, Predictor

predictor = Predictor.from_model_dir(None, PredictConfig(tta=True))  # the shipped model
raw = predictor.predict(ct)  # model stages; smoothseg.postprocess finishes and reports
"""

from smoothseg.inference.config import PredictConfig, PredictConfigError
from smoothseg.inference.predictor import Prediction, Predictor, bundle_id, default_model_dir
from smoothseg.inference.stages import liver_stage, probabilities, tta_flips, tumor_stage

__all__ = [
    "PredictConfig",
    "PredictConfigError",
    "Prediction",
    "Predictor",
    "bundle_id",
    "default_model_dir",
    "liver_stage",
    "probabilities",
    "tta_flips",
    "tumor_stage",
]
