"""``report.md``: scale, Tables 2-5 (pooled, per-case, p-values), Figures C1 and D1, timings."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from smoothseg.datasets.splits import Split
from smoothseg.experiment.config import ExperimentConfig
from smoothseg.experiment.data import ExperimentData
from smoothseg.experiment.figure_c1 import figure_c1_of_run
from smoothseg.experiment.figures import figure_d1, figure_samples, pick_cases
from smoothseg.experiment.formats import markdown, write_table
from smoothseg.experiment.predict import SMOOTHSEGNET, Variant
from smoothseg.experiment.steps import DONE, TIMING_FILE, RunLog, step_seconds
from smoothseg.experiment.tables import MODEL_LABELS, all_tables
from smoothseg.io.atomic import atomic_output
from smoothseg.training.config import TrainConfig
from smoothseg.version import __version__

PAPER_BASELINES = tuple(MODEL_LABELS)


@dataclass(frozen=True)
class ReportFiles:
    """The report and what it links to."""

    report: Path
    tables: dict[str, dict[str, Path]]
    figures: dict[str, Path]


def _widths(config: TrainConfig) -> str:
    m = config.model
    if m.channels:
        return f"channels {list(m.channels)}"
    return f"init_filters {m.init_filters}, blocks_down {list(m.blocks_down)}"


def _spacing(config: TrainConfig) -> str:
    spacing = config.preprocess.target_spacing_mm
    return "native" if spacing is None else "×".join(f"{s:g}" for s in spacing) + " mm"


def _stage_line(name: str, config: TrainConfig) -> str:
    return (
        f"| {name} | {config.model.name} | {_widths(config)} | {_spacing(config)} | "
        f"{'×'.join(str(r) for r in config.preprocess.roi_size)} | {config.max_epochs} | "
        f"{config.lr:g} | {config.loss.alpha:g} |"
    )


def scale_section(
    config: ExperimentConfig, data: ExperimentData, splits: Sequence[Split]
) -> list[str]:
    """What was run, stated plainly (cases, epochs, widths, baselines)."""
    spacings = sorted({"×".join(f"{s:g}" for s in r.spacing_mm) for r in data.rows})
    left_out = [MODEL_LABELS[m] for m in PAPER_BASELINES if m not in config.baselines]
    st = config.stages
    lines = [
        "## Scale of this run",
        "",
        f"- Experiment config: `{config.name}` (training preset `{config.train_preset}`).",
        f"- Data: {data.source} `{data.cache}` — {len(data.rows)} cases, voxel spacing "
        f"{', '.join(spacings)} mm; clinical table `{data.clinical_table}`.",
        *_cohort_line(data),
        f"- {len(splits)} replication(s), patient-level, seed {config.split_seed}: "
        + "; ".join(
            f"{s.name} {len(s.train)} train / {len(s.val)} val / {len(s.test)} test" for s in splits
        )
        + ".",
        f"- Baselines trained (multi-class): "
        f"{', '.join(MODEL_LABELS.get(m, m) for m in config.baselines) or 'none'}.",
        f"- Paper baselines left out: {', '.join(left_out) if left_out else 'none'}.",
        f"- Smoothing weight α = {config.alpha:g} (the unsmoothed twin: α = 0). Clinical model: "
        f"{config.clinical.model}, preset `{config.clinical.preset}`, soft-label mode "
        f"`{config.clinical.mode}` ({_MODES.get(config.clinical.mode, config.clinical.mode)}), "
        "fitted on each replication's training patients only.",
        f"- Contour refinement: morphological Chan-Vese, "
        f"{config.predict.chan_vese_iterations} iterations.",
        "- Minimum-lesion filter: "
        + (
            f"on — predicted tumor components under {config.predict.min_lesion_mm3:g} mm³ are "
            "removed in every variant (the paper has no such filter)."
            if config.predict.min_lesion_mm3 > 0
            else "off (as in the paper)."
        ),
        "- Liver neck cut: "
        + (
            f"on — the liver stage's foreground is cut at necks under "
            f"{2 * config.predict.liver_neck_mm:g} mm (not in the paper)."
            if config.predict.liver_neck_mm > 0
            else "off (as in the paper)."
        ),
        "",
        "| stage | model | widths | spacing | ROI | epochs | lr | α |",
        "|---|---|---|---|---|---|---|---|",
        _stage_line("liver (global)", st.liver),
        _stage_line("tumor (local), smoothed", config.tumor_config(smoothing=True)),
        _stage_line("tumor (local), unsmoothed", config.tumor_config(smoothing=False)),
        *(
            _stage_line(
                f"multi-class {m}" + (" (ablation I)" if m == config.ablation_model else ""),
                st.multiclass[m],
            )
            for m in config.multiclass_models
        ),
        "",
    ]
    if config.notes:
        lines += [config.notes.strip(), ""]
    return lines


def _cohort_line(data: ExperimentData) -> list[str]:
    """The phantom cohort's tumor sizes, when the data was one."""
    settings = data.cohort_settings()
    if "diameter_range_mm" not in settings:
        return []
    lo, hi = settings["diameter_range_mm"]
    return [
        f"- Phantom cohort: seed {settings.get('seed')}, largest tumor diameter log-normal with "
        f"median {settings.get('diameter_median_mm'):g} mm, truncated to {lo:g}-{hi:g} mm "
        f"(satellites too); 1 in {settings.get('strata')} livers tumor-free"
        + _noise_clause(settings)
        + "."
    ]


def _noise_clause(settings: dict[str, Any]) -> str:
    """``; image noise sd a-b HU per voxel`` when the cohort's settings record it."""
    noise = settings.get("noise_sigma_hu")
    if not noise or len(noise) != 2:
        return ""
    return f"; image noise sd {noise[0]:g}-{noise[1]:g} HU per voxel"


def duration(seconds: float) -> str:
    """``12.3 s`` under a minute, ``9.3 min`` from a minute on."""
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


_MODES = {
    "cross-fit": "out-of-fold soft labels, feature selection, log AFP",
    "paper": "the reference fit: OLS in-sample on Table A1's 15 features, raw AFP",
}


def smoothing_record(out: Path, splits: Sequence[Split]) -> list[str]:
    """Effective α and soft-label coverage of each tumor run, from its ``run.json``."""
    parts = []
    for split in splits:
        for step in ("tumor_smooth", "tumor_plain"):
            path = out / "runs" / split.name / step / "run.json"
            if not path.is_file():
                continue
            run = json.loads(path.read_text(encoding="utf-8"))
            alpha = run.get("alpha_effective")
            n = run.get("soft_label_train_cases")
            parts.append(
                f"{split.name} {step}: α {'?' if alpha is None else f'{alpha:g}'}, "
                f"{'?' if n is None else n} of {len(run.get('train', []))} training cases "
                "with a soft label"
            )
    if not parts:
        return []
    return ["- Smoothing as trained (each run's `run.json`): " + "; ".join(parts) + ".", ""]


def _no_liver(results: pd.DataFrame, variant_list: Sequence[Variant]) -> list[str]:
    """Say which predictions found no liver (scored as empty masks, never dropped)."""
    if "status_prediction" not in results:
        return []
    failed = results[results["status_prediction"] != "ok"]
    if failed.empty:
        return []
    labels = {v.name: v.label for v in variant_list}
    counts = {str(k): int(n) for k, n in failed["variant"].value_counts().items()}
    total = {str(k): int(n) for k, n in results["variant"].value_counts().items()}
    parts = [f"{labels.get(k, k)} {n} of {total[k]}" for k, n in sorted(counts.items())]
    return [
        "Test predictions in which the pipeline found no liver (scored as empty masks): "
        + "; ".join(parts)
        + ".",
        "",
    ]


def _step_times(out: Path, splits: Sequence[Split]) -> list[str]:
    """Seconds each step took (from its ``done.json``; earlier runs' steps included)."""
    names = sorted(
        {p.parent.name for s in splits for p in (out / "runs" / s.name).glob(f"*/{DONE}")},
        key=lambda n: (n != "clinical", n == "evaluation", n),
    )
    lines = ["| step | " + " | ".join(s.name for s in splits) + " |"]
    lines.append("|---|" + "---|" * len(splits))
    for name in names:
        cells = [f"{step_seconds(out / 'runs' / s.name / name):.0f}" for s in splits]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return ["Seconds per step:", "", *lines, ""]


def total_step_seconds(out: Path) -> float:
    """Seconds of every finished step as first run (a resumed run keeps the earlier ones)."""
    return sum(step_seconds(marker.parent) for marker in (out / "runs").glob(f"*/*/{DONE}"))


def _timing(
    seconds: float,
    ran: Sequence[str],
    skipped: Sequence[str],
    steps_s: float,
    compute_s: float | None,
) -> list[str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    wall = (
        []
        if compute_s is None
        else [
            f"- **Wall time of the results: {duration(compute_s)}** (the run that computed "
            f"them, plus any resumption that finished interrupted steps; `{TIMING_FILE}`)."
        ]
    )
    return [
        "## Run",
        "",
        *wall,
        f"- Wall time of this invocation: {duration(seconds)} ({len(ran)} step(s) run, "
        f"{len(skipped)} finished earlier and skipped).",
        f"- Sum of the step times as they first ran (each step's `done.json`; training steps "
        f"run side by side with `--jobs` > 1, so this can exceed the wall time): "
        f"{duration(steps_s)}.",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPU(s); load average at the end "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min).",
        f"- smoothseg {__version__}, {datetime.now(UTC).isoformat(timespec='seconds')}.",
        "",
    ]


def write_report(
    config: ExperimentConfig,
    data: ExperimentData,
    splits: Sequence[Split],
    results: pd.DataFrame,
    out: Path,
    *,
    variant_list: Sequence[Variant],
    log: RunLog,
    seconds: float,
    compute_seconds: float | None = None,
) -> ReportFiles:
    """Write tables, figures and ``report.md`` into ``out``.

    ``seconds`` is this invocation's wall time; ``compute_seconds`` that of the invocations
    that computed the results (kept from the first run when a re-run only resumes).
    """
    tables = all_tables(results, variant_list, config.size_threshold_cm, config.size_rule)
    written = {t.key: write_table(t, out / "tables") for t in tables}
    rep_dirs = [out / "runs" / s.name for s in splits]
    figures = {
        "figure_d1": figure_d1(
            rep_dirs, out / "figures" / "figure_d1_smoothing.png", alpha=config.alpha
        )
    }
    c1 = figure_c1_of_run(
        config,
        data.cache,
        rep_dirs[0] / "evaluation",
        results,
        splits[0],
        out / "figures" / "figure_c1_steps.png",
    )
    if c1 is not None:
        figures["figure_c1"] = c1
    first = splits[0]
    shown = pick_cases(results[results["replication"] == first.name], config.figure_cases)
    columns = [(v.name, v.label) for v in variant_list if v.name.startswith("baseline_")]
    columns.append((SMOOTHSEGNET, "SmoothSegNet"))
    sample = figure_samples(
        data.cache,
        rep_dirs[0] / "evaluation",
        shown,
        columns,
        out / "figures" / "figure4_samples.png",
    )
    if sample is not None:
        figures["figure4"] = sample
    lines = [
        f"# SmoothSegNet experiment `{config.name}`",
        "",
        "Every number below was computed by this run from its own predictions "
        "(`results/cases.csv` holds every test case of every replication and pipeline). "
        "Cells are mean (sd) over replications of one number per replication. Two readings: "
        "**pooled** (as the paper's code: sensitivity, specificity and accuracy from the "
        "confusion counts summed over the replication's test cases; Dice and IoU per-case "
        "means) and **per-case means** (every metric averaged over the test cases). The p "
        "columns test each model against SmoothSegNet (two-sided paired Wilcoxon signed-rank, "
        "per-case values, test cases of all replications pooled).",
        "",
        *scale_section(config, data, splits),
        *smoothing_record(out, splits),
        "## Results",
        "",
    ]
    for table in tables:
        if table.key == tables[0].key:
            lines += ["### Pooled over test cases (as the paper's code)", ""]
        elif table.key.endswith("_per_case") and table.key.startswith("table2"):
            lines += ["### Per-case means", ""]
        files = written[table.key]
        lines += [
            markdown(table),
            f"Files: [{files['csv'].name}](tables/{files['csv'].name}), "
            f"[{files['tex'].name}](tables/{files['tex'].name}).",
            "",
        ]
    lines += _no_liver(results, variant_list)
    lines += [
        "## Figures",
        "",
    ]
    if "figure_c1" in figures:
        lines += [
            f"**Figure C1.** Each pre- and post-processing step on a test case of {first.name} "
            "(axial slice through its largest tumor area): the CT, the global view the liver "
            "model sees, the cleaned predicted liver, the local view (liver box + margin, "
            "outside-liver masked) the tumor model sees, the tumor before and after Chan-Vese "
            "contour adjustment, and the reference.",
            "",
            "![Figure C1](figures/figure_c1_steps.png)",
            "",
        ]
    lines += [
        "**Figure D1.** Tumor-stage training loss and validation tumor Dice per epoch, with vs "
        "without knowledge-informed label smoothing (thin: each replication; thick: mean). The "
        "smoothed loss includes the α·MSE(TLVR) term.",
        "",
        "![Figure D1](figures/figure_d1_smoothing.png)",
        "",
    ]
    if "figure4" in figures:
        lines += [
            f"**Sample segmentations** (like the paper's Figure 4), {first.name}: "
            f"{', '.join(shown)} — axial slice through the largest tumor area.",
            "",
            "![Sample segmentations](figures/figure4_samples.png)",
            "",
        ]
    lines += _timing(seconds, log.ran, log.skipped, total_step_seconds(out), compute_seconds)
    lines += _step_times(out, splits)
    report = out / "report.md"
    with atomic_output(report, overwrite=True) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return ReportFiles(report, written, figures)
