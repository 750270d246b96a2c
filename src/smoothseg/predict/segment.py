"""``smoothseg.segment``: one call from a scan (or its path) to a :class:`Prediction`."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from smoothseg.inference.config import PredictConfigError
from smoothseg.inference.two_stage import Prediction
from smoothseg.io.api import read_volume
from smoothseg.io.volume import Volume
from smoothseg.predict.config import PredictConfig
from smoothseg.predict.predictor import Predictor


def segment(
    scan: Volume | str | Path,
    model: str | Path | Predictor | None = None,
    *,
    config: PredictConfig | None = None,
    series: str | None = None,
    **options: Any,
) -> Prediction:
    """Segment the liver and liver tumors of one CT.

    Args:
        scan: A :class:`~smoothseg.io.Volume` in HU, or the path of a CT file or DICOM folder.
        model: A model folder, an already loaded :class:`Predictor` (reuse one for many
            scans), or ``None`` for the shipped default model.
        config: Prediction options (default: :class:`PredictConfig`'s defaults).
        series: The DICOM series UID when ``scan`` is a folder holding several.
        **options: Any :class:`PredictConfig` field, overriding ``config`` (e.g. ``tta=True``).

    Returns:
        The :class:`Prediction`: liver and tumor masks on the canonical grid, ``labels`` (write
        it with :func:`smoothseg.write_volume` and ``reference=prediction.image`` to land on
        the scan's own grid), status, warnings and timings.

    Raises:
        InputError: Unreadable scan or model folder, or an image that is not a CT in HU.
        PredictConfigError: An unknown or invalid option.

    """
    if isinstance(model, Predictor):
        if config is not None or options:
            raise PredictConfigError(
                "pass options when loading the model, not with a loaded Predictor"
            )
        predictor = model
    else:
        known = {f.name for f in fields(PredictConfig)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise PredictConfigError(f"unknown predict option(s): {', '.join(unknown)}")
        predictor = Predictor.from_model_dir(model, replace(config or PredictConfig(), **options))
    volume = scan if isinstance(scan, Volume) else read_volume(scan, kind="image", series=series)
    return predictor.predict(volume)
