"""Realism check of the synthetic lesions: real LiTS-117 lesions vs synthetic ones, same scan.

Real lesions: the annotated tumors of LiTS-117 (``../shared/data/lits-117``, 128^3 crop, no voxel
size stored: 1.4 mm isotropic assumed as in ``real_ct.py``), components of >= 30 voxels.
Synthetic lesions: the default ``smoothseg synthesize`` mix implanted into the tumor-free part of
the same liver (label 1), sizes drawn in the real lesions' range, 4 seeds.

Per lesion (:func:`lesion_stats`): contrast to the liver (lesion mean minus the median of the
liver in a 3-10 mm shell around it), edge width (10-90 % rise of the mean intensity against the
signed distance to the lesion surface; lesions with |contrast| >= 15 HU) and texture sd (sd of
the voxels deeper than 1.5 mm inside, also as a ratio to the parenchyma's sd).

Writes ``docs/images/synthesis-realism.png`` and ``benchmarks/results/synthesis_realism.{json,md}``
(the table pasted into docs/synthesis.md). LiTS-117 is a benchmark case: it is only measured here.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from smoothseg.io import read_volume
from smoothseg.synthesis import LesionRequest, implant_lesions

HERE = Path(__file__).resolve().parent
LITS = HERE.parent.parent / "shared" / "data" / "lits-117"
FIGURE = HERE.parent / "docs" / "images" / "synthesis-realism.png"
SPACING = (1.4, 1.4, 1.4)
MIN_VOXELS = 30
BINS_MM = np.arange(-6.0, 6.01, 0.7)


def lesion_stats(
    ct: npt.NDArray[np.float32],
    lesion: npt.NDArray[np.bool_],
    liver: npt.NDArray[np.bool_],
    tumor: npt.NDArray[np.bool_],
) -> dict[str, float]:
    """Diameter, contrast, edge width, texture sd (and ratio) of one lesion."""
    box = _box(lesion, int(np.ceil(12.0 / SPACING[0])))
    ct, lesion, liver, tumor = ct[box], lesion[box], liver[box], tumor[box]
    inside = ndimage.distance_transform_edt(lesion, sampling=SPACING)
    outside = ndimage.distance_transform_edt(~lesion, sampling=SPACING)
    signed = np.where(lesion, -inside + SPACING[0] / 2, outside - SPACING[0] / 2)
    parenchyma = liver & ~tumor
    shell = parenchyma & (outside >= 3.0) & (outside <= 10.0)
    level = float(np.median(ct[shell])) if shell.sum() > 20 else float(np.median(ct[parenchyma]))
    par_sd = float(np.std(ct[shell])) if shell.sum() > 20 else float("nan")
    contrast = float(ct[lesion].mean()) - level
    deep = lesion & (inside > 1.5)
    texture = float(np.std(ct[deep])) if deep.sum() >= 10 else float("nan")
    edge = float("nan")
    if abs(contrast) >= 15.0:
        band = (lesion | parenchyma) & (np.abs(signed) <= 6.0)
        idx = np.digitize(signed[band], BINS_MM)
        values = ct[band]
        centres, means = [], []
        for b in range(1, len(BINS_MM)):
            sel = idx == b
            if sel.sum() >= 5:
                centres.append((BINS_MM[b - 1] + BINS_MM[b]) / 2)
                means.append(float(values[sel].mean()))
        if len(means) >= 6:
            c, m = np.asarray(centres), np.asarray(means)
            lo, hi = m[c < -2.5].mean() if (c < -2.5).any() else m[0], m[c > 3.0].mean()
            frac = (m - lo) / (hi - lo) if hi != lo else np.zeros_like(m)
            order = np.argsort(c)
            c, frac = c[order], np.maximum.accumulate(np.clip(frac[order], 0, 1))
            if frac[0] < 0.1 and frac[-1] > 0.9:
                edge = float(np.interp(0.9, frac, c) - np.interp(0.1, frac, c))
    diameter = float((6 * lesion.sum() * np.prod(SPACING) / np.pi) ** (1 / 3))
    return {
        "diameter_mm": diameter,
        "contrast_hu": contrast,
        "edge_mm": edge,
        "texture_sd_hu": texture,
        "texture_ratio": texture / par_sd if par_sd > 0 else float("nan"),
    }


def _box(mask: npt.NDArray[np.bool_], margin: int) -> tuple[slice, ...]:
    """The mask's bounding box grown by ``margin`` voxels (clipped)."""
    hits = np.argwhere(mask)
    lo = np.maximum(hits.min(axis=0) - margin, 0)
    hi = np.minimum(hits.max(axis=0) + margin + 1, mask.shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))


def _lesions(mask: npt.NDArray[np.bool_]) -> list[npt.NDArray[np.bool_]]:
    labels, n = ndimage.label(mask)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    return [labels == i for i in range(1, n + 1) if sizes[i] >= MIN_VOXELS]


def _summary(rows: list[dict[str, float]], key: str) -> str:
    values = np.asarray([r[key] for r in rows], dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return "–"
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return f"{med:.1f} ({q1:.1f} to {q3:.1f}), n={values.size}"


def _crop(ct: npt.NDArray[np.float32], lesion: npt.NDArray[np.bool_]) -> tuple[Any, Any]:
    k = int(np.argmax(lesion.sum(axis=(0, 1))))
    ii, jj = np.nonzero(lesion[:, :, k])
    ci, cj = int(ii.mean()), int(jj.mean())
    half = max(12, int(max(np.ptp(ii), np.ptp(jj)) * 0.9) + 6)
    lo_i, lo_j = max(ci - half, 0), max(cj - half, 0)
    window = (slice(lo_i, ci + half), slice(lo_j, cj + half), k)
    return ct[window].T, lesion[window].T


def main() -> None:
    if "--patterns-only" in sys.argv:
        image = read_volume(LITS / "img_117.nii.gz", kind="image", canonical=False).array
        label = read_volume(LITS / "lab_117.nii.gz", kind="label", canonical=False).array
        _patterns(np.asarray(image, dtype=np.float32), np.asarray(label) == 1)
        return
    image = np.asarray(read_volume(LITS / "img_117.nii.gz", kind="image", canonical=False).array)
    label = np.asarray(read_volume(LITS / "lab_117.nii.gz", kind="label", canonical=False).array)
    liver, tumor = label > 0, label == 2
    ct = image.astype(np.float32)
    real = [(lesion_stats(ct, m, liver, tumor), ct, m) for m in _lesions(tumor)]
    sizes = [s["diameter_mm"] for s, _, _ in real]
    size_range = (max(5.0, float(np.percentile(sizes, 10))), float(np.percentile(sizes, 90)))
    synthetic = []
    for seed in range(4):
        request = LesionRequest(count=4, size_mm=size_range)
        new, synth, _ = implant_lesions(
            ct, label == 1, SPACING, request, np.random.default_rng(seed)
        )
        for m in _lesions(synth):
            synthetic.append((lesion_stats(new, m, liver, tumor | synth), new, m))
    hypo = []
    for seed in range(4):
        request = LesionRequest(count=4, size_mm=size_range, density_weights=(1.0, 0.0, 0.0))
        new, synth, _ = implant_lesions(
            ct, label == 1, SPACING, request, np.random.default_rng(100 + seed)
        )
        hypo += [lesion_stats(new, m, liver, tumor | synth) for m in _lesions(synth)]
    rows = [
        ("real (LiTS-117)", [s for s, _, _ in real]),
        ("synthetic, default mix (same liver)", [s for s, _, _ in synthetic]),
        ("synthetic, hypodense class only", hypo),
    ]
    keys = ("diameter_mm", "contrast_hu", "edge_mm", "texture_sd_hu", "texture_ratio")
    table = [
        "| lesions | diameter mm | contrast to liver HU | edge width (10-90 %) mm | "
        "texture sd HU | texture sd / parenchyma sd |",
        "|---|---|---|---|---|---|",
    ]
    for name, stats in rows:
        table.append(f"| {name} | " + " | ".join(_summary(stats, k) for k in keys) + " |")
    md = "\n".join(table) + "\nmedian (interquartile range), n = lesions measured\n"
    print(md)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "synthesis_realism.md").write_text(md)
    payload = {name: stats for name, stats in rows}
    (out / "synthesis_realism.json").write_text(json.dumps(payload, indent=2) + "\n")
    _figure(real, synthetic)
    _patterns(ct, label == 1)


def _figure(real: list[Any], synthetic: list[Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = 6
    pick_real = sorted(real, key=lambda r: -r[0]["diameter_mm"])[: n * 2 : 2]
    pick_real += sorted(real, key=lambda r: r[0]["diameter_mm"])[len(real) // 2 :][:n]
    pick_real = pick_real[:n]
    pick_synth = sorted(synthetic, key=lambda r: -r[0]["diameter_mm"])[:n]
    fig, axes = plt.subplots(2, n, figsize=(2.2 * n, 5.0))
    for row, picks, name in ((0, pick_real, "real"), (1, pick_synth, "synthetic")):
        for col in range(n):
            ax = axes[row, col]
            ax.axis("off")
            if col >= len(picks):
                continue
            stats, ct, mask = picks[col]
            grey, outline = _crop(ct, mask)
            ax.imshow(grey, cmap="gray", vmin=-40, vmax=200, origin="lower")
            ax.contour(outline, levels=[0.5], colors="tab:orange", linewidths=0.5, alpha=0.6)
            ax.set_title(
                f"{name} {stats['diameter_mm']:.0f} mm\n{stats['contrast_hu']:+.0f} HU",
                fontsize=8,
            )
    fig.suptitle("LiTS-117: real lesions (top) vs synthetic lesions in the same liver (bottom)")
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=90, metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {FIGURE}")


def _patterns(ct: npt.NDArray[np.float32], parenchyma: npt.NDArray[np.bool_]) -> None:
    """One synthetic lesion per pattern in the LiTS-117 liver (``synthesis-patterns.png``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plain = LesionRequest(count=1, size_mm=(22.0, 22.0)).plain()
    cases = [
        ("hypodense -50 HU", replace(plain, contrast_hu=(-50.0, -50.0))),
        ("isodense +5 HU", replace(plain, contrast_hu=(5.0, 5.0))),
        ("hyperdense +35 HU", replace(plain, contrast_hu=(35.0, 35.0))),
        ("HCC-like rim, washout", replace(plain, contrast_hu=(-25.0, -25.0), hcc_prob=1.0)),
        ("necrotic core", replace(plain, contrast_hu=(-20.0, -20.0), necrosis_prob=1.0)),
        ("capsule", replace(plain, contrast_hu=(-30.0, -30.0), capsule_prob=1.0)),
        ("multifocal", replace(plain, contrast_hu=(-40.0, -40.0), multifocal_prob=1.0)),
        ("mass effect 25 %", replace(plain, contrast_hu=(-40.0, -40.0), mass_effect=(0.25, 0.25))),
    ]
    fig, axes = plt.subplots(2, len(cases) // 2, figsize=(2.6 * len(cases) // 2, 5.6))
    for ax, (name, request) in zip(axes.ravel(), cases, strict=True):
        new, synth, _ = implant_lesions(ct, parenchyma, SPACING, request, np.random.default_rng(11))
        main = _lesions(synth)
        grey, _ = _crop(new, main[0] if main else synth)
        ax.imshow(grey, cmap="gray", vmin=-40, vmax=200, origin="lower")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle("synthetic lesion patterns in the LiTS-117 liver (W240/L80)")
    fig.tight_layout()
    path = FIGURE.with_name("synthesis-patterns.png")
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
