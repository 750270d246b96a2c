"""``smoothseg train``: train the liver, tumor or multi-class model on a prepared cache."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from smoothseg.cli.runlog import logged_command
from smoothseg.errors import InputError

STAGES = ("liver", "tumor", "multiclass")


@logged_command("train", out="out")
def train(
    stage: str = typer.Argument(..., help="liver (global view), tumor (local view), multiclass."),
    data: Path = typer.Option(
        ..., "--data", help="Prepared cache folder (smoothseg prepare).", readable=False
    ),
    split: Path = typer.Option(
        ..., "--split", help="Splits JSON (smoothseg split).", readable=False
    ),
    out: Path = typer.Option(..., "--out", help="Run folder to write.", readable=False),
    replication: int | None = typer.Option(
        None, "--replication", help="Use split replication_I (1-based); default: the first."
    ),
    fold: int | None = typer.Option(None, "--fold", help="Use split fold_I (1-based)."),
    soft_labels: Path | None = typer.Option(
        None,
        "--soft-labels",
        help="soft_labels.csv (case_id, tlvr_hat); needed where alpha > 0.",
        readable=False,
    ),
    alpha: float | None = typer.Option(
        None,
        "--alpha",
        min=0.0,
        help="Weight of the TLVR soft-label term (tumor default 0.5; 0: no soft labels).",
    ),
    model: str | None = typer.Option(None, "--model", help="Model name (default segresnetvae)."),
    preset: str | None = typer.Option(
        None, "--preset", help="Shipped config: paper (default) or cpu-small."
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="TOML/JSON config laid over the preset (same tables).",
        readable=False,
    ),
    max_epochs: int | None = typer.Option(None, "--max-epochs", help="Override max_epochs."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu, cuda, cuda:1..."),
    seed: int | None = typer.Option(None, "--seed", help="Override the seed."),
    synthetic: int | None = typer.Option(
        None,
        "--synthetic",
        min=0,
        help="Mix N new domain-randomized phantoms into every training epoch.",
    ),
    synthetic_only: bool = typer.Option(
        False,
        "--synthetic-only",
        help="Train on those phantoms alone (validate on --split's).",
        metavar="",
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the run in --out (last.pt).", metavar=""
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace a run in --out.", metavar=""
    ),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show progress bars.", metavar=""
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.", metavar=""),
    nproc: int = typer.Option(
        1,
        "--nproc",
        min=1,
        help="Train with N processes (DDP via torchrun: one per GPU, gloo on CPU).",
    ),
    checksum_log: Path | None = typer.Option(
        None,
        "--checksum-log",
        hidden=True,
        help="Debug: per-step weight checksums per rank.",
        readable=False,
    ),
) -> None:
    """Train one stage; writes metrics.csv, curves.png, checkpoints and bundle/ in --out."""
    import os
    import sys

    if nproc > 1 and "LOCAL_RANK" not in os.environ:  # relaunch under torchrun, N workers
        from smoothseg.cli.state import STATE
        from smoothseg.cli.torchrun import launch, without_option

        argv = STATE.argv or tuple(sys.argv[1:])
        raise typer.Exit(launch(nproc, without_option(argv, "--nproc")))
    from rich.console import Console
    from rich.table import Table

    from smoothseg.training import (
        load_train_config,
        read_soft_labels,
        resume_changes,
        resume_config,
        select_split,
    )
    from smoothseg.training import train as run_training

    if stage not in STAGES:
        raise InputError(stage, f"unknown stage; choose one of {', '.join(STAGES)}")
    if soft_labels is not None and stage == "liver":
        raise InputError(soft_labels, "soft labels are not used by the liver stage")
    if resume and overwrite:
        raise InputError(out, "give either --resume or --overwrite, not both")
    if resume:
        resolved = resume_config(out, max_epochs=max_epochs, device=device)
        if resolved.stage != stage:
            raise InputError(out, f"this run trains the {resolved.stage} stage, not {stage}")
        given = {
            "--model": model,
            "--preset": preset,
            "--config": config,
            "--seed": seed,
            "--synthetic": synthetic,
            "--synthetic-only": synthetic_only or None,
            "--alpha": alpha,
        }
        if any(value is not None for value in given.values()):
            # Re-running the same command resumes; options that would change the run do not.
            again = load_train_config(
                stage,
                preset=preset or "paper",
                config_file=config,
                model=model,
                overrides=_overrides(seed=seed, synthetic=synthetic, only=synthetic_only),
                alpha=alpha,
            )
            changed = resume_changes(resolved, again)
            if changed:
                raise InputError(
                    out,
                    f"{', '.join(changed)} would change when resuming; resume with the "
                    "options of the first run (or none of them)",
                )
    else:
        overrides = _overrides(
            seed=seed,
            synthetic=synthetic,
            only=synthetic_only,
            max_epochs=max_epochs,
            device=device,
        )
        resolved = load_train_config(
            stage,
            preset=preset or "paper",
            config_file=config,
            model=model,
            overrides=overrides,
            alpha=alpha,
        )
    from smoothseg.inference.config import check_device_available

    check_device_available(resolved.device)  # --device cuda without a GPU: fail before any work
    chosen = select_split(split, replication=replication, fold=fold)
    labels = read_soft_labels(soft_labels) if soft_labels is not None else None
    result = run_training(
        resolved,
        data=data,
        split=chosen,
        out=out,
        soft_labels=labels,
        soft_labels_path=soft_labels,
        resume=resume,
        overwrite=overwrite,
        progress=progress and not as_json,
        checksum_dir=checksum_log,
    )
    if int(os.environ.get("RANK", "0")) > 0:  # distributed: rank 0 reports
        return
    summary = {
        "stage": stage,
        "run": str(result.run_dir),
        "bundle": str(result.bundle_dir),
        "epochs": result.epochs,
        "best_epoch": result.best_epoch,
        "best_val_dice": result.best_score,
        "stopped_early": result.stopped_early,
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    table = Table("", "", title=f"{stage} stage trained ({chosen.name})", show_header=False)
    for key, value in summary.items():
        table.add_row(
            key, "" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)
        )
    Console().print(table)


def _overrides(
    *,
    seed: int | None,
    synthetic: int | None,
    only: bool,
    max_epochs: int | None = None,
    device: str | None = None,
) -> dict[str, object]:
    """The ``[train]`` fields the options set (``None`` / unset flags leave the config alone)."""
    values = {
        "max_epochs": max_epochs,
        "device": device,
        "seed": seed,
        "synthetic_cases": synthetic,
        "synthetic_only": True if only else None,
    }
    return {k: v for k, v in values.items() if v is not None}


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("train")(train)
