"""A plain summary of a volume, as printed by ``smoothseg info``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from smoothseg.io.volume import SeriesInfo, Volume


@dataclass(frozen=True)
class VolumeSummary:
    """What a person wants to know about a volume before using it."""

    path: str
    format: str
    kind: str
    dtype: str
    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float]
    orientation: str
    native_orientation: str
    intensity_min: float
    intensity_max: float
    intensity_mean: float
    label_counts: dict[int, int]
    voxel_volume_ml: float
    modality: str | None
    series: SeriesInfo | None
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        out = asdict(self)
        out["label_counts"] = {str(k): v for k, v in self.label_counts.items()}
        return out


def summarize(volume: Volume) -> VolumeSummary:
    """Summarize ``volume``; shape, spacing and origin are those of its source file's grid."""
    array = volume.array
    counts: dict[int, int] = {}
    if volume.kind == "label":
        values, n = np.unique(array, return_counts=True)
        counts = {int(v): int(c) for v, c in zip(values, n, strict=True)}
    native = volume.native_grid
    return VolumeSummary(
        path=volume.source.path,
        format=volume.source.format,
        kind=volume.kind,
        dtype=str(array.dtype),
        shape=native.shape,
        spacing_mm=native.spacing_mm,
        origin_mm=native.origin_mm,
        orientation="".join(volume.axcodes),
        native_orientation="".join(native.axcodes),
        intensity_min=float(np.min(array)),
        intensity_max=float(np.max(array)),
        intensity_mean=float(np.mean(array, dtype=np.float64)),
        label_counts=counts,
        voxel_volume_ml=volume.voxel_volume_ml,
        modality=volume.source.modality,
        series=volume.source.series,
        warnings=volume.source.warnings,
    )


def format_summary(summary: VolumeSummary) -> str:
    """Aligned ``key: value`` lines for a terminal."""
    rows: list[tuple[str, str]] = [("path", summary.path)]
    rows.append(("format", summary.format + (f" ({summary.modality})" if summary.modality else "")))
    if summary.series is not None:
        s = summary.series
        rows += [
            ("series", f"{s.name} ({s.n_slices} slices)"),
            ("series UID", s.uid),
            ("chosen because", s.reason),
        ]
        rows += [("other series", other) for other in s.others]
    rows += [
        ("kind", f"{summary.kind} ({summary.dtype})"),
        ("shape", " x ".join(str(n) for n in summary.shape)),
        ("spacing (mm)", " x ".join(f"{v:.4g}" for v in summary.spacing_mm)),
        ("origin (mm, RAS)", ", ".join(f"{v:.2f}" for v in summary.origin_mm)),
        (
            "orientation",
            f"{summary.native_orientation} in the file; {summary.orientation} in smoothseg",
        ),
        (
            "intensity",
            f"min {summary.intensity_min:g}, max {summary.intensity_max:g}, "
            f"mean {summary.intensity_mean:.1f}",
        ),
    ]
    if summary.label_counts:
        counts = ", ".join(f"{k}: {v}" for k, v in summary.label_counts.items())
        rows.append(("labels (voxels)", counts))
    rows += [("warning", w) for w in summary.warnings]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
