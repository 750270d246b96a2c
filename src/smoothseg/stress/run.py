"""Lesion-detection stress test: the size and contrast at which a model stops finding tumors.

For every scan: the model segments the scan as it is (its liver hosts the implants; its tumor
volume there is the false-positive baseline, for a scan without liver lesions); then, for every
(size, contrast) cell, ``lesions_per_cell`` uniform lesions of exactly that diameter and contrast
are implanted into the model's liver (away from vessels, the capsule and the tumor it already
reports), the model segments the new scan, and each implanted lesion is scored:

* **detected** when the IoU of the lesion and the predicted components matched to it (the LiTS
  grouping of :func:`smoothseg.evaluation.match_lesions`) is above ``detect_iou``;
* **Dice** of the lesion and those components (0 when nothing overlaps it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from smoothseg.errors import InputError, SmoothsegError
from smoothseg.evaluation import match_lesions
from smoothseg.io import read_volume
from smoothseg.io.volume import Volume
from smoothseg.stress.segmenter import Segmentation, load_segmenter
from smoothseg.synthesis import LesionRequest, implant_lesions

DEFAULT_SIZES_MM = (5.0, 10.0, 20.0, 40.0)
DEFAULT_CONTRASTS_HU = (-60.0, -30.0, -15.0, 20.0)


class StressConfigError(SmoothsegError):
    """Invalid stress-test settings."""


@dataclass(frozen=True)
class StressConfig:
    """Grid and scoring of the stress test.

    Attributes:
        sizes_mm: Lesion diameters (columns of the heat map), 3-120 mm.
        contrasts_hu: Lesion contrasts against the liver (rows).
        lesions_per_cell: Lesions implanted together per scan and cell.
        detect_iou: A lesion is detected when its IoU with the matched prediction is above this.
        seed: Random seed of the implants.
        device: Torch device of the model.

    """

    sizes_mm: tuple[float, ...] = DEFAULT_SIZES_MM
    contrasts_hu: tuple[float, ...] = DEFAULT_CONTRASTS_HU
    lesions_per_cell: int = 3
    detect_iou: float = 0.1
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        problems = []
        if not self.sizes_mm or not self.contrasts_hu:
            problems.append("give at least one size and one contrast")
        for size in self.sizes_mm:
            if not 3.0 <= size <= 120.0:
                problems.append(f"size {size:g} mm is outside 3-120 mm")
        if self.lesions_per_cell < 1:
            problems.append(f"lesions_per_cell must be >= 1, got {self.lesions_per_cell}")
        if not 0.0 <= self.detect_iou < 1.0:
            problems.append(f"detect_iou must be in [0, 1), got {self.detect_iou}")
        if problems:
            raise StressConfigError("invalid stress test: " + "; ".join(problems))


@dataclass(frozen=True)
class CellResult:
    """One scan and one (size, contrast) cell."""

    scan: str
    size_mm: float
    contrast_hu: float
    lesions: int
    detected: int
    dice: tuple[float, ...]
    tumor_ml: float

    @property
    def detection_rate(self) -> float:
        """Detected / implanted (NaN when none fitted)."""
        return self.detected / self.lesions if self.lesions else float("nan")

    @property
    def mean_dice(self) -> float:
        """Mean lesion Dice (NaN when none fitted)."""
        return float(np.mean(self.dice)) if self.dice else float("nan")


@dataclass(frozen=True)
class ScanBaseline:
    """The model on a scan without implants."""

    scan: str
    liver_ml: float
    tumor_ml: float
    seconds: float


@dataclass(frozen=True)
class StressResult:
    """Everything the stress test measured."""

    config: StressConfig
    model_id: str
    baselines: list[ScanBaseline] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)

    def pooled(self, size_mm: float, contrast_hu: float) -> tuple[int, int, float]:
        """(lesions, detected, mean Dice) of one cell over all scans."""
        rows = [c for c in self.cells if c.size_mm == size_mm and c.contrast_hu == contrast_hu]
        dice = [d for c in rows for d in c.dice]
        return (
            sum(c.lesions for c in rows),
            sum(c.detected for c in rows),
            float(np.mean(dice)) if dice else float("nan"),
        )


def score_lesions(
    predicted: np.ndarray, implanted: np.ndarray, spacing_mm: Sequence[float], detect_iou: float
) -> tuple[int, int, list[float]]:
    """(lesions, detected, Dice per lesion) of implanted lesions against a predicted mask."""
    detection = match_lesions(predicted, implanted, spacing_mm, iou_threshold=detect_iou)
    dice: list[float] = []
    for group in detection.groups:
        value = 2 * group.iou / (1 + group.iou) if group.union_voxels else 0.0
        dice.extend([value] * len(group.ref_ids))
    return len(detection.ref_detected), int(sum(detection.ref_detected)), dice


def _cell(
    segment: Callable[[Volume], Segmentation],
    name: str,
    base: Segmentation,
    size: float,
    contrast: float,
    config: StressConfig,
    rng: np.random.Generator,
) -> CellResult:
    image = base.image
    request = LesionRequest(
        count=config.lesions_per_cell, size_mm=(size, size), contrast_hu=(contrast, contrast)
    ).plain()
    new_ct, implanted, _ = implant_lesions(
        np.asarray(image.array), base.liver, image.spacing_mm, request, rng, avoid=base.tumor
    )
    found = segment(image.with_array(new_ct))
    lesions, detected, dice = score_lesions(
        found.tumor, implanted, image.spacing_mm, config.detect_iou
    )
    tumor_ml = float(np.count_nonzero(found.tumor)) * image.voxel_volume_ml
    return CellResult(name, size, contrast, lesions, detected, tuple(dice), tumor_ml)


def run_stress_test(
    model_dir: str | Path | None,
    scans: Sequence[str | Path],
    config: StressConfig | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> StressResult:
    """Run the stress test of the model in ``model_dir`` (``None``: shipped) on ``scans``.

    Raises:
        InputError: A scan cannot be read, or the model finds no liver in it.

    """
    import time

    cfg = config or StressConfig()
    segment = load_segmenter(model_dir, device=cfg.device)
    result: StressResult | None = None
    for index, scan in enumerate(scans):
        path = Path(scan)
        volume = read_volume(path, kind="image")
        start = time.perf_counter()
        base = segment(volume)
        seconds = time.perf_counter() - start
        if result is None:
            result = StressResult(cfg, base.model_id)
        if not base.ok or not base.liver.any():
            raise InputError(path, "the model found no liver here; no lesions can be implanted")
        voxel_ml = base.image.voxel_volume_ml
        result.baselines.append(
            ScanBaseline(
                path.name,
                float(np.count_nonzero(base.liver)) * voxel_ml,
                float(np.count_nonzero(base.tumor)) * voxel_ml,
                seconds,
            )
        )
        for c_index, contrast in enumerate(cfg.contrasts_hu):
            for s_index, size in enumerate(cfg.sizes_mm):
                rng = np.random.default_rng([cfg.seed, index, c_index, s_index])
                cell = _cell(segment, path.name, base, size, contrast, cfg, rng)
                result.cells.append(cell)
                if progress is not None:
                    progress(
                        f"{path.name}: {size:g} mm {contrast:+g} HU: {cell.detected}/"
                        f"{cell.lesions} detected, Dice {cell.mean_dice:.2f}"
                    )
    if result is None:
        raise StressConfigError("give at least one scan")
    return result
