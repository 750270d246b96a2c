"""``smoothseg predict``: liver and tumor masks, statistics and a preview for CT scans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from smoothseg.cli.runlog import logged_command


@logged_command("predict", out="out")
def predict(
    input: Path = typer.Option(
        ...,
        "--input",
        "-i",
        help="CT file (NIfTI/NRRD/MHA), DICOM series or TCIA study folder; or, for batch mode, "
        "a folder of scans or a CSV manifest (case_id, image).",
        readable=False,
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output folder (batch: one subfolder per case).", readable=False
    ),
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Model folder (liver/ + tumor/ bundles, or one bundle). Default: the "
        "shipped model, trained on synthetic phantoms (not for clinical use).",
        readable=False,
    ),
    series: str | None = typer.Option(
        None, "--series", help="DICOM series UID/number/description."
    ),
    fast: bool = typer.Option(
        False, "--fast", help="Liver stage at a coarser spacing (2x).", metavar=""
    ),
    overlap: float = typer.Option(0.5, "--overlap", help="Sliding-window overlap in [0, 1)."),
    tta: bool = typer.Option(
        False, "--tta", help="Average over flips (test-time augmentation).", metavar=""
    ),
    no_refine: bool = typer.Option(
        False, "--no-refine", help="Skip Chan-Vese tumor refinement.", metavar=""
    ),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    masks: bool = typer.Option(
        False, "--masks", help="Also write liver.nii.gz and tumor.nii.gz.", metavar=""
    ),
    nrrd: bool = typer.Option(False, "--nrrd", help="Also write labels.nrrd.", metavar=""),
    dicom_seg: bool | None = typer.Option(
        None,
        "--dicom-seg/--no-dicom-seg",
        help="DICOM SEG output (default: for DICOM input).",
        metavar="",
    ),
    min_lesion_mm3: float = typer.Option(
        25.0, "--min-lesion-mm3", help="Remove tumor components smaller than this (mm³)."
    ),
    liver_neck_mm: float = typer.Option(
        12.0,
        "--liver-neck-mm",
        min=0.0,
        help="Cut necks thinner than 2x this joining the liver to other tissue (0: off).",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing outputs.", metavar=""
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Batch mode: worker processes, one model each (default: one per GPU with "
        "--device cuda, else 1). Finished cases are skipped, so a rerun resumes.",
    ),
    amp: bool | None = typer.Option(
        None,
        "--amp/--no-amp",
        help="float16 model windows (default: on with CUDA, off on CPU).",
        metavar="",
    ),
    sw_batch_size: str = typer.Option(
        "auto",
        "--sw-batch-size",
        help="Windows per model pass: N, or auto (tuned to free GPU memory on CUDA; 2 on CPU).",
    ),
) -> None:
    """Segment liver and tumors; write label maps, statistics.json and preview.png."""
    from rich.console import Console

    from smoothseg.errors import InputError
    from smoothseg.predict import PredictConfig, Predictor
    from smoothseg.predict.batch import find_inputs, predict_batch
    from smoothseg.predict.scan import predict_scan
    from smoothseg.predict.workers import predict_batch_parallel, worker_devices

    cuda = device.startswith("cuda")
    if sw_batch_size != "auto" and not sw_batch_size.isdigit():
        raise InputError(sw_batch_size, "--sw-batch-size takes a number or auto")
    config = PredictConfig(
        overlap=overlap,
        tta=tta,
        refine=not no_refine,
        min_lesion_mm3=min_lesion_mm3,
        liver_neck_mm=liver_neck_mm,
        fast=fast,
        device=device,
        masks=masks,
        nrrd=nrrd,
        dicom_seg=dicom_seg,
        amp=cuda if amp is None else amp,
        sw_batch_size=2 if sw_batch_size == "auto" else int(sw_batch_size),
        auto_sw_batch=sw_batch_size == "auto" and cuda,
    )
    console = Console()
    err = Console(stderr=True)
    inputs = find_inputs(input)
    with console.status("loading models"):
        predictor = Predictor.from_model_dir(model, config)
    disclaimer = predictor.provenance.get("disclaimer")
    if inputs is None:
        with console.status(f"predicting {input.name}"):
            result = predict_scan(predictor, input, out, series=series, overwrite=overwrite)
        _summary(console, err, input.name, result.statistics)
        console.print(
            f"wrote {', '.join(p.name for p in result.outputs.values())} in {out}", markup=False
        )
        if disclaimer:  # after the result it qualifies, never before an error message
            err.print(f"note: {disclaimer}", style="yellow", markup=False)
        return
    from rich.progress import Progress

    failed = 0
    with Progress(console=console) as progress:
        task = progress.add_task("predicting", total=len(inputs))

        def report(outcome: Any) -> None:
            nonlocal failed
            progress.advance(task)
            if outcome.state == "done":
                _summary(progress.console, err, outcome.case_id, outcome.statistics)
            elif outcome.state == "skipped":
                progress.console.print(
                    f"{outcome.case_id}: finished earlier, skipped", markup=False
                )
            else:
                failed += 1
                err.print(f"{outcome.case_id}: failed: {outcome.error}", markup=False)

        if len(worker_devices(device, workers)) > 1:
            predict_batch_parallel(
                model, config, inputs, out, workers=workers, overwrite=overwrite, on_case=report
            )
        else:
            predict_batch(predictor, inputs, out, overwrite=overwrite, on_case=report)
    if disclaimer and failed < len(inputs):
        err.print(f"note: {disclaimer}", style="yellow", markup=False)
    if failed:
        raise typer.Exit(1)


def _summary(console: Any, err: Any, name: str, stats: dict[str, Any]) -> None:
    from rich.table import Table

    for warning in stats["warnings"]:
        err.print(f"warning: {name}: {warning}", style="yellow", markup=False)
    if stats["status"] != "ok":
        console.print(f"{name}: {stats['status']} (no masks written)", markup=False)
        return
    table = Table(title=name)
    columns = ("liver mL", "tumor mL", "TLVR", "lesions", "uncertain", "largest axial diam. mm")
    for column in columns:
        table.add_column(column, justify="right")
    lesions = stats["lesions"]
    largest = f"{lesions[0]['longest_axial_diameter_mm']:.1f}" if lesions else "-"
    tlvr = stats["tlvr"]
    table.add_row(
        f"{stats['liver_ml']:.1f}",
        f"{stats['tumor_ml']:.2f}",
        "-" if tlvr is None else f"{tlvr:.4f}",
        str(stats["lesion_count"]),
        str(stats.get("uncertain_lesion_count", 0)),
        largest,
    )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("predict")(predict)
