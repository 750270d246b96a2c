"""Predict a replication's test cases with every compared pipeline and score them.

Every variant runs the full pipeline on the cached CT (:class:`~smoothseg.predict.Predictor`
then :meth:`~smoothseg.predict.Predictor.finish`): for two-step variants the
**predicted** liver defines the tumor stage's box and mask, never the ground truth. Contour
refinement (Chan-Vese) is a predict-time switch; smoothing is the α the tumor model was trained
with. Variants sharing their models share one model pass.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from smoothseg.bundle import load_bundle
from smoothseg.datasets.cache import load_cached_case
from smoothseg.datasets.splits import Split
from smoothseg.evaluation.case import EvaluationConfig, evaluate_volumes
from smoothseg.evaluation.records import case_row, per_case_columns
from smoothseg.evaluation.strata import read_clinical_sizes_cm
from smoothseg.io.api import write_volume
from smoothseg.io.atomic import atomic_output
from smoothseg.predict.config import PredictConfig
from smoothseg.predict.predictor import Predictor

CASES_CSV = "cases.csv"
PREDICTIONS = "predictions"
#: Called before each model pass with (description, index from 0, total).
PredictProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Variant:
    """One compared pipeline.

    Attributes:
        name: Identifier (column ``variant`` of ``cases.csv``).
        label: Row label in the tables.
        first: Training step of the first model (liver stage, or a multi-class model).
        tumor: Training step of the tumor stage (``None`` for multi-class variants).
        refine: Chan-Vese contour refinement on.
        two_step: Global liver model then local tumor model.
        smoothing: Knowledge-informed label smoothing in training.

    """

    name: str
    label: str
    first: str
    tumor: str | None
    refine: bool
    two_step: bool
    smoothing: bool


SMOOTHSEGNET = "smoothsegnet"
ABLATION = {
    "I": "ablation_multiclass",
    "II": "two_step",
    "III": "two_step_smoothing",
    "IV": "two_step_contour",
    "V": SMOOTHSEGNET,
}


def baseline_variant(model: str) -> str:
    """Variant name of a multi-class baseline."""
    return f"baseline_{model}"


def variants(
    baselines: Sequence[str], ablation_model: str, labels: Mapping[str, str]
) -> list[Variant]:
    """Every variant: SmoothSegNet, the ablation models II-IV and I, then the baselines."""
    out = [
        Variant(SMOOTHSEGNET, "SmoothSegNet (proposed)", "liver", "tumor_smooth", True, True, True),
        Variant("two_step", "two-step", "liver", "tumor_plain", False, True, False),
        Variant(
            "two_step_smoothing", "two-step + smoothing", "liver", "tumor_smooth", False, True, True
        ),
        Variant(
            "two_step_contour", "two-step + contour", "liver", "tumor_plain", True, True, False
        ),
        Variant(  # Table 5 row I: the plain multi-class model (no contour, no smoothing)
            ABLATION["I"],
            f"multi-class {labels.get(ablation_model, ablation_model)}",
            f"multiclass_{ablation_model}",
            None,
            False,
            False,
            False,
        ),
    ]
    for model in baselines:
        out.append(
            Variant(
                baseline_variant(model),
                labels.get(model, model),
                f"multiclass_{model}",
                None,
                False,
                False,
                False,
            )
        )
    return out


def predict_and_score(
    *,
    cache: Path,
    split: Split,
    variant_list: Sequence[Variant],
    bundles: Mapping[str, Path],
    predict: PredictConfig,
    evaluation: EvaluationConfig,
    folder: Path,
    progress: PredictProgress | None = None,
) -> Path:
    """Predict and score every test case with every variant.

    Writes ``cases.csv`` and the label maps ``predictions/<variant>/<case>.nii.gz`` into
    ``folder``; returns the CSV path.
    """
    sizes = None
    if evaluation.size_rule != "mask" and evaluation.clinical is not None:
        sizes = read_clinical_sizes_cm(evaluation.clinical)
    groups: dict[tuple[str, str | None], list[Variant]] = {}
    for v in variant_list:
        groups.setdefault((v.first, v.tumor), []).append(v)
    rows: list[dict[str, str]] = []
    total = len(groups) * len(split.test)
    done = 0
    for (first, tumor), members in groups.items():
        base = replace(predict, preview=False)
        liver_bundle = load_bundle(bundles[first], device=base.device)
        tumor_bundle = None if tumor is None else load_bundle(bundles[tumor], device=base.device)
        predictors = {
            v.name: Predictor(liver_bundle, tumor_bundle, replace(base, refine=v.refine))
            for v in members
        }
        for case_id in split.test:
            if progress is not None:
                progress(f"{first}{'+' + tumor if tumor else ''}: {case_id}", done, total)
            done += 1
            cached = load_cached_case(cache, case_id)
            raw = predictors[members[0].name].run_stages(cached.image)
            for v in members:
                prediction = predictors[v.name].finish(raw)
                path = folder / PREDICTIONS / v.name / f"{case_id}.nii.gz"
                write_volume(prediction.labels, path, reference=prediction.image, overwrite=True)
                result = evaluate_volumes(
                    prediction.labels,
                    cached.label,
                    case_id=case_id,
                    patient_id=cached.row.patient_id or case_id,
                    config=evaluation,
                    clinical_sizes_cm=sizes,
                    pred_path=path.relative_to(folder),
                    ref_path=f"{cache}#{case_id}",
                )
                rows.append(
                    {
                        "replication": split.name,
                        "variant": v.name,
                        "status_prediction": prediction.status,
                        **case_row(result),
                    }
                )
    return write_cases_csv(folder / CASES_CSV, rows)


def write_cases_csv(path: Path, rows: Sequence[Mapping[str, str]]) -> Path:
    """Write the per-case results of one replication (atomically)."""
    columns = ["replication", "variant", "status_prediction", *per_case_columns()]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    return path
