"""PNG preview of a phantom case: axial and coronal slices with label overlays.

Slices are shown in radiological convention (patient right on image left, anterior up,
superior up) with an abdominal window (level 40 HU, width 400 HU). Overlay colours follow the
paper's figure: liver purple, tumor blue, portal vein yellow, aorta red.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from smoothseg.io.atomic import atomic_output

if TYPE_CHECKING:
    from smoothseg.phantom.generate import PhantomCase

WINDOW_LEVEL_HU = 40.0
WINDOW_WIDTH_HU = 400.0
_COLOURS = {
    1: (0.55, 0.25, 0.75),
    2: (0.15, 0.45, 1.0),
    3: (1.0, 0.85, 0.1),
    4: (0.95, 0.15, 0.15),
}


def _display(plane: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """Array [i, j] of an RAS plane → image rows/cols in radiological orientation."""
    out: npt.NDArray[np.generic] = np.ascontiguousarray(plane[::-1, ::-1].T)
    return out


def _window(hu: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
    lo = WINDOW_LEVEL_HU - WINDOW_WIDTH_HU / 2
    out: npt.NDArray[np.float32] = np.clip(
        (hu.astype(np.float32) - lo) / WINDOW_WIDTH_HU, 0.0, 1.0
    ).astype(np.float32)
    return out


def _overlay(
    grey: npt.NDArray[np.float32], labels: npt.NDArray[np.generic]
) -> npt.NDArray[np.float32]:
    rgb = np.repeat(grey[..., None], 3, axis=2)
    for value, colour in _COLOURS.items():
        m = labels == value
        rgb[m] = 0.55 * rgb[m] + 0.45 * np.asarray(colour, dtype=np.float32)
    return rgb


def focus_voxel(case: PhantomCase) -> tuple[int, int, int]:
    """Voxel the preview slices pass through: largest tumor area, else the liver's centre."""
    lab = np.asarray(case.labels.array)
    liver = np.argwhere(lab > 0)
    if liver.size == 0:
        n = case.labels.shape
        return (n[0] // 2, n[1] // 2, n[2] // 2)
    centre = liver.mean(axis=0).round().astype(int)
    tumor_per_slice = (lab == 2).sum(axis=(0, 1))
    k = int(np.argmax(tumor_per_slice)) if tumor_per_slice.max() > 0 else int(centre[2])
    tumor_rows = (lab[:, :, k] == 2).sum(axis=0)
    j = int(np.argmax(tumor_rows)) if tumor_rows.max() > 0 else int(centre[1])
    return (int(centre[0]), j, k)


def render_preview_png(case: PhantomCase) -> bytes:
    """The preview as PNG bytes (deterministic: no timestamps in the metadata)."""
    from matplotlib.figure import Figure

    img = np.asarray(case.image.array)
    lab = np.asarray(case.structures.array)
    sx, sy, sz = case.image.spacing_mm
    _, j, k = focus_voxel(case)
    axial = _window(_display(img[:, :, k]))
    axial_lab = _display(lab[:, :, k])
    coronal = _window(_display(img[:, j, :]))
    coronal_lab = _display(lab[:, j, :])
    fig = Figure(figsize=(9.0, 8.2), dpi=80, facecolor="black")
    axes = fig.subplots(2, 2)
    panels = (
        (axial, axial_lab, sy / sx, f"axial z={k}"),
        (coronal, coronal_lab, sz / sx, f"coronal y={j}"),
    )
    for row, (grey, labels, aspect, name) in enumerate(panels):
        axes[row, 0].imshow(
            grey, cmap="gray", vmin=0, vmax=1, aspect=aspect, interpolation="nearest"
        )
        axes[row, 1].imshow(_overlay(grey, labels), aspect=aspect, interpolation="nearest")
        axes[row, 0].set_title(f"{case.case_id} {name}", color="white", fontsize=10)
        axes[row, 1].set_title("liver / tumor / portal vein / aorta", color="white", fontsize=10)
        for ax in axes[row]:
            ax.set_axis_off()
            ax.text(0.01, 0.5, "R", color="yellow", transform=ax.transAxes, fontsize=9)
    tumors = case.tumors
    summary = (
        f"TLVR {case.tlvr:.3f}  tumors {len(tumors)}"
        + (f"  largest {max(t.diameter_mm for t in tumors) / 10:.1f} cm" if tumors else "")
        + "  W400/L40"
    )
    fig.suptitle(summary, color="white", fontsize=11)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.01, wspace=0.03, hspace=0.1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="black", metadata={"Software": None})
    return buf.getvalue()


def write_preview(case: PhantomCase, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the case's preview PNG atomically."""
    target = Path(path)
    with atomic_output(target, overwrite=overwrite) as tmp:
        tmp.write_bytes(render_preview_png(case))
    return target
