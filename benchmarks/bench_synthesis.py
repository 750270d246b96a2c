"""Cost of implanting synthetic lesions into a 512 x 512 x 100 CT vs a plain read + write of it.

Scan: the first 100 slices (liver included) of the PET/CT's CT in ``../shared/data/real-ct``
(512 x 512, 0.98 x 0.98 x 3.27 mm), written once as NIfTI; its liver mask comes from the shipped
model's liver stage (not timed). Where the scan is absent, a ``paper``-size phantom (512 x 512
x 96) with its own liver label is used instead.

Baseline: ``read_volume`` + ``write_volume`` of that NIfTI. Subject: ``synthesize_volume`` with
the default lesion mix (3 lesions, 10-30 mm) in memory, and the whole ``synthesize_scan`` (new
CT + label map + lesions.json + preview written) after the same read. Target: synthesis <= 2 s.
Also timed: ``RandSyntheticTumord`` (the training transform) on the liver's box at full resolution.
Writes ``benchmarks/results/synthesis.json`` and appends one line to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from machine_info import cpu_name, load_average, record
from smoothseg.io import Volume, read_volume, write_volume
from smoothseg.synthesis import LesionRequest, synthesize_volume
from smoothseg.synthesis.scan import synthesize_scan

HERE = Path(__file__).resolve().parent
PET_CT = HERE.parent.parent / "shared" / "data" / "real-ct" / "ACRIN-NSCLC-FDG-PET-042_ct.nii.gz"
SLICES = 100


def _inputs(folder: Path) -> tuple[Path, Volume, str]:
    """The CT written as NIfTI, its liver mask (canonical grid) and a description."""
    if PET_CT.is_file():
        from smoothseg.stress.segmenter import load_segmenter

        image = read_volume(PET_CT, kind="image")  # canonical RAS: k = 0 is the lowest slice
        # the 100 lowest slices hold the liver of this neck-to-kidney CT
        array = np.asarray(image.array)[:, :, :SLICES]
        affine = image.affine.copy()
        ct = Volume(array, affine)
        path = folder / "scan.nii.gz"
        write_volume(ct, path)
        found = load_segmenter(None, liver_only=True)(read_volume(path, kind="image"))
        liver = found.image.with_array(found.liver.astype(np.uint8), kind="label")
        return path, liver, f"PET/CT CT, {SLICES} lowest slices, {ct.shape}"
    from smoothseg.phantom import PhantomConfig
    from smoothseg.phantom.cohort import cohort_case

    case = cohort_case(1, 7, PhantomConfig.preset("paper"))
    path = folder / "scan.nii.gz"
    write_volume(case.image, path)
    liver = case.image.with_array((np.asarray(case.labels.array) > 0).astype(np.uint8), "label")
    return path, liver, f"paper-size phantom {case.image.shape}"


def _transform_cost(ct: Volume, liver: Volume, repeats: int) -> tuple[list[float], list[int]]:
    """Seconds per sample of the training transform on the liver's box (as the tumor stage)."""
    from smoothseg.preprocess.synthetic_tumor import RandSyntheticTumord

    mask = np.asarray(liver.array) > 0
    hits = np.argwhere(mask)
    box = tuple(slice(int(a), int(b) + 1) for a, b in zip(hits.min(0), hits.max(0), strict=True))
    item = {
        "image": np.asarray(ct.array, dtype=np.float32)[box][None],
        "label": mask[box].astype(np.uint8)[None],
        "spacing_mm": ct.spacing_mm,
    }
    transform = RandSyntheticTumord(1.0, max_count=3)
    times = []
    for r in range(repeats):
        transform.set_random_state(r)
        start = time.perf_counter()
        transform(item)
        times.append(time.perf_counter() - start)
    return times, [int(n) for n in item["image"].shape[1:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each")
    args = parser.parse_args()
    where = f"{cpu_name()}, {os.cpu_count()} cores, load {load_average():.1f} at start"
    base, synth, whole = [], [], []
    request = LesionRequest(count=3)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, liver, what = _inputs(folder)
        for r in range(args.repeats):
            start = time.perf_counter()
            ct = read_volume(path, kind="image")
            write_volume(ct, folder / f"copy{r}.nii.gz")
            base.append(time.perf_counter() - start)
            start = time.perf_counter()
            synthesize_volume(ct, liver, request, np.random.default_rng(r))
            synth.append(time.perf_counter() - start)
            start = time.perf_counter()
            image = read_volume(path, kind="image")
            synthesize_scan(image, liver, folder / f"out{r}", request, seed=r, dicom=False)
            whole.append(time.perf_counter() - start)
        crop_s, crop_shape = _transform_cost(ct, liver, args.repeats)
    b, s, w = (statistics.median(x) for x in (base, synth, whole))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = {
        "timestamp": stamp,
        "machine": where,
        "scan": what,
        "baseline_read_write_s": base,
        "synthesize_volume_s": synth,
        "synthesize_scan_s": whole,
        "rand_synthetic_tumord_s": crop_s,
        "liver_crop_shape": crop_shape,
    }
    line = (
        f"- {stamp} · bench_synthesis · {where} · {what}, 3 lesions 10-30 mm, median of "
        f"{args.repeats}: synthesize_volume {s:.2f}s (target <= 2 s) vs baseline (read + write "
        f"NIfTI) {b:.2f}s (x{s / b:.2f}); whole synthesize_scan (read, implant, write CT + labels "
        f"+ preview) {w:.2f}s (x{w / b:.2f}); RandSyntheticTumord (prob 1, up to 3 lesions) on the "
        f"native-resolution liver crop {crop_shape}: {statistics.median(crop_s):.2f}s per sample"
    )
    record("synthesis", report, line)


if __name__ == "__main__":
    main()
