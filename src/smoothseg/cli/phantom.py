"""``smoothseg phantom``: generate the synthetic abdominal CT cohort."""

from __future__ import annotations

from pathlib import Path

import typer

from smoothseg.cli.runlog import logged_command


@logged_command("phantom", out="out")
def phantom(
    out: Path = typer.Option(..., "--out", help="Cohort folder to create.", readable=False),
    cases: int = typer.Option(10, "--cases", min=1, help="Number of cases."),
    seed: int = typer.Option(0, "--seed", min=0, help="Cohort seed (same seed, same files)."),
    size: str = typer.Option(
        "small",
        "--size",
        help="small: 128x128x48 at 3x3x5 mm (fast); paper: 512x512x96 at 0.75x0.75x2.5 mm.",
    ),
    preview: bool = typer.Option(
        False, "--preview", help="Write a PNG preview per case.", metavar=""
    ),
    fmt: str = typer.Option(
        "nifti",
        "--format",
        help="nifti: the NIfTI cohort; dicom: also OUT/tcia/, the cohort as a TCIA "
        "HCC-TACE-Seg download (CT series + SEG + metadata.csv + clinical xlsx).",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an existing cohort.", metavar=""
    ),
    followup: bool = typer.Option(
        False,
        "--followup",
        help="Write baseline/post-TACE follow-up pairs with their true RECIST 1.1, mRECIST "
        "and volumetric categories (OUT/followups.json) instead of a cohort.",
        metavar="",
    ),
) -> None:
    """Generate synthetic abdominal CTs with liver tumors, labels and a clinical table."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from smoothseg.errors import SmoothsegError
    from smoothseg.phantom import SIZES, PhantomConfig, generate_cohort
    from smoothseg.phantom.cohort import check_target

    if size not in SIZES:
        raise SmoothsegError(f"unknown --size {size!r}; choose one of {', '.join(SIZES)}")
    if fmt not in ("nifti", "dicom"):
        raise SmoothsegError(f"unknown --format {fmt!r}; choose nifti or dicom")
    check_target(out.expanduser(), overwrite)
    if followup:
        from smoothseg.phantom.followup import generate_followups

        truth = generate_followups(out, cases, seed, PhantomConfig.preset(size))
        typer.echo(f"wrote {cases} follow-up pairs to {out} (truth: {truth})")
        return
    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("phantom cases", total=cases)

        def advance(done: int, total: int, case_id: str) -> None:
            bar.update(task, completed=done, description=f"phantom {case_id}")

        manifest = generate_cohort(
            out,
            n_cases=cases,
            seed=seed,
            size=size,
            preview=preview,
            overwrite=overwrite,
            progress=advance,
        )
    typer.echo(f"wrote {cases} cases to {out} (manifest: {manifest})")
    if fmt == "dicom":
        from smoothseg.datasets.tcia_export import export_cohort_tcia

        with console.status("writing the TCIA layout (DICOM CT + SEG)"):
            export = export_cohort_tcia(out, out / "tcia", overwrite=overwrite)
        typer.echo(f"wrote the TCIA HCC-TACE-Seg layout to {export.root}")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("phantom")(phantom)
