"""Cost of on-the-fly domain-randomized phantoms vs the plain phantom (same run, same seeds).

Baseline: ``generate_case`` (the fixed portal-venous phantom) on the ``small`` grid. Subject:
``SyntheticCases.case`` (that anatomy + phase repaint + tumor appearance + scanner + FOV crop).
``--gallery PNG`` also writes a gallery of randomized cases (used in docs/synthetic-training.md).
Writes ``benchmarks/results/synthetic.json`` and appends one line to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from pathlib import Path

import numpy as np

from machine_info import cpu_name, load_average, record
from smoothseg.phantom import generate_case
from smoothseg.training.synthetic import SyntheticCases, case_seed


def gallery(path: Path, cases: SyntheticCases, n: int) -> None:
    """Mid-liver axial slices of ``n`` randomized cases (epoch 0), window -200..250 HU."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, (n + 1) // 2, figsize=(2.6 * ((n + 1) // 2), 5.6))
    for ax, index in zip(axes.ravel(), range(n), strict=False):
        c = cases.case(0, index)
        lab = np.asarray(c.labels.array)
        k = int(np.argmax((lab > 0).sum(axis=(0, 1))))
        ax.imshow(np.clip(c.image.array[:, :, k].T, -200, 250), cmap="gray", origin="lower")
        ax.contour((lab[:, :, k] > 0).T, levels=[0.5], colors="lime", linewidths=0.6)
        ax.contour((lab[:, :, k] == 2).T, levels=[0.5], colors="red", linewidths=0.6)
        ax.set_title(f"{c.phase}, {c.scanner.slice_thickness_mm:.1f} mm", fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=4, help="cases timed per generator")
    parser.add_argument("--gallery", type=Path, default=None, help="also write a gallery PNG")
    args = parser.parse_args()
    where = f"{cpu_name()}, {os.cpu_count()} cores, load {load_average():.1f} at start"
    cases = SyntheticCases(args.cases, seed=0)
    base, subject = [], []
    for i in range(args.cases):
        start = time.perf_counter()
        generate_case("plain", case_seed(0, 0, i))
        base.append(time.perf_counter() - start)
        start = time.perf_counter()
        cases.case(0, i)
        subject.append(time.perf_counter() - start)
    b, s = statistics.median(base), statistics.median(subject)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = {"timestamp": stamp, "machine": where, "baseline_s": base, "randomized_s": subject}
    line = (
        f"- {stamp} · bench_synthetic · {where} · median per case (small grid, n={args.cases}): "
        f"plain phantom {b:.2f}s, domain-randomized {s:.2f}s (x{s / b:.2f})"
    )
    record("synthetic", report, line)
    if args.gallery:
        gallery(args.gallery, SyntheticCases(8, seed=0), 8)


if __name__ == "__main__":
    main()
