"""Forward+backward time and parameter counts of every registered model on this CPU.

Each model is built at the ``cpu-small`` preset (tumor stage, 3 classes) and trained for a few
iterations on one 64^3 patch through ``forward_with_aux`` (the trainer's path, so
SegResNetVAE includes its VAE branch). The models take turns (round-robin) and the best time of
each is reported (the median too), which keeps ratios meaningful on a shared, loaded machine;
ratios are against ``segresnetvae`` (the SmoothSegNet backbone) measured in the same run.
Parameter counts are also given for the ``paper`` preset (tumor stage, ROI 256x256x32).

Writes ``benchmarks/results/models.json`` and appends one line to ``benchmarks/RESULTS.md``.

Usage: ``.venv/bin/python benchmarks/bench_models.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from pathlib import Path

import torch

from machine_info import cpu_name, load_average, record
from smoothseg.models import SegmentationNetwork, build_model, model_names, preset_config

HERE = Path(__file__).resolve().parent
BASELINE = "segresnetvae"
SIZE = (64, 64, 64)


def machine() -> str:
    cpu = cpu_name()
    load = load_average()
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), float32, no autocast, load {load:.1f} at start"
    )


def one_iteration(model: SegmentationNetwork, x: torch.Tensor) -> float:
    start = time.perf_counter()
    logits, aux = model.forward_with_aux(x)
    loss = logits.float().square().mean() + (aux if aux is not None else 0.0)
    loss.backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def time_models(repeats: int) -> list[dict[str, float | int | str]]:
    """Round-robin over the models, so a burst of load on the machine hits them all alike."""
    names = model_names()
    models = {
        n: build_model(preset_config(n, "cpu-small", roi_size=SIZE), seed=0).train() for n in names
    }
    x = torch.randn((1, 1, *SIZE), generator=torch.Generator().manual_seed(0))
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(repeats + 1):  # round 0 is a warm-up
        for n in names:
            elapsed = one_iteration(models[n], x)
            if i:
                times[n].append(elapsed)
    return [
        {
            "model": n,
            "seconds_per_iteration": min(times[n]),
            "seconds_median": statistics.median(times[n]),
            "params_cpu_small": models[n].parameter_count(),
            "params_paper": build_model(preset_config(n, "paper"), seed=0).parameter_count(),
            "required_divisor": models[n].divisor,
        }
        for n in names
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    torch.set_grad_enabled(True)
    host = machine()  # before the run: the load average is part of the record
    rows = time_models(args.repeats)
    base = next(float(r["seconds_per_iteration"]) for r in rows if r["model"] == BASELINE)
    for row in rows:
        row["ratio_vs_" + BASELINE] = float(row["seconds_per_iteration"]) / base

    print(f"{'model':<14}{'s/iter':>9}{'x base':>9}{'params small':>15}{'params paper':>15}")
    for r in rows:
        print(
            f"{r['model']!s:<14}{float(r['seconds_per_iteration']):>9.3f}"
            f"{float(r['ratio_vs_' + BASELINE]):>9.2f}"
            f"{int(r['params_cpu_small']):>15,}{int(r['params_paper']):>15,}"
        )

    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result = {
        "benchmark": "bench_models",
        "when": when,
        "machine": host,
        "input": [1, 1, *SIZE],
        "preset": "cpu-small",
        "baseline": BASELINE,
        "repeats": args.repeats,
        "rows": rows,
    }
    summary = ", ".join(
        f"{r['model']} {float(r['seconds_per_iteration']):.2f}s "
        f"(x{float(r['ratio_vs_' + BASELINE]):.2f}, {int(r['params_cpu_small']) / 1e6:.2f}M)"
        for r in rows
    )
    record(
        "models",
        result,
        f"- {when} · bench_models · {host} · cpu-small, 1x1x64^3 forward+backward "
        f"per iteration (best of {args.repeats}, round-robin), ratio vs {BASELINE}: {summary}",
    )


if __name__ == "__main__":
    main()
