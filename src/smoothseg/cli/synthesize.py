"""``smoothseg synthesize``: implant synthetic lesions into the liver of a real CT."""

from __future__ import annotations

from pathlib import Path

import typer


def synthesize(
    ct: Path = typer.Option(
        ..., "--ct", help="CT file (NIfTI/NRRD/MHA) or DICOM folder.", readable=False
    ),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    liver: Path | None = typer.Option(
        None, "--liver", help="Liver mask (any label > 0) on the CT grid.", readable=False
    ),
    auto_liver: bool = typer.Option(
        False, "--auto-liver", help="Find the liver with the liver stage of --model.", metavar=""
    ),
    model: Path | None = typer.Option(
        None, "--model", help="Model folder for --auto-liver (default: the shipped model)."
    ),
    count: int = typer.Option(1, "--count", min=1, help="Number of lesions (satellites extra)."),
    size_mm: tuple[float, float] = typer.Option(
        (10.0, 30.0), "--size-mm", help="MIN MAX diameter (3-120 mm)."
    ),
    contrast_hu: tuple[float, float] | None = typer.Option(
        None,
        "--contrast-hu",
        help="MIN MAX contrast to the liver (HU); default: mostly hypo-, some iso-/hyperdense.",
    ),
    plain: bool = typer.Option(
        False,
        "--plain",
        help="Uniform solitary lesions only (no rim, core, capsule, satellites).",
        metavar="",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same files)."),
    dicom: bool | None = typer.Option(
        None,
        "--dicom/--no-dicom",
        help="DICOM series + SEG output (default: for DICOM input).",
        metavar="",
    ),
    series: str | None = typer.Option(None, "--series", help="DICOM series to read."),
    device: str = typer.Option("cpu", "--device", help="Torch device for --auto-liver."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing outputs.", metavar=""
    ),
) -> None:
    """Write the new CT and its label map (0/1/2) on the CT's native grid, plus a preview."""
    from smoothseg.errors import InputError
    from smoothseg.io import read_volume
    from smoothseg.synthesis import LesionRequest
    from smoothseg.synthesis.scan import synthesize_scan

    if (liver is None) == (not auto_liver):
        raise InputError(out, "give exactly one of --liver MASK and --auto-liver")
    request = LesionRequest(count=count, size_mm=size_mm, contrast_hu=contrast_hu)
    if plain:
        request = request.plain()
    image = read_volume(ct, kind="image", series=series)
    if liver is not None:
        mask = read_volume(liver, kind="label")
        source = str(liver)
    else:
        from smoothseg.stress.segmenter import load_segmenter

        found = load_segmenter(model, device=device, liver_only=True)(image)
        if not found.ok or not found.liver.any():
            raise InputError(ct, "the model found no liver; pass --liver MASK instead")
        mask = found.image.with_array(found.liver.astype("uint8"), kind="label")
        source = f"model {found.model_id}"
    use_dicom = image.source.format == "dicom" if dicom is None else dicom
    result = synthesize_scan(
        image,
        mask,
        out,
        request,
        seed=seed,
        dicom=use_dicom,
        overwrite=overwrite,
        provenance={"ct": str(ct), "liver": source},
    )
    typer.echo(f"{len(result.lesions)} lesion(s) written to {out}")
    for name, path in result.files.items():
        typer.echo(f"  {name}: {path}")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("synthesize")(synthesize)
