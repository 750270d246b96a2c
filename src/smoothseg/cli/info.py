"""``smoothseg info``: what a volume file or DICOM folder holds."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def info(
    path: Path = typer.Argument(
        ..., help="NIfTI/NRRD/MHA file, DICOM file, or DICOM folder.", readable=False
    ),
    series: str | None = typer.Option(
        None, "--series", help="DICOM series: UID, series number, folder name or description."
    ),
    label: bool | None = typer.Option(
        None,
        "--label/--image",
        help="Treat as label map / image (default: decide from values).",
        metavar="",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text.", metavar=""),
) -> None:
    """Show format, grid (shape, spacing, orientation), intensities or labels of a volume."""
    from smoothseg.io import VolumeKind, read_volume
    from smoothseg.io.inspect import format_summary, summarize

    kind: VolumeKind | None = None if label is None else ("label" if label else "image")
    summary = summarize(read_volume(path, series=series, kind=kind))
    typer.echo(json.dumps(summary.to_dict(), indent=2) if as_json else format_summary(summary))


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("info")(info)
