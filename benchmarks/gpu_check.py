"""GPU check: paper-config SegResNetVAE training it/s (fp32 vs AMP) and end-to-end predict.

One prepared script for a GPU machine (it runs on CPU too, with ``--tiny``, to test it):

* **training**: the ``paper`` preset's SegResNetVAE (init_filters 16, vae_nz 256) for the
  liver stage (ROI 512x512x16) and the tumor stage (ROI 256x256x32, knowledge-informed loss),
  batch 1 as in SB3: optimisation steps (:meth:`smoothseg.training.trainer.Trainer.step`:
  forward with the VAE branch, Dice + focal (+ TLVR) + VAE loss, backward, Adam) on a batch
  already on the device, in float32 (the baseline), float16 AMP with gradient scaling and
  bfloat16 AMP; cuDNN benchmark on. Reported: iterations/s (median-free: total steps / total
  time after warm-up) and peak GPU memory.
* **predict**: a synthetic ``paper``-size phantom CT of 512x512x100 voxels (0.75x0.75x2.5 mm),
  written as NIfTI, through :func:`smoothseg.predict.predict_scan` with the shipped
  default model (read → liver stage → clean → tumor stage → Chan-Vese → statistics → outputs):
  on CPU (the baseline, same machine, same run), on the GPU in float32 with 2 windows per pass,
  and on the GPU with float16 AMP and the window batch tuned to memory. Each GPU setting runs
  twice (the first includes cuDNN autotuning); the second is reported.

Writes ``<out>/gpu_check.json`` and prints one ``RESULTS.md``-style line (the caller appends it
to ``benchmarks/RESULTS.md`` with the device named). Parts that would exceed ``--budget-s`` are
skipped and say so.

Usage: ``python benchmarks/gpu_check.py --out DIR`` (GPU) or ``--tiny --device cpu`` (smoke).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

PRECISIONS = {"fp32": ("off", "float16"), "fp16": ("auto", "float16"), "bf16": ("auto", "bfloat16")}
TINY = {
    "liver": {"roi_size": [32, 32, 16]},
    "tumor": {"roi_size": [32, 32, 16], "target_spacing_mm": "keep"},
}


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name} ({props.total_memory / 2**30:.0f} GiB)"
    return f"CPU {platform.processor() or platform.machine()} x{os.cpu_count()}"


def train_config(
    stage: str, precision: str, device: torch.device, tiny: bool, compile_model: bool = False
) -> Any:
    from smoothseg.training import build_train_config
    from smoothseg.training.config import merge, preset_data

    amp, dtype = PRECISIONS[precision]
    train = {"amp": amp, "amp_dtype": dtype, "device": str(device), "cudnn_benchmark": "on"}
    train["compile"] = compile_model
    if device.type == "cpu" and amp != "off":
        train["amp"] = "on"  # asked explicitly (never automatic on CPU)
    data = merge(preset_data("paper"), {"train": train})
    if tiny:
        data = merge(data, {stage: TINY[stage], "model": {"init_filters": 4, "vae_nz": 16}})
    return build_train_config(stage, data, preset="paper")


def time_training(
    stage: str, precision: str, device: torch.device, args: Any, compile_model: bool = False
) -> dict[str, Any]:
    """Optimisation steps per second on a batch resident on the device."""
    from monai.data.dataset import Dataset
    from monai.transforms.compose import Compose

    from smoothseg.training.data import StageData
    from smoothseg.training.loss_registry import build_loss
    from smoothseg.training.trainer import Trainer

    config = train_config(stage, precision, device, args.tiny, compile_model)
    empty = StageData(Dataset([]), Dataset([]), Compose([]), (), ())
    with tempfile.TemporaryDirectory() as run:
        loss = build_loss(config.loss, classes=config.model.out_channels)
        trainer = Trainer(config, empty, Path(run), loss=loss, progress=False)
        trainer.model.train()
        roi = config.preprocess.roi_size
        g = torch.Generator().manual_seed(0)
        batch = {
            "image": torch.rand((config.batch_size, 1, *roi), generator=g).to(device),
            "label": torch.randint(0, 3 if stage == "tumor" else 2, (1, 1, *roi), generator=g)
            .long()
            .to(device),
            "soft_tlvr": torch.tensor([0.1]),
        }
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        for _ in range(args.warmup):
            trainer.step(batch)
        sync(device)
        warmup_s = time.perf_counter() - t0
        start = time.perf_counter()
        losses = []
        for _ in range(args.steps):
            losses.append(float(trainer.step(batch).total.detach()))
        sync(device)
        seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return {
        "stage": stage,
        "precision": precision + ("+compile" if compile_model else ""),
        "roi": list(roi),
        "batch": config.batch_size,
        "model": config.model.name,
        "init_filters": config.model.init_filters,
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "warmup_seconds": warmup_s,
        "seconds": seconds,
        "it_per_s": args.steps / seconds,
        "peak_gib": peak,
        "final_loss": losses[-1],
        "finite": all(map(lambda v: v == v and abs(v) != float("inf"), losses)),
    }


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_ct(folder: Path, tiny: bool) -> Path:
    from smoothseg.io import write_volume
    from smoothseg.phantom import PhantomConfig, generate_case

    config = (
        PhantomConfig.preset("small")
        if tiny
        else PhantomConfig.preset("paper", shape=(512, 512, 100))
    )
    case = generate_case("GPU_CHECK", 7, config)
    path = folder / "ct.nii.gz"
    write_volume(case.image, path)
    return path


def time_predict(image: Path, out: Path, label: str, **options: Any) -> dict[str, Any]:
    from smoothseg.predict import PredictConfig, Predictor
    from smoothseg.predict.scan import predict_scan

    device = str(options.get("device", "cpu"))
    start = time.perf_counter()
    predictor = Predictor.from_model_dir(None, PredictConfig(masks=True, **options))
    load_s = time.perf_counter() - start
    runs = []
    for attempt in range(2 if device.startswith("cuda") else 1):
        t = time.perf_counter()
        result = predict_scan(predictor, image, out / f"{label}{attempt}", overwrite=True)
        runs.append(time.perf_counter() - t)
    stats = result.statistics
    return {
        "label": label,
        "options": options,
        "load_models_s": load_s,
        "seconds_runs": runs,
        "seconds": runs[-1],
        "stages": stats["timings_s"],
        "sw_batch": {
            "liver": predictor.sw_batch_size(predictor.liver),
            "tumor": None if predictor.tumor is None else predictor.sw_batch_size(predictor.tumor),
        },
        "liver_ml": stats["liver_ml"],
        "tumor_ml": stats["tumor_ml"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT", str(HERE / "results")))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="Tiny ROIs and widths (CPU smoke).")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--budget-s", type=float, default=400.0)
    parser.add_argument("--skip-cpu-predict", action="store_true")
    parser.add_argument("--compile", action="store_true", help="Also time torch.compile (last).")
    args = parser.parse_args()
    began = time.perf_counter()
    device = torch.device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "benchmark": "gpu_check",
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "device": device_name(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "tiny": args.tiny,
        "training": [],
        "predict": [],
        "errors": [],
    }

    def left() -> float:
        return args.budget_s - (time.perf_counter() - began)

    def save() -> None:
        (out / "gpu_check.json").write_text(json.dumps(result, indent=2) + "\n")

    for stage in ("liver", "tumor"):
        for precision in ("fp32", "fp16", "bf16"):
            if left() < 60:
                result["errors"].append(f"skipped training {stage} {precision}: budget")
                continue
            try:
                row = time_training(stage, precision, device, args)
                result["training"].append(row)
                print(json.dumps(row), flush=True)
            except Exception as exc:  # record and go on: one failure must not lose the rest
                result["errors"].append(f"training {stage} {precision}: {exc!r}")
                traceback.print_exc()
            save()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        image = make_ct(work, args.tiny)
        result["phantom_seconds"] = time.perf_counter() - t
        import nibabel as nib

        result["ct_shape"] = list(nib.load(image).shape)
        settings: list[tuple[str, dict[str, Any]]] = []
        if device.type == "cuda":
            settings += [
                ("gpu-fp32", {"device": args.device}),
                ("gpu-amp-autobatch", {"device": args.device, "amp": True, "auto_sw_batch": True}),
            ]
        if not args.skip_cpu_predict:
            settings.append(("cpu", {"device": "cpu"}))
        for label, options in settings:
            if left() < 45:
                result["errors"].append(f"skipped predict {label}: budget")
                continue
            try:
                row = time_predict(image, work / "out", label, **options)
                result["predict"].append(row)
                print(json.dumps(row), flush=True)
            except Exception as exc:
                result["errors"].append(f"predict {label}: {exc!r}")
                traceback.print_exc()
            save()
    if args.compile and left() > 150:
        try:
            row = time_training("liver", "fp16", device, args, compile_model=True)
            result["training"].append(row)
            print(json.dumps(row), flush=True)
        except Exception as exc:
            result["errors"].append(f"training liver fp16+compile: {exc!r}")
            traceback.print_exc()
    elif args.compile:
        result["errors"].append("skipped torch.compile: budget")
    result["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    result["wall_s"] = time.perf_counter() - began
    result["line"] = results_line(result)
    save()
    print(result["line"])
    return 1 if result["errors"] else 0


def results_line(result: dict[str, Any]) -> str:
    train = {(r["stage"], r["precision"]): r for r in result["training"]}
    parts = []
    for stage in ("liver", "tumor"):
        base = train.get((stage, "fp32"))
        cells = []
        for precision in ("fp32", "fp16", "bf16", "fp16+compile"):
            row = train.get((stage, precision))
            if row is None:
                continue
            ratio = f", x{row['it_per_s'] / base['it_per_s']:.2f}" if base else ""
            peak = f", {row['peak_gib']:.1f} GiB" if row["peak_gib"] is not None else ""
            cells.append(f"{precision} {row['it_per_s']:.2f} it/s{peak}{ratio}")
        if cells:
            roi = "x".join(
                map(str, next(iter(r for k, r in train.items() if k[0] == stage))["roi"])
            )
            parts.append(f"{stage} ROI {roi}: " + "; ".join(cells))
    predict = {r["label"]: r for r in result["predict"]}
    cpu = predict.get("cpu")
    cells = []
    for label in ("gpu-fp32", "gpu-amp-autobatch", "cpu"):
        row = predict.get(label)
        if row is None:
            continue
        ratio = (
            f" (x{cpu['seconds'] / row['seconds']:.1f} vs CPU)" if cpu and label != "cpu" else ""
        )
        batch = f", windows/pass {row['sw_batch']['liver']}/{row['sw_batch']['tumor']}"
        cells.append(f"{label} {row['seconds']:.2f}s{batch}{ratio}")
    errors = f" · errors: {len(result['errors'])}" if result["errors"] else ""
    size = "tiny smoke config" if result["tiny"] else "paper config"
    shape = "x".join(map(str, result.get("ct_shape", [])))
    return (
        f"- {result['when']} · gpu_check · {result['device']}, torch {result['torch']} "
        f"(CUDA {result['cuda']}) · {size} SegResNetVAE training, batch 1, steps on a "
        f"device-resident batch (baseline fp32): {' | '.join(parts)} · end-to-end predict of "
        f"a {shape} phantom CT, default model (baseline CPU, same machine): "
        f"{'; '.join(cells)}{errors}"
    )


if __name__ == "__main__":
    sys.exit(main())
