"""Generation time per phantom case, for the ``small`` and ``paper`` sizes.

For each case the script times the three stages separately: drawing the case parameters and
measuring the reference tumor burden (``cohort_spec``, the fast path the clinical table uses),
rendering the image and labels in memory (``cohort_case``, which includes the first stage), and
writing image + label + structures as NIfTI. Ratios are against the ``small`` size measured in
the same run. Cases are the first ones of seed 0, so both sizes render the same anatomy.

Writes ``benchmarks/results/phantom.json`` and appends one line to ``benchmarks/RESULTS.md``.

Usage: ``.venv/bin/python benchmarks/bench_phantom.py [--small 6] [--paper 2]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

from machine_info import cpu_name, load_average, record
from smoothseg.io import write_volume
from smoothseg.phantom import PhantomConfig, cohort_case, cohort_spec

HERE = Path(__file__).resolve().parent
BASELINE = "small"


def machine() -> str:
    cpu = cpu_name()
    load = load_average()
    return f"{cpu}, {os.cpu_count()} cores, load {load:.1f} at start"


def time_size(size: str, n_cases: int, folder: Path) -> dict[str, object]:
    cfg = PhantomConfig.preset(size)
    rows: list[dict[str, object]] = []
    stages: dict[str, list[float]] = {"parameters": [], "render": [], "write": [], "total": []}
    for i in range(n_cases):
        t0 = time.perf_counter()
        cohort_spec(i, 0, cfg)
        t1 = time.perf_counter()
        case = cohort_case(i, 0, cfg)
        t2 = time.perf_counter()
        out = folder / size / case.case_id
        write_volume(case.image, out / "image.nii.gz")
        write_volume(case.labels, out / "label.nii.gz")
        write_volume(case.structures, out / "structures.nii.gz")
        t3 = time.perf_counter()
        for key, value in (
            ("parameters", t1 - t0),
            ("render", t2 - t1),
            ("write", t3 - t2),
            ("total", t3 - t1),
        ):
            stages[key].append(value)
        rows.append(
            {
                "case_id": case.case_id,
                **{f"{k}_s": round(v[-1], 3) for k, v in stages.items()},
                "n_tumors": case.spec.n_tumors,
                "tlvr": round(case.tlvr, 4),
            }
        )
    return {
        "size": size,
        "shape": "x".join(str(v) for v in cfg.shape),
        "spacing_mm": list(cfg.spacing_mm),
        "n_cases": n_cases,
        "cases": rows,
        **{f"median_{k}_s": statistics.median(v) for k, v in stages.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=6, help="cases at the small size")
    parser.add_argument("--paper", type=int, default=2, help="cases at the paper size")
    args = parser.parse_args()
    where = machine()
    with tempfile.TemporaryDirectory() as tmp:
        results = [
            time_size("small", args.small, Path(tmp)),
            time_size("paper", args.paper, Path(tmp)),
        ]
    base = float(str(results[0]["median_total_s"]))
    for r in results:
        r["ratio_vs_small"] = float(str(r["median_total_s"])) / base
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = {"timestamp": stamp, "machine": where, "baseline": BASELINE, "sizes": results}
    parts = []
    for r in results:
        parts.append(
            f"{r['size']} {r['shape']}: {r['median_total_s']:.2f}s/case "
            f"(x{r['ratio_vs_small']:.1f}; render {r['median_render_s']:.2f}s, write "
            f"{r['median_write_s']:.2f}s, parameters only {r['median_parameters_s']:.2f}s; "
            f"n={r['n_cases']})"
        )
    line = (
        f"- {stamp} · bench_phantom · {where} · median per case (render + NIfTI write), "
        f"ratio vs {BASELINE}: " + "; ".join(parts)
    )
    record("phantom", report, line)


if __name__ == "__main__":
    main()
