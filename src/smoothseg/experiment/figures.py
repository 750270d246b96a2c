"""Figure D1 (training curves with vs without smoothing) and a Figure 4-style sample panel.

Both read only what the run wrote: the tumor runs' ``metrics.csv`` and the saved label maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from smoothseg.datasets.cache import load_cached_case
from smoothseg.io.api import read_volume
from smoothseg.io.atomic import atomic_output
from smoothseg.predict.preview import draw_panel

CURVES = {"tumor_smooth": ("with smoothing", "#d62728"), "tumor_plain": ("without", "#1f77b4")}


def _val_column(frame: pd.DataFrame) -> str:
    for name in ("val_dice_tumor", "val_dice"):
        if name in frame and frame[name].notna().any():
            return name
    return "val_dice"


def figure_d1(replication_dirs: Sequence[Path], path: Path, *, alpha: float) -> Path:
    """Training loss and validation tumor Dice per epoch, with vs without smoothing.

    Thin lines: one per replication; thick lines: their mean.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for step, (label, color) in CURVES.items():
        frames = [
            pd.read_csv(d / step / "metrics.csv")
            for d in replication_dirs
            if (d / step / "metrics.csv").is_file()
        ]
        for ax, column in zip(axes, ("train_loss", None), strict=True):
            series = []
            for frame in frames:
                col = column or _val_column(frame)
                data = frame[["epoch", col]].dropna()
                ax.plot(data["epoch"], data[col], color=color, alpha=0.3, linewidth=0.8)
                series.append(data.set_index("epoch")[col])
            if series:
                mean = pd.concat(series, axis=1).mean(axis=1)
                name = f"{label} (α={alpha:g})" if step == "tumor_smooth" else f"{label} (α=0)"
                ax.plot(
                    mean.index, mean.to_numpy(), color=color, lw=2, marker="o", ms=3, label=name
                )
    axes[0].set_title("Training loss (tumor stage)")
    axes[1].set_title("Validation Dice (tumor)")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Figure D1. Training with vs without knowledge-informed label smoothing")
    fig.tight_layout()
    return save_figure(fig, path)


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as PNG atomically and close it."""
    with atomic_output(path, overwrite=True) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path


def pick_cases(cases: pd.DataFrame, n: int) -> list[str]:
    """Up to ``n`` test cases with a tumor, spread from the largest to the smallest lesion."""
    sizes = (
        cases.drop_duplicates("case_id")
        .assign(size=lambda f: pd.to_numeric(f["largest_ref_lesion_mm"], errors="coerce"))
        .dropna(subset=["size"])
    )
    sizes = sizes[sizes["size"] > 0].sort_values("size", ascending=False)
    if n <= 0 or sizes.empty:
        return []
    index = np.unique(np.linspace(0, len(sizes) - 1, min(n, len(sizes))).round().astype(int))
    return [str(sizes.iloc[i]["case_id"]) for i in index]


def axial_slice(array: np.ndarray, k: int) -> np.ndarray:
    """Axial slice ``k`` of a canonical (RAS) array, oriented for display."""
    return np.asarray(array[::-1, ::-1, k].T)


def figure_samples(
    cache: Path,
    evaluation_dir: Path,
    case_ids: Sequence[str],
    columns: Sequence[tuple[str, str]],
    path: Path,
) -> Path | None:
    """Axial slices through each case's largest tumor area: CT, ground truth, each variant.

    Args:
        cache: The prepared cache (CT and reference).
        evaluation_dir: A replication's evaluation folder (``predictions/<variant>/``).
        case_ids: Test cases of that replication to show (rows).
        columns: (variant name, label) of the predictions to show.
        path: Output PNG.

    """
    if not case_ids:
        return None
    n_cols = 2 + len(columns)
    fig, axes = plt.subplots(
        len(case_ids), n_cols, figsize=(2.6 * n_cols, 2.7 * len(case_ids)), squeeze=False
    )
    for row, case_id in enumerate(case_ids):
        cached = load_cached_case(cache, case_id)
        hu = np.asarray(cached.image.array)
        ref = np.asarray(cached.label.array)
        k = int(np.argmax((ref == 2).sum(axis=(0, 1))))
        si, sj, _ = cached.image.spacing_mm
        panels = [("CT", None), ("ground truth", ref)]
        for name, label in columns:
            pred = read_volume(
                evaluation_dir / "predictions" / name / f"{case_id}.nii.gz", kind="label"
            )
            panels.append((label, np.asarray(pred.to_canonical().array)))
        for col, (title, labels) in enumerate(panels):
            ax = axes[row][col]
            liver = np.zeros(hu.shape, bool) if labels is None else labels > 0
            tumor = np.zeros(hu.shape, bool) if labels is None else labels == 2
            draw_panel(
                ax,
                axial_slice(hu, k),
                axial_slice(liver, k),
                axial_slice(tumor, k),
                (sj, si),
                title,
            )
        axes[row][0].set_title(f"{case_id}\nCT (axial k={k})", fontsize=8)
    fig.suptitle("Sample segmentations (green: liver contour, red: tumor)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
