"""``smoothseg synthesize``: implant synthetic lesions into the liver of a real CT."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer


def synthesize(
    ct: Path = typer.Option(..., "--ct", help="CT file or DICOM folder.", readable=False),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    liver: Path = typer.Option(..., "--liver", help="Liver mask (any label > 0) on the CT grid."),
    count: int = typer.Option(1, "--count", min=1, help="Number of lesions."),
    size_mm: tuple[float, float] = typer.Option((10.0, 30.0), "--size-mm", help="MIN MAX (mm)."),
    contrast_hu: tuple[float, float] = typer.Option(
        (-60.0, -15.0), "--contrast-hu", help="MIN MAX contrast to the liver (HU)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same files)."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing outputs.", metavar=""
    ),
) -> None:
    """Write ct.nii.gz, labels.nii.gz (0/1/2) on the CT's native grid and lesions.json."""
    import numpy as np

    from smoothseg.io import read_volume, write_volume
    from smoothseg.synthesis import LesionRequest, synthesize_volume

    image = read_volume(ct, kind="image")
    mask = read_volume(liver, kind="label")
    request = LesionRequest(count=count, size_mm=size_mm, contrast_hu=contrast_hu)
    new_ct, labels, lesions = synthesize_volume(image, mask, request, np.random.default_rng(seed))
    out.mkdir(parents=True, exist_ok=True)
    write_volume(new_ct, out / "ct.nii.gz", overwrite=overwrite)
    write_volume(labels, out / "labels.nii.gz", overwrite=overwrite)
    (out / "lesions.json").write_text(json.dumps([asdict(x) for x in lesions], indent=2))
    typer.echo(f"{len(lesions)} lesion(s) written to {out}")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("synthesize")(synthesize)
