"""``preview.png``: axial, coronal and sagittal slices through the largest lesion.

Slices are shown in radiological convention (patient right on the image's left, anterior and
superior up) with the real voxel aspect; the liver is outlined in green, tumor filled in red,
and each panel carries a scale bar. Without tumor the slices pass through the liver's centre,
without liver through the volume's centre.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from smoothseg.io.atomic import atomic_output
from smoothseg.io.volume import Volume

Mask = npt.NDArray[np.bool_]


def focus_voxel(liver: Mask, tumor: Mask, largest: Mask | None = None) -> tuple[int, int, int]:
    """Voxel the slices pass through: largest lesion, else liver, else volume centre."""
    for mask in (largest, tumor, liver):
        if mask is not None and mask.any():
            centre = np.argwhere(mask).mean(axis=0).round().astype(int)
            return (int(centre[0]), int(centre[1]), int(centre[2]))
    return (liver.shape[0] // 2, liver.shape[1] // 2, liver.shape[2] // 2)


def draw_panel(
    ax: Axes,
    hu: npt.NDArray[np.generic],
    liver: Mask,
    tumor: Mask,
    spacing: tuple[float, float],
    title: str,
) -> None:
    """Draw one plane (rows, cols already oriented) with overlays and a scale bar."""
    rows, cols = hu.shape
    extent = (0.0, cols * spacing[1], rows * spacing[0], 0.0)
    ax.imshow(np.clip(hu, -150, 250), cmap="gray", vmin=-150, vmax=250, extent=extent)
    if liver.any():
        ax.contour(
            np.linspace(0, cols * spacing[1], cols),
            np.linspace(0, rows * spacing[0], rows),
            liver.astype(float),
            levels=[0.5],
            colors=["#33dd55"],
            linewidths=0.8,
        )
    if tumor.any():
        red = ListedColormap(["#ff2020"])
        ax.imshow(np.ma.masked_where(~tumor, tumor), cmap=red, alpha=0.55, extent=extent)
    width = cols * spacing[1]
    bar = 50.0 if width >= 150 else 10.0
    x0, y0 = 0.05 * width, 0.93 * rows * spacing[0]
    ax.plot([x0, x0 + bar], [y0, y0], color="white", linewidth=3)
    ax.text(
        x0 + bar / 2,
        y0 - 0.02 * rows * spacing[0],
        f"{bar:.0f} mm",
        color="white",
        ha="center",
        va="bottom",
        fontsize=8,
    )
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


def render_preview(
    image: Volume,
    liver: Mask,
    tumor: Mask,
    path: str | Path,
    *,
    largest: Mask | None = None,
    title: str = "",
    warnings: Sequence[str] = (),
    overwrite: bool = False,
) -> Path:
    """Write the three-plane preview of a canonical (RAS) CT and its masks as PNG.

    ``warnings`` (e.g. the reader's "1 mm assumed") are printed in yellow under the panels, so
    the picture never looks surer than the numbers are.
    """
    hu = np.asarray(image.array)
    si, sj, sk = image.spacing_mm
    i, j, k = focus_voxel(liver, tumor, largest)

    def axial(a: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        return np.asarray(a[::-1, ::-1, k].T)

    def coronal(a: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        return np.asarray(a[::-1, j, ::-1].T)

    def sagittal(a: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        return np.asarray(a[i, ::-1, ::-1].T)

    height = 4.4 + 0.22 * len(warnings)
    fig, axes = plt.subplots(1, 3, figsize=(12, height), facecolor="black")
    planes = [
        (axial, (sj, si), f"axial k={k}"),
        (coronal, (sk, si), f"coronal j={j}"),
        (sagittal, (sk, sj), f"sagittal i={i}"),
    ]
    for ax, (cut, spacing, name) in zip(axes, planes, strict=True):
        draw_panel(ax, cut(hu), cut(liver).astype(bool), cut(tumor).astype(bool), spacing, name)
        ax.title.set_color("white")
    if title:
        fig.suptitle(title, color="white", fontsize=10)
    if warnings:
        text = "\n".join(f"warning: {w}" for w in warnings)
        fig.text(0.01, 0.01, text, color="#ffd21f", fontsize=8, ha="left", va="bottom")
        fig.tight_layout(rect=(0.0, 0.05 * len(warnings) * 4.4 / height, 1.0, 1.0))
    else:
        fig.tight_layout()
    with atomic_output(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=100, facecolor="black", format="png")
    plt.close(fig)
    return Path(path)
