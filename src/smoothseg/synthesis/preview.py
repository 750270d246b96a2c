"""PNG preview of a synthesized scan: axial and coronal slices through the largest lesion.

Radiological convention (patient right on image left), abdominal window (W400/L40); left
column the new CT, right column the same with the liver (purple) and tumor (blue) outlined.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt

from smoothseg.io.atomic import atomic_output
from smoothseg.io.volume import Volume

_LO_HU, _WIDTH_HU = -160.0, 400.0
_COLOURS = {1: (0.55, 0.25, 0.75), 2: (0.15, 0.45, 1.0)}


def _display(plane: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """An RAS plane ``[i, j]`` as image rows/columns in radiological orientation."""
    out: npt.NDArray[np.generic] = np.ascontiguousarray(plane[::-1, ::-1].T)
    return out


def _rgb(
    hu: npt.NDArray[np.generic], labels: npt.NDArray[np.generic] | None
) -> npt.NDArray[np.float32]:
    grey = np.clip((hu.astype(np.float32) - _LO_HU) / _WIDTH_HU, 0.0, 1.0)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    if labels is not None:
        for value, colour in _COLOURS.items():
            m = labels == value
            rgb[m] = 0.6 * rgb[m] + 0.4 * np.asarray(colour, dtype=np.float32)
    return rgb


def focus(labels: npt.NDArray[np.integer]) -> tuple[int, int, int]:
    """Voxel with the most tumor in its axial slice and coronal row (liver centre otherwise)."""
    tumor = labels == 2
    target = tumor if tumor.any() else labels > 0
    if not target.any():
        return labels.shape[0] // 2, labels.shape[1] // 2, labels.shape[2] // 2
    k = int(np.argmax(target.sum(axis=(0, 1))))
    j = int(np.argmax(target[:, :, k].sum(axis=0)))
    i = int(np.argwhere(target[:, j, k]).mean()) if target[:, j, k].any() else labels.shape[0] // 2
    return i, j, k


def render_preview_png(ct: Volume, labels: Volume, title: str) -> bytes:
    """The preview as PNG bytes (deterministic: no timestamp in the metadata)."""
    from matplotlib.figure import Figure

    image = ct.to_canonical()
    lab = np.asarray(labels.to_canonical().array)
    hu = np.asarray(image.array)
    sx, sy, sz = image.spacing_mm
    _, j, k = focus(lab)
    fig = Figure(figsize=(9.0, 8.2), dpi=80, facecolor="black")
    axes = fig.subplots(2, 2)
    for row, (plane, plane_lab, aspect, name) in enumerate(
        (
            (hu[:, :, k], lab[:, :, k], sy / sx, f"axial k={k}"),
            (hu[:, j, :], lab[:, j, :], sz / sx, f"coronal j={j}"),
        )
    ):
        for col, overlay in enumerate((None, _display(plane_lab))):
            ax = axes[row, col]
            ax.imshow(_rgb(_display(plane), overlay), aspect=aspect, interpolation="nearest")
            ax.set_title(
                name if col == 0 else "liver / synthetic tumor", color="white", fontsize=10
            )
            ax.set_axis_off()
            ax.text(0.01, 0.5, "R", color="yellow", transform=ax.transAxes, fontsize=9)
    fig.suptitle(title, color="white", fontsize=11)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.01, wspace=0.03, hspace=0.1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="black", metadata={"Software": None})
    return buf.getvalue()


def write_preview(
    ct: Volume, labels: Volume, path: str | Path, title: str, *, overwrite: bool = False
) -> Path:
    """Write the preview PNG atomically."""
    target = Path(path)
    with atomic_output(target, overwrite=overwrite) as tmp:
        tmp.write_bytes(render_preview_png(ct, labels, title))
    return target
