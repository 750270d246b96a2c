"""Training iteration time with the real data pipeline vs model-only forward+backward.

The cpu-small liver configuration (SegResNetVAE, 8 mm voxels, ROI 48x48x32) trains on a phantom
cohort (``small`` size, 128x128x48 voxels of 3x3x5 mm, resampled by the pipeline). Iteration by
iteration, alternating so that load on the shared machine hits both alike:

* **pipeline**: fetch the next batch from the real training ``DataLoader`` (cached
  deterministic prefix, random crop, augmentation, collation) and take one optimisation step;
* **model-only** (the baseline): the same optimisation step on a batch loaded beforehand.

The ratio of the medians pipeline / model-only says how much the data pipeline costs on top of
the model (1.0 = free); the aim is <= 1.15. The fetch time alone is reported too, and the
training speed in iterations/s (one iteration = one batch of ``batch_size x
samples_per_volume`` patches). GPU training speed at the paper configuration:
``benchmarks/gpu_check.py``.

Writes ``benchmarks/results/training.json`` and appends one line to ``benchmarks/RESULTS.md``.

Usage: ``.venv/bin/python benchmarks/bench_training.py [--cases 6] [--rounds 3] [--dry-run]``
(``--rounds``: epochs measured.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from machine_info import cpu_name, load_average, record
from smoothseg.datasets import PrepareConfig, prepare_dataset
from smoothseg.datasets.splits import Split
from smoothseg.phantom import generate_cohort
from smoothseg.training import build_loss, load_train_config, stage_data
from smoothseg.training.checkpoint import seed_everything
from smoothseg.training.trainer import Trainer

HERE = Path(__file__).resolve().parent
BASELINE = "model-only forward+backward+step on pre-loaded batches"


def machine() -> str:
    cpu = cpu_name()
    load = load_average()
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), float32, no autocast, load {load:.1f} at start"
    )


def interleaved(trainer: Trainer, epochs: int) -> dict[str, list[float]]:
    """Alternate, iteration by iteration, a pipeline iteration and a model-only one."""
    preloaded = list(trainer.data.train_loader(trainer.config, 0))
    times: dict[str, list[float]] = {"pipeline": [], "model": [], "fetch": []}
    i = 0
    for epoch in range(1, epochs + 1):
        batches = iter(trainer.data.train_loader(trainer.config, epoch))
        while True:
            start = time.perf_counter()
            batch = next(batches, None)
            fetched = time.perf_counter()
            if batch is None:
                break
            trainer.step(batch)
            done = time.perf_counter()
            trainer.step(preloaded[i % len(preloaded)])
            times["model"].append(time.perf_counter() - done)
            times["pipeline"].append(done - start)
            times["fetch"].append(fetched - start)
            i += 1
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="segresnetvae")
    parser.add_argument("--dry-run", action="store_true", help="Print only; record nothing.")
    args = parser.parse_args()
    host = machine()
    with tempfile.TemporaryDirectory(prefix="bench_training_") as tmp:
        work = Path(tmp)
        generate_cohort(work / "cohort", args.cases, seed=0, size="small")
        prepare_dataset(PrepareConfig(format="pairs", root=work / "cohort", out=work / "cache"))
        ids = tuple(f"PHANTOM_{i:03d}" for i in range(1, args.cases + 1))
        config = load_train_config("liver", preset="cpu-small", model=args.model)
        seed_everything(config.seed)
        t0 = time.perf_counter()
        data = stage_data(config, work / "cache", Split("bench", ids, (), ()))
        cache_seconds = time.perf_counter() - t0
        loss = build_loss(config.loss, classes=config.model.out_channels)
        trainer = Trainer(config, data, work / "run", loss=loss, progress=False)
        trainer.model.train()
        interleaved(trainer, 1)  # warm-up
        times = interleaved(trainer, args.rounds)
    pipe, model, fetch = times["pipeline"], times["model"], times["fetch"]
    iterations = len(pipe)
    med_pipe, med_model = statistics.median(pipe), statistics.median(model)
    ratio = med_pipe / med_model
    ratio_total = sum(pipe) / sum(model)
    med_fetch = statistics.median(fetch)
    mean_pipe = sum(pipe) / iterations
    print(f"pipeline   {med_pipe:.3f} s/iter (median of {iterations}; mean {mean_pipe:.3f})")
    print(f"model-only {med_model:.3f} s/iter (median; mean {sum(model) / iterations:.3f})")
    print(f"fetch      {med_fetch:.4f} s/iter (the data pipeline's share of an iteration)")
    print(f"ratio pipeline / model-only: {ratio:.3f} (totals {ratio_total:.3f}); aim <= 1.15")

    if args.dry_run:
        return
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    batch = config.batch_size * config.preprocess.samples_per_volume
    result: dict[str, Any] = {
        "benchmark": "bench_training",
        "when": when,
        "machine": host,
        "preset": "cpu-small",
        "stage": "liver",
        "model": config.model.name,
        "input": [batch, 1, *config.preprocess.roi_size],
        "cases": args.cases,
        "phantom_size": "small (128x128x48, 3x3x5 mm) resampled to 8 mm",
        "num_workers": config.num_workers,
        "iterations": iterations,
        "epochs": args.rounds,
        "cache_build_seconds": cache_seconds,
        "baseline": BASELINE,
        "pipeline_seconds_per_iteration": pipe,
        "model_only_seconds_per_iteration": model,
        "fetch_seconds_per_iteration": fetch,
        "ratio_of_medians": ratio,
        "ratio_of_totals": ratio_total,
        "iterations_per_second": 1.0 / med_pipe,
        "model_only_iterations_per_second": 1.0 / med_model,
    }
    record(
        "training",
        result,
        f"- {when} · bench_training · {host} · cpu-small liver stage, {config.model.name}, "
        f"batch {batch}x1x{'x'.join(map(str, config.preprocess.roi_size))}, "
        f"{args.cases} phantom cases, num_workers {config.num_workers}, {iterations} "
        f"iterations, pipeline and model-only alternating: pipeline {med_pipe:.3f} s/iter "
        f"({1.0 / med_pipe:.3f} it/s) "
        f"(of which fetching the batch {med_fetch:.4f}) vs baseline ({BASELINE}) "
        f"{med_model:.3f} s/iter (medians), ratio {ratio:.3f} (totals {ratio_total:.3f}; "
        "aim <= 1.15)",
    )


if __name__ == "__main__":
    main()
