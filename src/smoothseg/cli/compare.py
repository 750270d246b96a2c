"""``smoothseg compare``: treatment response between a baseline and a follow-up CT."""

from __future__ import annotations

from pathlib import Path

import typer

from smoothseg.cli.runlog import logged_command


@logged_command("compare", out="out")
def compare(
    baseline: Path = typer.Option(
        ...,
        "--baseline",
        help="Baseline CT (file or DICOM series) or smoothseg output folder.",
        readable=False,
    ),
    followup: Path = typer.Option(
        ..., "--followup", help="Follow-up CT or smoothseg output folder.", readable=False
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder.", readable=False),
    arterial_baseline: Path | None = typer.Option(
        None,
        "--arterial-baseline",
        help="Arterial phase of the baseline (enables mRECIST).",
        readable=False,
    ),
    arterial_followup: Path | None = typer.Option(
        None, "--arterial-followup", help="Arterial phase of the follow-up.", readable=False
    ),
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Model folder for CT inputs (default: the shipped model).",
        readable=False,
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing outputs.", metavar=""
    ),
) -> None:
    """Assess the response (RECIST 1.1, mRECIST, volume) of a follow-up against a baseline."""
    from smoothseg.response import compare as run_compare

    result = run_compare(
        baseline,
        followup,
        out,
        arterial_baseline=arterial_baseline,
        arterial_followup=arterial_followup,
        model=model,
        overwrite=overwrite,
    )
    for cat in result.categories.values():
        typer.echo(f"{cat.criterion}: {cat.category} — {cat.rule}")
    for warning in result.warnings:
        typer.echo(f"warning: {warning}")
    typer.echo(f"wrote {', '.join(result.outputs.values())} in {out}")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("compare")(compare)
