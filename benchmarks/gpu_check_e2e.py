"""GPU check, part 2: the CUDA code paths end to end, and paper-width sliding-window inference.

* **train → predict on CUDA**: :func:`smoothseg.training.train` on a few prepared phantoms with
  the cpu-small liver config on the GPU (``amp = "auto"``: float16 with gradient scaling,
  cuDNN benchmark, the persistent mmapped preprocessing cache, validation under autocast), two
  epochs, then ``smoothseg predict`` with the bundle it wrote, on the GPU (AMP, window batch
  tuned to memory). Reported: epoch seconds, validation Dice, predict seconds.
* **paper-width sliding window**: randomly initialised ``paper`` SegResNetVAE bundles (liver:
  512x512x16 windows, tumor: 256x256x32) run by :func:`smoothseg.inference.probabilities`
  (MONAI sliding window, Gaussian blending, overlap 0.5) over a 512x512x100 volume (liver) and a
  256x256x64 box (tumor): GPU float32 with 2 windows per pass (the baseline) vs GPU float16 with
  the window batch tuned to free memory, and the CPU for the liver volume (capped). Weights are
  random: this times the model work of a paper-resolution predict, not its accuracy.

Writes ``<out>/gpu_check_e2e.json`` and prints one ``RESULTS.md``-style line.

Usage: ``python benchmarks/gpu_check_e2e.py --out DIR`` (GPU) or ``--tiny --device cpu``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))


def train_and_predict(work: Path, device: str, tiny: bool) -> dict[str, Any]:
    from smoothseg.cli import main as cli
    from smoothseg.datasets import PrepareConfig, prepare_dataset
    from smoothseg.datasets.splits import Split
    from smoothseg.io import write_volume
    from smoothseg.phantom import PhantomConfig, generate_case
    from smoothseg.training import load_train_config, train

    phantom = PhantomConfig.preset("small", shape=(96, 96, 40), spacing_mm=(4.0, 4.0, 6.0))
    for index in range(1, 5):  # cases only (a cohort's clinical.xlsx needs openpyxl)
        case = generate_case(f"PHANTOM_{index:03d}", index, phantom)
        write_volume(case.image, work / "cohort" / "cases" / case.case_id / "image.nii.gz")
        write_volume(case.labels, work / "cohort" / "cases" / case.case_id / "label.nii.gz")
    prepare_dataset(PrepareConfig(format="pairs", root=work / "cohort", out=work / "cache"))
    config = load_train_config(
        "liver",
        preset="cpu-small",
        overrides={"device": device, "amp": "auto", "max_epochs": 2, "persistent_cache": True},
    )
    if tiny:
        config = replace(config, max_epochs=1)
    split = Split("e2e", ("PHANTOM_001", "PHANTOM_002", "PHANTOM_003"), ("PHANTOM_004",), ())
    start = time.perf_counter()
    result = train(config, data=work / "cache", split=split, out=work / "run", progress=False)
    train_s = time.perf_counter() - start
    image = work / "cohort" / "cases" / "PHANTOM_004" / "image.nii.gz"
    args = [
        "predict",
        "-i",
        str(image),
        "-o",
        str(work / "pred"),
        "--model",
        str(result.bundle_dir),
    ]
    start = time.perf_counter()
    try:
        cli([*args, "--device", device])
    except SystemExit as done:
        if done.code:
            raise RuntimeError(f"smoothseg predict exited {done.code}") from None
    stats = json.loads((work / "pred" / "statistics.json").read_text())
    return {
        "train_seconds": train_s,
        "epoch_seconds": [row["train_seconds"] for row in result.history],
        "val_dice": result.best_score,
        "amp": config.amp,
        "predict_seconds": time.perf_counter() - start,
        "predict_status": stats["status"],
        "predict_options": {k: stats["options"].get(k) for k in ("amp", "auto_sw_batch")},
    }


def paper_bundles(work: Path, tiny: bool) -> dict[str, Any]:
    from smoothseg.bundle import load_bundle, save_bundle
    from smoothseg.models.registry import build_model
    from smoothseg.training import load_train_config

    out = {}
    for stage in ("liver", "tumor"):
        overrides: dict[str, Any] = {"device": "cpu"}
        config = load_train_config(stage, preset="paper", overrides=overrides)
        if tiny:
            small = replace(config.model, init_filters=4, vae_nz=16, roi_size=(32, 32, 16))
            config = replace(
                config, model=small, preprocess=replace(config.preprocess, roi_size=(32, 32, 16))
            )
        folder = save_bundle(work / stage, build_model(config.model, seed=0), config)
        out[stage] = load_bundle(folder)
    return out


def time_windows(bundle: Any, image: np.ndarray, device: str, amp: bool, auto: bool) -> dict:
    from smoothseg.inference.stages import probabilities
    from smoothseg.models.sliding import auto_sw_batch_size

    bundle.model.to(device)
    batch = 2
    if auto:
        dtype = torch.float16 if amp else None
        batch = auto_sw_batch_size(
            bundle.model, bundle.sliding_window.roi_size, device, dtype=dtype
        )
    runs = []
    for _ in range(2 if device.startswith("cuda") else 1):
        start = time.perf_counter()
        probs = probabilities(
            bundle, image, overlap=0.5, sw_batch_size=batch, device=device, amp=amp
        )
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        runs.append(time.perf_counter() - start)
    bundle.model.to("cpu")
    return {"device": device, "amp": amp, "windows_per_pass": batch, "seconds_runs": runs,
            "seconds": runs[-1], "finite": bool(np.isfinite(probs).all())}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT", str(HERE / "results")))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="Tiny widths and volumes (smoke).")
    parser.add_argument("--cpu-liver", action="store_true", help="Also time the CPU (slow).")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = args.device
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else "CPU"
    result: dict[str, Any] = {
        "benchmark": "gpu_check_e2e",
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "device": name,
        "torch": torch.__version__,
        "errors": [],
    }

    def save() -> None:
        (out / "gpu_check_e2e.json").write_text(json.dumps(result, indent=2, default=str) + "\n")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            result["train_predict"] = train_and_predict(work / "e2e", device, args.tiny)
            print(json.dumps(result["train_predict"]), flush=True)
        except Exception as exc:
            result["errors"].append(f"train/predict: {exc!r}")
            traceback.print_exc()
        save()
        rng = np.random.default_rng(0)
        shapes = {"liver": (512, 512, 100), "tumor": (256, 256, 64)}
        if args.tiny:
            shapes = {"liver": (64, 64, 24), "tumor": (48, 48, 20)}
        rows = []
        try:
            bundles = paper_bundles(work / "bundles", args.tiny)
            for stage, bundle in bundles.items():
                image = rng.random(shapes[stage], dtype=np.float32)
                settings = [(device, False, False), (device, True, True)]
                if args.cpu_liver and stage == "liver" and device != "cpu":
                    settings.append(("cpu", False, False))
                for run_on, amp, auto in settings:
                    row = {"stage": stage, "shape": list(shapes[stage])}
                    row.update(time_windows(bundle, image, run_on, amp and run_on != "cpu", auto))
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    save()
        except Exception as exc:
            result["errors"].append(f"paper windows: {exc!r}")
            traceback.print_exc()
        result["paper_windows"] = rows
    tp = result.get("train_predict", {})
    cells = []
    for row in rows:
        label = f"{row['device']} {'fp16' if row['amp'] else 'fp32'} x{row['windows_per_pass']}"
        cells.append(f"{row['stage']} {label} {row['seconds']:.2f}s")
    result["line"] = (
        f"- {result['when']} · gpu_check_e2e · {name}, torch {result['torch']} · train() on 3 "
        f"phantoms (cpu-small liver, amp {tp.get('amp')}, persistent cache) epochs "
        f"{', '.join(f'{s:.1f}s' for s in tp.get('epoch_seconds', []))}, val Dice "
        f"{float(tp.get('val_dice') or float('nan')):.3f}, then predict with its bundle "
        f"{tp.get('predict_seconds', 0):.1f}s "
        f"({tp.get('predict_status')}) · paper-width SegResNetVAE sliding window (random weights, "
        f"overlap 0.5; liver 512x512x100, tumor box 256x256x64; baseline fp32 x2 windows): "
        f"{'; '.join(cells)}" + (f" · errors: {result['errors']}" if result["errors"] else "")
    )
    save()
    print(result["line"])
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
