"""``smoothseg prepare``: a dataset → harmonized, fast-loading training cache + manifest."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from smoothseg.cli.runlog import logged_command
from smoothseg.errors import InputError


def parse_label_values(items: list[str]) -> tuple[tuple[int, int], ...]:
    """``["5=1", "6=2"]`` → ``((5, 1), (6, 2))``."""
    out = []
    for item in items:
        raw, sep, cls = item.partition("=")
        try:
            out.append((int(raw), int(cls)))
        except ValueError:
            raise InputError("--label-values", f"{item!r} is not VALUE=CLASS (integers)") from None
        if not sep:
            raise InputError("--label-values", f"{item!r} is not VALUE=CLASS")
    return tuple(out)


@logged_command("prepare", out="out")
def prepare(
    format: str = typer.Option(
        ..., "--format", "-f", help="Dataset format: hcc-tace-seg, lits, msd, ircadb, pairs."
    ),
    root: Path = typer.Option(..., "--root", help="Dataset root folder.", readable=False),
    out: Path = typer.Option(
        ..., "--out", help="Cache folder to write (or resume).", readable=False
    ),
    clinical: Path | None = typer.Option(
        None,
        "--clinical",
        help="Clinical table (xlsx sheet 'data table' or CSV with TCIA_ID).",
        readable=False,
    ),
    segment_map: list[str] | None = typer.Option(
        None,
        "--segment-map",
        help="DICOM SEG segment NAME=ROLE (liver, tumor, portal_vein, aorta, ignore); repeatable.",
    ),
    image_pattern: str | None = typer.Option(
        None, "--image-pattern", help="pairs: image path with {id}, e.g. 'images/{id}.nii.gz'."
    ),
    label_pattern: str | None = typer.Option(
        None, "--label-pattern", help="pairs: label path with {id}, e.g. 'labels/{id}.nii.gz'."
    ),
    label_values: list[str] | None = typer.Option(
        None,
        "--label-values",
        help="Map raw label VALUE=CLASS (0 bg, 1 liver, 2 tumor); repeatable.",
    ),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Re-prepare finished cases; accept a cache from another source.",
        metavar="",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON.", metavar=""),
) -> None:
    """Harmonize a dataset into a cache (images, 0/1/2 labels, manifest, prepare log)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from smoothseg.datasets import (
        CaseOutcome,
        DatasetOptions,
        PrepareConfig,
        discover_cases,
        prepare_dataset,
    )
    from smoothseg.io.dicom_seg import SegmentMapping

    options = DatasetOptions(
        segment_map=SegmentMapping().with_overrides(segment_map or []),
        image_pattern=image_pattern,
        label_pattern=label_pattern,
        label_values=parse_label_values(label_values or []),
    )
    config = PrepareConfig(format, root, out, clinical, options, overwrite)
    cases = discover_cases(format, root, options)
    err = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=True, disable=as_json) as bar:
        task = bar.add_task(f"preparing {format}", total=len(cases))

        def advance(outcome: CaseOutcome) -> None:
            bar.update(task, advance=1, description=outcome.case_id)

        result = prepare_dataset(config, cases=cases, on_case=advance)
    statuses = [o.status for o in result.outcomes]
    counts = {s: statuses.count(s) for s in ("prepared", "cached", "skipped")}
    if as_json:
        doc = {
            "cache": str(result.cache),
            "counts": counts,
            "manifest": str(result.manifest_csv),
            "log": str(result.log_csv),
            "skipped": [{"case_id": o.case_id, "reason": o.reason} for o in result.skipped],
        }
        typer.echo(json.dumps(doc, indent=2))
        return
    console = Console()
    console.print(
        f"{len(result.outcomes)} case(s): {counts['prepared']} prepared, {counts['cached']} "
        f"already cached, {counts['skipped']} skipped"
    )
    if result.skipped:
        table = Table("case", "image", "why it was skipped", title="skipped cases")
        for outcome in result.skipped:
            table.add_row(outcome.case_id, Path(outcome.image_source).name, outcome.reason)
        console.print(table)
    console.print(f"manifest: {result.manifest_csv}\nlog:      {result.log_csv}")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("prepare")(prepare)
