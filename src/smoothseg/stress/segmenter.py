"""The one place where :mod:`smoothseg.stress` and ``synthesize --auto-liver`` run a model.

Everything that predicts goes through :func:`load_segmenter`, so moving the prediction API means
re-pointing the imports of this one function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from smoothseg.io.volume import Volume

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Segmentation:
    """Masks of one scan on ``image``'s grid (the CT in canonical RAS order).

    Attributes:
        image: The CT as the model saw it (canonical; its native grid remembered).
        liver: Liver mask (tumor included).
        tumor: Tumor mask after the same post-processing as ``smoothseg predict``.
        ok: False when the model found no plausible liver (then both masks are empty).
        model_id: Bundle ids of the model.

    """

    image: Volume
    liver: Mask
    tumor: Mask
    ok: bool
    model_id: str


def load_segmenter(
    model_dir: str | Path | None, *, device: str = "cpu", liver_only: bool = False
) -> Callable[[Volume], Segmentation]:
    """Load a model folder once; return a function segmenting one CT as ``smoothseg predict``.

    Args:
        model_dir: Combined ``liver/`` + ``tumor/`` folder or one bundle (``None``: shipped).
        device: Torch device.
        liver_only: Run only the liver stage (a multi-class bundle still runs whole).

    """
    from smoothseg.predict import PredictConfig, Predictor

    predictor = Predictor.from_model_dir(model_dir, PredictConfig(device=device))
    if liver_only and predictor.tumor is not None:
        predictor = Predictor(
            predictor.liver, None, predictor.config, model_dir=predictor.model_dir
        )
    model_id = str(predictor.model_info["id"])

    def segment(volume: Volume) -> Segmentation:
        prediction = predictor.run_stages(volume) if liver_only else predictor.predict(volume)
        return Segmentation(
            prediction.image,
            np.asarray(prediction.liver, dtype=bool),
            np.asarray(prediction.tumor, dtype=bool) & np.asarray(prediction.liver, dtype=bool),
            prediction.status == "ok",
            model_id,
        )

    return segment
