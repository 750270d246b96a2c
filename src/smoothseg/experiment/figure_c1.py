"""Figure C1: each pre- and post-processing step of the pipeline, shown on one test case.

Read from what the run wrote (the cached CT and reference, the saved label maps of the
variants without and with contour adjustment) and recomputed with the preprocessing
functions the pipeline uses; no model is run again. Panels (axial slice through the case's
largest tumor area):

1. the CT (HU, soft-tissue window);
2. the global view: the CT at the liver stage's spacing, windowed and normalised;
3. the predicted liver after cleaning (largest component, holes filled);
4. the local view: the CT cropped to the predicted liver's box plus margin, windowed, with
   everything outside the liver blanked (what the tumor model sees);
5. the tumor of the smoothed tumor model before contour adjustment (variant
   ``two_step_smoothing``);
6. the tumor after morphological Chan-Vese (SmoothSegNet);
7. the reference.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes

from smoothseg.datasets.cache import load_cached_case
from smoothseg.datasets.splits import Split
from smoothseg.experiment.config import ExperimentConfig
from smoothseg.experiment.figures import axial_slice, pick_cases, save_figure
from smoothseg.experiment.predict import PREDICTIONS, SMOOTHSEGNET
from smoothseg.io.api import read_volume
from smoothseg.predict.preview import draw_panel
from smoothseg.preprocess.config import LiverStageConfig, TumorStageConfig
from smoothseg.preprocess.pipeline import global_intensities, masked_crop
from smoothseg.preprocess.resample import resample_to_spacing

BEFORE_CONTOUR = "two_step_smoothing"


def _labels(evaluation_dir: Path, variant: str, case_id: str) -> npt.NDArray[np.uint8] | None:
    path = evaluation_dir / PREDICTIONS / variant / f"{case_id}.nii.gz"
    if not path.is_file():
        return None
    return np.asarray(read_volume(path, kind="label").to_canonical().array, dtype=np.uint8)


def _gray(
    ax: Axes, image: npt.NDArray[np.floating], spacing: tuple[float, float], title: str
) -> None:
    rows, cols = image.shape
    extent = (0.0, cols * spacing[1], rows * spacing[0], 0.0)
    ax.imshow(image, cmap="gray", extent=extent)
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()


def figure_c1_of_run(
    config: ExperimentConfig,
    cache: Path,
    evaluation_dir: Path,
    results: pd.DataFrame,
    split: Split,
    path: Path,
) -> Path | None:
    """Draw Figure C1 into ``path`` for the largest-tumor test case of ``split``.

    Returns ``None`` (and draws nothing) without a tumor test case or its predictions.
    """
    shown = pick_cases(results[results["replication"] == split.name], 1)
    if not shown:
        return None
    case_id = shown[0]
    before = _labels(evaluation_dir, BEFORE_CONTOUR, case_id)
    after = _labels(evaluation_dir, SMOOTHSEGNET, case_id)
    if before is None or after is None:
        return None
    cached = load_cached_case(cache, case_id)
    image, label = cached.image.to_canonical(), cached.label.to_canonical()
    hu = np.asarray(image.array, dtype=np.float32)
    ref = np.asarray(label.array)
    spacing = image.spacing_mm
    k = int(np.argmax((ref == 2).sum(axis=(0, 1))))
    plane = (spacing[1], spacing[0])
    liver_cfg, tumor_cfg = config.stages.liver.preprocess, config.stages.tumor.preprocess
    fig, axes = plt.subplots(1, 7, figsize=(19, 3.3))
    none = np.zeros(hu.shape, bool)
    draw_panel(
        axes[0], axial_slice(hu, k), axial_slice(none, k), axial_slice(none, k), plane, "1. CT"
    )
    if isinstance(liver_cfg, LiverStageConfig):
        target = liver_cfg.target_spacing_mm or spacing
        resampled, _ = resample_to_spacing(hu, image.affine, target, label=False)
        kg = min(round(k * spacing[2] / target[2]), resampled.shape[2] - 1)
        view = global_intensities(resampled, liver_cfg)
        _gray(
            axes[1], axial_slice(view, kg), (target[1], target[0]), "2. global view (liver model)"
        )
    liver = before > 0
    draw_panel(
        axes[2],
        axial_slice(hu, k),
        axial_slice(liver, k),
        axial_slice(none, k),
        plane,
        "3. liver, cleaned",
    )
    cropped = (
        masked_crop(hu, liver, spacing, tumor_cfg)
        if isinstance(tumor_cfg, TumorStageConfig) and liver.any()
        else None
    )
    if cropped is not None:
        local, _, record = cropped
        kl = int(np.clip(k - record.box.start[2], 0, local.shape[2] - 1))
        _gray(axes[3], axial_slice(local, kl), plane, "4. local view (tumor model)")
    else:
        axes[3].set_title("4. local view: no liver found", fontsize=8)
        axes[3].set_axis_off()
    for ax, labels, title in (
        (axes[4], before, "5. tumor, before contour"),
        (axes[5], after, "6. after Chan-Vese"),
        (axes[6], ref, "7. reference"),
    ):
        draw_panel(
            ax,
            axial_slice(hu, k),
            axial_slice(labels > 0, k),
            axial_slice(labels == 2, k),
            plane,
            title,
        )
    fig.suptitle(
        f"Figure C1. Pre- and post-processing steps, {split.name} {case_id} (axial k={k}; "
        "green: liver, red: tumor)",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)
