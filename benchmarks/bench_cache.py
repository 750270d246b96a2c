"""Data-loader throughput, cached vs uncached, next to the model's step time.

A cpu-small stage (``--stage tumor``, the default, or ``liver``) on a prepared phantom cohort
of 256x256x96 voxels of 1.5x1.5x2.5 mm. The deterministic preprocessing is: load the prepared
arrays and resample (6 mm tumor, 8 mm liver), then for the tumor stage crop to the liver region
and compute the signed distance to the liver surface (for the random mask jitter), for the liver
stage window. For each loading mode the training ``DataLoader`` is iterated for two epochs
without a model (``num_workers = 0``):

* **uncached** (the baseline): every epoch redoes the deterministic part;
* **persistent** (``persistent_cache = true``): epoch 1 does the same and writes the result to
  the disk cache; epoch 2 memory-maps it (decodes nothing). The ratio epoch 1 / epoch 2 is the
  acceptance number ("epoch 2 of a cached run is faster");
* **persistent, second run**: a new dataset over the same disk cache (another run, another
  DDP rank or worker): its epoch 1 is already fast;
* **in-memory** (``cache_in_memory``, MONAI ``CacheDataset``): preprocessing up front, in RAM.

Next to it, the median time of one optimisation step of the cpu-small SegResNetVAE on a batch
already loaded, so loader time per batch reads against model time per batch.

Writes ``benchmarks/results/cache_<stage>.json`` and appends one line to
``benchmarks/RESULTS.md``.

Usage: ``.venv/bin/python benchmarks/bench_cache.py [--stage tumor] [--cases 6] [--steps 3]
[--dry-run]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from machine_info import cpu_name, load_average, record
from smoothseg.datasets import PrepareConfig, prepare_dataset
from smoothseg.datasets.splits import Split
from smoothseg.phantom import PhantomConfig, generate_cohort
from smoothseg.training import TrainConfig, build_loss, load_train_config, stage_data
from smoothseg.training.checkpoint import seed_everything
from smoothseg.training.trainer import Trainer

SHAPE, SPACING = (256, 256, 96), (1.5, 1.5, 2.5)
BASELINE = "uncached loading (decode + resample + window every epoch)"


def epoch_seconds(config: TrainConfig, cache: Path, split: Split, epochs: int) -> dict[str, Any]:
    """Build the stage's datasets, then time ``epochs`` passes of the training loader."""
    start = time.perf_counter()
    data = stage_data(config, cache, split)
    build = time.perf_counter() - start
    times, batches = [], 0
    for epoch in range(epochs):
        start = time.perf_counter()
        batches = sum(1 for _ in data.train_loader(config, epoch))
        times.append(time.perf_counter() - start)
    return {"build_s": build, "epoch_s": times, "batches": batches}


def step_seconds(config: TrainConfig, cache: Path, split: Split, steps: int) -> float:
    """Median seconds of one optimisation step on a pre-loaded batch."""
    seed_everything(config.seed)
    with tempfile.TemporaryDirectory() as run:
        data = stage_data(config, cache, split)
        loss = build_loss(config.loss, classes=config.model.out_channels)
        trainer = Trainer(config, data, Path(run), loss=loss, progress=False)
        batch = next(iter(trainer.data.train_loader(config, 0)))
        trainer.model.train()
        trainer.step(batch)  # warm-up
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            trainer.step(batch)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--stage", default="tumor", choices=["liver", "tumor"])
    parser.add_argument("--dry-run", action="store_true", help="Print only; record nothing.")
    args = parser.parse_args()
    load = load_average()
    host = f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, load {load:.1f}"
    with tempfile.TemporaryDirectory(prefix="bench_cache_") as tmp:
        work = Path(tmp)
        phantom = PhantomConfig.preset("small", shape=SHAPE, spacing_mm=SPACING)
        generate_cohort(work / "cohort", args.cases, seed=0, config=phantom)
        prepare_dataset(PrepareConfig(format="pairs", root=work / "cohort", out=work / "cache"))
        ids = tuple(f"PHANTOM_{i:03d}" for i in range(1, args.cases + 1))
        split = Split("bench", ids, (), ())
        base = load_train_config(args.stage, preset="cpu-small")
        plain = replace(base, cache_in_memory=False, persistent_cache=False, num_workers=0)
        disk = replace(plain, persistent_cache=True, cache_dir=str(work / "pre"))
        memory = replace(plain, cache_in_memory=True)
        modes = {
            "uncached": epoch_seconds(plain, work / "cache", split, 2),
            "persistent": epoch_seconds(disk, work / "cache", split, 2),
            "persistent_second_run": epoch_seconds(disk, work / "cache", split, 2),
            "in_memory": epoch_seconds(memory, work / "cache", split, 2),
        }
        step = step_seconds(plain, work / "cache", split, args.steps)
    disk_run = modes["persistent"]["epoch_s"]
    ratio = disk_run[0] / disk_run[1]
    batches = modes["uncached"]["batches"]
    per_batch = {k: [t / batches for t in v["epoch_s"]] for k, v in modes.items()}
    uncached_epoch = statistics.mean(modes["uncached"]["epoch_s"])
    for name, mode in modes.items():
        epochs = ", ".join(f"{t:.2f}s" for t in mode["epoch_s"])
        print(f"{name:22s} build {mode['build_s']:.2f}s, epochs {epochs} ({batches} batches)")
    print(f"model step (cpu-small segresnetvae, 2 patches of 48x48x32): {step:.3f}s")
    print(f"persistent cache: epoch 1 / epoch 2 = {ratio:.1f}")
    if args.dry_run:
        return
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result = {
        "benchmark": "bench_cache",
        "when": when,
        "machine": host,
        "cases": args.cases,
        "stage": args.stage,
        "phantom": "256x256x96 at 1.5x1.5x2.5 mm, cpu-small preprocessing",
        "baseline": BASELINE,
        "modes": modes,
        "loader_seconds_per_batch": per_batch,
        "model_step_seconds": step,
        "persistent_epoch1_over_epoch2": ratio,
    }
    pb = {k: v[1] for k, v in per_batch.items()}
    record(
        f"cache_{args.stage}",
        result,
        f"- {when} · bench_cache · {host} · cpu-small {args.stage} loader, {args.cases} "
        f"phantom cases of 256x256x96 ({batches} batches/epoch, num_workers 0): "
        f"persistent mmapped cache epoch 1 "
        f"{disk_run[0]:.2f}s → epoch 2 {disk_run[1]:.2f}s (x{ratio:.1f} faster); a second run "
        f"on the same cache epoch 1 {modes['persistent_second_run']['epoch_s'][0]:.2f}s; "
        f"in-memory {modes['in_memory']['build_s']:.2f}s up front then "
        f"{modes['in_memory']['epoch_s'][1]:.2f}s/epoch; vs baseline ({BASELINE}) "
        f"{uncached_epoch:.2f}s/epoch · loader s/batch at epoch 2: uncached "
        f"{pb['uncached']:.3f}, persistent {pb['persistent']:.4f}, in-memory "
        f"{pb['in_memory']:.4f} vs model step {step:.2f}s/batch",
    )


if __name__ == "__main__":
    main()
