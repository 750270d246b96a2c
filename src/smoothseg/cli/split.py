"""``smoothseg split``: patient-level train/validation/test splits of a prepared manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from smoothseg.cli.runlog import logged_command
from smoothseg.errors import InputError


def _split_folder(arguments: dict[str, Any]) -> Path:
    """The folder receiving splits.json (and the run log)."""
    if arguments["out"] is not None:
        return Path(arguments["out"]).parent
    manifest = Path(arguments["manifest"])
    return manifest if manifest.is_dir() else manifest.parent


@logged_command("split", out=_split_folder)
def split(
    manifest: Path = typer.Option(
        ..., "--manifest", help="manifest.json / manifest.csv, or the cache folder.", readable=False
    ),
    replications: int | None = typer.Option(
        None, "--replications", help="Independent test splits (default 3, as in the paper)."
    ),
    folds: int | None = typer.Option(None, "--folds", help="K-fold cross-validation instead."),
    test_fraction: float = typer.Option(
        0.2, "--test-fraction", help="Share of patients per test set (replications)."
    ),
    val_fraction: float = typer.Option(
        0.1, "--val-fraction", help="Share of each train part held out for validation."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the shuffles."),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Output JSON (default: splits.json beside the manifest).",
        readable=False,
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an existing file.", metavar=""
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the splits as JSON.", metavar=""),
) -> None:
    """Write reproducible patient-level splits (replications or K folds) as JSON."""
    from rich.console import Console
    from rich.table import Table

    from smoothseg.datasets import read_manifest
    from smoothseg.datasets.splits import SplitConfig, make_splits, write_splits

    if replications is not None and folds is not None:
        raise InputError("--folds", "give either --replications or --folds, not both")
    rows = read_manifest(manifest)
    config = SplitConfig(
        scheme="folds" if folds is not None else "replications",
        replications=replications if replications is not None else 3,
        folds=folds if folds is not None else 5,
        test_fraction=test_fraction,
        val_fraction=val_fraction,
        seed=seed,
    )
    splits = make_splits({r.case_id: r.patient_id or r.case_id for r in rows}, config)
    base = manifest if manifest.is_dir() else manifest.parent
    target = out if out is not None else base / "splits.json"
    write_splits(splits, config, target, manifest=str(manifest), overwrite=overwrite)
    if as_json:
        typer.echo(target.read_text(encoding="utf-8"))
        return
    table = Table("split", "train", "val", "test", title=f"{len(rows)} cases → {target}")
    for s in splits:
        table.add_row(s.name, str(len(s.train)), str(len(s.val)), str(len(s.test)))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("split")(split)
