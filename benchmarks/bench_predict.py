"""End-to-end ``smoothseg predict`` on a 512x512x96 CT, against a brute-force reference.

* **smoothseg** — :func:`smoothseg.predict.predict_scan` with the shipped default model
  and default options (read → liver stage at the bundle's spacing → clean → tumor stage on the
  liver box → Chan-Vese → statistics → label map, masks, preview), in a fresh process.
* **reference** — the configuration the acceptance names: both stages' models run by sliding
  window at the CT's native resolution over the full volume with overlap 0.8 (the tumor stage
  over the whole volume too, no liver crop). Run in a fresh process under a time cap; when it
  exceeds the cap the reported time is a lower bound (the cap), next to an estimate from the
  number of windows times the measured time per window.

The CT is a ``--size paper`` phantom case (512 x 512 x 96 at 0.75 x 0.75 x 2.5 mm). Peak RSS is
each child process's own ``ru_maxrss``. Writes ``benchmarks/results/predict.json`` and appends
one line to ``benchmarks/RESULTS.md``.

Usage: ``.venv/bin/python benchmarks/bench_predict.py [--cap 240]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine_info import cpu_name, record

HERE = Path(__file__).resolve().parent
BASELINE = "reference (native-resolution full-volume sliding window, overlap 0.8, both stages)"


def machine() -> str:
    """CPU model and core count."""
    cpu = cpu_name()
    return f"{cpu}, {os.cpu_count()} cores"


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def child_smoothseg(image: str, out: str) -> dict[str, object]:
    """Time the shipped pipeline end to end (imports excluded, model loading included)."""
    from smoothseg.predict import PredictConfig, Predictor
    from smoothseg.predict.scan import predict_scan

    start = time.perf_counter()
    predictor = Predictor.from_model_dir(None, PredictConfig(masks=True))
    load_s = time.perf_counter() - start
    result = predict_scan(predictor, image, out, overwrite=True)
    total = time.perf_counter() - start
    timings = dict(result.statistics["timings_s"])
    timings["load_models_s"] = round(load_s, 3)
    return {"seconds": total, "stages": timings, "peak_rss_gib": _peak_gib()}


def child_reference(image: str, cap: float) -> dict[str, object]:
    """Brute force: both models at native resolution over the whole volume, overlap 0.8."""
    import numpy as np
    import torch

    from smoothseg.bundle import default_model_dir, load_bundle
    from smoothseg.inference.stages import probabilities
    from smoothseg.io import read_volume
    from smoothseg.preprocess import window_hu

    start = time.perf_counter()
    ct = read_volume(image, kind="image")
    folder = default_model_dir()
    stages: dict[str, float] = {}
    estimate = 0.0
    for name in ("liver", "tumor"):
        bundle = load_bundle(folder / name)
        x = window_hu(np.asarray(ct.array), bundle.preprocessing.hu_window)
        roi = bundle.sliding_window.roi_size
        n_windows = math.prod(
            max(1, math.ceil((n - r) / max(1, int(r * 0.2))) + 1)
            for n, r in zip(x.shape, roi, strict=True)
        )
        sample = torch.zeros((4, 1, *roi))
        with torch.no_grad():
            bundle.model(sample[:1])
            t = time.perf_counter()
            bundle.model(sample)
            per_window = (time.perf_counter() - t) / 4
        estimate += n_windows * per_window
        print(
            json.dumps({"stage": name, "windows": n_windows, "estimate_s": n_windows * per_window}),
            flush=True,
        )
        t = time.perf_counter()
        probabilities(bundle, x, overlap=0.8)
        stages[f"{name}_s"] = time.perf_counter() - t
        print(json.dumps({"stage_done": name, "seconds": stages[f"{name}_s"]}), flush=True)
    return {
        "seconds": time.perf_counter() - start,
        "stages": stages,
        "estimate_s": estimate,
        "peak_rss_gib": _peak_gib(),
        "cap_s": cap,
    }


def run_child(args: list[str], timeout: float) -> tuple[dict[str, object] | None, list[str]]:
    """Run this script as a child; return its final JSON (None on timeout) and its lines."""
    try:
        done = subprocess.run(
            [sys.executable, __file__, *args], capture_output=True, text=True, timeout=timeout
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        return json.loads(lines[-1]), lines
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return None, out.strip().splitlines()


def main() -> None:
    """Run both configurations and record the result."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cap", type=float, default=240.0, help="Reference time cap, seconds.")
    parser.add_argument("--child", choices=["smoothseg", "reference"])
    parser.add_argument("--image", default="")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.child == "smoothseg":
        print(json.dumps(child_smoothseg(args.image, args.out)))
        return
    if args.child == "reference":
        print(json.dumps(child_reference(args.image, args.cap)))
        return

    import numpy as np

    from smoothseg.phantom import generate_cohort

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        generate_cohort(Path(tmp) / "cohort", 1, seed=7, size="paper")
        image = Path(tmp) / "cohort" / "cases" / "PHANTOM_001" / "image.nii.gz"
        ours, _ = run_child(
            ["--child", "smoothseg", "--image", str(image), "--out", f"{tmp}/o"], 600
        )
        assert ours is not None, "the smoothseg run exceeded 600 s"
        ref, lines = run_child(["--child", "reference", "--image", str(image)], args.cap)
        import nibabel as nib

        shape = list(nib.load(image).shape)
    if ref is None:
        estimate = sum(json.loads(x).get("estimate_s", 0.0) for x in lines if x.startswith("{"))
        ref = {
            "seconds": args.cap,
            "lower_bound": True,
            "estimate_s": estimate,
            "cap_s": args.cap,
            "log": lines,
        }
    else:
        ref["lower_bound"] = False
    ratio = float(ref["seconds"]) / float(ours["seconds"])  # type: ignore[arg-type]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result = {
        "when": stamp,
        "machine": machine(),
        "load_at_start": load,
        "torch_threads": __import__("torch").get_num_threads(),
        "ct": {"shape": shape, "spacing_mm": [0.75, 0.75, 2.5], "source": "phantom --size paper"},
        "smoothseg": ours,
        "baseline": BASELINE,
        "reference": ref,
        "speedup": ratio,
        "numpy": np.__version__,
    }
    st = ours["stages"]
    split = ", ".join(f"{k[:-2]} {v:.1f}s" for k, v in st.items())  # type: ignore[union-attr]
    bound = "≥" if ref["lower_bound"] else ""
    extra = f", est. {float(ref['estimate_s']):.0f}s" if ref.get("estimate_s") else ""
    line = (
        f"- {stamp} · bench_predict · {machine()}, load {load:.1f} at start · end-to-end predict "
        f"on a {'x'.join(map(str, shape))} CT (0.75x0.75x2.5 mm phantom), default model: "
        f"smoothseg {float(ours['seconds']):.1f}s, peak RSS {float(ours['peak_rss_gib']):.2f} GiB "  # type: ignore[arg-type]
        f"({split}) vs {BASELINE}: {bound}{float(ref['seconds']):.0f}s{extra} "  # type: ignore[arg-type]
        f"(x{bound}{ratio:.1f})\n"
    )
    record("predict", result, line)


if __name__ == "__main__":
    main()
