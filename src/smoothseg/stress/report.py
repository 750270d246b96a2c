"""Stress-test outputs: ``cells.csv``, ``baseline.csv``, ``heatmap.png``, ``summary.*``."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import numpy.typing as npt

from smoothseg.io.atomic import atomic_output
from smoothseg.stress.run import StressResult

CELLS_CSV = "cells.csv"
BASELINE_CSV = "baseline.csv"
HEATMAP = "heatmap.png"
SUMMARY_MD = "summary.md"
SUMMARY_JSON = "summary.json"
OUTPUTS = (CELLS_CSV, BASELINE_CSV, HEATMAP, SUMMARY_MD, SUMMARY_JSON)


def _fmt(value: float, digits: int = 2) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.{digits}f}"


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def grids(result: StressResult) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Detection rate and mean Dice pooled over scans, rows = contrasts, columns = sizes."""
    cfg = result.config
    rate = np.full((len(cfg.contrasts_hu), len(cfg.sizes_mm)), np.nan)
    dice = rate.copy()
    for r, contrast in enumerate(cfg.contrasts_hu):
        for c, size in enumerate(cfg.sizes_mm):
            lesions, detected, mean_dice = result.pooled(size, contrast)
            rate[r, c] = detected / lesions if lesions else np.nan
            dice[r, c] = mean_dice
    return rate, dice


def cells_csv(result: StressResult) -> str:
    """One row per scan and cell."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        ["scan", "size_mm", "contrast_hu", "lesions", "detected", "detection_rate", "dice_mean",
         "tumor_ml"]
    )  # fmt: skip
    for c in result.cells:
        writer.writerow(
            [c.scan, f"{c.size_mm:g}", f"{c.contrast_hu:g}", c.lesions, c.detected,
             _fmt(c.detection_rate, 3), _fmt(c.mean_dice, 3), _fmt(c.tumor_ml, 1)]
        )  # fmt: skip
    return buf.getvalue()


def baseline_csv(result: StressResult) -> str:
    """One row per scan: the model on the scan without implants."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["scan", "liver_ml", "fp_tumor_ml_without_implants", "seconds"])
    for b in result.baselines:
        writer.writerow([b.scan, _fmt(b.liver_ml, 1), _fmt(b.tumor_ml, 1), _fmt(b.seconds, 1)])
    return buf.getvalue()


def summary_markdown(result: StressResult) -> str:
    """Markdown tables: detection rate and Dice per cell, and the false-positive baseline."""
    cfg = result.config
    rate, dice = grids(result)
    head = "| contrast \\ size | " + " | ".join(f"{s:g} mm" for s in cfg.sizes_mm) + " |"
    rule = "|---" * (len(cfg.sizes_mm) + 1) + "|"
    lines = [
        f"Model `{result.model_id}`; {cfg.lesions_per_cell} lesion(s) per scan and cell; "
        f"detected = IoU > {cfg.detect_iou:g}; seed {cfg.seed}.",
        "",
        "Detection rate (detected / implanted):",
        "",
        head,
        rule,
    ]
    for r, contrast in enumerate(cfg.contrasts_hu):
        cells = []
        for c, size in enumerate(cfg.sizes_mm):
            lesions, detected, _ = result.pooled(size, contrast)
            cells.append(f"{_fmt(rate[r, c])} ({detected}/{lesions})")
        lines.append(f"| {contrast:+g} HU | " + " | ".join(cells) + " |")
    lines += ["", "Mean lesion Dice:", "", head, rule]
    for r, contrast in enumerate(cfg.contrasts_hu):
        lines.append(f"| {contrast:+g} HU | " + " | ".join(_fmt(v) for v in dice[r]) + " |")
    lines += [
        "",
        "| scan | liver mL | tumor mL without implants (false positive) |",
        "|---|---|---|",
    ]
    for b in result.baselines:
        lines.append(f"| {b.scan} | {b.liver_ml:.0f} | {b.tumor_ml:.1f} |")
    return "\n".join(lines) + "\n"


def heatmap_png(result: StressResult) -> bytes:
    """Two annotated heat maps (detection rate, Dice) as PNG bytes (no timestamp)."""
    from matplotlib.figure import Figure

    cfg = result.config
    rate, dice = grids(result)
    fig = Figure(figsize=(10.0, 4.6), dpi=100)
    axes = fig.subplots(1, 2)
    for ax, grid, title in ((axes[0], rate, "detection rate"), (axes[1], dice, "lesion Dice")):
        shown = np.ma.masked_invalid(grid)
        image = ax.imshow(shown, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(cfg.sizes_mm)), [f"{s:g}" for s in cfg.sizes_mm])
        ax.set_yticks(range(len(cfg.contrasts_hu)), [f"{c:+g}" for c in cfg.contrasts_hu])
        ax.set_xlabel("lesion diameter (mm)")
        ax.set_ylabel("contrast to liver (HU)")
        ax.set_title(title)
        for (r, c), value in np.ndenumerate(grid):
            colour = "black" if np.isfinite(value) and value > 0.6 else "white"
            ax.text(c, r, _fmt(float(value)), ha="center", va="center", color=colour)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fp = ", ".join(f"{b.scan}: {b.tumor_ml:.1f} mL" for b in result.baselines)
    fig.suptitle(f"{result.model_id} — false-positive tumor without implants: {fp}", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def write_stress_outputs(
    result: StressResult, out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, Path]:
    """Write every output into ``out_dir`` atomically; returns name → path."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "model_id": result.model_id,
        "config": asdict(result.config),
        "baselines": [asdict(b) for b in result.baselines],
        "cells": [
            {
                **asdict(c),
                "detection_rate": _finite(c.detection_rate),
                "dice_mean": _finite(c.mean_dice),
            }
            for c in result.cells
        ],
    }
    texts = {
        CELLS_CSV: cells_csv(result),
        BASELINE_CSV: baseline_csv(result),
        SUMMARY_MD: summary_markdown(result),
        SUMMARY_JSON: json.dumps(payload, indent=2) + "\n",
    }
    written: dict[str, Path] = {}
    for name, text in texts.items():
        with atomic_output(folder / name, overwrite=overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written[name] = folder / name
    with atomic_output(folder / HEATMAP, overwrite=overwrite) as tmp:
        tmp.write_bytes(heatmap_png(result))
    written[HEATMAP] = folder / HEATMAP
    return written
