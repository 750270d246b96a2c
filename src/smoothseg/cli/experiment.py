"""``smoothseg experiment``: the paper's experiments (Tables 2-5, Figure D1) from one config."""

from __future__ import annotations

from pathlib import Path

import typer

from smoothseg.cli.runlog import logged_command


@logged_command("experiment", out="out")
def experiment(
    config: str = typer.Option(
        ...,
        "--config",
        help="Experiment config: a shipped name (paper, cpu-small, paper-device) or a YAML file.",
    ),
    data: Path = typer.Option(
        ...,
        "--data",
        help="Prepared cache (smoothseg prepare) or phantom cohort (prepared into OUT/cache).",
        readable=False,
    ),
    out: Path = typer.Option(
        ..., "--out", help="Output folder (runs, tables, figures, report).", readable=False
    ),
    clinical: Path | None = typer.Option(
        None,
        "--clinical",
        help="Clinical table for the soft labels (default: the config's, or found beside DATA).",
        readable=False,
    ),
    resume: bool = typer.Option(
        True,
        "--resume/--no-resume",
        help="Continue an earlier run of the same config in OUT, skipping finished steps.",
        metavar="",
    ),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Remove an earlier experiment's outputs in OUT and start over.",
        metavar="",
    ),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show training progress bars.", metavar=""
    ),
    jobs: int = typer.Option(
        1,
        "--jobs",
        min=1,
        help="Models trained at once, each in its own process with cores/JOBS threads "
        "(2 on 2 CPU cores: small models train faster side by side; no progress bars then).",
    ),
) -> None:
    """Replications × (clinical fit, liver/tumor stages, baselines) → Tables 2-5 and figures."""
    from rich.console import Console

    from smoothseg.experiment import load_experiment_config, run_experiment
    from smoothseg.experiment.report import duration

    console = Console()
    cfg = load_experiment_config(config)
    result = run_experiment(
        cfg,
        data=data,
        out=out,
        overwrite=overwrite,
        resume=resume,
        clinical_table=clinical,
        progress=progress,
        workers=jobs,
        say=lambda line: console.print(f"[bold cyan]▶[/] {line}", highlight=False),
    )
    console.print(
        f"{len(result.log.ran)} step(s) run, {len(result.log.skipped)} skipped, "
        f"{duration(result.seconds)}",
        highlight=False,
    )
    typer.echo(str(result.report))


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("experiment")(experiment)
