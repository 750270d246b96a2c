"""Batch prediction throughput: worker processes vs one process, and the cost of resuming.

``--cases`` phantom CTs (``small``: 128x128x48 voxels of 3x3x5 mm) predicted with the shipped
default model (no preview):

* **one process** (the baseline): :func:`smoothseg.postprocess.batch.predict_batch` with one
  loaded :class:`~smoothseg.predict.Predictor`, torch using every core; warmed up on one scan
  first, run before and after the workers, the faster of the two runs counts;
* **one process, one thread**: the same with ``torch.set_num_threads(1)``;
* **workers**: :func:`smoothseg.predict.workers.predict_batch_parallel` with ``--workers``
  forked processes, one model each, ``cores / workers`` threads each;
* **resume**: the same parallel call again on the finished output (every case skipped).

Writes ``benchmarks/results/batch.json`` and appends one line to ``benchmarks/RESULTS.md``.

Usage: ``.venv/bin/python benchmarks/bench_batch.py [--cases 6] [--workers 2] [--dry-run]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import torch

from machine_info import cpu_name, load_average, record
from smoothseg.io import write_volume
from smoothseg.phantom import PhantomConfig, generate_case
from smoothseg.predict import PredictConfig, Predictor
from smoothseg.predict.batch import find_inputs, predict_batch
from smoothseg.predict.workers import predict_batch_parallel

BASELINE = "one process (predict_batch, one model, all cores)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dry-run", action="store_true", help="Print only; record nothing.")
    args = parser.parse_args()
    load = load_average()
    host = f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, load {load:.1f}"
    config = PredictConfig(preview=False)
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        work = Path(tmp)
        phantom = PhantomConfig.preset("small")
        for index in range(args.cases):
            case = generate_case(f"SCAN_{index:02d}", index, phantom)
            write_volume(case.image, work / "scans" / f"{case.case_id}.nii.gz")
        inputs = find_inputs(work / "scans") or []
        predictor = Predictor.from_model_dir(None, config)
        predict_batch(predictor, inputs[:1], work / "warm-up")  # lazy imports, first calls
        start = time.perf_counter()
        single = predict_batch(predictor, inputs, work / "one")
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        parallel = predict_batch_parallel(None, config, inputs, work / "par", workers=args.workers)
        par_s = time.perf_counter() - start
        start = time.perf_counter()
        predict_batch(predictor, inputs, work / "one-again")  # the baseline again, after
        one_s = min(first_s, time.perf_counter() - start)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one process, one thread: no oversubscription at all
        start = time.perf_counter()
        predict_batch(predictor, inputs, work / "one-thread")
        one_thread_s = time.perf_counter() - start
        torch.set_num_threads(threads)
        start = time.perf_counter()
        again = predict_batch_parallel(None, config, inputs, work / "par", workers=args.workers)
        resume_s = time.perf_counter() - start
    states = {o.state for o in single + parallel}
    assert states == {"done"}, states
    assert {o.state for o in again} == {"skipped"}
    speedup = one_s / par_s
    print(f"one process {one_s:.2f}s, {args.workers} workers {par_s:.2f}s (x{speedup:.2f})")
    print(f"one process with 1 thread {one_thread_s:.2f}s")
    print(f"resume with everything finished: {resume_s:.2f}s")
    if args.dry_run:
        return
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result = {
        "benchmark": "bench_batch",
        "when": when,
        "machine": host,
        "cases": args.cases,
        "phantom": "small (128x128x48, 3x3x5 mm)",
        "workers": args.workers,
        "baseline": BASELINE,
        "one_process_seconds": one_s,
        "one_process_threads": threads,
        "one_process_one_thread_seconds": one_thread_s,
        "workers_seconds": par_s,
        "speedup": speedup,
        "resume_all_finished_seconds": resume_s,
    }
    record(
        "batch",
        result,
        f"- {when} · bench_batch · {host} · default model, {args.cases} phantom CTs of "
        f"128x128x48, no preview: {args.workers} forked workers {par_s:.1f}s "
        f"({par_s / args.cases:.2f}s/scan) vs baseline ({BASELINE}) {one_s:.1f}s "
        f"({one_s / args.cases:.2f}s/scan): x{speedup:.2f} (one process with 1 thread "
        f"{one_thread_s:.1f}s: x{one_thread_s / par_s:.2f}; the gap to all-cores shows torch "
        f"threads oversubscribed on a shared machine); rerun on the finished output "
        f"(all skipped) {resume_s:.2f}s",
    )


if __name__ == "__main__":
    main()
