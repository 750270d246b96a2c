"""The one place where :mod:`smoothseg.response` obtains segmentations.

An input is either a CT (file or DICOM series; segmented here with the shipped or a given
model, as ``smoothseg predict`` does) or an existing smoothseg output folder (``labels.nii.gz``
plus ``statistics.json`` naming the CT, or an ``image.nii.gz`` beside the labels).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smoothseg.errors import InputError
from smoothseg.io import Volume, read_volume

if TYPE_CHECKING:
    from smoothseg.predict import Predictor

LABELS = "labels.nii.gz"


@dataclass(frozen=True)
class Segmented:
    """A CT with its harmonized labels (0 background, 1 liver, 2 tumor) on the same grid.

    Attributes:
        image: The CT (HU).
        labels: Its labels.
        name: File or folder name of the input (no path).
        predict_s: Seconds spent predicting (0 for an existing output folder).

    """

    image: Volume
    labels: Volume
    name: str
    predict_s: float


def is_output_folder(path: Path) -> bool:
    """True for a folder holding smoothseg labels."""
    return path.is_dir() and (path / LABELS).is_file()


def _folder_image(folder: Path) -> Path:
    local = folder / "image.nii.gz"
    if local.is_file():
        return local
    stats = folder / "statistics.json"
    if stats.is_file():
        try:
            source = json.loads(stats.read_text(encoding="utf-8"))["input"]["path"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(stats, f"unreadable statistics.json: {exc}") from exc
        if source and Path(source).exists():
            return Path(source)
    raise InputError(folder, "output folder without its CT (no image.nii.gz, input path gone)")


def segment_or_load(
    path: str | Path,
    work_dir: Path,
    *,
    model: Path | None = None,
    predictor: Predictor | None = None,
) -> Segmented:
    """Labels for ``path``: read from an output folder, or predicted into ``work_dir``.

    ``predictor`` (an already loaded model, e.g. the web app's) is used when given; otherwise
    ``model`` (or the shipped model) is loaded.

    Raises:
        InputError: Unreadable input or an output folder without its CT.

    """
    source = Path(path).expanduser()
    if is_output_folder(source):
        image = read_volume(_folder_image(source), kind="image")
        labels = read_volume(source / LABELS, kind="label").on_grid_of(image, "labels")
        return Segmented(image, labels, source.name, 0.0)
    from smoothseg.predict import Predictor
    from smoothseg.predict.scan import predict_scan

    start = time.perf_counter()
    if predictor is None:
        predictor = Predictor.from_model_dir(model)
    folder = work_dir / f"segmentation_{source.name.split('.')[0]}"
    predict_scan(predictor, source, folder, overwrite=True)
    image = read_volume(source, kind="image")
    labels = read_volume(folder / LABELS, kind="label").on_grid_of(image, "labels")
    return Segmented(image, labels, source.name, time.perf_counter() - start)
