"""Benchmark of ``smoothseg compare`` on phantom follow-up pairs.

Per pair: registration + matching + measures (target <= 10 s), beside the time of the two
predictions with the shipped model (the baseline the response step is compared with); and the
accuracy of the RECIST 1.1 / mRECIST / volumetric categories against the phantom truth, once with
the truth masks as segmentation (checks the response code) and once with the shipped model's
segmentation (the issue's target, >= 95 %).

Writes ``benchmarks/results/response.json`` and appends one line to ``benchmarks/RESULTS.md``.

Usage: ``.venv/bin/python benchmarks/bench_response.py [--pairs 12] [--seed 2027]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

import torch

from machine_info import cpu_name, load_average, record
from smoothseg.phantom.followup import generate_followups
from smoothseg.response import compare

CRITERIA = ("recist", "mrecist", "volumetric")


def _truth_folders(root: Path, row: dict[str, Any]) -> tuple[Path, Path]:
    out = []
    for tp in ("baseline", "followup"):
        folder = root / "truth" / row["case_id"] / tp
        folder.mkdir(parents=True)
        shutil.copy(root / "pairs" / row["files"][tp], folder / "image.nii.gz")
        shutil.copy(root / "pairs" / row["files"][f"{tp}_labels"], folder / "labels.nii.gz")
        out.append(folder)
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()
    torch.set_num_threads(2)
    load = load_average()
    per_pair: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = json.loads(generate_followups(root / "pairs", args.pairs, args.seed).read_text())
        for row in rows["pairs"]:
            files = {k: root / "pairs" / v for k, v in row["files"].items()}
            art = {
                "arterial_baseline": files["baseline_arterial"],
                "arterial_followup": files["followup_arterial"],
            }
            base, follow = _truth_folders(root, row)
            truth_run = compare(
                base, follow, root / "out_truth" / row["case_id"], figures=False, **art
            )
            model_run = compare(
                files["baseline"],
                files["followup"],
                root / "out_model" / row["case_id"],
                figures=False,
                **art,
            )
            truth = {c: row[c] for c in CRITERIA}
            entry = {
                "case_id": row["case_id"],
                "scenario": row["scenario"],
                "truth": truth,
                "with_truth_masks": {k: v.category for k, v in truth_run.categories.items()},
                "with_model": {k: v.category for k, v in model_run.categories.items()},
                "model_rules": {k: v.rule for k, v in model_run.categories.items()},
                "timings_truth_s": truth_run.timings_s,
                "timings_model_s": model_run.timings_s,
                "model_lesions": [len(model_run.baseline_lesions), len(model_run.followup_lesions)],
                "truth_lesions": [len(truth_run.baseline_lesions), len(truth_run.followup_lesions)],
            }
            per_pair.append(entry)
            print(json.dumps(entry), flush=True)
    n = len(per_pair)

    def accuracy(source: str, crit: str) -> float:
        return sum(p[source].get(crit) == p["truth"][crit] for p in per_pair) / n

    def step_s(p: dict[str, Any]) -> float:
        t = p["timings_model_s"]
        return float(t["register_s"] + t["match_measure_s"])

    response_s = statistics.median(step_s(p) for p in per_pair)
    worst_s = max(step_s(p) for p in per_pair)
    predict_s = statistics.median(
        p["timings_model_s"]["predict_baseline_s"] + p["timings_model_s"]["predict_followup_s"]
        for p in per_pair
    )
    acc = {s: {c: accuracy(s, c) for c in CRITERIA} for s in ("with_truth_masks", "with_model")}
    result = {
        "pairs": per_pair,
        "accuracy": acc,
        "response_median_s": response_s,
        "response_max_s": worst_s,
        "two_predictions_median_s": predict_s,
        "load": load,
    }
    fmt = ", ".join
    line = (
        f"- {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · bench_response · {cpu_name()}, "
        f"{torch.get_num_threads()} threads, load {load:.1f} at start · {n} phantom follow-up "
        f"pairs (seed {args.seed}, small 128x128x48, scenarios CR/PR/SD/PD/new/lipiodol): "
        f"registration+matching+measures median {response_s:.2f}s/pair (max {worst_s:.2f}s; "
        f"target <= 10 s) vs baseline (the two predictions, shipped model) "
        f"{predict_s:.2f}s/pair (x{response_s / predict_s:.2f}) · category accuracy with truth "
        f"masks: {fmt(f'{c} {100 * v:.0f} %' for c, v in acc['with_truth_masks'].items())}; "
        f"with the shipped model: "
        f"{fmt(f'{c} {100 * v:.0f} %' for c, v in acc['with_model'].items())}"
        f" (target >= 95 %)"
    )
    record("response", result, line)


if __name__ == "__main__":
    main()
