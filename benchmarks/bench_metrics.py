"""Time of the full per-case metric set on a CT-sized label pair, against a naive baseline.

The pair is synthetic: a 512x512x100 grid at 0.7 x 0.7 x 2.5 mm with a ~2.6 L liver and three
tumors in the reference; the prediction has a slightly different liver, shifted tumors, one
missed and one false-positive lesion. Timed, best of ``--repeats`` runs each:

* ``smoothseg``: :func:`smoothseg.evaluation.evaluate_labels` (liver and tumor: SD.2 overlap
  metrics, RVE, HD95/HD/ASSD, lesion detection, size group);
* ``naive-full-edt`` (the baseline): the same metric set with surface distances taken from two
  full-volume ``scipy.ndimage.distance_transform_edt(sampling=spacing)`` per class, no cropping;

and, for the liver surface distances alone, three ways to find nearest surface voxels: the k-d
tree on the cropped box (what smoothseg does), EDT on the cropped box, EDT on the full volume.
All give the same distances (checked here). Writes ``benchmarks/results/metrics.json`` and
appends one line to ``benchmarks/RESULTS.md``.

Usage: ``.venv/bin/python benchmarks/bench_metrics.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy
from scipy import ndimage

from machine_info import cpu_name, load_average, record
from smoothseg.evaluation import evaluate_labels, match_lesions
from smoothseg.evaluation.overlap import OVERLAP_METRICS, confusion_counts
from smoothseg.evaluation.surface import (
    directed_surface_distances_mm,
    surface_voxels,
    union_box,
)

HERE = Path(__file__).resolve().parent
SHAPE = (512, 512, 100)
SPACING = (0.7, 0.7, 2.5)
BASELINE = "naive-full-edt"


def machine() -> str:
    cpu = cpu_name()
    load = load_average()
    return (
        f"{cpu}, {os.cpu_count()} cores, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"load {load:.1f} at start"
    )


def ellipsoid(centre_mm: tuple[float, ...], radii_mm: tuple[float, ...]) -> np.ndarray:
    axes = np.ogrid[tuple(slice(0, n) for n in SHAPE)]
    total = sum(
        ((a * s - c) / r) ** 2
        for a, s, c, r in zip(axes, SPACING, centre_mm, radii_mm, strict=True)
    )
    return np.asarray(total <= 1.0)


def label_pair() -> tuple[np.ndarray, np.ndarray]:
    ref = np.zeros(SHAPE, np.uint8)
    pred = np.zeros(SHAPE, np.uint8)
    ref[ellipsoid((170, 190, 120), (105, 85, 70))] = 1
    pred[ellipsoid((172, 188, 122), (103, 87, 68))] = 1
    tumors = [
        ((150, 170, 120), (35, 30, 30)),
        ((220, 220, 100), (8, 8, 8)),
        ((120, 230, 150), (5, 5, 5)),
    ]
    for index, (centre, radii) in enumerate(tumors):
        ref[ellipsoid(centre, radii)] = 2
        if index < 2:  # the smallest one is missed
            moved = (centre[0] + 2.0, centre[1] - 1.5, centre[2] + 2.5)
            pred[ellipsoid(moved, (radii[0] * 1.05, radii[1], radii[2] * 0.95))] = 2
    pred[ellipsoid((240, 150, 90), (6, 6, 6))] = 2  # a false positive inside the liver
    return pred, ref


def naive_surface(pred: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sp, sr = surface_voxels(pred), surface_voxels(ref)
    to_ref = ndimage.distance_transform_edt(~sr, sampling=SPACING)[sp]
    to_pred = ndimage.distance_transform_edt(~sp, sampling=SPACING)[sr]
    return to_ref, to_pred


def cropped_edt_surface(pred: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    box = union_box(pred, ref)
    assert box is not None
    return naive_surface(pred[box], ref[box])


def baseline_metrics(pred_labels: np.ndarray, ref_labels: np.ndarray) -> dict[str, Any]:
    """The same metric set, with uncropped full-volume EDT surface distances."""
    out: dict[str, Any] = {}
    for name, lo in (("liver", 1), ("tumor", 2)):
        pred, ref = pred_labels >= lo, ref_labels >= lo
        counts = confusion_counts(pred, ref)
        out[name] = {m: fn(counts) for m, fn in OVERLAP_METRICS.items()}
        d_pred, d_ref = naive_surface(pred, ref)
        out[name]["hd95_mm"] = max(np.percentile(d_pred, 95), np.percentile(d_ref, 95))
        out[name]["assd_mm"] = (d_pred.sum() + d_ref.sum()) / (d_pred.size + d_ref.size)
    out["lesions"] = match_lesions(pred_labels == 2, ref_labels == 2, SPACING).counts
    return out


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, list[float], Any]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), times, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    host = machine()
    pred, ref = label_pair()
    liver_p, liver_r = pred > 0, ref > 0
    print(f"liver {liver_r.sum():,} voxels, tumor {(ref == 2).sum():,} voxels")

    ours_s, ours_all, ours = best_of(args.repeats, lambda: evaluate_labels(pred, ref, SPACING))
    base_s, base_all, base = best_of(args.repeats, lambda: baseline_metrics(pred, ref))
    for name in ("liver", "tumor"):  # same numbers either way
        for metric in ("dice", "hd95_mm", "assd_mm"):
            a, b = ours.classes[name].metric(metric), float(base[name][metric])
            assert abs(a - b) < 1e-9, (name, metric, a, b)
    assert ours.lesions.counts == base["lesions"]

    surfaces: dict[str, float] = {}
    reference = None
    for label, fn in (
        ("kdtree-cropped (smoothseg)", directed_surface_distances_mm),
        ("edt-cropped", lambda p, r, _s: cropped_edt_surface(p, r)),
        ("edt-full", lambda p, r, _s: naive_surface(p, r)),
    ):
        seconds, _, d = best_of(args.repeats, lambda fn=fn: fn(liver_p, liver_r, SPACING))
        surfaces[label] = seconds
        sorted_d = [np.sort(x) for x in d]
        if reference is None:
            reference = sorted_d
        else:
            assert all(np.allclose(x, y) for x, y in zip(sorted_d, reference, strict=True))

    ratio = base_s / ours_s
    print(f"full metric set: smoothseg {ours_s:.2f}s, {BASELINE} {base_s:.2f}s (x{ratio:.1f})")
    for label, seconds in surfaces.items():
        print(f"liver surface distances, {label}: {seconds:.2f}s")

    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result = {
        "benchmark": "bench_metrics",
        "when": when,
        "machine": host,
        "shape": list(SHAPE),
        "spacing_mm": list(SPACING),
        "repeats": args.repeats,
        "baseline": BASELINE,
        "seconds": {"smoothseg": ours_s, BASELINE: base_s},
        "all_seconds": {"smoothseg": ours_all, BASELINE: base_all},
        "speedup_vs_baseline": ratio,
        "liver_surface_seconds": surfaces,
        "liver_dice": ours.classes["liver"].dice,
        "tumor_dice": ours.classes["tumor"].dice,
    }
    parts = ", ".join(f"{k} {v:.2f}s" for k, v in surfaces.items())
    record(
        "metrics",
        result,
        f"- {when} · bench_metrics · {host} · full per-case metric set (liver + tumor overlap,"
        f" HD95/ASSD, lesion detection) on a 512x512x100 label pair at 0.7x0.7x2.5 mm "
        f"(best of {args.repeats}): smoothseg {ours_s:.2f}s vs {BASELINE} {base_s:.2f}s "
        f"(x{ratio:.1f} faster); liver surface distances alone: {parts}",
    )


if __name__ == "__main__":
    main()
