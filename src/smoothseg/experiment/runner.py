"""Run an experiment and write its tables, figures and ``report.md``.

Per replication: clinical fit → training → prediction → scoring. The training runs of all
replications are independent jobs (:mod:`smoothseg.experiment.jobs`), run one at a time or
over ``workers`` processes.

Output folder ``OUT/``::

    experiment.json          the resolved ExperimentConfig (a re-run must match it)
    splits.json              the replications (format of ``smoothseg split``)
    cache/                   the prepared cache, when --data was a phantom cohort
    runs/replication_N/      clinical/ (soft labels), liver/, tumor_smooth/, tumor_plain/,
                             multiclass_<model>/ (training runs; ablation I is one of them),
                             evaluation/ (cases.csv, predictions/<variant>/<case>.nii.gz)
    results/cases.csv        every replication's per-case results
    tables/                  table2_liver, table3_tumor, table4_tumor_size, table5_ablation
                             (pooled) and <name>_per_case (.md, .csv, .tex), with p-values
    figures/                 figure_c1_steps.png, figure_d1_smoothing.png, figure4_samples.png
    report.md

Every step folder holds ``step_config.json`` and, once finished, ``done.json`` (written last);
finished steps are skipped on a re-run.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from smoothseg.clinical.report import SOFT_LABELS, write_outputs
from smoothseg.datasets.splits import Split
from smoothseg.errors import InputError, OutputExistsError
from smoothseg.evaluation.case import EvaluationConfig
from smoothseg.experiment.config import ExperimentConfig
from smoothseg.experiment.data import (
    ExperimentData,
    check_data,
    experiment_splits,
    fit_soft_labels,
    resolve_data,
)
from smoothseg.experiment.jobs import TrainJob, run_train_jobs
from smoothseg.experiment.predict import CASES_CSV, Variant, predict_and_score, variants
from smoothseg.experiment.steps import (
    TIMING_FILE,
    RunLog,
    TrainStep,
    is_done,
    record_wall_time,
    run_step,
    train_step_config,
    write_json,
)
from smoothseg.experiment.tables import MODEL_LABELS
from smoothseg.training.data import read_soft_labels

CONFIG_FILE = "experiment.json"
OWNED = (
    "runs",
    "results",
    "tables",
    "figures",
    "cache",
    "splits.json",
    "report.md",
    TIMING_FILE,
    CONFIG_FILE,
)
Log = Callable[[str], None]


@dataclass(frozen=True)
class ExperimentResult:
    """Where everything went."""

    out: Path
    report: Path
    results_csv: Path
    tables: dict[str, dict[str, Path]]
    figures: dict[str, Path]
    log: RunLog
    seconds: float


def _claim(out: Path, config: ExperimentConfig, *, overwrite: bool, resume: bool) -> None:
    saved = out / CONFIG_FILE
    if overwrite:
        for name in OWNED:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    elif saved.is_file():
        if not resume:
            raise OutputExistsError(saved)
        old = json.loads(saved.read_text(encoding="utf-8"))
        if old != json.loads(json.dumps(config.to_dict())):
            raise InputError(
                saved,
                "this folder holds an experiment with another config; use another --out or "
                "pass --overwrite",
            )
    elif out.is_dir() and any(not p.name.endswith(".log.jsonl") for p in out.iterdir()):
        raise InputError(out, "exists and is not an experiment folder; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    write_json(saved, config.to_dict())


def train_steps(config: ExperimentConfig) -> list[TrainStep]:
    """The models one replication trains."""
    stages = config.stages
    steps = [
        TrainStep("liver", stages.liver),
        TrainStep("tumor_smooth", config.tumor_config(smoothing=True), smoothing=True),
        TrainStep("tumor_plain", config.tumor_config(smoothing=False)),
    ]
    # ablation I is the plain multi-class model: the baseline's run when it is one
    steps += [TrainStep(f"multiclass_{m}", stages.multiclass[m]) for m in config.multiclass_models]
    return steps


def experiment_variants(config: ExperimentConfig) -> list[Variant]:
    """The compared pipelines of this experiment."""
    return variants(config.baselines, config.ablation_model, MODEL_LABELS)


def evaluation_config(config: ExperimentConfig, data: ExperimentData) -> EvaluationConfig:
    """Scoring options of the experiment."""
    return EvaluationConfig(
        lesion_iou_threshold=config.lesion_iou_threshold,
        percentile=config.percentile,
        size_rule=config.size_rule,  # type: ignore[arg-type]  # checked by EvaluationConfig
        size_threshold_cm=config.size_threshold_cm,
        clinical=data.clinical_table if config.size_rule != "mask" else None,
    )


def _timed(log: RunLog, name: str, ran: bool, start: float) -> None:
    (log.ran if ran else log.skipped).append(name)
    if ran:
        log.seconds[name] = round(time.perf_counter() - start, 1)


def prepare_replication(
    config: ExperimentConfig,
    data: ExperimentData,
    split: Split,
    folder: Path,
    *,
    say: Log,
    log: RunLog,
    skip: bool = True,
) -> tuple[list[TrainJob], dict[str, Path], dict[str, Any]]:
    """Fit the replication's soft labels and list its training runs.

    Returns:
        The unfinished training jobs, every step's bundle folder and every step's config.

    """
    trainable = sorted({*split.train, *split.val})
    clinical_cfg = {
        "clinical": config.clinical.to_dict(),
        "table": str(data.clinical_table.resolve()),
        "split": {"train": trainable, "test": list(split.test)},
    }

    def clinical_work(target: Path) -> None:
        fit, _ = fit_soft_labels(data, split, config.clinical)
        write_outputs(fit, target, overwrite=True)

    start = time.perf_counter()
    _, ran = run_step(folder / "clinical", clinical_cfg, clinical_work, skip=skip)
    say(
        f"{split.name}: clinical TLVR model on {len(trainable)} training cases"
        + ("" if ran else " finished earlier, skipped")
    )
    _timed(log, f"{split.name}/clinical", ran, start)
    soft = {
        k: v
        for k, v in read_soft_labels(folder / "clinical" / SOFT_LABELS).items()
        if k in trainable
    }
    jobs: list[TrainJob] = []
    bundles: dict[str, Path] = {}
    step_configs: dict[str, Any] = {}
    for step in train_steps(config):
        step_cfg = train_step_config(step, split)
        if step.smoothing:
            step_cfg["soft_labels"] = {k: round(v, 8) for k, v in sorted(soft.items())}
        step_configs[step.name] = step_cfg
        target = folder / step.name
        bundles[step.name] = target / "bundle"
        if skip and is_done(target, step_cfg):
            log.skipped.append(f"{split.name}/{step.name}")
            say(f"{split.name}: {step.name} finished earlier, skipped")
            continue
        jobs.append(
            TrainJob(f"{split.name}/{step.name}", step, step_cfg, target, data.cache, split, soft)
        )
    return jobs, bundles, step_configs


def evaluate_replication(
    config: ExperimentConfig,
    data: ExperimentData,
    split: Split,
    folder: Path,
    bundles: dict[str, Path],
    step_configs: dict[str, Any],
    *,
    say: Log,
    log: RunLog,
    skip: bool = True,
) -> Path:
    """Predict and score the replication's test cases; returns its ``cases.csv``."""
    variant_list = experiment_variants(config)
    eval_cfg = evaluation_config(config, data)
    predict_cfg = config.predict
    eval_step = {
        "variants": [v.name for v in variant_list],
        "predict": json.loads(json.dumps(predict_cfg.__dict__)),
        "evaluation": {k: str(v) for k, v in eval_cfg.__dict__.items()},
        "test": list(split.test),
        "models": step_configs,
    }

    def eval_work(target: Path) -> Path:
        return predict_and_score(
            cache=data.cache,
            split=split,
            variant_list=variant_list,
            bundles=bundles,
            predict=predict_cfg,
            evaluation=eval_cfg,
            folder=target,
            progress=lambda what, i, n: say(f"{split.name}: predict {i + 1}/{n} {what}"),
        )

    say(
        f"{split.name}: predicting {len(split.test)} test case(s) with {len(variant_list)} "
        "pipelines and scoring"
    )
    start = time.perf_counter()
    _, ran = run_step(folder / "evaluation", eval_step, eval_work, skip=skip)
    _timed(log, f"{split.name}/evaluation", ran, start)
    return folder / "evaluation" / CASES_CSV


def run_experiment(
    config: ExperimentConfig,
    *,
    data: str | Path,
    out: str | Path,
    overwrite: bool = False,
    resume: bool = True,
    clinical_table: str | Path | None = None,
    progress: bool = True,
    say: Log | None = None,
    workers: int = 1,
) -> ExperimentResult:
    """Run (or resume) the experiment and write its report (see the module docs).

    Args:
        config: The experiment.
        data: Prepared cache folder, or a phantom cohort (prepared into ``out/cache``).
        out: Output folder.
        overwrite: Remove an earlier experiment's outputs in ``out`` first.
        resume: Continue an earlier run of the same config (finished steps are skipped);
            without it an existing experiment in ``out`` is an error.
        clinical_table: Clinical table (overrides the config's ``clinical_table``).
        progress: Show the trainers' progress bars.
        say: Receives one line per step.
        workers: Training processes at once (:mod:`smoothseg.experiment.jobs`); the results
            do not depend on it beyond floating-point rounding.

    Raises:
        OutputExistsError: ``out`` holds an experiment and neither resume nor overwrite.
        InputError: Bad data, clinical table, or an ``out`` holding another experiment.

    """
    from smoothseg.experiment.report import write_report

    started = time.perf_counter()
    tell = say or (lambda _: None)
    folder = Path(out).expanduser()
    check_data(data)
    _claim(folder, config, overwrite=overwrite, resume=resume)
    table = clinical_table or config.clinical_table
    experiment_data = resolve_data(data, folder, clinical_table=table)
    splits = experiment_splits(
        experiment_data.rows,
        replications=config.replications,
        test_fraction=config.test_fraction,
        val_fraction=config.val_fraction,
        seed=config.split_seed,
        out=folder / "splits.json",
    )
    log = RunLog()
    prepared = [
        prepare_replication(
            config, experiment_data, split, folder / "runs" / split.name, say=tell, log=log
        )
        for split in splits
    ]
    jobs = [job for replication_jobs, _, _ in prepared for job in replication_jobs]
    trained = run_train_jobs(jobs, workers=workers, progress=progress, say=tell)
    log.ran.extend(trained)
    log.seconds.update(trained)
    csvs = [
        evaluate_replication(
            config,
            experiment_data,
            split,
            folder / "runs" / split.name,
            bundles,
            step_configs,
            say=tell,
            log=log,
        )
        for split, (_, bundles, step_configs) in zip(splits, prepared, strict=True)
    ]
    results = pd.concat([pd.read_csv(p) for p in csvs], ignore_index=True)
    results_csv = folder / "results" / CASES_CSV
    results_csv.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(results_csv, index=False)
    tell("writing tables, figures and report.md")
    seconds = time.perf_counter() - started
    compute = record_wall_time(folder, seconds, len(log.ran))
    report = write_report(
        config,
        experiment_data,
        splits,
        results,
        folder,
        variant_list=experiment_variants(config),
        log=log,
        seconds=seconds,
        compute_seconds=compute,
    )
    return ExperimentResult(
        folder, report.report, results_csv, report.tables, report.figures, log, seconds
    )
