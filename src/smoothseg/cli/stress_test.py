"""``smoothseg stress-test``: detection rate and Dice of a model on implanted lesions."""

from __future__ import annotations

from pathlib import Path

import typer


def stress_test(
    model: Path | None = typer.Option(
        None, "--model", help="Model folder (liver/ + tumor/); default: the shipped model."
    ),
    ct: list[Path] = typer.Option(
        ..., "--ct", help="Real CT scan (file or DICOM folder); repeat for several.", readable=False
    ),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    sizes_mm: list[float] = typer.Option(
        [5.0, 10.0, 20.0, 40.0], "--sizes-mm", help="Lesion diameters (repeat the option)."
    ),
    contrasts_hu: list[float] = typer.Option(
        [-60.0, -30.0, -15.0, 20.0], "--contrasts-hu", help="Contrasts to the liver, HU (repeat)."
    ),
    lesions_per_cell: int = typer.Option(3, "--lesions", min=1, help="Lesions per scan and cell."),
    detect_iou: float = typer.Option(0.1, "--iou", help="Detected when IoU is above this."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the implants."),
    device: str = typer.Option("cpu", "--device", help="Torch device."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing outputs.", metavar=""
    ),
) -> None:
    """Implant lesions of each size x contrast into real scans and report what the model finds.

    Writes cells.csv, baseline.csv (false-positive tumor on the scans without implants),
    heatmap.png, summary.md and summary.json into --out.
    """
    from smoothseg.errors import OutputExistsError
    from smoothseg.stress.report import OUTPUTS, summary_markdown, write_stress_outputs
    from smoothseg.stress.run import StressConfig, run_stress_test

    config = StressConfig(
        sizes_mm=tuple(sizes_mm),
        contrasts_hu=tuple(contrasts_hu),
        lesions_per_cell=lesions_per_cell,
        detect_iou=detect_iou,
        seed=seed,
        device=device,
    )
    if not overwrite:
        for name in OUTPUTS:
            if (out / name).exists():
                raise OutputExistsError(out / name)
    result = run_stress_test(model, ct, config, progress=typer.echo)
    write_stress_outputs(result, out, overwrite=overwrite)
    typer.echo(summary_markdown(result))
    typer.echo(f"written to {out}")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("stress-test")(stress_test)
