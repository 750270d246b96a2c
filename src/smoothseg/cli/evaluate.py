"""``smoothseg evaluate``: score predicted label maps against references and summarize."""

from __future__ import annotations

from pathlib import Path

import typer

from smoothseg.cli.runlog import logged_command


@logged_command("evaluate", out="out")
def evaluate(
    pred: Path = typer.Option(
        ...,
        "--pred",
        help="Folder of predicted label maps: <id>.nii.gz, <id>_label.nii.gz or <id>/label.nii.gz.",
        readable=False,
    ),
    ref: Path = typer.Option(
        ...,
        "--ref",
        help="Reference labels: a folder (same layouts), a prepared cache folder or its manifest.",
        readable=False,
    ),
    out: Path = typer.Option(
        ..., "--out", help="Output folder for the CSV/JSON/Markdown files.", readable=False
    ),
    size_rule: str = typer.Option(
        "mask",
        "--size-rule",
        help="Tumor-size groups (≥/<10 cm) from: mask (largest reference lesion), clinical "
        "(Tr_Size), or clinical-then-mask.",
    ),
    clinical: Path | None = typer.Option(
        None,
        "--clinical",
        help="Clinical table (xlsx/csv with TCIA_ID and Tr_Size in cm).",
        readable=False,
    ),
    lesion_threshold: float = typer.Option(
        0.5, "--lesion-threshold", help="A lesion is detected when IoU > this (LiTS: 0.5)."
    ),
    lesion_bins_mm: str = typer.Option(
        "10,20,50", "--lesion-bins-mm", help="Lesion-diameter bin edges in mm, comma-separated."
    ),
    size_threshold_cm: float = typer.Option(
        10.0, "--size-threshold-cm", help="Large/small tumor threshold (paper Table 4: 10 cm)."
    ),
    missing_as_empty: bool = typer.Option(
        False,
        "--missing-as-empty",
        help="Score a reference without prediction as an empty prediction (default: list it).",
        metavar="",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing output files.", metavar=""
    ),
) -> None:
    """Per-case metrics (Dice, IoU, HD95, lesion detection...) and a summary by tumor size."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from smoothseg.errors import InputError
    from smoothseg.evaluation import EvaluationConfig, evaluate_predictions, write_evaluation
    from smoothseg.evaluation.strata import check_size_rule
    from smoothseg.evaluation.tables import (
        check_outputs,
        detection_rows,
        run_notes,
        segmentation_rows,
    )

    try:
        bins = tuple(float(b) for b in lesion_bins_mm.split(",") if b.strip())
    except ValueError as exc:
        raise InputError("--lesion-bins-mm", f"not comma-separated numbers: {exc}") from exc
    try:
        config = EvaluationConfig(
            lesion_iou_threshold=lesion_threshold,
            lesion_bins_mm=bins,
            size_rule=check_size_rule(size_rule),
            size_threshold_cm=size_threshold_cm,
            clinical=clinical,
            missing_as_empty=missing_as_empty,
        )
    except ValueError as exc:  # out-of-range option values
        raise InputError("smoothseg evaluate", str(exc)) from exc
    check_outputs(out, overwrite=overwrite)
    console = Console()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("evaluating", total=None)

        def step(case_id: str, index: int, total: int) -> None:
            progress.update(task, total=total, completed=index, description=case_id)

        result = evaluate_predictions(pred, ref, config, progress=step)
    written = write_evaluation(result, out, overwrite=overwrite)
    for headers, rows, title in (
        (*segmentation_rows(result.summary), "Segmentation: mean (SD) over cases"),
        (*detection_rows(result.summary), "Lesion detection, pooled over cases"),
    ):
        table = Table(*headers, title=title)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    for note in run_notes(result.summary):
        console.print(note, markup=False)
    console.print(f"wrote {', '.join(str(p) for p in written.values())}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("evaluate")(evaluate)
