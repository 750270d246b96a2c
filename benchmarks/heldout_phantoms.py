"""Held-out phantom accuracy of a model folder (the model card's "Held-out phantoms" table).

Generates ``--cases`` phantoms with ``--seed`` (default 3 with seed 1234: never in the default
model's training, which uses seed 0), predicts each with default ``smoothseg predict`` options and
scores liver (liver + tumor) and tumor Dice with ``smoothseg.evaluation``. ``--model DIR`` (default:
the shipped model) and ``--vs DIR`` (a second model, same cases, same run). Writes
``benchmarks/results/heldout_phantoms.json`` and appends one line to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from pathlib import Path

import numpy as np

from machine_info import cpu_name, load_average, record
from smoothseg.evaluation import confusion_counts, dice
from smoothseg.io import read_volume
from smoothseg.phantom import generate_cohort
from smoothseg.predict import PredictConfig, Predictor


def score(model: Path | None, cases: list[Path]) -> dict[str, dict[str, float]]:
    """Liver and tumor Dice per case of one model folder (``None``: the shipped model)."""
    predictor = Predictor.from_model_dir(model, PredictConfig())
    out = {}
    for case in cases:
        truth = np.asarray(read_volume(case / "label.nii.gz", kind="label").array)
        labels = np.asarray(predictor.predict(read_volume(case / "image.nii.gz")).labels.array)
        out[case.name] = {
            "liver_dice": float(dice(confusion_counts(labels >= 1, truth >= 1))),
            "tumor_dice": float(dice(confusion_counts(labels == 2, truth == 2))),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument("--vs", type=Path, default=None, help="second model folder, same run")
    parser.add_argument("--cases", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    where = f"{cpu_name()}, {os.cpu_count()} cores, load {load_average():.1f} at start"
    with tempfile.TemporaryDirectory() as tmp:
        generate_cohort(Path(tmp) / "cohort", args.cases, seed=args.seed)
        cases = sorted((Path(tmp) / "cohort" / "cases").iterdir())
        models = {"model": args.model, **({"vs": args.vs} if args.vs else {})}
        results = {name: score(path, cases) for name, path in models.items()}
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = []
    for name, per_case in results.items():
        cells = ", ".join(
            f"{c} {v['liver_dice']:.3f}/{v['tumor_dice']:.3f}" for c, v in per_case.items()
        )
        parts.append(f"{name} ({models[name] or 'shipped'}): {cells}")
        print(f"{name}: {cells}  (liver/tumor Dice)")
    line = (
        f"- {stamp} · heldout_phantoms · {where} · {args.cases} phantoms, seed {args.seed}, "
        f"liver/tumor Dice per case · " + "; ".join(parts)
    )
    record(
        "heldout_phantoms",
        {"timestamp": stamp, "machine": where, "seed": args.seed, "results": results},
        line,
    )


if __name__ == "__main__":
    main()
