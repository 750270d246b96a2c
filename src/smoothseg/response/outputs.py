"""Outputs of ``compare``: response.json (schema-versioned), report.md and two figures.

Every file name in ``response.json`` is relative to the output folder; inputs are named by
their file or folder name only (no server paths).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from smoothseg.io.atomic import atomic_output
from smoothseg.response.measure import ENHANCEMENT_HU, LIPIODOL_HU
from smoothseg.response.register import resample_to
from smoothseg.response.result import CompareResult
from smoothseg.response.segment import Segmented
from smoothseg.version import __version__

SCHEMA_VERSION = 1


def response_document(result: CompareResult, outputs: dict[str, str]) -> dict[str, Any]:
    """The JSON document of ``result``."""
    return {
        "schema_version": SCHEMA_VERSION,
        "smoothseg_version": __version__,
        "inputs": result.inputs,
        "thresholds": {"enhancement_hu": ENHANCEMENT_HU, "lipiodol_hu": LIPIODOL_HU},
        "registration": {
            "method": "SimpleITK rigid (Euler) then affine on smoothed liver masks",
            "liver_dice_before": round(result.registration.liver_dice_before, 4),
            "liver_dice_after": round(result.registration.liver_dice_after, 4),
        },
        "categories": {k: asdict(v) for k, v in result.categories.items()},
        "warnings": result.warnings,
        "matches": [asdict(m) for m in result.matches],
        "baseline_lesions": [asdict(x) for x in result.baseline_lesions],
        "followup_lesions": [asdict(x) for x in result.followup_lesions],
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
        "outputs": outputs,
    }


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def report_markdown(result: CompareResult) -> str:
    """A short human-readable report."""
    lines = [
        "# Treatment response",
        "",
        f"Baseline: `{result.inputs['baseline']}` — follow-up: `{result.inputs['followup']}`",
        "",
        "| criterion | category | baseline | follow-up | change % | rule |",
        "|---|---|---|---|---|---|",
    ]
    for c in result.categories.values():
        lines.append(
            f"| {c.criterion} | **{c.category}** | {c.baseline_sum} | {c.followup_sum} "
            f"| {_fmt(c.change_pct)} | {c.rule} |"
        )
    lines += [
        "",
        "| # | kind | confidence | baseline diameter mm (viable) | follow-up diameter "
        "mm (viable) |",
        "|---|---|---|---|---|",
    ]
    for m in result.matches:
        b = ", ".join(
            f"{_fmt(result.baseline_lesions[i - 1].diameter_mm)} "
            f"({_fmt(result.baseline_lesions[i - 1].viable_diameter_mm)})"
            for i in m.baseline
        )
        f = ", ".join(
            f"{_fmt(result.followup_lesions[i - 1].diameter_mm)} "
            f"({_fmt(result.followup_lesions[i - 1].viable_diameter_mm)})"
            for i in m.followup
        )
        lines.append(f"| {m.number} | {m.kind} | {m.confidence:.2f} | {b or '—'} | {f or '—'} |")
    reg = result.registration
    if result.warnings:
        lines += ["", "Warnings:", ""] + [f"- {w}" for w in result.warnings]
    lines += [
        "",
        f"Liver Dice before / after registration: {reg.liver_dice_before:.3f} / "
        f"{reg.liver_dice_after:.3f}.",
        "",
        "See docs/response.md for the rules.",
        "",
    ]
    return "\n".join(lines)


def _figures(
    result: CompareResult,
    out: Path,
    base: Segmented,
    follow: Segmented,
    b_comp: np.ndarray,
    f_on_base: np.ndarray,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import ndimage

    from smoothseg.io.atomic import atomic_output as _atomic

    f_img = np.asarray(
        resample_to(follow.image, base.image, result.registration.transform, label=False).array
    )
    b_img = np.asarray(base.image.array)
    tumor = b_comp > 0
    z = int(np.argmax(tumor.sum(axis=(0, 1)))) if tumor.any() else b_img.shape[2] // 2
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    for ax, img, comp, title in (
        (axes[0], b_img, b_comp, "baseline"),
        (axes[1], f_img, f_on_base, "follow-up (registered)"),
    ):
        ax.imshow(np.clip(img[:, :, z].T, -150, 250), cmap="gray", origin="lower")
        for m in result.matches:
            ids = m.baseline if comp is b_comp else m.followup
            mask = np.isin(comp[:, :, z], ids) if ids else np.zeros(comp.shape[:2], bool)
            if mask.any():
                ax.contour(mask.T, levels=[0.5], colors="yellow", linewidths=1, origin="lower")
                c = ndimage.center_of_mass(mask)
                ax.text(c[0], c[1], str(m.number), color="cyan", fontsize=11, weight="bold")
        ax.set_title(title)
        ax.axis("off")
    with _atomic(out / "side_by_side.png", overwrite=True) as tmp:
        fig.savefig(tmp, dpi=90, bbox_inches="tight")
    plt.close(fig)
    identity = __import__("SimpleITK").Transform(3, 1)
    before = np.asarray(resample_to(follow.labels, base.labels, identity, label=True).array) > 0
    after = (
        np.asarray(
            resample_to(follow.labels, base.labels, result.registration.transform, label=True).array
        )
        > 0
    )
    liver = np.asarray(base.labels.array) > 0
    zl = int(np.argmax(liver.sum(axis=(0, 1))))
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    for ax, moved, title in ((axes[0], before, "before"), (axes[1], after, "after")):
        ax.imshow(np.clip(b_img[:, :, zl].T, -150, 250), cmap="gray", origin="lower")
        ax.contour(liver[:, :, zl].T, levels=[0.5], colors="lime", origin="lower")
        if moved[:, :, zl].any():
            ax.contour(moved[:, :, zl].T, levels=[0.5], colors="magenta", origin="lower")
        ax.set_title(f"livers {title} registration (green baseline, magenta follow-up)")
        ax.axis("off")
    with _atomic(out / "registration.png", overwrite=True) as tmp:
        fig.savefig(tmp, dpi=90, bbox_inches="tight")
    plt.close(fig)


def write_outputs(
    result: CompareResult,
    out: Path,
    base: Segmented,
    follow: Segmented,
    b_comp: np.ndarray,
    f_on_base: np.ndarray,
    *,
    figures: bool,
) -> dict[str, str]:
    """Write the outputs into ``out``; return their names (relative to ``out``)."""
    outputs = {"response": "response.json", "report": "report.md"}
    if figures:
        _figures(result, out, base, follow, b_comp, f_on_base)
        outputs.update(side_by_side="side_by_side.png", registration="registration.png")
    with atomic_output(out / "report.md", overwrite=True) as tmp:
        tmp.write_text(report_markdown(result), encoding="utf-8")
    with atomic_output(out / "response.json", overwrite=True) as tmp:
        doc = response_document(result, outputs)
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return outputs
